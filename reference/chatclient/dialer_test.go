package chatclient_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatclient"
)

// scriptedServer listens on loopback and hands the i-th accepted
// connection to handlers[i], which runs in its own goroutine.
func scriptedServer(t *testing.T, handlers ...func(net.Conn, protocol.Reader)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		for _, h := range handlers {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				h(conn, protocol.FramingLine.NewReader(conn, 0))
			}()
		}
	}()
	return l.Addr().String()
}

// expect reads one message and fails the test unless it has kind k.
func expect(t *testing.T, r protocol.Reader, k protocol.Kind) protocol.Message {
	t.Helper()
	line, err := r.ReadFrame()
	if err != nil {
		t.Errorf("server: read: %v, want %v", err, k)
		return protocol.Message{}
	}
	m, err := protocol.Parse(line)
	if err != nil || m.Kind != k {
		t.Errorf("server: got %q (%v), want %v", line, err, k)
	}
	return m
}

func TestDialerRedialsAfterRefusalAndClose(t *testing.T) {
	joinAddr := make(chan string, 1)
	addr := scriptedServer(t,
		func(c net.Conn, r protocol.Reader) { // refuses, then closes
			m := expect(t, r, protocol.KindJoin)
			joinAddr <- m.Addr
			c.Write([]byte("J_ER 409: duplicate user name\n"))
		},
		func(c net.Conn, r protocol.Reader) { // accepts
			expect(t, r, protocol.KindJoin)
			c.Write([]byte("J_OK\n"))
			expect(t, r, protocol.KindQuit)
		},
	)
	d := &chatclient.Dialer{Addr: addr}
	defer d.Close()
	_, err := d.Join(context.Background(), "alice")
	var je *chatclient.JoinError
	if !errors.As(err, &je) || je.Code != "409" {
		t.Fatalf("first Join = %v, want JoinError 409", err)
	}
	if got := <-joinAddr; got != addr {
		t.Errorf("JOIN named the server %q, want %q", got, addr)
	}
	c, err := d.Join(context.Background(), "alice2")
	if err != nil {
		t.Fatalf("second Join = %v, want nil after a new connection", err)
	}
	c.Close()
}

func TestDialerRedialsWhenCloseRacesTheNextJoin(t *testing.T) {
	addr := scriptedServer(t,
		func(c net.Conn, r protocol.Reader) {
			expect(t, r, protocol.KindJoin)
			c.Write([]byte("J_ER 409: duplicate user name\n"))
			// The next JOIN arrives before this server gets round to
			// closing: it is never answered.
			expect(t, r, protocol.KindJoin)
		},
		func(c net.Conn, r protocol.Reader) {
			expect(t, r, protocol.KindJoin)
			c.Write([]byte("J_OK\n"))
			expect(t, r, protocol.KindQuit)
		},
	)
	d := &chatclient.Dialer{Addr: addr}
	defer d.Close()
	if _, err := d.Join(context.Background(), "alice"); err == nil {
		t.Fatal("first Join = nil, want a JoinError")
	}
	c, err := d.Join(context.Background(), "bob")
	if err != nil {
		t.Fatalf("second Join = %v, want nil after a new connection", err)
	}
	c.Close()
}

func TestDialerKeepsConnectionTheServerKeeps(t *testing.T) {
	addr := scriptedServer(t, func(c net.Conn, r protocol.Reader) {
		expect(t, r, protocol.KindJoin)
		c.Write([]byte("J_ER 410: invalid user name\n"))
		expect(t, r, protocol.KindJoin)
		c.Write([]byte("J_OK\n"))
		expect(t, r, protocol.KindQuit)
	}) // a second connection would not be accepted
	d := &chatclient.Dialer{Addr: addr}
	defer d.Close()
	if _, err := d.Join(context.Background(), "admin"); err == nil {
		t.Fatal("first Join = nil, want a JoinError")
	}
	c, err := d.Join(context.Background(), "alice")
	if err != nil {
		t.Fatalf("second Join = %v, want nil on the same connection", err)
	}
	c.Close()
}

func TestDialerChecksNameBeforeDialling(t *testing.T) {
	d := &chatclient.Dialer{Addr: "127.0.0.1:1"} // nothing listens there
	if _, err := d.Join(context.Background(), "no spaces"); !errors.Is(err, protocol.ErrInvalidName) {
		t.Errorf("Join(%q) = %v, want ErrInvalidName", "no spaces", err)
	}
}
