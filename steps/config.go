package steps

import (
	"fmt"
	"strings"
	"time"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/protocol"
)

// Config says which server to grade and how. The zero value of every
// field but Addrs has a documented default.
type Config struct {
	// Addrs are the server's "host:port" addresses: one for a single
	// server, several for the nodes of a cluster that share one room (the
	// clients of a scenario are placed on them in turn: alice on the
	// first, bob on the second, ...).
	Addrs []string
	// Framing is how the server frames messages. Zero (with Detect false)
	// is newline-terminated lines.
	Framing protocol.Framing
	// Detect makes the suite find the framing itself, from the server's
	// first answers (lines, writeUTF, or raw: one read is one message); it
	// overrides Framing.
	Detect bool
	// Join is how the suite joins: "full" (zero), the assignment's
	// "JOIN <name>, <host>:<port>", or "bare": the name alone, for a server
	// that takes the whole first line as the name.
	Join JoinMode
	// Heartbeat is how often every joined client sends IMAV. Zero means 60s.
	Heartbeat time.Duration
	// Expiry bounds the wait for a server to drop a silent client, and is
	// how long a heartbeating client is held before checking it is still
	// there. Zero means 3m. Set it a little above the server's timeout.
	Expiry time.Duration
	// Wait bounds every wait for an expected message. Zero means 2s.
	Wait time.Duration
	// Quiet is how long the suite listens before it concludes that nothing
	// arrives, where no barrier can tell it sooner. Zero means 300ms.
	Quiet time.Duration
	// Flood bounds the scenario that floods a server with messages. Zero
	// means 60s.
	Flood time.Duration
}

// JoinMode is how the suite's clients join.
type JoinMode uint8

// The join modes.
const (
	// JoinFull sends "JOIN <name>, <host>:<port>", as the assignment says.
	JoinFull JoinMode = iota
	// JoinBare sends the name alone, for servers that take the first line
	// as the name.
	JoinBare
)

// String returns "full" or "bare".
func (j JoinMode) String() string {
	if j == JoinBare {
		return "bare"
	}
	return "full"
}

// Set parses "full" or "bare", so that *JoinMode is a flag.Value.
func (j *JoinMode) Set(s string) error {
	switch s {
	case "full":
		*j = JoinFull
	case "bare":
		*j = JoinBare
	default:
		return fmt.Errorf("steps: unknown join mode %q (want full or bare)", s)
	}
	return nil
}

// Defaults of Config.
const (
	DefaultHeartbeat = 60 * time.Second
	DefaultExpiry    = 3 * time.Minute
	DefaultWait      = 2 * time.Second
	DefaultQuiet     = 300 * time.Millisecond
	DefaultFlood     = 60 * time.Second
)

// patient is how long the suite waits before it concludes something of
// the whole run from silence (the framing, that the server answers JOIN,
// that it relays, that it still works): as long as a confirming run
// waits (engine.ConfirmPatience times Wait), so that a busy moment does
// not mislead it. A server that answers ends the wait at once.
func (c *Config) patient() time.Duration { return engine.ConfirmPatience * c.Wait }

func (c *Config) fill() {
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.Expiry <= 0 {
		c.Expiry = DefaultExpiry
	}
	if c.Wait <= 0 {
		c.Wait = DefaultWait
	}
	if c.Quiet <= 0 {
		c.Quiet = DefaultQuiet
	}
	if c.Flood <= 0 {
		c.Flood = DefaultFlood
	}
}

// ParseAddrs splits a comma-separated list of addresses.
func ParseAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Budget estimates how long a run with cfg takes at most in practice,
// for a caller that must fit it into a deadline: the slow rules' expiry
// window, the flood's bound, the probe's patient waits, half a wait for
// each scenario and as much again for confirming late failures, and a
// minute to spare. (A run that still overruns its context's deadline
// ends with a report, the scenarios it did not reach not graded.)
func Budget(cfg Config, scenarios int) time.Duration {
	cfg.fill()
	return cfg.Expiry + cfg.Wait + cfg.Flood + 3*cfg.patient() + time.Duration(scenarios)*cfg.Wait + time.Minute
}
