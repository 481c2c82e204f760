package chatserver

import (
	"bufio"
	"strings"
	"testing"

	"github.com/chatspec/chatspec/protocol"
)

// TestReaderUsesPooledBuffer: protocol's frame readers read straight from
// a large enough *bufio.Reader instead of copying into a buffer of their
// own, so that an empty pooled buffer means no bytes are held anywhere.
// If this fails, the pooling in reader.go would lose bytes.
func TestReaderUsesPooledBuffer(t *testing.T) {
	for _, f := range []protocol.Framing{protocol.FramingLine, protocol.FramingUTF} {
		for _, max := range []int{64, protocol.DefaultMaxLineBytes, 1 << 16} {
			stream := "IMAV\nQUIT\n"
			if f == protocol.FramingUTF {
				stream = "\x00\x04IMAV\x00\x04QUIT"
			}
			br := bufio.NewReaderSize(strings.NewReader(stream), readBufferSize(max))
			r := f.NewReader(br, max)
			if _, err := r.ReadFrame(); err != nil {
				t.Fatalf("%v, max %d: ReadFrame = %v", f, max, err)
			}
			if got, want := br.Buffered(), len(stream)/2; got != want {
				t.Errorf("%v, max %d: %d bytes left in our buffer after one frame, want %d: protocol keeps its own buffer",
					f, max, got, want)
			}
		}
	}
}

// TestIdleConnectionHoldsNoBuffer: once a connection has read all it was
// sent, it gives its read buffer back; a pipelined burst keeps it only
// until the burst is read.
func TestIdleConnectionHoldsNoBuffer(t *testing.T) {
	for _, f := range []protocol.Framing{protocol.FramingLine, protocol.FramingUTF} {
		t.Run(f.String(), func(t *testing.T) {
			srv := newServer(t, Config{Framing: f})
			a := connect(t, transports[0], srv, "alice")
			a.join("LIST alice")
			if n := srv.lent.Load(); n != 0 {
				t.Errorf("%d read buffers lent after JOIN was answered, want 0", n)
			}
			var burst []byte
			for _, l := range []string{"DATA alice: one", "IMAV", "DATA alice: two"} {
				burst, _ = f.AppendFrame(burst, []byte(l))
			}
			a.sendRaw(burst)
			a.expect("DATA alice: one", "DATA alice: two")
			if n := srv.lent.Load(); n != 0 {
				t.Errorf("%d read buffers lent after a burst was answered, want 0", n)
			}
		})
	}
}

// TestClosedConnectionReturnsBuffer: a connection that ends mid-frame, or
// with bytes left after QUIT, no longer counts a read buffer as lent.
func TestClosedConnectionReturnsBuffer(t *testing.T) {
	for _, stream := range []string{"JOIN al", "QUIT\nIMAV\n"} {
		srv := newServer(t, Config{})
		a := connect(t, transports[0], srv, "alice")
		a.sendRaw([]byte(stream)) // a pipe: returns once the server has read it all
		a.c.Close()
		srv.Close() // waits for the connection's goroutines
		if n := srv.lent.Load(); n != 0 {
			t.Errorf("after %q and a close: %d read buffers lent, want 0", stream, n)
		}
	}
}
