package clientsteps

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Config says which client to grade and how. The zero value of every field
// but Command (or Manual) has a documented default.
type Config struct {
	// Command starts the client: a shell command line, run with "sh -c" in
	// a process group of its own, a fresh process for every scenario. The
	// placeholders {host}, {port} and {addr} ("host:port") stand for the
	// address of the suite's server. Empty with Manual.
	Command string
	// Dir is the directory Command runs in. Empty means the current one.
	Dir string
	// Manual grades a client the suite cannot start or type into (a GUI
	// client): the suite listens, writes one instruction at a time to
	// Instructions, and moves on when the client's message arrives.
	Manual bool
	// Instructions receives manual mode's instructions. Nil means
	// io.Discard.
	Instructions io.Writer
	// Listen is where the suite's server listens, "host:port". Empty means
	// "127.0.0.1:0": a fresh port for every scenario, so that scenarios can
	// run side by side. A fixed port (for a client with a hard-coded one)
	// is shared by every scenario, which then run one at a time.
	Listen string
	// Profile says what the user types.
	Profile Profile
	// Heartbeat is the IMAV interval the client is expected to keep. Zero
	// means 60s, the assignment's minute.
	Heartbeat time.Duration
	// Wait bounds every wait for a message the client should send after
	// something the user typed or the server sent. Zero means 2s.
	Wait time.Duration
	// Quiet is how long the client's output must be still before the
	// suite takes what it prints next as its answer to what comes next
	// (see settle). Zero means 300ms.
	Quiet time.Duration
	// Start bounds the wait for a freshly started client to read its
	// first line and connect (a Java virtual machine takes a moment).
	// Zero means 10s.
	Start time.Duration
	// Step bounds each step of manual mode: the time a person has to do
	// what an instruction says. Zero means 2m.
	Step time.Duration
}

// Profile says what the user types into the client's standard input.
// Every line may hold the placeholders {host}, {port} and {addr}.
type Profile struct {
	// First are lines typed first, before joining, one at a time: for a
	// client that asks for the server's host and port. Empty: none.
	First []string
	// Join is typed to join; {name} stands for the name. Empty means
	// "{name}".
	Join string
	// Say is typed to say something; {text} stands for the text. Empty
	// means "{text}".
	Say string
	// Quit is typed to leave. Empty means closing standard input.
	Quit string
}

// Defaults of Config.
const (
	DefaultListen    = "127.0.0.1:0"
	DefaultHeartbeat = 60 * time.Second
	DefaultWait      = 2 * time.Second
	DefaultQuiet     = 300 * time.Millisecond
	DefaultStart     = 10 * time.Second
	DefaultStep      = 2 * time.Minute
	DefaultJoin      = "{name}"
	DefaultSay       = "{text}"
)

func (c *Config) fill() {
	if c.Instructions == nil {
		c.Instructions = io.Discard
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.Wait <= 0 {
		c.Wait = DefaultWait
	}
	if c.Quiet <= 0 {
		c.Quiet = DefaultQuiet
	}
	if c.Start <= 0 {
		c.Start = DefaultStart
	}
	if c.Step <= 0 {
		c.Step = DefaultStep
	}
	if c.Profile.Join == "" {
		c.Profile.Join = DefaultJoin
	}
	if c.Profile.Say == "" {
		c.Profile.Say = DefaultSay
	}
}

// Check reports what is wrong with c, in words for the person who wrote
// the flags or the profile: nil if it can be used.
func (c Config) Check() error {
	switch {
	case c.Command == "" && !c.Manual:
		return fmt.Errorf("clientsteps: no command to start the client with (or manual mode for a client the suite cannot start)")
	case c.Command != "" && c.Manual:
		return fmt.Errorf("clientsteps: manual mode takes no command: the person grading starts the client")
	}
	if c.Listen != "" {
		if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
			return fmt.Errorf("clientsteps: listen address %q: want host:port (port 0 for a fresh one)", c.Listen)
		}
	}
	p := c.Profile
	if p.Join != "" && !strings.Contains(p.Join, "{name}") {
		return fmt.Errorf("clientsteps: the join line %q has no {name}", p.Join)
	}
	if p.Say != "" && !strings.Contains(p.Say, "{text}") {
		return fmt.Errorf("clientsteps: the say line %q has no {text}", p.Say)
	}
	for _, l := range append(append([]string{}, p.First...), p.Join, p.Say, p.Quit) {
		if strings.ContainsAny(l, "\r\n") {
			return fmt.Errorf("clientsteps: the typed line %q holds a line break: give one line per entry", l)
		}
	}
	return nil
}

// fixedPort reports whether the listen address names a port: every
// scenario then shares one listener and runs alone.
func (c *Config) fixedPort() bool {
	_, port, err := net.SplitHostPort(c.Listen)
	return err == nil && port != "0" && port != ""
}

// Shared reports whether the run needs one listener for all its scenarios
// (a fixed port, or manual mode, where a person connects the client by
// hand), so that its scenarios must run one at a time.
func (c Config) Shared() bool {
	c.fill()
	return c.Manual || c.fixedPort()
}

// Budget estimates the longest a run of cfg with the given number of
// scenarios can take, for a caller that must fit it into a deadline: the
// heartbeat rules (about two intervals each, side by side unless the run
// is Shared), and a bound for every other scenario (a quarter of it when
// scenarios run side by side).
func Budget(cfg Config, scenarios int) time.Duration {
	shared := cfg.Shared()
	cfg.fill()
	beat := 2*(cfg.Heartbeat+cfg.Heartbeat/4+cfg.Wait) + cfg.Start
	per := cfg.Start + 2*cfg.Wait + 2*cfg.Quiet
	switch {
	case cfg.Manual:
		per = 2 * cfg.Step // a scenario asks a person for two or three things
		fallthrough
	case shared:
		beat *= 2
	default:
		per /= 4
	}
	return beat + time.Duration(scenarios)*per + time.Minute
}

// expand replaces the placeholders {host}, {port} and {addr} in s by the
// parts of addr.
func expand(s, addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return strings.NewReplacer("{host}", host, "{port}", port, "{addr}", addr).Replace(s)
}
