package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// TestRun starts the command on a free port, holds a session with it, and
// stops it as a signal would.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-heartbeat-timeout", "1m", "-max-clients", "5",
			"-outbox-bytes", "32768", "-write-timeout", "5s", "-stall-timeout", "1s", "-send-rate", "0", "-send-burst", "10"}, outW, &stderr)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the listening line: %v", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "chatserver: listening on ")
	if !ok {
		t.Fatalf("first line %q, want \"chatserver: listening on <addr> ...\"", line)
	}
	addr, _, _ = strings.Cut(addr, " ")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte("JOIN alice, 127.0.0.1:4242\n"))
	r := bufio.NewReader(c)
	for _, want := range []string{"J_OK\n", "LIST alice\n"} {
		if got, err := r.ReadString('\n'); got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	cancel() // as SIGINT or SIGTERM
	if err := <-done; err != nil {
		t.Errorf("run = %v, want nil after a signal", err)
	}
	if _, err := r.ReadString('\n'); err != io.EOF {
		t.Errorf("after shutdown: %v, want EOF", err)
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-framing", "xml"},
		{"-heartbeat-timeout", "0s"},
		{"-max-clients", "-1"},
		{"-log-level", "loud"},
		{"-outbox-bytes", "100"},
		{"-write-timeout", "0s"},
		{"-stall-timeout", "0s"},
		{"-stall-timeout", "20s"},
		{"-send-rate", "-1"},
		{"-send-burst", "0"},
		{"stray"},
	} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}

// running is a run of the command in the test's process.
type running struct {
	out    *bufio.Reader // its standard output
	cancel context.CancelFunc
	done   chan error
}

// start runs the command with args until stop.
func start(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	r := &running{out: bufio.NewReader(outR), cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- run(ctx, args, outW, io.Discard)
		outW.Close()
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// line returns the next line of standard output that has prefix, skipping
// others.
func (r *running) line(t *testing.T, prefix string) string {
	t.Helper()
	for {
		line, err := r.out.ReadString('\n')
		if err != nil {
			t.Fatalf("no line starting %q: %v", prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return strings.TrimSpace(line)
		}
	}
}

// stop stops the command as a signal would, once, and checks it exits
// cleanly.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.done == nil {
		return
	}
	r.cancel()
	go io.Copy(io.Discard, r.out)
	if err := <-r.done; err != nil {
		t.Errorf("run = %v, want nil after a signal", err)
	}
	r.done = nil
}

// TestRunCluster starts a node with embedded NATS and a second node that
// joins through it, and chats across them.
func TestRunCluster(t *testing.T) {
	n1 := start(t, "-addr", "127.0.0.1:0", "-cluster", "embedded", "-nats-addr", "127.0.0.1:0",
		"-nats-store", t.TempDir(), "-node", "one", "-heartbeat-timeout", "1m")
	natsLine := n1.line(t, "chatserver: embedded NATS")
	i := strings.LastIndex(natsLine, "-cluster ")
	if i < 0 {
		t.Fatalf("%q does not say what to give -cluster", natsLine)
	}
	url := natsLine[i+len("-cluster "):]
	addr1 := listeningAddr(t, n1.line(t, "chatserver: listening on "))
	n2 := start(t, "-addr", "127.0.0.1:0", "-cluster", url, "-framing", "utf", "-heartbeat-timeout", "1m")
	addr2 := listeningAddr(t, n2.line(t, "chatserver: listening on "))

	alice := dialChat(t, addr1, protocol.FramingLine)
	alice.say(t, "JOIN alice, 127.0.0.1:4242")
	alice.want(t, "J_OK", "LIST alice")
	bob := dialChat(t, addr2, protocol.FramingUTF)
	bob.say(t, "JOIN bob, 127.0.0.1:4242")
	bob.want(t, "J_OK", "LIST alice bob")
	alice.want(t, "LIST alice bob")
	bob.say(t, "DATA bob: hello")
	bob.want(t, "DATA bob: hello")
	alice.want(t, "DATA bob: hello")
	n2.stop(t) // the node leaves the cluster: bob leaves alice's LIST
	alice.want(t, "LIST alice")
	n1.stop(t)
}

func TestRunClusterBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-node", "n1"},
		{"-nats-store", "x"},
		{"-cluster", "nats://127.0.0.1:1", "-nats-addr", "127.0.0.1:0"},
		{"-cluster", "embedded", "-node-timeout", "2m"},
		{"-cluster", "embedded", "-cluster-replicas", "0"},
		{"-cluster-replicas", "3"},
		{"-cluster", "embedded", "-nats-addr", "127.0.0.1:0", "-node", "bad name"},
		{"-addr", "127.0.0.1:0", "-cluster", "nats://127.0.0.1:1"}, // nobody there
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}

func listeningAddr(t *testing.T, line string) string {
	t.Helper()
	addr, _, _ := strings.Cut(strings.TrimPrefix(line, "chatserver: listening on "), " ")
	return addr
}

// chatConn is a raw client of one node.
type chatConn struct {
	c net.Conn
	r protocol.Reader
	f protocol.Framing
}

func dialChat(t *testing.T, addr string, f protocol.Framing) *chatConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &chatConn{c: c, r: f.NewReader(c, 1<<16), f: f}
}

func (cc *chatConn) say(t *testing.T, line string) {
	t.Helper()
	b, _ := cc.f.AppendFrame(nil, []byte(line))
	if _, err := cc.c.Write(b); err != nil {
		t.Fatal(err)
	}
}

func (cc *chatConn) want(t *testing.T, lines ...string) {
	t.Helper()
	for _, want := range lines {
		if got, err := cc.r.ReadFrame(); got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
}
