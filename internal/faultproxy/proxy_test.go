package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// guard bounds every blocking read in these tests; it is a failure guard,
// never a synchronisation.
const guard = 10 * time.Second

var framings = []protocol.Framing{protocol.FramingLine, protocol.FramingUTF}

// fakeUpstream is a listener whose accepted connections the test drives by
// hand, standing in for the server.
type fakeUpstream struct {
	ln    net.Listener
	conns chan net.Conn
}

func newFakeUpstream(t *testing.T) *fakeUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &fakeUpstream{ln: ln, conns: make(chan net.Conn, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		close(u.conns)
		for c := range u.conns {
			c.Close()
		}
	})
	return u
}

func (u *fakeUpstream) addr() string { return u.ln.Addr().String() }

// accept returns the next connection the proxy opened to the upstream.
func (u *fakeUpstream) accept(t *testing.T) *peer {
	t.Helper()
	select {
	case c := <-u.conns:
		t.Cleanup(func() { c.Close() })
		return &peer{t: t, c: c}
	case <-time.After(guard):
		t.Fatal("the proxy did not connect to the upstream")
		return nil
	}
}

// peer is one end of a connection, with a frame reader made on first use.
type peer struct {
	t *testing.T
	c net.Conn
	f protocol.Framing
	r protocol.Reader
}

func startProxy(t *testing.T, u *fakeUpstream, f protocol.Framing, fault Fault) *Proxy {
	t.Helper()
	p, err := Start(u.addr(), f, fault)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// dial connects a client to the proxy and returns it with the proxy's
// connection to the upstream.
func dial(t *testing.T, p *Proxy, u *fakeUpstream) (client, server *peer) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	client = &peer{t: t, c: c, f: p.Framing()}
	server = u.accept(t)
	server.f = p.Framing()
	return client, server
}

func (p *peer) send(lines ...string) {
	p.t.Helper()
	var b []byte
	for _, l := range lines {
		var err error
		if b, err = p.f.AppendFrame(b, []byte(l)); err != nil {
			p.t.Fatal(err)
		}
	}
	p.sendRaw(b)
}

func (p *peer) sendRaw(b []byte) {
	p.t.Helper()
	if _, err := p.c.Write(b); err != nil {
		p.t.Fatalf("write %q: %v", b, err)
	}
}

func (p *peer) read() (string, error) {
	if p.r == nil {
		p.r = p.f.NewReader(p.c, maxFrame+16)
	}
	p.c.SetReadDeadline(time.Now().Add(guard))
	return p.r.ReadFrame()
}

// expect reads len(want) frames and compares them with want.
func (p *peer) expect(want ...string) {
	p.t.Helper()
	for _, w := range want {
		got, err := p.read()
		if err != nil {
			p.t.Fatalf("read: %v, want %q", err, w)
		}
		if got != w {
			p.t.Fatalf("read %q, want %q", got, w)
		}
	}
}

// readRaw reads exactly n bytes.
func (p *peer) readRaw(n int) []byte {
	p.t.Helper()
	b := make([]byte, n)
	p.c.SetReadDeadline(time.Now().Add(guard))
	if _, err := io.ReadFull(p.c, b); err != nil {
		p.t.Fatalf("read %d bytes: %v (got %q)", n, err, b)
	}
	return b
}

// expectClosed reads until the connection ends, failing on any frame.
func (p *peer) expectClosed() {
	p.t.Helper()
	got, err := p.read()
	if err == nil {
		p.t.Fatalf("read %q, want the connection closed", got)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
		return
	}
	p.t.Fatalf("read: %v, want the connection closed", err)
}

func isReset(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && !ne.Timeout() || strings.Contains(err.Error(), "connection reset")
}

func TestTransparent(t *testing.T) {
	for _, f := range framings {
		t.Run(f.String(), func(t *testing.T) {
			u := newFakeUpstream(t)
			p := startProxy(t, u, f, Fault{})
			client, server := dial(t, p, u)
			toServer := []string{"JOIN alice, 127.0.0.1:1", "DATA alice: hi: there ø 😀", "", "GARBAGE \x01", "IMAV"}
			client.send(toServer...)
			server.expect(toServer...)
			toClient := []string{"J_OK", "LIST alice bob", "DATA bob: ø"}
			server.send(toClient...)
			client.expect(toClient...)
		})
	}
}

// In line framing the proxy forwards one "\n" for a "\r\n".
func TestLineFramingNormalisesCRLF(t *testing.T) {
	u := newFakeUpstream(t)
	p := startProxy(t, u, protocol.FramingLine, Fault{})
	client, server := dial(t, p, u)
	client.sendRaw([]byte("IMAV\r\nQUIT\n"))
	if got, want := server.readRaw(len("IMAV\nQUIT\n")), "IMAV\nQUIT\n"; string(got) != want {
		t.Fatalf("server got %q, want %q", got, want)
	}
}

