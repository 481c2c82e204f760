package chatcluster

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Defaults for the zero values of [Config].
const (
	// DefaultRoom is the room's name when Config.Room is empty.
	DefaultRoom = "chat"
	// DefaultNodeTimeout is how long a node may go without renewing its
	// lease before the others declare it dead. It must stay well under the
	// server's heartbeat timeout (two minutes by default).
	DefaultNodeTimeout = 10 * time.Second
	// DefaultRequestTimeout bounds each request to NATS.
	DefaultRequestTimeout = 5 * time.Second
	// DefaultReconnectWait is the pause between two attempts to reach NATS.
	DefaultReconnectWait = 250 * time.Millisecond
	// DefaultQueueBytes bounds the DATA a node accepts while NATS is away.
	DefaultQueueBytes = 64 << 20
	// DefaultMaxAge is how long the room's stream keeps events: long enough
	// for a node cut off from NATS to catch up when it comes back.
	DefaultMaxAge = time.Hour
)

// Config configures a [Node]. The zero value of each field but URL means
// its documented default.
type Config struct {
	// URL is the NATS server to connect to, "nats://host:4222", or several
	// separated by commas (the servers of one NATS cluster).
	URL string
	// Room names the shared room: nodes with the same Room share one room.
	// Letters, digits, '-' and '_'. Empty means DefaultRoom.
	Room string
	// Node names this node, unique in the cluster: a node that starts under
	// the name of another takes its place (see the package doc). Letters,
	// digits, '-' and '_', at most 64. Empty means the host name.
	Node string
	// Addr is the chat address this node serves, recorded in its lease for
	// operators (nats kv get CHAT_<room>_nodes <node>). Optional.
	Addr string
	// NodeTimeout: a node that has not renewed its lease for this long is
	// declared dead, its users leave every LIST and their names are free.
	// Zero means DefaultNodeTimeout.
	NodeTimeout time.Duration
	// RequestTimeout bounds each request to NATS, and a JOIN's wait for its
	// event. Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// ReconnectWait is the pause between attempts to reach NATS again.
	// Zero means DefaultReconnectWait.
	ReconnectWait time.Duration
	// QueueBytes bounds the events (their encoded bytes) waiting to be
	// published, which grow while NATS is unavailable; a DATA beyond it is
	// refused with J_ER 503. Zero means DefaultQueueBytes.
	QueueBytes int
	// Replicas is the number of copies NATS keeps of the room's stream and
	// buckets (1, or 3 in a NATS cluster of three or more). Zero means 1.
	Replicas int
	// MaxAge is how long the room's stream keeps events: a node cut off
	// from NATS for longer misses events (it logs how many) and should be
	// restarted. Zero means DefaultMaxAge.
	MaxAge time.Duration
	// Options are extra nats.go options: credentials, TLS. The node sets
	// its own reconnect behaviour and handlers after them.
	Options []nats.Option
	// Logger receives the node's log: the outage and recovery of NATS, node
	// deaths, takeovers. Nil discards.
	Logger *slog.Logger
}

// identifier is what room and node names may hold: they become parts of
// NATS subjects, stream names and keys.
var identifier = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// errConfig marks a bad Config.
var errConfig = errors.New("chatcluster: bad config")

// withDefaults fills in the defaults and checks cfg.
func (cfg Config) withDefaults() (Config, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return cfg, fmt.Errorf("%w: no NATS URL", errConfig)
	}
	if cfg.Room == "" {
		cfg.Room = DefaultRoom
	}
	if cfg.Node == "" {
		host, err := os.Hostname()
		if err != nil {
			return cfg, fmt.Errorf("%w: no node name, and no host name: %w", errConfig, err)
		}
		cfg.Node = NodeName(host)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.NodeTimeout, DefaultNodeTimeout)
	def(&cfg.RequestTimeout, DefaultRequestTimeout)
	def(&cfg.ReconnectWait, DefaultReconnectWait)
	def(&cfg.MaxAge, DefaultMaxAge)
	if cfg.QueueBytes <= 0 {
		cfg.QueueBytes = DefaultQueueBytes
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case !identifier.MatchString(cfg.Room):
		return cfg, fmt.Errorf("%w: room name %q: use 1 to 64 of A-Z a-z 0-9 - _", errConfig, cfg.Room)
	case !identifier.MatchString(cfg.Node):
		return cfg, fmt.Errorf("%w: node name %q: use 1 to 64 of A-Z a-z 0-9 - _", errConfig, cfg.Node)
	}
	return cfg, nil
}

// NodeName turns s (a host name, "host:port") into a valid node name: every
// character other than A-Z a-z 0-9 - _ becomes '-', and it is cut to 64.
func NodeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	if len(b) == 0 {
		return "node"
	}
	return string(b)
}
