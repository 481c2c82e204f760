package chatclient_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatclient"
)

// fakeServer is the server end of a net.Pipe, driven by the test: a
// goroutine reads and parses everything the client writes into got.
type fakeServer struct {
	t       *testing.T
	conn    net.Conn
	framing protocol.Framing
	got     chan protocol.Message // closed when the client's side closes
}

// pipe returns a Client on one end of a net.Pipe and a fakeServer on the
// other. Call it inside a synctest bubble or a plain test alike.
func pipe(t *testing.T, cfg chatclient.Config) (*chatclient.Client, *fakeServer) {
	t.Helper()
	cc, sc := net.Pipe()
	s := &fakeServer{t: t, conn: sc, framing: cfg.Framing, got: make(chan protocol.Message, 64)}
	go func() {
		defer close(s.got)
		r := cfg.Framing.NewReader(sc, 0)
		for {
			line, err := r.ReadFrame()
			if err != nil {
				return
			}
			m, err := protocol.Parse(line)
			if err != nil {
				t.Errorf("client sent %q: %v", line, err)
			}
			s.got <- m
		}
	}()
	c := chatclient.New(cc, cfg)
	t.Cleanup(func() { sc.Close(); c.Close() })
	return c, s
}

// send writes one frame with payload line to the client.
func (s *fakeServer) send(line string) {
	s.t.Helper()
	b, err := s.framing.AppendFrame(nil, []byte(line))
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.conn.Write(b); err != nil {
		s.t.Fatalf("fake server: write %q: %v", line, err)
	}
}

// next returns the next message the client sent.
func (s *fakeServer) next() protocol.Message {
	s.t.Helper()
	return s.nextWithin(10 * time.Second)
}

// nextWithin returns the next message the client sent; it fails the test if
// none comes within guard (in a synctest bubble, a guard of fake time).
func (s *fakeServer) nextWithin(guard time.Duration) protocol.Message {
	s.t.Helper()
	select {
	case m, ok := <-s.got:
		if !ok {
			s.t.Fatal("fake server: client closed the connection, want a message")
		}
		return m
	case <-time.After(guard): // a failure guard only
		s.t.Fatalf("fake server: no message from the client within %v", guard)
	}
	return protocol.Message{}
}

// join runs c.Join(name) against s, which answers answer.
func join(t *testing.T, c *chatclient.Client, s *fakeServer, name, answer string) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- c.Join(context.Background(), name) }()
	if m := s.next(); m.Kind != protocol.KindJoin || m.Name != name {
		t.Fatalf("client sent %q, want JOIN %s", m, name)
	}
	s.send(answer)
	return <-errc
}

func nextEvent(t *testing.T, c *chatclient.Client) chatclient.Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatalf("Events closed (%v), want an event", c.Err())
		}
		return ev
	case <-time.After(10 * time.Second): // a failure guard only
		t.Fatal("no event")
	}
	return chatclient.Event{}
}

func TestHeartbeatEveryIntervalWhileJoined(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := pipe(t, chatclient.Config{Heartbeat: time.Minute})

		// Not joined: no heartbeat, however long.
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if len(s.got) != 0 {
			t.Fatalf("client sent %q before joining, want nothing", <-s.got)
		}

		if err := join(t, c, s, "alice", "J_OK"); err != nil {
			t.Fatalf("Join = %v, want nil", err)
		}
		start := time.Now()
		time.Sleep(time.Minute - time.Nanosecond)
		synctest.Wait()
		if len(s.got) != 0 {
			t.Fatalf("client sent %q within the first minute, want nothing", <-s.got)
		}
		for i := 1; i <= 3; i++ {
			m := s.nextWithin(time.Hour)
			if m.Kind != protocol.KindAlive {
				t.Fatalf("client sent %q, want IMAV", m)
			}
			if got, want := time.Since(start), time.Duration(i)*time.Minute; got != want {
				t.Errorf("IMAV %d at %v after J_OK, want %v", i, got, want)
			}
		}

		// Close: QUIT, and no heartbeat after it.
		done := make(chan struct{})
		go func() { c.Close(); close(done) }()
		if m := s.next(); m.Kind != protocol.KindQuit {
			t.Fatalf("client sent %q on Close, want QUIT", m)
		}
		s.conn.Close()
		<-done
		if _, ok := <-s.got; ok {
			t.Error("client sent more after QUIT")
		}
		if err := c.Err(); !errors.Is(err, chatclient.ErrClosed) {
			t.Errorf("Err() after Close = %v, want ErrClosed", err)
		}
	})
}

