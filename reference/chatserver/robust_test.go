package chatserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/protocol"
)

// Robustness: hostile or broken peers must not hurt the server or anyone
// else on it (issue 5). Timing-dependent protections (idle, slowloris,
// slow consumers) are in timing_test.go.

// writeRepeated writes n bytes of b repeated, from one small buffer.
func writeRepeated(c net.Conn, b byte, n int) error {
	chunk := bytes.Repeat([]byte{b}, 64<<10)
	for n > 0 {
		k := min(n, len(chunk))
		c.SetWriteDeadline(time.Now().Add(guard))
		if _, err := c.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// TestHugeLine: a line of 1 MiB or 100 MiB is answered with J_ER 431 as
// soon as it passes the limit, long before it ends; the server's memory
// stays bounded (it never holds the line), the line after it works, and
// another client chats meanwhile as if nothing happened.
func TestHugeLine(t *testing.T) {
	sizes := []int{1 << 20, 100 << 20}
	if testing.Short() {
		sizes = sizes[:1]
	}
	for _, size := range sizes {
		t.Run(fmt.Sprintf("%dMiB", size>>20), func(t *testing.T) {
			srv := newServer(t, Config{})
			a := connect(t, transports[1], srv, "alice")
			b := connect(t, transports[1], srv, "bob")
			a.join("LIST alice")
			b.join("LIST alice bob")
			a.expect("LIST alice bob")

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			a.sendRaw([]byte("DATA alice: "))
			half := size / 2
			if err := writeRepeated(a.c, 'x', half); err != nil {
				t.Fatal(err)
			}
			a.expect(jer(protocol.CodeLineTooLong)) // mid-line
			b.send("DATA bob: still fine")
			b.expect("DATA bob: still fine")
			a.expect("DATA bob: still fine")
			if err := writeRepeated(a.c, 'x', size-half); err != nil {
				t.Fatal(err)
			}
			a.sendRaw([]byte("\nDATA alice: after\n"))
			a.expect("DATA alice: after")
			b.expect("DATA alice: after")
			runtime.ReadMemStats(&after)
			// Everything the process allocated while the line went
			// through: a few buffers, not the line.
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d KiB while a %d MiB line went through", alloc>>10, size>>20)
			if alloc > 4<<20 {
				t.Errorf("allocated %d KiB while a %d MiB line went through, want < 4 MiB", alloc>>10, size>>20)
			}
		})
	}
}

// TestHugeLineNeverEnds: an endless line is answered once and the
// connection is closed at the heartbeat deadline (a slowloris at full
// speed); see also TestSlowloris.
func TestHugeLineNeverEnds(t *testing.T) {
	srv := newServer(t, Config{HeartbeatTimeout: 200 * time.Millisecond})
	a := connect(t, transports[1], srv, "alice")
	a.sendRaw([]byte("JOIN "))
	done := make(chan error, 1)
	go func() {
		chunk := bytes.Repeat([]byte{'x'}, 4096)
		for {
			if _, err := a.c.Write(chunk); err != nil {
				done <- err
				return
			}
		}
	}()
	a.expect(jer(protocol.CodeLineTooLong))
	a.expectClosed()
	if err := <-done; err == nil {
		t.Error("writes went on after the server closed")
	}
}

// junk returns n lines of random bytes (no '\n'), each starting with a
// byte that no verb starts with, so each is an unknown command.
func junk(rng *rand.Rand, n int) []byte {
	var b []byte
	for range n {
		b = append(b, byte(0x80+rng.IntN(0x80)))
		for range rng.IntN(200) {
			c := byte(rng.IntN(256))
			if c == '\n' {
				c = 0
			}
			b = append(b, c)
		}
		b = append(b, '\n')
	}
	return b
}

// sendAsync writes b on its own goroutine (a pipe write waits for the
// reader) and returns where its error will be.
func sendAsync(c *client, b []byte) <-chan error {
	errc := make(chan error, 1)
	go func() {
		c.c.SetWriteDeadline(time.Now().Add(guard))
		_, err := c.c.Write(b)
		errc <- err
	}()
	return errc
}

// badText returns a random text of at most 200 bytes with at least one
// control character or invalid UTF-8 byte in it, and no line break.
func badText(rng *rand.Rand) []byte {
	b := make([]byte, 1+rng.IntN(200))
	for i := range b {
		b[i] = byte(rng.IntN(256))
		if b[i] == '\n' || b[i] == '\r' {
			b[i] = 0
		}
	}
	bad := []byte{0x00, 0x07, 0x1b, 0x7f, 0xff, 0xc3, 0x80}
	b[rng.IntN(len(b))] = bad[rng.IntN(len(bad))]
	return b
}

// TestBinaryJunk: junk lines, NULs, invalid UTF-8 and escape sequences get
// one J_ER each, nothing reaches anyone else, and the connection still
// works afterwards.
func TestBinaryJunk(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			srv := newServer(t, Config{})
			a := connect(t, tr, srv, "alice")
			b := connect(t, tr, srv, "bob")
			a.join("LIST alice")
			b.join("LIST alice bob")
			a.expect("LIST alice bob")
			rng := rand.New(rand.NewPCG(1, 2))
			const n = 200
			errc := sendAsync(a, junk(rng, n))
			for range n {
				a.expect(jer(protocol.CodeUnknownCommand))
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			for range n {
				text := badText(rng)
				errc := sendAsync(a, append(append([]byte("DATA alice: "), text...), '\n'))
				a.expect(jer(protocol.CodeInvalidText))
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
			}
			b.expectNothing()
			a.send("DATA alice: clean")
			a.expect("DATA alice: clean")
			b.expect("DATA alice: clean")
		})
	}
}

