package chatcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatcluster/embedded"
	"github.com/chatspec/chatspec/reference/chatserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Timings of the test clusters. guard is how long a test client waits for
// a frame before it fails: a failure guard, never a synchronisation. The
// node timeout is far below the heartbeat timeout, which bounds how long a
// dead node's users may stay in a LIST.
const (
	guard            = 10 * time.Second
	heartbeatTimeout = time.Minute
	nodeTimeout      = time.Second
)

// testCluster is an embedded NATS server and the nodes of a test.
type testCluster struct {
	t     *testing.T
	nats  *embedded.Server // owned by the test goroutine
	store string           // JetStream's folder, kept across restarts of NATS
	addr  string           // NATS's host:port, kept across restarts
}

func newCluster(t *testing.T) *testCluster {
	t.Helper()
	c := &testCluster{t: t, store: t.TempDir()}
	c.startNATS("127.0.0.1:0")
	t.Cleanup(func() {
		if c.nats != nil {
			c.nats.Shutdown()
		}
	})
	return c
}

// startNATS starts the embedded NATS server on addr with the test's store.
func (c *testCluster) startNATS(addr string) {
	c.t.Helper()
	s, err := embedded.Start(embedded.Config{Addr: addr, StoreDir: c.store})
	if err != nil {
		c.t.Fatalf("start NATS: %v", err)
	}
	c.nats, c.addr = s, s.Addr()
}

// stopNATS stops the NATS server, as an outage.
func (c *testCluster) stopNATS() {
	c.t.Helper()
	if err := c.nats.Shutdown(); err != nil {
		c.t.Fatal(err)
	}
	c.nats = nil
}

// testNode is a chat server that is a node of the test cluster.
type testNode struct {
	name    string
	node    *Node
	srv     *chatserver.Server
	addr    string           // the chat server's loopback address
	framing protocol.Framing // of its clients
	log     *syncBuffer      // the node's and the server's log
	crashed bool             // owned by the test goroutine
}

// node starts a chat server named name, with framing, as a node of c.
func (c *testCluster) node(name string, framing protocol.Framing) *testNode {
	return c.nodeWith(name, framing, nodeTimeout)
}

