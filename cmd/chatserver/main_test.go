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
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-heartbeat-timeout", "1m", "-max-clients", "5"}, outW, &stderr)
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
		{"stray"},
	} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}
