package chatserver

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// FuzzServeConn feeds an arbitrary byte stream to one connection over
// net.Pipe and then hangs up. The server must not panic, must answer only
// with well-formed server messages, and ServeConn must return once the
// peer has gone. The first byte picks the framing.
func FuzzServeConn(f *testing.F) {
	for _, seed := range []string{
		"\x00JOIN alice, 127.0.0.1:4242\nDATA alice: hi\nIMAV\n",
		"\x00JOIN alice\nJOIN bob\nDATA bob: x\nDATA alice: \x1b[2J\n",
		"\x00\xff\xfe\x00\x01\n\n\r\n",
		"\x00DATA alice: before join\nLIST a b\nJ_OK\nJ_ER 1: x\n",
		"\x00JOIN alice\nQUIT\nDATA alice: after quit\n",
		"\x00JOIN alice\nDATA alice: " + strings.Repeat("x", 100) + "\nDATA alice: ok\n",
		"\x01\x00\x0aJOIN alice\x00\x0eDATA alice: hi\x00\x04IMAV",
		"\x01\xff\xff",
		"\x01\x00\x03\xc0\x80x",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		serveBytes(t, protocol.Framing(data[0]&1), data[1:])
	})
}

func serveBytes(t *testing.T, framing protocol.Framing, data []byte) {
	srv := New(Config{Framing: framing, MaxLineBytes: 64, MaxClients: 1})
	defer srv.Close()
	cli, sc := net.Pipe()
	defer cli.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.ServeConn(sc)
	}()

	// Read every reply until the connection closes.
	replies := make(chan error, 1)
	go func() {
		r := framing.NewReader(cli, 1<<20)
		for {
			line, err := r.ReadFrame()
			if err != nil {
				replies <- nil // closed by either side
				return
			}
			m, err := protocol.Parse(line)
			if err != nil {
				replies <- fmt.Errorf("server sent %q: %w", line, err)
				return
			}
			switch m.Kind {
			case protocol.KindOK, protocol.KindError, protocol.KindList, protocol.KindData:
			default:
				replies <- fmt.Errorf("server sent %q", line)
				return
			}
		}
	}()
	// Write the stream (a write error means the server closed first),
	// then hang up.
	cli.SetWriteDeadline(time.Now().Add(guard))
	cli.Write(data)
	cli.Close()
	if err := <-replies; err != nil {
		t.Fatal(err)
	}
	select {
	case <-served:
	case <-time.After(guard):
		t.Fatal("ServeConn did not return after the peer hung up")
	}
}