// throttledListener makes the server's sockets small, so that a peer that
// does not read fills them quickly.
type throttledListener struct{ net.Listener }

func (l throttledListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestStuckReaderTCP: over real TCP, a client that stops reading is cut
// off once it has taken nothing for WriteTimeout (meanwhile the sender is
// paused), and the others receive every message, in order, throughout. The
// others cannot be cut off however slowly this test runs: each round fits
// in their sockets, and they read it all before the next is sent.
func TestStuckReaderTCP(t *testing.T) {
	srv := newServer(t, Config{OutboxBytes: 16 << 10, WriteTimeout: time.Second})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(throttledListener{l}) }()
	defer func() { srv.Close(); <-served }()
	srv.addr = l.Addr().String()

	stuck := connect(t, transports[1], srv, "stuck")
	stuck.c.(*net.TCPConn).SetReadBuffer(4096)
	stuck.join("LIST stuck")
	a := connect(t, transports[1], srv, "alice")
	b := connect(t, transports[1], srv, "bob")
	a.join("LIST stuck alice")
	b.join("LIST stuck alice bob")
	a.expect("LIST stuck alice bob")

	text := strings.Repeat("y", 200)
	const batch = 50
	var req []byte
	for range batch {
		req = append(req, "DATA alice: "+text+"\n"...)
	}
	for round := 0; ; round++ {
		if round == 1000 {
			t.Fatal("stuck reader still joined after 50,000 messages")
		}
		a.sendRaw(req)
		dropped := false
		for _, c := range []*client{a, b} {
			for i := 0; i < batch; i++ {
				line, err := c.read()
				if err != nil {
					t.Fatalf("round %d: %s: %v", round, c.name, err)
				}
				if line == "LIST alice bob" {
					dropped = true
					i--
					continue
				}
				if line != "DATA alice: "+text {
					t.Fatalf("round %d: %s got %q", round, c.name, line)
				}
			}
		}
		if dropped {
			break
		}
	}
	a.expectNothing()
	b.expectNothing()
}