func TestHeartbeatConfigurable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := pipe(t, chatclient.Config{Heartbeat: 7 * time.Second})
		if err := join(t, c, s, "bob", "J_OK"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if m := s.nextWithin(time.Hour); m.Kind != protocol.KindAlive || time.Since(start) != 7*time.Second {
			t.Errorf("got %q after %v, want IMAV after 7s", m, time.Since(start))
		}
	})
}

func TestCloseWaitsBoundedForServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := pipe(t, chatclient.Config{CloseTimeout: 3 * time.Second})
		start := time.Now()
		done := make(chan struct{})
		go func() { c.Close(); close(done) }()
		if m := s.next(); m.Kind != protocol.KindQuit {
			t.Fatalf("client sent %q on Close, want QUIT", m)
		}
		<-done // the fake server never closes: Close gives up after CloseTimeout
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("Close took %v, want the CloseTimeout, 3s", got)
		}
	})
}

func TestJoinRefused(t *testing.T) {
	c, s := pipe(t, chatclient.Config{})
	err := join(t, c, s, "alice", "J_ER 409: duplicate user name")
	var je *chatclient.JoinError
	if !errors.As(err, &je) || je.Code != "409" || je.Text != "duplicate user name" || je.Name != "alice" {
		t.Fatalf("Join = %#v, want JoinError 409 duplicate user name", err)
	}
	// The connection is still open: another name may be tried on it.
	if err := join(t, c, s, "alice2", "J_OK"); err != nil {
		t.Fatalf("second Join = %v, want nil", err)
	}
	if got := c.Name(); got != "alice2" {
		t.Errorf("Name() = %q, want alice2", got)
	}
	if err := c.Join(context.Background(), "again"); !errors.Is(err, chatclient.ErrAlreadyJoined) {
		t.Errorf("Join when joined = %v, want ErrAlreadyJoined", err)
	}
}

func TestLocalChecksSendNothing(t *testing.T) {
	c, s := pipe(t, chatclient.Config{})
	for _, name := range []string{"", "thirteen_char", "al ice", "bø", "a,b"} {
		if err := c.Join(context.Background(), name); !errors.Is(err, protocol.ErrInvalidName) {
			t.Errorf("Join(%q) = %v, want ErrInvalidName", name, err)
		}
	}
	if err := c.Send("hi"); !errors.Is(err, chatclient.ErrNotJoined) {
		t.Errorf("Send before Join = %v, want ErrNotJoined", err)
	}
	if err := join(t, c, s, "alice", "J_OK"); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", protocol.MaxTextLen+1)
	err := c.Send(long)
	if !errors.Is(err, protocol.ErrTextTooLong) || !strings.Contains(err.Error(), "251 characters, the limit is 250") {
		t.Errorf("Send(251 chars) = %v, want ErrTextTooLong saying 251 and 250", err)
	}
	if err := c.Send("bell\a"); !errors.Is(err, protocol.ErrInvalidText) {
		t.Errorf("Send with a control character = %v, want ErrInvalidText", err)
	}
	if err := c.Send(strings.Repeat("ø", protocol.MaxTextLen)); err != nil {
		t.Errorf("Send(250 x ø) = %v, want nil", err)
	}
	if m := s.next(); m.Kind != protocol.KindData || m.Name != "alice" || m.Text != strings.Repeat("ø", 250) {
		t.Errorf("client sent %q, want the 250 x ø DATA and nothing before it", m)
	}
}

