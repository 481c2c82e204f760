package chatserver

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The overload policy (package doc, "Overload"), in virtual time over
// net.Pipe. A pipe holds no bytes: a peer that does not read blocks the
// server's writer at once, and a client whose reads the server pauses
// blocks in its write, as a TCP client does once its socket is full.

// collector reads every frame a client receives, on its own goroutine,
// until the connection ends.
type collector struct {
	mu     sync.Mutex
	frames []string // guarded by mu
	err    error    // guarded by mu: why reading stopped; nil while it goes on
}

func collect(c *client) *collector {
	col := &collector{}
	c.c.SetReadDeadline(time.Time{})
	go func() {
		for {
			line, err := c.r.ReadFrame()
			col.mu.Lock()
			if err != nil {
				col.err = err
				col.mu.Unlock()
				return
			}
			col.frames = append(col.frames, line)
			col.mu.Unlock()
		}
	}()
	return col
}

// state returns the frames so far and why reading stopped (nil if not).
func (col *collector) state() ([]string, error) {
	col.mu.Lock()
	defer col.mu.Unlock()
	return append([]string(nil), col.frames...), col.err
}

// count returns how many of the frames so far are want.
func (col *collector) count(want string) int {
	frames, _ := col.state()
	n := 0
	for _, f := range frames {
		if f == want {
			n++
		}
	}
	return n
}

// slowClient connects a client to srv over net.Pipe inside the bubble that
// reads at most chunk bytes a second.
func slowClient(t *testing.T, srv *Server, name string, chunk int) *client {
	cli, sc := net.Pipe()
	go srv.ServeConn(sc)
	t.Cleanup(func() { cli.Close() })
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) }) // first: wake a sleeping read
	return newClient(t, name, slowConn{cli, chunk, stop}, srv.cfg.Framing)
}

// slowConn is a peer that reads at most chunk bytes a second, until stop
// is closed.
type slowConn struct {
	net.Conn
	chunk int
	stop  <-chan struct{}
}

func (s slowConn) Read(p []byte) (int, error) {
	select {
	case <-time.After(time.Second):
	case <-s.stop:
	}
	return s.Conn.Read(p[:min(len(p), s.chunk)])
}

// flood writes lines to the server from a goroutine of its own, one write
// each, with no deadline: the server decides when they go in. It reports
// the first write error, or nil once every line is written, on the
// returned channel.
func flood(c *client, lines []string) <-chan error {
	done := make(chan error, 1)
	c.c.SetWriteDeadline(time.Time{})
	go func() {
		for _, l := range lines {
			if _, err := io.WriteString(c.c, l+"\n"); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}

// numbered returns n DATA lines from name, numbered so that order shows.
func numbered(name string, n, size int) []string {
	lines := make([]string, n)
	for i := range lines {
		text := fmt.Sprintf("%04d", i)
		lines[i] = "DATA " + name + ": " + text + strings.Repeat("x", max(0, size-len(text)))
	}
	return lines
}

// checkOrder fails unless the DATA in frames are exactly want, in order.
func checkOrder(t *testing.T, who string, frames, want []string) {
	t.Helper()
	var got []string
	for _, f := range frames {
		if strings.HasPrefix(f, "DATA ") {
			got = append(got, f)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s got %d DATA, want %d", who, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: DATA %d is %.20q..., want %.20q...", who, i, got[i], want[i])
		}
	}
}

// TestStalledReaderDropped: a peer that stops reading, once senders wait
// for it, is dropped exactly StallTimeout later (not WriteTimeout after it
// last took a byte; see TestWriteTimeout for a peer nobody waits for).
// Meanwhile its queue stays under the full mark plus one message (the
// sender pauses, nothing is lost), and then the others get everything, in
// order.
func TestStalledReaderDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := New(Config{OutboxBytes: 1000, WriteTimeout: 10 * time.Second, StallTimeout: 3 * time.Second})
		defer srv.Close()
		stuck := pipeClient(t, srv, "stuck")
		alice := pipeClient(t, srv, "alice")
		bob := pipeClient(t, srv, "bob")
		stuck.join("LIST stuck")
		alice.join("LIST stuck alice")
		// stuck took its last byte as it read "LIST stuck": its writer has
		// been blocked on "LIST stuck alice" since alice got it, now.
		start := time.Now()
		bob.join("LIST stuck alice bob")
		alice.expect("LIST stuck alice bob")
		a, b := collect(alice), collect(bob)
		lines := numbered("alice", 30, 200)
		at(start, 5*time.Second) // nobody waits for stuck yet
		if n := srv.Room().Len(); n != 3 {
			t.Fatalf("at 5s: %d members, want 3", n)
		}
		sent := flood(alice, lines)

		at(start, 8*time.Second-time.Nanosecond)
		if n := srv.Room().Len(); n != 3 {
			t.Fatalf("at 8s-1ns, 3s less 1ns after alice's flood made stuck congested: %d members, want 3", n)
		}
		stuckConn := srv.conn("stuck")
		stuckConn.out.mu.Lock()
		level := stuckConn.out.qBytes + stuckConn.out.wBytes
		stuckConn.out.mu.Unlock()
		if max := stuckConn.out.fullMark() + len(lines[0]) + 1; level > max {
			t.Errorf("stuck's queue holds %d bytes, want at most the full mark and one message, %d", level, max)
		}
		if n := b.count(lines[0]); n != 1 {
			t.Fatalf("bob got %d of alice's first message while she was paused, want 1", n)
		}
		if frames, _ := b.state(); len(frames) >= len(lines) {
			t.Fatalf("bob got %d frames while stuck held the room, want fewer than %d", len(frames), len(lines))
		}

		at(start, 8*time.Second)
		if n := srv.Room().Len(); n != 2 {
			t.Fatalf("at 8s: %d members, want 2 (stuck dropped)", n)
		}
		stuck.expectClosed("LIST stuck alice", lines[0], lines[1], lines[2], lines[3])
		if err := <-sent; err != nil {
			t.Fatalf("alice's flood: %v", err)
		}
		synctest.Wait()
		for who, col := range map[string]*collector{"alice": a, "bob": b} {
			frames, err := col.state()
			if err != nil {
				t.Fatalf("%s: %v", who, err)
			}
			checkOrder(t, who, frames, lines)
			if col.count("LIST alice bob") != 1 {
				t.Errorf("%s did not get the LIST without stuck", who)
			}
		}
	})
}

