package bench_test

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chatspec/chatspec/bench"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatserver"
)

// TestEchoIsOpenLoop: with Echo, senders wait only for their own echoes,
// so a client that receives nothing does not hold them back (its loss is
// counted); without, they wait for the observer, the last client to join.
func TestEchoIsOpenLoop(t *testing.T) {
	run := func(t *testing.T, cfg bench.Config) *bench.Result {
		// The last of 4 clients receives no DATA: the slowest there can be.
		srv := &relayServer{fate: func(i, _ int) fate {
			if i == 3 {
				return skip
			}
			return deliver
		}}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { defer close(done); srv.serve(l) }()
		defer func() { l.Close(); srv.closeAll(); <-done }()
		cfg.Addr = l.Addr().String()
		cfg.Clients, cfg.Senders, cfg.Window, cfg.JoinConcurrency = 4, 2, 4, 1
		cfg.Settle, cfg.Heartbeat, cfg.Drain = -1, -1, 300*time.Millisecond
		res, err := bench.Run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		return res
	}
	t.Run("echo", func(t *testing.T) {
		res := run(t, bench.Config{Echo: true, Messages: 20})
		if res.Sent != 40 || res.Lost != 40 || res.Received != 3*40 {
			t.Errorf("sent %d, lost %d, received %d; want 40, 40 (all of the deaf client's), 120", res.Sent, res.Lost, res.Received)
		}
		if res.ReadersDropped != 0 || res.SendersDropped != 0 {
			t.Errorf("dropped %d readers, %d senders; want 0, 0", res.ReadersDropped, res.SendersDropped)
		}
	})
	t.Run("observer", func(t *testing.T) {
		res := run(t, bench.Config{Duration: 200 * time.Millisecond})
		if res.Sent != 2*4 {
			t.Errorf("sent %d, want 8: each sender's window, then nothing", res.Sent)
		}
	})
}

// TestProbes: probes' messages are counted like any, and their latency
// apart from the senders'.
func TestProbes(t *testing.T) {
	srv := chatserver.New(chatserver.Config{})
	addr := serve(t, srv.Serve, srv.Close)
	cfg := small(addr, protocol.FramingLine)
	cfg.Senders, cfg.Probes, cfg.ProbeRate, cfg.Echo = 2, 1, 1000, true
	res, err := bench.Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	all := int64(cfg.Clients * (cfg.Senders + cfg.Probes) * cfg.Messages)
	if res.Delivered != all || res.Lost != 0 || res.Drops != 0 {
		t.Errorf("delivered %d, lost %d, drops %d; want %d, 0, 0", res.Delivered, res.Lost, res.Drops, all)
	}
	if want := uint64(cfg.Clients * cfg.Senders * cfg.Messages); res.Latency.Count != want {
		t.Errorf("senders' latency count %d, want %d", res.Latency.Count, want)
	}
	if want := uint64(cfg.Clients * cfg.Probes * cfg.Messages); res.ProbeLatency.Count != want {
		t.Errorf("probes' latency count %d, want %d", res.ProbeLatency.Count, want)
	}
	var sum uint64
	for _, b := range res.ProbeDist {
		sum += b.Count
	}
	if sum != res.ProbeLatency.Count {
		t.Errorf("probe distribution holds %d values, want %d", sum, res.ProbeLatency.Count)
	}
	var table bytes.Buffer
	if err := bench.WriteTable(&table, res, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"well-behaved senders", "1 x 1000/s", "window 4 of own echoes", "readers dropped"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}
