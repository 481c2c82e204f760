package chatserver

import (
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// guard is how long a test client waits for a reply before it fails. It is
// a failure guard, never a synchronisation: a correct server answers at
// once. Under testing/synctest it is virtual time.
const guard = 10 * time.Second

// testServer is a server under test, with its loopback address once a
// TCP client has needed one.
type testServer struct {
	*Server
	t    *testing.T
	addr string // "" until listen; owned by the test goroutine
}

// newServer returns a server closed (with goleak-clean goroutines) at the
// end of the test.
func newServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	srv := New(cfg)
	t.Cleanup(func() { srv.Close() })
	return &testServer{Server: srv, t: t}
}

// listen starts Serve on 127.0.0.1:0, once, and returns the address.
func (ts *testServer) listen() string {
	t := ts.t
	t.Helper()
	if ts.addr != "" {
		return ts.addr
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- ts.Serve(l) }()
	t.Cleanup(func() {
		ts.Close()
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	ts.addr = l.Addr().String()
	return ts.addr
}

// transport connects a test client to a server.
type transport struct {
	name string
	// dial returns the client's end of a new connection to ts.
	dial func(t *testing.T, ts *testServer) net.Conn
}

var transports = []transport{
	{"pipe", dialPipe},
	{"tcp", dialTCP},
}

// dialPipe serves one end of a net.Pipe with ServeConn.
func dialPipe(t *testing.T, ts *testServer) net.Conn {
	t.Helper()
	cli, sc := net.Pipe()
	go ts.ServeConn(sc)
	t.Cleanup(func() { cli.Close() })
	return cli
}

// dialTCP dials the server's loopback listener.
func dialTCP(t *testing.T, ts *testServer) net.Conn {
	t.Helper()
	addr := ts.listen()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// client is a test client: it writes raw requests and reads frames.
type client struct {
	t       *testing.T
	name    string // for messages
	c       net.Conn
	r       protocol.Reader
	framing protocol.Framing
}

func newClient(t *testing.T, name string, c net.Conn, f protocol.Framing) *client {
	return &client{t: t, name: name, c: c, r: f.NewReader(c, 1<<20), framing: f}
}

// connect dials ts over tr.
func connect(t *testing.T, tr transport, ts *testServer, name string) *client {
	t.Helper()
	return newClient(t, name, tr.dial(t, ts), ts.cfg.Framing)
}

// send writes one request, framed.
func (c *client) send(line string) {
	c.t.Helper()
	b, err := c.framing.AppendFrame(nil, []byte(line))
	if err != nil {
		c.t.Fatalf("%s: frame %q: %v", c.name, line, err)
	}
	c.sendRaw(b)
}

// sendRaw writes bytes as they are.
func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(guard))
	if _, err := c.c.Write(b); err != nil {
		c.t.Fatalf("%s: write %q: %v", c.name, b, err)
	}
}

// read returns the next frame.
func (c *client) read() (string, error) {
	c.c.SetReadDeadline(time.Now().Add(guard))
	return c.r.ReadFrame()
}

// expect reads len(want) frames and compares them with want.
func (c *client) expect(want ...string) {
	c.t.Helper()
	var got []string
	for range want {
		line, err := c.read()
		if err != nil {
			c.t.Fatalf("%s: got %q, then %v; want %q", c.name, got, err, want)
		}
		got = append(got, line)
	}
	if !slices.Equal(got, want) {
		c.t.Fatalf("%s received %q, want %q", c.name, got, want)
	}
}

// syncLine is a request whose answer is known, sent to prove that nothing
// else was queued before it.
const (
	syncLine  = "SYNC"
	syncReply = "J_ER 401: unknown command"
)

// expectNothing proves that nothing is queued for c: the reply to a marker
// request must come next.
func (c *client) expectNothing() {
	c.t.Helper()
	c.send(syncLine)
	c.expect(syncReply)
}

// expectClosed reads until the server closes the connection, failing on
// anything but the frames in allow.
func (c *client) expectClosed(allow ...string) {
	c.t.Helper()
	for {
		line, err := c.read()
		switch {
		case err == nil && slices.Contains(allow, line):
			continue
		case err == nil:
			c.t.Fatalf("%s: got %q, want the connection closed", c.name, line)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrClosedPipe), errors.Is(err, io.ErrUnexpectedEOF), isReset(err):
			return
		default:
			c.t.Fatalf("%s: %v, want the connection closed", c.name, err)
		}
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !errors.Is(err, os.ErrDeadlineExceeded)
}

// join sends JOIN and expects J_OK and a LIST.
func (c *client) join(list string) {
	c.t.Helper()
	c.send("JOIN " + c.name + ", 127.0.0.1:4242")
	c.expect("J_OK", list)
}
