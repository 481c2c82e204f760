package fanout_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/bench/fanout"
	"github.com/chatspec/chatspec/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFanout(t *testing.T) {
	for _, f := range []protocol.Framing{protocol.FramingLine, protocol.FramingUTF} {
		t.Run(f.String(), func(t *testing.T) {
			srv := fanout.New(fanout.Config{Framing: f, LinesPerWrite: 4, Writers: 2})
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()

			type peer struct {
				c  net.Conn
				rd protocol.Reader
			}
			send := func(p peer, m protocol.Message) {
				t.Helper()
				b, err := f.AppendMessage(nil, m)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.c.Write(b); err != nil {
					t.Fatal(err)
				}
			}
			expect := func(p peer, want string) {
				t.Helper()
				got, err := p.rd.ReadFrame()
				if err != nil || got != want {
					t.Fatalf("ReadFrame() = %q, %v, want %q", got, err, want)
				}
			}
			var peers []peer
			for i := range 3 {
				c, err := net.Dial("tcp", l.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second)) // a failure guard
				p := peer{c, f.NewReader(c, 0)}
				send(p, protocol.Join("u"+string(rune('a'+i)), ""))
				expect(p, "J_OK")
				peers = append(peers, p)
			}
			send(peers[0], protocol.Alive()) // not forwarded
			// One sender: the order between senders is not defined.
			for i := range 10 {
				send(peers[1], protocol.Data("ub", "hello ø "+string(rune('0'+i))))
			}
			for _, p := range peers {
				for i := range 10 {
					expect(p, "DATA ub: hello ø "+string(rune('0'+i)))
				}
			}
			if err := srv.Close(); err != nil {
				t.Fatal(err)
			}
			if err := <-served; !errors.Is(err, fanout.ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
			if _, err := peers[0].rd.ReadFrame(); err == nil {
				t.Error("connection still open after Close")
			}
		})
	}
}
