package chatserver

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// Tests in this file run in a testing/synctest bubble over net.Pipe: time
// is virtual, so a two-minute heartbeat takes no real time, and every
// instant is exact.

// pipeClient connects a client to srv over net.Pipe inside the bubble.
func pipeClient(t *testing.T, srv *Server, name string) *client {
	cli, sc := net.Pipe()
	go srv.ServeConn(sc)
	t.Cleanup(func() { cli.Close() })
	return newClient(t, name, cli, srv.cfg.Framing)
}

// numConns is the number of connections the server is serving.
func (s *Server) numConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// at sleeps until start+d (virtual time) and lets every goroutine settle.
func at(start time.Time, d time.Duration) {
	time.Sleep(time.Until(start.Add(d)))
	synctest.Wait()
}

func TestHeartbeatTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := New(Config{HeartbeatTimeout: 2 * time.Minute})
		defer srv.Close()
		alice := pipeClient(t, srv, "alice")
		bob := pipeClient(t, srv, "bob")
		idle := pipeClient(t, srv, "idle") // never joins, never sends
		start := time.Now()
		alice.join("LIST alice")
		bob.join("LIST alice bob")
		alice.expect("LIST alice bob")

		// Bob sends IMAV every minute; alice and idle are silent.
		at(start, time.Minute)
		bob.send("IMAV")
		at(start, 2*time.Minute-time.Nanosecond)
		if n := srv.Room().Len(); n != 2 || srv.numConns() != 3 {
			t.Fatalf("at 2m-1ns: %d members, %d conns; want 2 and 3", n, srv.numConns())
		}
		at(start, 2*time.Minute)
		bob.expect("LIST bob")
		alice.expectClosed()
		idle.expectClosed()
		if n := srv.Room().Len(); n != 1 {
			t.Fatalf("at 2m: %d members, want 1", n)
		}
		if got, want := srv.Room().Members()[0].LastHeartbeat(), start.Add(time.Minute); !got.Equal(want) {
			t.Errorf("bob's last heartbeat = %v, want %v", got, want)
		}

		// Bob's last frame was at 1m, so he goes at 3m.
		at(start, 3*time.Minute-time.Nanosecond)
		if n := srv.Room().Len(); n != 1 {
			t.Fatalf("at 3m-1ns: %d members, want 1", n)
		}
		at(start, 3*time.Minute)
		bob.expectClosed()
		if n := srv.numConns(); n != 0 {
			t.Errorf("at 3m: %d conns, want 0", n)
		}
	})
}

// TestAnyFrameRefreshesHeartbeat: DATA and even a rejected line count as
// signs of life; the deadline is measured from the last complete frame.
func TestAnyFrameRefreshesHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := New(Config{HeartbeatTimeout: time.Minute})
		defer srv.Close()
		c := pipeClient(t, srv, "alice")
		start := time.Now()
		c.join("LIST alice")
		at(start, 50*time.Second)
		c.send("DATA alice: hi")
		c.expect("DATA alice: hi")
		at(start, 100*time.Second)
		c.send("NONSENSE")
		c.expect(jer(protocol.CodeUnknownCommand))
		at(start, 160*time.Second-time.Nanosecond)
		if srv.numConns() != 1 {
			t.Fatal("dropped before a minute of silence")
		}
		at(start, 160*time.Second)
		c.expectClosed()
	})
}

// TestSlowloris: bytes that never complete a line do not move the
// deadline: the connection goes one timeout after its last complete frame.
func TestSlowloris(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := New(Config{HeartbeatTimeout: time.Minute})
		defer srv.Close()
		joinedLoris := pipeClient(t, srv, "loris")
		freshLoris := pipeClient(t, srv, "fresh")
		start := time.Now()
		joinedLoris.join("LIST loris")
		for i := range 90 {
			at(start, time.Duration(i)*time.Second)
			if srv.numConns() == 0 {
				if i != 60 {
					t.Fatalf("slowloris dropped after %ds, want 60s", i)
				}
				break
			}
			for _, c := range []*client{joinedLoris, freshLoris} {
				c.c.SetWriteDeadline(time.Now().Add(guard))
				c.c.Write([]byte{"DATA loris: x"[i%13]})
			}
		}
		if n := srv.numConns(); n != 0 {
			t.Fatalf("after 90s of slowloris: %d conns, want 0", n)
		}
	})
}

// TestWriteTimeout: a joined peer that stops reading is dropped once one
// write has waited WriteTimeout, and the others get the new LIST.
func TestWriteTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := New(Config{WriteTimeout: 10 * time.Second})
		defer srv.Close()
		stuck := pipeClient(t, srv, "stuck")
		alice := pipeClient(t, srv, "alice")
		stuck.join("LIST stuck")
		start := time.Now()
		alice.join("LIST stuck alice") // stuck does not read its LIST
		at(start, 10*time.Second-time.Nanosecond)
		if n := srv.Room().Len(); n != 2 {
			t.Fatalf("at 10s-1ns: %d members, want 2", n)
		}
		at(start, 10*time.Second)
		alice.expect("LIST alice")
	})
}

// TestSlowConsumerOverflow: a peer whose queue would pass OutboxBytes is
// dropped at once (no time passes), its blocked write is interrupted, and
// the others get everything and the new LIST. The server pauses senders
// long before that (see overload_test.go); here stuck's queue is congested
// but not full, and three senders' messages, each read before the queue
// filled, arrive at the same instant.
func TestSlowConsumerOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := New(Config{OutboxBytes: 1000})
		defer srv.Close()
		stuck := pipeClient(t, srv, "stuck")
		stuck.join("LIST stuck")
		names := []string{"stuck"}
		var senders []*client
		for i := range 3 {
			c := pipeClient(t, srv, fmt.Sprintf("s%d", i))
			names = append(names, c.name)
			c.join("LIST " + strings.Join(names, " "))
			senders = append(senders, c)
		}
		cols := make([]*collector, len(senders))
		for i, c := range senders {
			cols[i] = collect(c)
		}
		text := strings.Repeat("x", 200)
		// 424 bytes for stuck: over a quarter of 1000, under half.
		want := []string{"DATA s0: " + text, "DATA s0: " + text}
		flood(senders[0], want)
		synctest.Wait()
		start := time.Now()
		for _, c := range senders { // 636 bytes more
			want = append(want, "DATA "+c.name+": "+text)
			flood(c, want[len(want)-1:])
		}
		synctest.Wait()
		if n := srv.Room().Len(); n != len(senders) {
			t.Fatalf("%d members after 5 x 212 bytes with a 1000-byte outbox, want %d", n, len(senders))
		}
		if !time.Now().Equal(start) {
			t.Errorf("slow consumer dropped after %v, want at once", time.Since(start))
		}
		at(start, time.Millisecond) // the LIST round may be paced by nanoseconds
		list := "LIST " + strings.Join(names[1:], " ")
		wantN := map[string]int{list: 1}
		for _, w := range want {
			wantN[w]++
		}
		for i, col := range cols {
			for w, n := range wantN {
				if got := col.count(w); got != n {
					t.Errorf("%s got %.20q... %d times, want %d", senders[i].name, w, got, n)
				}
			}
		}
		stuck.expectClosed(append(want, "LIST "+strings.Join(names, " "))...)
	})
}