// conn returns the connection of the member called name.
func (s *Server) conn(name string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.member != nil && c.member.Name == name {
			return c
		}
	}
	return nil
}

// TestPausedSenderNotExpired: a flooder paused for far longer than the
// heartbeat timeout, because a peer holds the room back, is not dropped for
// silence: the server was not reading it. The stuck peer goes after
// WriteTimeout, and the flood then goes through.
func TestPausedSenderNotExpired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := New(Config{OutboxBytes: 1000, HeartbeatTimeout: time.Minute, WriteTimeout: 5 * time.Minute,
			StallTimeout: 5 * time.Minute})
		defer srv.Close()
		stuck := pipeClient(t, srv, "stuck")
		alice := pipeClient(t, srv, "alice")
		stuck.join("LIST stuck")
		alice.join("LIST stuck alice") // stuck's writer is blocked on this LIST from now on
		start := time.Now()
		a := collect(alice)
		lines := numbered("alice", 20, 200)
		sent := flood(alice, lines)
		// stuck does not read but stays alive: an IMAV every 30s, which
		// waits in the pipe once the server pauses stuck too. It ends when
		// stuck is closed.
		beat := make(chan struct{})
		stuck.c.SetWriteDeadline(time.Time{})
		go func() {
			defer close(beat)
			for {
				time.Sleep(30 * time.Second)
				if _, err := io.WriteString(stuck.c, "IMAV\n"); err != nil {
					return
				}
			}
		}()

		at(start, 5*time.Minute-time.Nanosecond)
		if n := srv.Room().Len(); n != 2 {
			t.Fatalf("at 5m-1ns (alice paused for 5 heartbeat timeouts): %d members, want 2", n)
		}
		if n := a.count(lines[len(lines)-1]); n != 0 {
			t.Fatalf("alice's flood went through while stuck held the room")
		}
		at(start, 5*time.Minute)
		if n := srv.Room().Len(); n != 1 {
			t.Fatalf("at 5m: %d members, want 1 (stuck dropped)", n)
		}
		if err := <-sent; err != nil {
			t.Fatalf("alice's flood: %v", err)
		}
		synctest.Wait()
		frames, err := a.state()
		if err != nil {
			t.Fatalf("alice: %v", err)
		}
		checkOrder(t, "alice", frames, lines)
		// Her deadline moved on by the pause: she is alive until a minute
		// after the server read her last frame.
		at(start, 6*time.Minute-time.Nanosecond)
		if n := srv.Room().Len(); n != 1 {
			t.Fatalf("at 6m-1ns: %d members, want 1", n)
		}
		at(start, 6*time.Minute)
		if n := srv.Room().Len(); n != 0 {
			t.Fatalf("at 6m: %d members, want 0 (alice silent for a minute of reading)", n)
		}
		<-beat
	})
}

// TestSlowReaderKept: a reader far slower than a flood, but reading, is
// never dropped and gets every message in order; the flooder is held to
// the reader's pace instead.
func TestSlowReaderKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := New(Config{OutboxBytes: 2000, WriteTimeout: 5 * time.Second, HeartbeatTimeout: time.Hour,
			SendRate: 1, SendBurst: 1})
		defer srv.Close()
		slow := slowClient(t, srv, "slow", 64)
		alice := pipeClient(t, srv, "alice")
		slow.join("LIST slow")
		alice.join("LIST slow alice")
		start := time.Now()
		s, a := collect(slow), collect(alice)
		lines := numbered("alice", 100, 28) // 40 bytes a line: the reader takes 1.6 a second
		sent := flood(alice, lines)
		if err := <-sent; err != nil {
			t.Fatalf("alice's flood: %v", err)
		}
		// The last lines went in as the reader caught up: alice was held
		// to its pace, not the other way round.
		if took := time.Since(start); took < 30*time.Second {
			t.Errorf("alice's 100 lines went in within %v; want her held to the reader's 64 bytes a second", took)
		}
		for {
			if n := s.count(lines[len(lines)-1]); n == 1 {
				break
			}
			if _, err := s.state(); err != nil {
				t.Fatalf("slow reader: %v after %v", err, time.Since(start))
			}
			time.Sleep(time.Second)
		}
		if n := srv.Room().Len(); n != 2 {
			t.Fatalf("%d members after the flood, want 2", n)
		}
		for who, col := range map[string]*collector{"slow": s, "alice": a} {
			frames, err := col.state()
			if err != nil {
				t.Fatalf("%s: %v", who, err)
			}
			checkOrder(t, who, frames, lines)
		}
	})
}

