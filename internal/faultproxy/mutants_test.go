package faultproxy_test

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatspec/chatspec/internal/faultproxy"
	"github.com/chatspec/chatspec/protocol"
)

// These tests run every mutant of the catalogue in front of the reference
// server and show, with a short script per mutant, that it changes what a
// client observes where its rule says it should; and that every legal
// variant leaves what a client means to observe unchanged.

// longHeartbeat is the reference server's heartbeat timeout in these
// tests, so that no script depends on its speed, except the heartbeat
// scripts, which set their own.
const longHeartbeat = time.Minute

// wait bounds a read. A script reaches it only where a mutant withholds
// something (the observation is then "<timeout>"), never on the reference.
// Scripts with their own heartbeat timeout wait twice that, for the
// reference to drop a client in time even on a loaded machine.
const wait = time.Second

// world is one reference server behind one proxy.
type world struct {
	t    *testing.T
	f    protocol.Framing
	addr string // the proxy's
	// chunks, if not nil, is signalled each time the Raw hook has handled
	// a chunk (see chunkSignal).
	chunks chan struct{}
	wait   time.Duration // bounds each read
}

// newWorld runs m with fault in front of a reference server whose
// heartbeat timeout is hb, unless the mutant sets its own.
func newWorld(t *testing.T, f protocol.Framing, hb time.Duration, m faultproxy.Mutant, fault faultproxy.Fault) *world {
	t.Helper()
	m.Fault = func() faultproxy.Fault { return fault }
	srv, err := m.Start(f, hb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return &world{t: t, f: f, addr: srv.Addr(), wait: wait}
}

// client is a test client of a world. Its methods return observations as
// strings, "<closed>" or "<timeout>" included, and fail the test only on
// errors of the test itself.
type client struct {
	w    *world
	name string
	c    net.Conn
	r    protocol.Reader
}

func (w *world) connect() *client {
	w.t.Helper()
	c, err := net.Dial("tcp", w.addr)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Close() })
	return &client{w: w, c: c, r: w.f.NewReader(c, 1<<16)}
}

// join connects a client and joins it as name, returning once J_OK arrived.
func (w *world) join(name string) *client {
	w.t.Helper()
	c := w.connect()
	c.name = name
	c.send(join(name))
	if got := c.until(isReply); !slices.Contains(got, protocol.VerbOK) {
		w.t.Fatalf("JOIN %s: got %q, want J_OK", name, got)
	}
	return c
}

func join(name string) string { return protocol.Join(name, "127.0.0.1:1").String() }

func (c *client) send(lines ...string) {
	c.w.t.Helper()
	var b []byte
	for _, l := range lines {
		b, _ = c.w.f.AppendFrame(b, []byte(l))
	}
	c.sendRaw(string(b))
}

func (c *client) sendRaw(s string) {
	c.w.t.Helper()
	// A write error is no failure: the next read observes "<closed>".
	if _, err := c.c.Write([]byte(s)); err != nil {
		c.w.t.Logf("write %q: %v", s, err)
	}
}

// next returns the next frame, "<closed>" or "<timeout>".
func (c *client) next() string {
	c.c.SetReadDeadline(time.Now().Add(c.w.wait))
	line, err := c.r.ReadFrame()
	var ne net.Error
	switch {
	case err == nil:
		return line
	case errors.As(err, &ne) && ne.Timeout():
		return "<timeout>"
	default:
		return "<closed>"
	}
}

// until reads frames up to and including the first that stop accepts (or
// the end), and returns them abridged: J_OK as is, J_ER as "J_ER", LIST
// with sorted names, DATA as is.
func (c *client) until(stop func(string) bool) []string {
	var out []string
	for {
		line := c.next()
		out = append(out, abridge(line))
		if stop(line) || strings.HasPrefix(line, "<") {
			return out
		}
	}
}

// sync sends an unknown command and returns what arrived before its J_ER:
// everything the server queued for this client before it read the command.
func (c *client) sync() []string {
	c.send("PING")
	got := c.until(isError)
	if got[len(got)-1] == protocol.VerbError {
		got = got[:len(got)-1]
	}
	return got
}

func abridge(line string) string {
	m, err := protocol.Parse(line)
	switch {
	case strings.HasPrefix(line, "<"):
		return line
	case err != nil:
		return fmt.Sprintf("%q", line)
	case m.Kind == protocol.KindError:
		return protocol.VerbError
	case m.Kind == protocol.KindList:
		names := slices.DeleteFunc(slices.Clone(m.Names), func(n string) bool { return n == ghost })
		slices.Sort(names)
		return protocol.List(names).String()
	}
	return m.String()
}