func (c *testCluster) nodeWith(name string, framing protocol.Framing, timeout time.Duration) *testNode {
	t := c.t
	t.Helper()
	tn := &testNode{name: name, framing: framing, log: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(tn.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tn.addr = l.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	tn.node, err = Open(ctx, Config{
		URL:            "nats://" + c.addr,
		Node:           name,
		Addr:           tn.addr,
		NodeTimeout:    timeout,
		RequestTimeout: 2 * time.Second,
		ReconnectWait:  20 * time.Millisecond,
		Logger:         logger,
	})
	if err != nil {
		l.Close()
		t.Fatalf("node %s: %v", name, err)
	}
	tn.srv = chatserver.New(chatserver.Config{
		Framing:          framing,
		HeartbeatTimeout: heartbeatTimeout,
		Room:             tn.node.Room,
		Logger:           logger,
	})
	served := make(chan error, 1)
	go func() { served <- tn.srv.Serve(l) }()
	t.Cleanup(func() {
		tn.srv.Close()
		if err := <-served; !errors.Is(err, chatserver.ErrServerClosed) {
			t.Errorf("node %s: Serve = %v", name, err)
		}
		if !tn.crashed {
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			if err := tn.node.Close(ctx); err != nil {
				t.Errorf("node %s: Close: %v", name, err)
			}
		}
		if t.Failed() || os.Getenv("CLUSTER_LOG") != "" {
			t.Logf("log of node %s:\n%s", name, tn.log.String())
		}
	})
	return tn
}

// three starts three nodes, the second with writeUTF framing.
func (c *testCluster) three() (n1, n2, n3 *testNode) {
	return c.node("n1", protocol.FramingLine), c.node("n2", protocol.FramingUTF), c.node("n3", protocol.FramingLine)
}

// aliceAndBob joins alice to n1 and bob to n2, and waits until both have
// the LIST of the two.
func aliceAndBob(t *testing.T, n1, n2 *testNode) (alice, bob *client) {
	t.Helper()
	alice, bob = n1.dial(t, "alice"), n2.dial(t, "bob")
	alice.join()
	bob.join()
	alice.awaitList(guard, "alice", "bob")
	bob.awaitList(guard, "alice", "bob")
	return alice, bob
}

// crash kills the node: no goodbye reaches NATS, and its clients'
// connections are cut.
func (tn *testNode) crash() {
	tn.crashed = true
	tn.node.crash()
	tn.srv.Close()
}

// syncBuffer is a log destination safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer // guarded by mu
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// client is a test client of one node: it writes requests and reads frames.
type client struct {
	t       *testing.T
	name    string
	c       net.Conn
	r       protocol.Reader
	framing protocol.Framing
	data    []string // DATA lines read so far, in order; owned by the test goroutine
}

// dial connects a client that will join as name to tn.
func (tn *testNode) dial(t *testing.T, name string) *client {
	t.Helper()
	c, err := net.Dial("tcp", tn.addr)
	if err != nil {
		t.Fatalf("dial %s: %v", tn.name, err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, name: name, c: c, r: tn.framing.NewReader(c, 1<<20), framing: tn.framing}
}

// send writes one request, framed.
func (c *client) send(line string) {
	c.t.Helper()
	if err := c.trySend(line); err != nil {
		c.t.Fatalf("%s: %v", c.name, err)
	}
}

// trySend writes one request, framed; it may run on any goroutine.
func (c *client) trySend(line string) error {
	b, err := c.framing.AppendFrame(nil, []byte(line))
	if err != nil {
		return fmt.Errorf("frame %q: %w", line, err)
	}
	c.c.SetWriteDeadline(time.Now().Add(guard))
	if _, err := c.c.Write(b); err != nil {
		return fmt.Errorf("write %q: %w", line, err)
	}
	return nil
}

// read returns the next frame, or fails the test after wait.
func (c *client) read(wait time.Duration) string {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(wait))
	line, err := c.r.ReadFrame()
	if err != nil {
		c.t.Fatalf("%s: reading: %v", c.name, err)
	}
	return line
}

// join sends JOIN and expects J_OK.
func (c *client) join() {
	c.t.Helper()
	c.send("JOIN " + c.name + ", 127.0.0.1:4242")
	if got := c.read(guard); got != "J_OK" {
		c.t.Fatalf("%s: JOIN answered %q, want J_OK", c.name, got)
	}
}

// awaitList reads until a LIST naming exactly names (in any order)
// arrives, within wait; DATA read meanwhile is kept in c.data, anything
// else fails the test.
func (c *client) awaitList(wait time.Duration, names ...string) {
	c.t.Helper()
	want := slices.Sorted(slices.Values(names))
	deadline := time.Now().Add(wait)
	var lists []string
	for {
		left := time.Until(deadline)
		if left <= 0 {
			c.t.Fatalf("%s: no LIST of %q within %v; LISTs seen: %q", c.name, want, wait, lists)
		}
		line := c.read(left)
		m, err := protocol.Parse(line)
		switch {
		case err == nil && m.Kind == protocol.KindList:
			lists = append(lists, line)
			if slices.Equal(slices.Sorted(slices.Values(m.Names)), want) {
				return
			}
		case err == nil && m.Kind == protocol.KindData:
			c.data = append(c.data, line)
		default:
			c.t.Fatalf("%s: got %q while waiting for a LIST of %q", c.name, line, want)
		}
	}
}

// awaitData reads until c.data holds n DATA lines, skipping LISTs.
func (c *client) awaitData(n int) {
	c.t.Helper()
	for len(c.data) < n {
		line := c.read(guard)
		if strings.HasPrefix(line, "DATA ") {
			c.data = append(c.data, line)
		} else if !strings.HasPrefix(line, "LIST") {
			c.t.Fatalf("%s: got %q while waiting for DATA (%d of %d)", c.name, line, len(c.data), n)
		}
	}
}

// expectClosed reads until the server closes the connection, skipping
// LISTs and DATA.
func (c *client) expectClosed() {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(guard))
	for {
		line, err := c.r.ReadFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatalf("%s: connection still open after %v", c.name, guard)
			}
			return
		}
		if !strings.HasPrefix(line, "LIST") && !strings.HasPrefix(line, "DATA ") {
			c.t.Fatalf("%s: got %q, want the connection closed", c.name, line)
		}
	}
}
