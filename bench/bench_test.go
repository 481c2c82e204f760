package bench_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/bench"
	"github.com/chatspec/chatspec/bench/fanout"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// small is a short run that counts rather than times: each sender sends a
// fixed number of messages, and the drain waits (up to a generous guard)
// for every one of them.
func small(addr string, f protocol.Framing) bench.Config {
	return bench.Config{
		Addr:      addr,
		Framing:   f,
		Clients:   7,
		Senders:   3,
		Messages:  25,
		Window:    4,
		Size:      protocol.MaxTextLen,
		Settle:    -1,
		Heartbeat: -1,
		Drain:     30 * time.Second, // a failure guard, not a timing
	}
}

func checkCounts(t *testing.T, res *bench.Result, cfg bench.Config) {
	t.Helper()
	perClient := int64(cfg.Senders * cfg.Messages)
	want := perClient * int64(cfg.Clients)
	if res.Joined != cfg.Clients || res.JoinFailed != 0 {
		t.Errorf("joined %d, failed %d (%s), want %d, 0", res.Joined, res.JoinFailed, res.JoinError, cfg.Clients)
	}
	if res.Sent != perClient {
		t.Errorf("sent %d, want %d", res.Sent, perClient)
	}
	if res.Delivered != want || res.Received != want || res.Expected != want {
		t.Errorf("delivered %d, received %d, expected %d, want %d each", res.Delivered, res.Received, res.Expected, want)
	}
	if res.Lost != 0 || res.Duplicated != 0 || res.OutOfOrder != 0 || res.Drops != 0 {
		t.Errorf("lost %d, duplicated %d, out of order %d, drops %d, want 0", res.Lost, res.Duplicated, res.OutOfOrder, res.Drops)
	}
	if res.Errors != (bench.Errors{}) {
		t.Errorf("errors %+v, want none", res.Errors)
	}
	if res.Latency.Count != uint64(want) {
		t.Errorf("latency count %d, want %d", res.Latency.Count, want)
	}
	if res.Latency.P50 > res.Latency.P99 || res.Latency.P99 > res.Latency.Max {
		t.Errorf("latency %+v: quantiles out of order", res.Latency)
	}
}

func TestBaseline(t *testing.T) {
	for _, f := range []protocol.Framing{protocol.FramingLine, protocol.FramingUTF} {
		for _, lines := range []int{1, 16} {
			t.Run(fmt.Sprintf("%s/%d-per-write", f, lines), func(t *testing.T) {
				srv := fanout.New(fanout.Config{Framing: f, LinesPerWrite: lines})
				addr := serve(t, srv.Serve, srv.Close)
				cfg := small(addr, f)
				res, err := bench.Run(t.Context(), cfg)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				checkCounts(t, res, cfg)
				if res.Lists != 0 {
					t.Errorf("lists %d from the baseline, want 0", res.Lists)
				}
			})
		}
	}
}

func TestReference(t *testing.T) {
	for _, f := range []protocol.Framing{protocol.FramingLine, protocol.FramingUTF} {
		t.Run(f.String(), func(t *testing.T) {
			srv := chatserver.New(chatserver.Config{Framing: f})
			addr := serve(t, srv.Serve, srv.Close)
			cfg := small(addr, f)
			res, err := bench.Run(t.Context(), cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkCounts(t, res, cfg)
			// Every client has seen at least its own join's LIST; the
			// newest LIST of each names everyone once the joins are over
			// (the load's messages went through the same queue after it).
			if res.Lists < int64(cfg.Clients) || res.ListsComplete != cfg.Clients {
				t.Errorf("lists %d, complete %d, want >= %d and %d", res.Lists, res.ListsComplete, cfg.Clients, cfg.Clients)
			}
		})
	}
}

// TestJoinOnly measures nothing but joins: no senders, no load.
func TestJoinOnly(t *testing.T) {
	srv := chatserver.New(chatserver.Config{})
	addr := serve(t, srv.Serve, srv.Close)
	res, err := bench.Run(t.Context(), bench.Config{
		Addr: addr, Clients: 20, Settle: -1, Heartbeat: -1, Duration: time.Nanosecond,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Joined != 20 || res.Sent != 0 || res.Received != 0 || res.Lost != 0 {
		t.Errorf("joined %d sent %d received %d lost %d, want 20 0 0 0", res.Joined, res.Sent, res.Received, res.Lost)
	}
	var buf bytes.Buffer
	if err := bench.WriteTable(&buf, res, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "20/20") {
		t.Errorf("table lacks the join count:\n%s", buf.String())
	}
}

// TestNoServer: with nothing listening, Run fails and says why.
func TestNoServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = bench.Run(t.Context(), bench.Config{Addr: addr, Clients: 2, JoinTimeout: 10 * time.Second})
	if err == nil {
		t.Fatal("Run against a closed port succeeded")
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("Run error %v does not wrap the dial error", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []bench.Config{
		{},
		{Addr: "x:1", Size: bench.MinSize - 1},
		{Addr: "x:1", Size: protocol.MaxTextLen + 1},
		{Addr: "x:1", Rate: -1},
	} {
		if _, err := bench.Run(context.Background(), cfg); err == nil {
			t.Errorf("Run(%+v) succeeded, want a config error", cfg)
		}
	}
}

// serve starts a server on 127.0.0.1:0 and closes it when the test ends.
func serve(t *testing.T, serveFn func(net.Listener) error, closeFn func() error) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		serveFn(l)
	}()
	t.Cleanup(func() {
		closeFn()
		<-done
	})
	return l.Addr().String()
}

// TestAddrs: a trailing comma or spaces name no extra server (chatbench
// counts the cluster's nodes by it).
func TestAddrs(t *testing.T) {
	got := bench.Config{Addr: " a:1, b:2 ,"}.Addrs()
	if !slices.Equal(got, []string{"a:1", "b:2"}) {
		t.Errorf("Addrs() = %q, want [a:1 b:2]", got)
	}
}