// TestConnectDisconnectCycles: many connections that come and go (some
// join, some send nothing, some vanish mid-line) leave no goroutine and no
// member behind.
func TestConnectDisconnectCycles(t *testing.T) {
	cycles := 10000
	if testing.Short() {
		cycles = 1000
	}
	srv := newServer(t, Config{})
	addr := srv.listen()
	ignore := goleak.IgnoreCurrent()
	const workers = 4
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			buf := make([]byte, 256)
			for i := w; i < cycles; i += workers {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					errs <- err
					return
				}
				switch i % 3 {
				case 0: // join, read J_OK and LIST, hang up
					fmt.Fprintf(c, "JOIN u%d\n", i)
					c.SetReadDeadline(time.Now().Add(guard))
					if _, err := io.ReadAtLeast(c, buf, len("J_OK\nLIST u")); err != nil {
						errs <- fmt.Errorf("cycle %d: %w", i, err)
						c.Close()
						return
					}
				case 1: // vanish mid-line
					fmt.Fprintf(c, "JOIN u%d", i)
				case 2: // connect and vanish
				}
				c.Close()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, ignore)
	if n := srv.Room().Len(); n != 0 {
		t.Errorf("%d members left after every client hung up", n)
	}
}

// TestShutdownUnderLoad: Shutdown while clients chat flat out returns,
// closes every connection and leaves no goroutine (TestMain checks).
func TestShutdownUnderLoad(t *testing.T) {
	srv := newServer(t, Config{})
	const n = 20
	clients := make([]*client, n)
	for i := range clients {
		c := connect(t, transports[1], srv, fmt.Sprintf("c%d", i))
		c.send("JOIN " + c.name)
		if line, err := c.read(); line != "J_OK" {
			t.Fatalf("%s: got %q, %v; want J_OK", c.name, line, err)
		}
		clients[i] = c
	}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { // reader: until EOF
			c.c.SetReadDeadline(time.Now().Add(guard))
			io.Copy(io.Discard, c.c)
			c.c.Close()
		})
	}
	for _, c := range clients {
		wg.Go(func() { // sender: until the server goes (or drops it)
			req := []byte("DATA " + c.name + ": load\n")
			for {
				c.c.SetWriteDeadline(time.Now().Add(guard))
				if _, err := c.c.Write(req); err != nil {
					return
				}
			}
		})
	}
	// Let the load build up a little: a few broadcasts have happened.
	probe := clients[0]
	for range 100 {
		fmt.Fprintf(probe.c, "DATA %s: probe\n", probe.name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	wg.Wait()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown = %v, want nil", err)
	}
}

// TestShutdownDeadline: a Shutdown whose context ends while a peer does
// not read still returns, with the context's error, and closes it.
func TestShutdownDeadline(t *testing.T) {
	srv := newServer(t, Config{WriteTimeout: time.Hour})
	stuck := connect(t, transports[0], srv, "stuck") // a pipe: no buffering
	stuck.join("LIST stuck")
	a := connect(t, transports[0], srv, "alice")
	a.join("LIST stuck alice")
	// stuck does not read: its writer is blocked on "LIST stuck alice".
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v, want context.Canceled", err)
	}
	stuck.expectClosed()
	a.expectClosed()
}

// TestJoinStorm: hundreds of clients join at once over loopback; every
// client gets J_OK and, in the end, a LIST of everyone (LIST rounds are
// paced and conflated, so not necessarily every intermediate one).
func TestJoinStorm(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 100
	}
	srv := newServer(t, Config{})
	addr := srv.listen()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	done := make(chan struct{}) // nobody leaves before everyone has seen everyone
	for i := range n {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			defer func() { <-done }()
			cl := newClient(t, fmt.Sprintf("u%d", i), c, protocol.FramingLine)
			if _, err := fmt.Fprintf(c, "JOIN %s\n", cl.name); err != nil {
				errs <- err
				return
			}
			if line, err := cl.read(); line != "J_OK" {
				errs <- fmt.Errorf("%s: got %q, %v; want J_OK", cl.name, line, err)
				return
			}
			for {
				line, err := cl.read()
				if err != nil {
					errs <- fmt.Errorf("%s: %v before a full LIST", cl.name, err)
					return
				}
				if strings.Count(line, " ") == n {
					errs <- nil
					return
				}
			}
		})
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(done)
	wg.Wait()
}