func TestEvents(t *testing.T) {
	c, s := pipe(t, chatclient.Config{})
	if err := join(t, c, s, "alice", "J_OK"); err != nil {
		t.Fatal(err)
	}
	s.send("LIST alice")
	s.send("LIST alice bob carol")
	s.send("DATA bob: hi: there")
	s.send("LIST bob alice")
	s.send("J_ER 413: text longer than 250 characters")
	s.send("DATA carol: \x1b[2Jgotcha") // a lenient server relays control characters
	s.send("HELLO")

	want := []chatclient.Event{
		{Kind: chatclient.EventOnline, Names: []string{"alice"}},
		{Kind: chatclient.EventJoined, Name: "bob", Names: []string{"alice", "bob", "carol"}},
		{Kind: chatclient.EventJoined, Name: "carol", Names: []string{"alice", "bob", "carol"}},
		{Kind: chatclient.EventOnline, Names: []string{"alice", "bob", "carol"}},
		{Kind: chatclient.EventMessage, Name: "bob", Text: "hi: there"},
		{Kind: chatclient.EventLeft, Name: "carol", Names: []string{"bob", "alice"}},
		{Kind: chatclient.EventOnline, Names: []string{"bob", "alice"}},
		{Kind: chatclient.EventError, Code: "413", Text: "text longer than 250 characters"},
		{Kind: chatclient.EventMessage, Name: "carol", Text: "\x1b[2Jgotcha"},
		{Kind: chatclient.EventUnknown, Text: "HELLO"},
	}
	for i, w := range want {
		got := nextEvent(t, c)
		if got.Kind != w.Kind || got.Name != w.Name || got.Text != w.Text || got.Code != w.Code || !slices.Equal(got.Names, w.Names) {
			t.Errorf("event %d = %+v, want %+v", i, got, w)
		}
	}

	// The server goes away: Events closes, Err says so.
	s.conn.Close()
	if ev, ok := <-c.Events(); ok {
		t.Fatalf("got %+v, want Events closed", ev)
	}
	err := c.Err()
	if !errors.Is(err, chatclient.ErrConnLost) || !strings.Contains(err.Error(), "server closed the connection") {
		t.Errorf("Err() = %v, want ErrConnLost: the server closed the connection", err)
	}
	if err := c.Send("anyone?"); !errors.Is(err, chatclient.ErrConnLost) {
		t.Errorf("Send after the server left = %v, want ErrConnLost", err)
	}
}

func TestFramingUTF(t *testing.T) {
	c, s := pipe(t, chatclient.Config{Framing: protocol.FramingUTF})
	if err := join(t, c, s, "alice", "J_OK"); err != nil {
		t.Fatal(err)
	}
	if err := c.Send("hej 😀"); err != nil {
		t.Fatal(err)
	}
	if m := s.next(); m.Kind != protocol.KindData || m.Text != "hej 😀" {
		t.Errorf("client sent %q, want DATA alice: hej 😀", m)
	}
	s.send("DATA bob: ærø 😀")
	if ev := nextEvent(t, c); ev.Kind != chatclient.EventMessage || ev.Text != "ærø 😀" {
		t.Errorf("event %+v, want message ærø 😀", ev)
	}
}

func TestJoinContextCancel(t *testing.T) {
	c, s := pipe(t, chatclient.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Join(ctx, "alice") }()
	s.next()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Join = %v, want context.Canceled", err)
	}
}

func TestJoinTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := pipe(t, chatclient.Config{JoinTimeout: 5 * time.Second})
		start := time.Now()
		errc := make(chan error, 1)
		go func() { errc <- c.Join(context.Background(), "alice") }()
		s.next() // the JOIN, never answered
		err := <-errc
		if !errors.Is(err, chatclient.ErrNoAnswer) || time.Since(start) != 5*time.Second {
			t.Errorf("Join = %v after %v, want ErrNoAnswer after 5s", err, time.Since(start))
		}
	})
}

// TestNoAnswerHintsAtFraming: a server that does not answer JOIN most
// likely frames messages the other way; Explain says which flag to try.
func TestNoAnswerHintsAtFraming(t *testing.T) {
	for _, tc := range []struct {
		framing protocol.Framing
		want    string
	}{
		{protocol.FramingLine, "start the client with -framing utf"},
		{protocol.FramingUTF, "start the client without -framing utf"},
	} {
		err := fmt.Errorf("chatclient: join %q: %w", "alice", &chatclient.NoAnswerError{Timeout: 30 * time.Second, Framing: tc.framing})
		if got := chatclient.Explain(err); !errors.Is(err, chatclient.ErrNoAnswer) || !strings.Contains(got, "did not answer JOIN within 30s") || !strings.Contains(got, tc.want) {
			t.Errorf("Explain(%v) = %q, want the wait and %q", err, got, tc.want)
		}
	}
}

// TestLongList: a LIST of a big room is far longer than any request; the
// default client reads it instead of skipping it as an over-long frame.
func TestLongList(t *testing.T) {
	c, s := pipe(t, chatclient.Config{})
	if err := join(t, c, s, "alice", "J_OK"); err != nil {
		t.Fatal(err)
	}
	names := []string{"alice"}
	for i := range 1000 {
		names = append(names, fmt.Sprintf("user%08d", i))
	}
	s.send(protocol.List(names).String()) // 13 KB
	if ev := nextEvent(t, c); ev.Kind != chatclient.EventOnline || !slices.Equal(ev.Names, names) {
		t.Errorf("event %v with %d names, want online with %d names", ev.Kind, len(ev.Names), len(names))
	}
}