func TestOverlongLineForwardedAsOverlong(t *testing.T) {
	u := newFakeUpstream(t)
	p := startProxy(t, u, protocol.FramingLine, Fault{})
	client, server := dial(t, p, u)
	client.sendRaw(append(bytes.Repeat([]byte("y"), 100_000), "\nIMAV\n"...))
	got := server.readRaw(maxFrame + 2)
	if want := append(bytes.Repeat([]byte("x"), maxFrame+1), '\n'); !bytes.Equal(got, want) {
		t.Fatalf("server got %d bytes %.20q..., want %d x and a newline", len(got), got, maxFrame+1)
	}
	server.expect("IMAV")
}

func TestDrop(t *testing.T) {
	for _, f := range framings {
		t.Run(f.String(), func(t *testing.T) {
			u := newFakeUpstream(t)
			p := startProxy(t, u, f, Fault{Frame: func(_ *Session, dir Direction, line string) []string {
				if strings.HasPrefix(line, "DATA") {
					return nil
				}
				return []string{line}
			}})
			client, server := dial(t, p, u)
			client.send("DATA a: dropped", "IMAV")
			server.expect("IMAV")
			server.send("DATA b: dropped", "LIST b")
			client.expect("LIST b")
		})
	}
}

func TestInjectAndReplace(t *testing.T) {
	for _, f := range framings {
		t.Run(f.String(), func(t *testing.T) {
			u := newFakeUpstream(t)
			p := startProxy(t, u, f, Fault{Frame: func(s *Session, dir Direction, line string) []string {
				if dir == ToServer && strings.HasPrefix(line, "JOIN") {
					if err := s.Inject(ToClient, "J_ER 1: injected"); err != nil {
						t.Error(err)
					}
					return []string{line, "IMAV", "QUIT"}
				}
				return []string{line}
			}})
			client, server := dial(t, p, u)
			client.send("JOIN a")
			client.expect("J_ER 1: injected")
			server.expect("JOIN a", "IMAV", "QUIT")
		})
	}
}

func TestRaw(t *testing.T) {
	u := newFakeUpstream(t)
	p := startProxy(t, u, protocol.FramingLine, Fault{Raw: func(_ *Session, chunk []byte) []byte {
		return bytes.ToUpper(chunk)
	}})
	client, server := dial(t, p, u)
	in := "join a\r\ndata a: x"
	client.sendRaw([]byte(in))
	// Bytes pass as they are, "\r\n" and an unfinished line included.
	if got, want := server.readRaw(len(in)), strings.ToUpper(in); string(got) != want {
		t.Fatalf("server got %q, want %q", got, want)
	}
	// Raw is for ToServer only: the other direction is framed.
	server.send("J_OK")
	client.expect("J_OK")
}

// The session names the user from the JOIN the client sent and the J_OK
// that answers it, past a J_ER for an earlier request and a renaming hook.
func TestSessionTracksJoin(t *testing.T) {
	u := newFakeUpstream(t)
	type seen struct {
		joined           bool
		name, serverName string
	}
	atOK := make(chan seen, 1)
	p := startProxy(t, u, protocol.FramingLine, Fault{Frame: func(s *Session, dir Direction, line string) []string {
		switch {
		case dir == ToServer && line == "JOIN alice":
			return []string{"JOIN fpx1"}
		case dir == ToClient && line == "J_ER 402: not joined":
			if s.Joined() {
				t.Error("joined after the J_ER for DATA")
			}
		case dir == ToClient && line == "J_OK":
			atOK <- seen{s.Joined(), s.Name(), s.ServerName()}
		}
		return []string{line}
	}})
	client, server := dial(t, p, u)
	client.send("DATA alice: early", "IMAV", "JOIN alice")
	server.expect("DATA alice: early", "IMAV", "JOIN fpx1")
	server.send("J_ER 402: not joined", "J_OK")
	client.expect("J_ER 402: not joined", "J_OK")
	if got, want := <-atOK, (seen{true, "alice", "fpx1"}); got != want {
		t.Fatalf("at J_OK the session reads %+v, want %+v", got, want)
	}
}

func TestCloseEitherSideClosesTheOther(t *testing.T) {
	t.Run("client", func(t *testing.T) {
		u := newFakeUpstream(t)
		p := startProxy(t, u, protocol.FramingLine, Fault{})
		client, server := dial(t, p, u)
		client.send("QUIT")
		client.c.Close()
		server.expect("QUIT")
		server.expectClosed()
	})
	t.Run("server", func(t *testing.T) {
		u := newFakeUpstream(t)
		p := startProxy(t, u, protocol.FramingLine, Fault{})
		client, server := dial(t, p, u)
		server.send("J_ER 1: bye")
		server.c.Close()
		client.expect("J_ER 1: bye")
		client.expectClosed()
	})
	t.Run("hook", func(t *testing.T) {
		u := newFakeUpstream(t)
		p := startProxy(t, u, protocol.FramingLine, Fault{Frame: func(s *Session, _ Direction, line string) []string {
			if line == "bye" {
				s.Close()
				return nil
			}
			return []string{line}
		}})
		client, server := dial(t, p, u)
		client.send("bye")
		client.expectClosed()
		server.expectClosed()
	})
}