// ghost is the name of the legal variant ghost-user's extra user.
const ghost = "fpghost"

func kind(line string) protocol.Kind {
	m, _ := protocol.Parse(line)
	return m.Kind
}

func isReply(line string) bool { return isOK(line) || isError(line) }
func isOK(line string) bool    { return kind(line) == protocol.KindOK }
func isError(line string) bool { return kind(line) == protocol.KindError }
func isList(line string) bool  { return kind(line) == protocol.KindList }
func never(string) bool        { return false }

// reply sends lines and returns the first reply (J_OK or J_ER) abridged.
func (c *client) reply(lines ...string) string {
	c.send(lines...)
	got := c.until(isReply)
	return got[len(got)-1]
}

// check is one mutant's script: what the clients observe, as text.
type check struct {
	mutant string
	run    func(w *world) string
	// chunked: the script needs each write of the client to reach the Raw
	// hook as its own read; see chunkSignal.
	chunked bool
	// heartbeat, if set, is the server's heartbeat timeout (unless the
	// mutant sets its own), for the scripts about the heartbeat.
	heartbeat time.Duration
}

func joinReply(name string) func(*world) string {
	return func(w *world) string { return w.connect().reply(join(name)) }
}

// imavHeartbeat is the heartbeat timeout of the ignores-imav script.
const imavHeartbeat = 1500 * time.Millisecond

