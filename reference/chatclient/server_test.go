package chatclient_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatclient"
	"github.com/chatspec/chatspec/reference/chatserver"
	"github.com/chatspec/chatspec/reference/chatserver/chatservertest"
)

func dialJoin(t *testing.T, addr, name string, cfg chatclient.Config) *chatclient.Client {
	t.Helper()
	c, err := chatclient.Dial(context.Background(), addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Join(context.Background(), name); err != nil {
		t.Fatalf("Join(%q) = %v", name, err)
	}
	return c
}

// waitFor skips events until one of kind k (and, if name is not "", about
// name) arrives, and returns it.
func waitFor(t *testing.T, c *chatclient.Client, k chatclient.EventKind, name string) chatclient.Event {
	t.Helper()
	for {
		ev := nextEvent(t, c)
		if ev.Kind == k && (name == "" || ev.Name == name) {
			return ev
		}
		if ev.Kind == chatclient.EventUnknown || ev.Kind == chatclient.EventError {
			t.Fatalf("unexpected %v event %+v while waiting for %v", ev.Kind, ev, k)
		}
	}
}

func TestAgainstReferenceServer(t *testing.T) {
	for _, framing := range []protocol.Framing{protocol.FramingLine, protocol.FramingUTF} {
		t.Run(framing.String(), func(t *testing.T) {
			addr, _ := chatservertest.Start(t, chatserver.Config{Framing: framing})
			cfg := chatclient.Config{Framing: framing}

			alice := dialJoin(t, addr, "alice", cfg)
			if ev := waitFor(t, alice, chatclient.EventOnline, ""); !slices.Equal(ev.Names, []string{"alice"}) {
				t.Errorf("alice's first LIST = %q, want [alice]", ev.Names)
			}
			bob := dialJoin(t, addr, "bob", cfg)
			waitFor(t, alice, chatclient.EventJoined, "bob")
			if ev := waitFor(t, bob, chatclient.EventOnline, ""); len(ev.Names) != 2 {
				t.Errorf("bob's first LIST = %q, want alice and bob", ev.Names)
			}

			// A duplicate name is refused with the server's code and text.
			dup, err := chatclient.Dial(context.Background(), addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer dup.Close()
			err = dup.Join(context.Background(), "alice")
			var je *chatclient.JoinError
			if !errors.As(err, &je) || je.Code != strconv.Itoa(int(protocol.CodeDuplicateName)) {
				t.Errorf("Join(alice) twice = %v, want J_ER %d", err, protocol.CodeDuplicateName)
			}

			if err := alice.Send("hi bob: ærø 😀"); err != nil {
				t.Fatal(err)
			}
			for _, c := range []*chatclient.Client{alice, bob} {
				ev := waitFor(t, c, chatclient.EventMessage, "")
				if ev.Name != "alice" || ev.Text != "hi bob: ærø 😀" {
					t.Errorf("%s got %+v, want alice: hi bob: ærø 😀", c.Name(), ev)
				}
			}

			// Close sends QUIT: the server tells the others at once.
			bob.Close()
			if ev := waitFor(t, alice, chatclient.EventLeft, "bob"); !slices.Equal(ev.Names, []string{"alice"}) {
				t.Errorf("after bob left, online = %q, want [alice]", ev.Names)
			}
		})
	}
}

func TestServerGoneEndsEvents(t *testing.T) {
	addr, srv := chatservertest.Start(t, chatserver.Config{})
	alice := dialJoin(t, addr, "alice", chatclient.Config{})
	srv.Close()
	for range alice.Events() {
	}
	if err := alice.Err(); !errors.Is(err, chatclient.ErrConnLost) {
		t.Errorf("Err() = %v, want ErrConnLost", err)
	}
}

// TestHeartbeatKeepsClientJoined runs the reference server and the client
// over net.Pipe in a synctest bubble: ten minutes pass in no real time.
func TestHeartbeatKeepsClientJoined(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := chatserver.New(chatserver.Config{}) // drops after 2 minutes of silence
		defer srv.Close()
		connect := func(name string, heartbeat time.Duration) *chatclient.Client {
			cc, sc := net.Pipe()
			go srv.ServeConn(sc)
			c := chatclient.New(cc, chatclient.Config{Heartbeat: heartbeat})
			if err := c.Join(context.Background(), name); err != nil {
				t.Fatalf("Join(%q) = %v", name, err)
			}
			return c
		}
		alive := connect("alive", 0)    // the default minute
		silent := connect("silent", -1) // no heartbeat
		defer alive.Close()
		defer silent.Close()

		start := time.Now()
		<-silent.Done()
		if got := time.Since(start); got != chatserver.DefaultHeartbeatTimeout {
			t.Errorf("silent client dropped after %v, want %v", got, chatserver.DefaultHeartbeatTimeout)
		}
		if ev := waitFor(t, alive, chatclient.EventLeft, "silent"); !slices.Equal(ev.Names, []string{"alive"}) {
			t.Errorf("online = %q, want [alive]", ev.Names)
		}
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		select {
		case <-alive.Done():
			t.Fatalf("client with heartbeat dropped: %v", alive.Err())
		default:
		}
	})
}