func TestKeepUpstreamOnClose(t *testing.T) {
	u := newFakeUpstream(t)
	p := startProxy(t, u, protocol.FramingLine, Fault{KeepUpstreamOnClose: true, KeepUpstreamAlive: true, KeepAlive: time.Millisecond})
	client, server := dial(t, p, u)
	client.send("JOIN a")
	client.c.Close()
	// The upstream stays open and hears IMAV.
	server.expect("JOIN a", "IMAV", "IMAV")
	p.Close()
	for {
		if _, err := server.read(); err != nil {
			break
		}
	}
}

func TestKeepClientOnUpstreamClose(t *testing.T) {
	u := newFakeUpstream(t)
	p := startProxy(t, u, protocol.FramingLine, Fault{
		KeepClientOnUpstreamClose: true,
		Frame: func(s *Session, dir Direction, line string) []string {
			if dir == ToServer && line == "ping" {
				_ = s.Inject(ToClient, "pong")
				return nil
			}
			return []string{line}
		},
	})
	client, server := dial(t, p, u)
	server.send("LIST a")
	server.c.Close()
	client.expect("LIST a")
	// The proxy still reads the client and can answer it.
	client.send("IMAV", "ping")
	client.expect("pong")
	p.Close()
	client.expectClosed()
}

func TestCloseEndsEverything(t *testing.T) {
	for _, f := range framings {
		t.Run(f.String(), func(t *testing.T) {
			u := newFakeUpstream(t)
			p := startProxy(t, u, f, Fault{KeepUpstreamOnClose: true, KeepClientOnUpstreamClose: true})
			var clients, servers []*peer
			for range 3 {
				c, s := dial(t, p, u)
				c.send("IMAV")
				s.expect("IMAV")
				clients, servers = append(clients, c), append(servers, s)
			}
			if n := len(p.Sessions()); n != 3 {
				t.Fatalf("%d sessions, want 3", n)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if n := len(p.Sessions()); n != 0 {
				t.Fatalf("%d sessions after Close, want 0", n)
			}
			for i := range clients {
				clients[i].expectClosed()
				servers[i].expectClosed()
			}
			if _, err := net.Dial("tcp", p.Addr()); err == nil {
				t.Fatal("the proxy accepts connections after Close")
			}
			if err := p.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

func TestUnreachableUpstreamClosesClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p, err := Start(addr, protocol.FramingLine, Fault{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	(&peer{t: t, c: c}).expectClosed()
}

func TestGhost(t *testing.T) {
	for _, f := range framings {
		t.Run(f.String(), func(t *testing.T) {
			u := newFakeUpstream(t)
			type result struct {
				join string
				err  error
			}
			joined := make(chan result, 1)
			var ghost *peer
			go func() {
				// Serve the ghost's JOIN while Start waits for it.
				c := <-u.conns
				ghost = &peer{t: t, c: c, f: f}
				line, err := ghost.read()
				if err == nil {
					b, _ := f.AppendMessage(nil, protocol.OK())
					b, _ = f.AppendMessage(b, protocol.List([]string{"ghost"}))
					_, err = c.Write(b)
				}
				joined <- result{line, err}
			}()
			p := startProxy(t, u, f, Fault{Ghosts: []string{"ghost"}, KeepAlive: time.Millisecond})
			r := <-joined
			t.Cleanup(func() { ghost.c.Close() })
			if r.err != nil || r.join != "JOIN ghost, "+u.addr() {
				t.Fatalf("ghost sent %q (%v), want %q", r.join, r.err, "JOIN ghost, "+u.addr())
			}
			ghost.expect("IMAV", "IMAV")
			ghost.send("DATA x: the ghost reads and discards this")
			ghost.expect("IMAV")
			p.Close()
			for {
				if _, err := ghost.read(); err != nil {
					break
				}
			}
		})
	}
}

func TestGhostRefused(t *testing.T) {
	u := newFakeUpstream(t)
	go func() {
		c := <-u.conns
		pe := &peer{t: t, c: c}
		if _, err := pe.read(); err == nil {
			c.Write([]byte("J_ER 409: duplicate user name\n"))
		}
		c.Close()
	}()
	p, err := Start(u.addr(), protocol.FramingLine, Fault{Ghosts: []string{"ghost"}})
	if err == nil {
		p.Close()
		t.Fatal("Start succeeded with a refused ghost")
	}
	if !errors.Is(err, errGhostRefused) {
		t.Fatalf("Start: %v, want %v", err, errGhostRefused)
	}
}

// BenchmarkRoundTrip measures one DATA line from a client through the
// proxy to an echoing upstream and back.
func BenchmarkRoundTrip(b *testing.B) {
	for _, f := range framings {
		b.Run(f.String(), func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				io.Copy(c, c)
			}()
			p, err := Start(ln.Addr().String(), f, Fault{})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			frame, _ := f.AppendFrame(nil, []byte("DATA alice: "+strings.Repeat("x", 80)))
			r := f.NewReader(c, 0)
			b.SetBytes(int64(len(frame)))
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(frame); err != nil {
					b.Fatal(err)
				}
				if _, err := r.ReadFrame(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