var checks = []check{
	{mutant: "reject-uppercase", run: joinReply("Alice")},
	{mutant: "refuse-hyphen", run: joinReply("a-b")},
	{mutant: "refuse-12-chars", run: joinReply("abcdefghijkl")},
	{mutant: "accept-13-chars", run: joinReply("abcdefghijklm")},
	{mutant: "accept-space", run: joinReply("bad name")},
	{mutant: "accept-punctuation", run: joinReply("bang!")},
	{mutant: "accept-non-ascii", run: joinReply("bjørn")},
	{mutant: "accept-empty", run: joinReply("")},
	{mutant: "jer-malformed", run: func(w *world) string {
		c := w.connect()
		c.send(join("bang!"))
		return c.next()
	}},
	{mutant: "rejoin-accepted", run: func(w *world) string { return w.join("a").reply(join("b")) }},
	{mutant: "no-retry-after-jer", run: func(w *world) string {
		w.join("a")
		c := w.connect()
		return c.reply(join("a")) + " " + c.reply(join("b"))
	}},
	{mutant: "accept-duplicate", run: func(w *world) string {
		w.join("a")
		return w.connect().reply(join("a"))
	}},
	{mutant: "name-kept-after-quit", run: func(w *world) string {
		a := w.join("a")
		a.send("QUIT")
		a.until(never)
		return w.connect().reply(join("a"))
	}},
	{mutant: "no-echo", run: func(w *world) string {
		a := w.join("a")
		a.send("DATA a: hi")
		return fmt.Sprint(a.sync())
	}},
	{mutant: "no-delivery-to-others", run: func(w *world) string {
		a, b := w.join("a"), w.join("b")
		a.send("DATA a: hi")
		a.sync()
		return fmt.Sprint(b.sync())
	}},
	{mutant: "count-bytes", run: func(w *world) string {
		a := w.join("a")
		a.sync()
		a.send("DATA a: " + strings.Repeat("ø", 250))
		return fmt.Sprint(len(a.sync()))
	}},
	{mutant: "accept-long-text", run: func(w *world) string {
		a := w.join("a")
		a.sync()
		a.send("DATA a: " + strings.Repeat("x", 251))
		return fmt.Sprint(len(a.sync()))
	}},
	{mutant: "text-cut-at-colon", run: func(w *world) string {
		a := w.join("a")
		a.send("DATA a: x: y")
		return fmt.Sprint(a.sync())
	}},
	{mutant: "data-before-join-ignored", run: func(w *world) string {
		c := w.connect()
		c.send("DATA a: hi", join("a"))
		return fmt.Sprint(c.until(isOK))
	}},
	{mutant: "impersonation-broadcast", run: func(w *world) string {
		a, b := w.join("a"), w.join("b")
		a.send("DATA b: hi")
		got := a.sync()
		return fmt.Sprint(got, b.sync())
	}},
	{mutant: "accept-control-chars", run: func(w *world) string {
		a := w.join("a")
		a.send("DATA a: x\x01y")
		return fmt.Sprint(a.sync())
	}},
	{mutant: "no-list-to-joiner", run: func(w *world) string {
		return fmt.Sprint(w.join("a").sync())
	}},
	{mutant: "no-list-to-others", run: func(w *world) string {
		a := w.join("a")
		a.sync()
		w.join("b").sync()
		return fmt.Sprint(a.sync())
	}},
	{mutant: "list-before-jok", run: func(w *world) string {
		c := w.connect()
		c.send(join("a"))
		return fmt.Sprint(c.sync())
	}},
	{mutant: "no-list-after-quit", run: func(w *world) string {
		a, b := w.join("a"), w.join("b")
		b.sync() // the LIST to a is queued before the answer to b's PING
		a.sync()
		b.send("QUIT")
		b.until(never)
		return fmt.Sprint(a.sync())
	}},
	{mutant: "list-keeps-quitter", run: func(w *world) string {
		a, b := w.join("a"), w.join("b")
		b.sync()
		a.sync()
		b.send("QUIT")
		b.until(never)
		return fmt.Sprint(a.sync())
	}},
	{mutant: "slow-disconnect-notice", run: func(w *world) string {
		a, b := w.join("a"), w.join("b")
		b.sync()
		a.sync()
		b.c.Close()
		return fmt.Sprint(a.until(func(l string) bool { return l == "LIST a" }))
	}},
	{mutant: "never-drops-silent", heartbeat: time.Second, run: func(w *world) string {
		return fmt.Sprint(w.join("a").until(never))
	}},
	{mutant: "ignores-imav", heartbeat: imavHeartbeat, run: func(w *world) string {
		a := w.join("a")
		a.sync()
		// IMAV 20 times per timeout, for one and a half timeouts: the
		// reference keeps the client even on a loaded machine.
		tick := time.NewTicker(imavHeartbeat / 20)
		defer tick.Stop()
		for range 30 {
			<-tick.C
			a.send("IMAV")
		}
		return fmt.Sprint(a.sync())
	}},
	{mutant: "dropped-left-open", heartbeat: time.Second, run: func(w *world) string {
		return fmt.Sprint(w.join("a").until(never))
	}},
	{mutant: "quit-ignored", run: func(w *world) string {
		a := w.join("a")
		a.send("QUIT", "PING")
		return fmt.Sprint(a.until(isError))
	}},
	{mutant: "data-after-quit", run: func(w *world) string {
		a, b := w.join("a"), w.join("b")
		a.send("QUIT")
		b.until(func(l string) bool { return l == "LIST b" })
		b.send("DATA b: hi")
		b.sync()
		got := a.until(func(l string) bool { return kind(l) == protocol.KindData })
		return got[len(got)-1]
	}},
	{mutant: "open-after-quit", run: func(w *world) string {
		a := w.join("a")
		a.send("QUIT")
		return fmt.Sprint(a.until(never))
	}},
	{mutant: "unknown-ignored", run: func(w *world) string {
		c := w.connect()
		c.send("PING", join("a"))
		return fmt.Sprint(c.until(isOK))
	}},
	{mutant: "close-after-unknown", run: func(w *world) string {
		c := w.connect()
		c.send("PING", join("a"))
		return fmt.Sprint(c.until(isOK))
	}},
	{mutant: "malformed-ignored", run: func(w *world) string {
		c := w.connect()
		c.send("JOIN", join("a"))
		return fmt.Sprint(c.until(isOK))
	}},
	{mutant: "first-line-per-read", run: func(w *world) string {
		c := w.connect()
		c.sendRaw(join("a") + "\nPING\n")
		c.until(isOK)
		c.sendRaw("DATA a nocolon\n") // J_ER 400, unlike PING's 401
		return fmt.Sprint(c.until(func(l string) bool { return strings.HasPrefix(l, "J_ER 400") }))
	}},
	{mutant: "read-is-message", chunked: true, run: func(w *world) string {
		c := w.connect()
		line := join("a") + "\n"
		c.sendRaw(line[:3])
		c.awaitChunk()
		c.sendRaw(line[3:])
		return fmt.Sprint(c.next())
	}},
	{mutant: "crlf-refused", run: func(w *world) string {
		c := w.connect()
		c.sendRaw(join("a") + "\r\n")
		return c.next()
	}},
}

// chunkSignal wraps a Raw fault so that each chunk it handles is signalled
// on the world's channel: a script then writes its next chunk only after
// the proxy has read the previous one.
func chunkSignal(f faultproxy.Fault, seen chan<- struct{}) faultproxy.Fault {
	raw := f.Raw
	if raw == nil {
		raw = func(_ *faultproxy.Session, b []byte) []byte { return b }
	}
	f.Raw = func(s *faultproxy.Session, b []byte) []byte {
		out := raw(s, b)
		seen <- struct{}{}
		return out
	}
	return f
}

func (c *client) awaitChunk() {
	select {
	case <-c.w.chunks:
	case <-time.After(c.w.wait):
		c.w.t.Fatal("the proxy read no chunk")
	}
}

func TestCatalogueIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range slices.Concat(faultproxy.Mutants(), faultproxy.Legal()) {
		if m.Name == "" || seen[m.Name] {
			t.Errorf("mutant name %q empty or not unique", m.Name)
		}
		seen[m.Name] = true
		if m.Fault == nil {
			t.Errorf("%s: no Fault", m.Name)
		}
	}
	for _, m := range faultproxy.Mutants() {
		if m.Breaks == "" || (m.Level != faultproxy.Must && m.Level != faultproxy.Should) {
			t.Errorf("%s: Breaks %q, Level %q: a mutant names its rule and its level", m.Name, m.Breaks, m.Level)
		}
	}
	for _, m := range faultproxy.Legal() {
		if m.Breaks != "" || m.Level != "" {
			t.Errorf("%s: a legal variant breaks nothing", m.Name)
		}
	}
}

// Every mutant has a script, and the script observes something else with
// the mutant than with the plain reference server.
func TestMutantsChangeWhatClientsSee(t *testing.T) {
	byName := map[string]check{}
	for _, c := range checks {
		byName[c.mutant] = c
	}
	for _, f := range []protocol.Framing{protocol.FramingLine, protocol.FramingUTF} {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			for _, m := range faultproxy.Mutants() {
				c, ok := byName[m.Name]
				if !ok {
					t.Errorf("mutant %s has no check", m.Name)
					continue
				}
				// The heartbeat scripts take seconds, and their faults
				// do not depend on the framing: line framing only.
				if (m.LineOnly || c.heartbeat != 0) && f != protocol.FramingLine {
					continue
				}
				t.Run(m.Name, func(t *testing.T) {
					t.Parallel()
					plain := runCheck(t, f, faultproxy.Mutant{}, faultproxy.Fault{}, c)
					broken := runCheck(t, f, m, m.Fault(), c)
					t.Logf("reference: %s\nmutant:    %s", plain, broken)
					if plain == broken {
						t.Errorf("the mutant changes nothing the script sees: %s", plain)
					}
				})
			}
		})
	}
}

func runCheck(t *testing.T, f protocol.Framing, m faultproxy.Mutant, fault faultproxy.Fault, c check) string {
	t.Helper()
	var seen chan struct{}
	if c.chunked {
		seen = make(chan struct{}, 16)
		fault = chunkSignal(fault, seen)
	}
	hb := longHeartbeat
	if c.heartbeat != 0 {
		hb = c.heartbeat
	}
	w := newWorld(t, f, hb, m, fault)
	if c.heartbeat != 0 {
		w.wait = 2 * c.heartbeat
	}
	w.chunks = seen
	return c.run(w)
}

// legalScript is a short chat that touches every message a server sends:
// J_OK, LIST on join and quit, DATA, J_ER.
// The reference server conflates LISTs (a LIST not yet written when the
// next is queued is replaced by it), so only the last of a run of LISTs is
// kept.
func legalScript(w *world) string {
	a, b := w.join("a"), w.join("b")
	a.send("DATA a: hi: there")
	echo := func(l string) bool { return l == "DATA a: hi: there" }
	out := fmt.Sprint("a:", lastLists(a.until(echo)), " b:", lastLists(b.until(echo)))
	out += fmt.Sprint(" c:", w.connect().reply(join("a")))
	b.send("QUIT")
	out += fmt.Sprint(" b:", b.until(never))
	a.send("DATA a: bye")
	out += fmt.Sprint(" a:", lastLists(a.until(func(l string) bool { return l == "DATA a: bye" })))
	return out
}

// lastLists drops every LIST followed by another LIST.
func lastLists(got []string) []string {
	var out []string
	for i, l := range got {
		if isList(l) && i+1 < len(got) && isList(got[i+1]) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// Every legal variant shows the clients the same chat, read with the
// protocol package's parser, as the reference server.
func TestLegalVariantsMeanTheSame(t *testing.T) {
	for _, f := range []protocol.Framing{protocol.FramingLine, protocol.FramingUTF} {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			for _, m := range faultproxy.Legal() {
				if m.LineOnly && f != protocol.FramingLine {
					continue
				}
				t.Run(m.Name, func(t *testing.T) {
					t.Parallel()
					plain := legalScript(newWorld(t, f, longHeartbeat, faultproxy.Mutant{}, faultproxy.Fault{}))
					variant := legalScript(newWorld(t, f, longHeartbeat, m, m.Fault()))
					if plain != variant {
						t.Errorf("the variant changes what clients read:\nreference: %s\nvariant:   %s", plain, variant)
					}
				})
			}
		})
	}
}