// TestTypistNotSlowedByFlood: while a flooder is held back for a slow
// reader (slower than the flood, faster than the allowance), a client
// within its allowance is read at once, and its message reaches the readers
// that keep up at once too: it waits only behind what is queued for the
// slow reader, less than the full mark.
func TestTypistNotSlowedByFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := New(Config{OutboxBytes: 2000, HeartbeatTimeout: time.Hour, SendRate: 1, SendBurst: 5})
		defer srv.Close()
		slow := slowClient(t, srv, "slow", 64)
		alice := pipeClient(t, srv, "alice")
		bob := pipeClient(t, srv, "bob")
		slow.join("LIST slow")
		alice.join("LIST slow alice")
		bob.join("LIST slow alice bob")
		alice.expect("LIST slow alice bob")
		s, a, b := collect(slow), collect(alice), collect(bob)
		lines := numbered("alice", 1000, 28)
		sent := flood(alice, lines)
		// By now alice has spent her burst and is held to the slow
		// reader's pace.
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if n := a.count(lines[len(lines)-1]); n != 0 {
			t.Fatal("alice's whole flood went through in 10s")
		}
		o := srv.conn("slow").out
		o.mu.Lock()
		level := o.qBytes + o.wBytes
		o.mu.Unlock()
		if level > o.fullMark() {
			t.Fatalf("the slow reader's queue holds %d bytes, over the full mark %d", level, o.fullMark())
		}
		before := time.Now()
		for range 3 { // a reader checks before its next frame: the 2nd and 3rd show it
			bob.send("DATA bob: hi") // fails if the server does not read it within guard
			if took := time.Since(before); took > 0 {
				t.Fatalf("bob's DATA was read after %v, want at once", took)
			}
		}
		synctest.Wait()
		if a.count("DATA bob: hi") != 3 || b.count("DATA bob: hi") != 3 {
			t.Errorf("alice and bob, who keep up, did not get bob's 3 DATA at once")
		}
		// The slow reader gets it after what was queued for it, at 64 bytes
		// a second.
		for s.count("DATA bob: hi") == 0 {
			if time.Since(before) > time.Duration(level/64+2)*time.Second {
				t.Fatalf("the slow reader did not get bob's DATA within %v", time.Since(before))
			}
			time.Sleep(time.Second)
		}
		srv.Close()
		<-sent
	})
}

func TestGate(t *testing.T) {
	var g gate
	g.init()
	isOpen := func() bool {
		select {
		case <-g.opened():
			return true
		default:
			return false
		}
	}
	if g.closed() || !isOpen() {
		t.Fatal("a new gate is closed")
	}
	g.add(true)
	g.add(true)
	wait := g.opened()
	if !g.closed() || isOpen() {
		t.Fatal("gate open with two outboxes over the mark")
	}
	g.add(false)
	if !g.closed() || isOpen() {
		t.Fatal("gate open with one outbox over the mark")
	}
	g.add(false)
	if g.closed() || !isOpen() {
		t.Fatal("gate closed with no outbox over the mark")
	}
	select {
	case <-wait:
	default:
		t.Fatal("a waiter was not woken when the gate opened")
	}
}

func TestAllowance(t *testing.T) {
	now := time.Unix(0, 0)
	a := newAllowance(2, 3, now) // 2 a second, at most 3
	for i := range 3 {
		if ok, _ := a.has(now); !ok {
			t.Fatalf("token %d of a burst of 3 missing", i)
		}
		a.spend(now)
	}
	if ok, wait := a.has(now); ok || wait != 500*time.Millisecond {
		t.Fatalf("after the burst: has = %v, %v; want false, 500ms", ok, wait)
	}
	a.spend(now) // sent while the room was not congested: free, no debt
	if ok, wait := a.has(now.Add(500 * time.Millisecond)); !ok || wait != 0 {
		t.Fatalf("500ms later: has = %v, %v; want true, 0", ok, wait)
	}
	if a.has(now.Add(time.Hour)); a.tokens != 3 {
		t.Errorf("an hour later: %v tokens, want the burst, 3", a.tokens)
	}
	none := newAllowance(0, 0, now)
	if ok, wait := none.has(now.Add(time.Hour)); ok || wait != 0 {
		t.Errorf("no allowance: has = %v, %v; want false, 0", ok, wait)
	}
}
