package bench

import (
	"fmt"
	"strings"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// Config describes one load run. The zero value of each field other than
// Addr means its documented default.
type Config struct {
	// Addr is the server's host:port, or the host:port of each node of a
	// cluster separated by commas: client i then joins the (i mod n)-th,
	// and the Result has figures per node.
	Addr string `json:"addr"`
	// Framing is how messages are delimited; the zero value is
	// protocol.FramingLine.
	Framing protocol.Framing `json:"framing"`
	// Clients is how many clients join. 0 = 100.
	Clients int `json:"clients"`
	// Senders is how many of the clients send DATA. 0 = none (a join-only
	// run, useful to measure memory per idle client); -1 = all clients.
	Senders int `json:"senders"`
	// Rate is the messages per second each sender sends, whatever the
	// server does with them (open loop). 0 = as fast as the server takes
	// them, with Window messages in flight per sender.
	Rate float64 `json:"rate"`
	// Window is the number of messages each sender may have in flight when
	// Rate is 0. 0 = 16.
	Window int `json:"window"`
	// Echo, with Rate 0, makes a message in flight until its sender's own
	// client receives it, not until the observer (the last client to join)
	// does: each sender waits only for its own echo, not for the slowest
	// client, so together they offer more than every client can take (open
	// loop). It needs a server that sends a DATA back to its sender, as the
	// assignment's protocol does.
	Echo bool `json:"echo"`
	// Probes is how many clients, after the Senders, send DATA at
	// ProbeRate each, open loop: well-behaved senders, like people typing,
	// whose messages' latency is reported on its own (Result.ProbeLatency)
	// while the Senders flood. 0 = none.
	Probes int `json:"probes"`
	// ProbeRate is the messages per second each probe sends. 0 = 2.
	ProbeRate float64 `json:"probe_rate"`
	// Warmup is load applied before measuring starts. 0 = none. Ignored
	// when Messages is set.
	Warmup time.Duration `json:"warmup"`
	// Duration is how long the load is measured. 0 = 10s. Ignored when
	// Messages is set.
	Duration time.Duration `json:"duration"`
	// Messages, when positive, makes each sender send exactly this many
	// messages and then stop, whatever the time.
	Messages int `json:"messages"`
	// Size is the DATA text length in bytes, at least MinSize and at most
	// protocol.MaxTextLen. 0 = 64.
	Size int `json:"size"`
	// JoinRate bounds joins per second. 0 = as fast as they complete.
	JoinRate float64 `json:"join_rate"`
	// JoinConcurrency is how many joins may be in progress at once.
	// 0 = 100.
	JoinConcurrency int `json:"join_concurrency"`
	// JoinTimeout bounds the dial and the wait for J_OK of each client.
	// 0 = 30s.
	JoinTimeout time.Duration `json:"join_timeout"`
	// Heartbeat is the interval at which each client sends IMAV (spread
	// evenly over all clients). 0 = 30s; negative = never.
	Heartbeat time.Duration `json:"heartbeat"`
	// MaxLineBytes is the longest frame a client reads; longer ones are
	// counted and skipped. It is also the size of each client's read
	// buffer (memory is touched only as long lines arrive). 0 = enough for
	// a LIST of every client's name, with room for 100 more: at least
	// protocol.DefaultMaxLineBytes, about 1.4 MB at 100,000 clients.
	MaxLineBytes int `json:"max_line_bytes"`
	// Settle is the quiet period (no LIST or other non-DATA frame at any
	// client) that ends the join phase when the LISTs cannot tell; the join
	// phase ends as soon as every client's newest LIST names every client
	// (see the package doc). 0 = 300ms; negative = do not wait.
	Settle time.Duration `json:"settle"`
	// Idle is extra time to hold the joined clients idle before the load,
	// after which the server's memory is read (with PID). 0 = none.
	Idle time.Duration `json:"idle"`
	// Drain is how long the run waits without any delivery progress for
	// the last messages before counting them lost. 0 = 3s.
	Drain time.Duration `json:"drain"`
	// Interval is the period of Samples (and of Progress calls). 0 = 1s.
	Interval time.Duration `json:"interval"`
	// PID, when positive, is the server's process id; its resident memory
	// is read from /proc/PID/status.
	PID int `json:"pid"`
	// Progress, when set, is called every Interval from the run's sampling
	// goroutine with the newest sample and the run's phase.
	Progress func(Progress) `json:"-"`
	// Phase, when set, is called as the run enters each phase (join,
	// settle, idle, warmup, load, drain), on the run's goroutine, which
	// waits for it: a caller can read the server's own counters there.
	Phase func(phase string) `json:"-"`
}

// Addrs returns the addresses in Addr: split at commas, trimmed, empty
// ones left out.
func (c Config) Addrs() []string {
	var all []string
	for a := range strings.SplitSeq(c.Addr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			all = append(all, a)
		}
	}
	return all
}

// MinSize is the smallest DATA text Size: the stamp that carries the send
// time and the message's identity.
const MinSize = stampLen

func (c Config) withDefaults() (Config, error) {
	if len(c.Addrs()) == 0 {
		return c, fmt.Errorf("bench: no server address")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Clients, 100)
	def(&c.Window, 16)
	if c.ProbeRate == 0 {
		c.ProbeRate = 2
	}
	def(&c.Size, 64)
	def(&c.JoinConcurrency, 100)
	// A LIST of this run's names: "LIST" and, per name, a space and at
	// most 12 characters (ours are shorter).
	def(&c.MaxLineBytes, max(protocol.DefaultMaxLineBytes, len(protocol.VerbList)+(c.Clients+100)*(1+protocol.MaxNameLen)))
	defDur(&c.Duration, 10*time.Second)
	defDur(&c.JoinTimeout, 30*time.Second)
	defDur(&c.Heartbeat, 30*time.Second)
	defDur(&c.Settle, 300*time.Millisecond)
	defDur(&c.Drain, 3*time.Second)
	defDur(&c.Interval, time.Second)
	if c.Senders < 0 || c.Senders > c.Clients {
		c.Senders = c.Clients
	}
	c.Probes = min(max(c.Probes, 0), c.Clients-c.Senders)
	switch {
	case c.Clients < 0:
		return c, fmt.Errorf("bench: clients %d < 0", c.Clients)
	case c.Clients > maxClients:
		return c, fmt.Errorf("bench: clients %d > %d", c.Clients, maxClients)
	case c.Size < MinSize || c.Size > protocol.MaxTextLen:
		return c, fmt.Errorf("bench: size %d outside [%d, %d]", c.Size, MinSize, protocol.MaxTextLen)
	case c.Rate < 0:
		return c, fmt.Errorf("bench: rate %v < 0", c.Rate)
	case c.ProbeRate < 0:
		return c, fmt.Errorf("bench: probe rate %v < 0", c.ProbeRate)
	case c.Window < 0:
		return c, fmt.Errorf("bench: window %d < 0", c.Window)
	case c.JoinRate < 0:
		return c, fmt.Errorf("bench: join rate %v < 0", c.JoinRate)
	}
	return c, nil
}

// maxClients keeps generated names within protocol.MaxNameLen.
const maxClients = 999_999
