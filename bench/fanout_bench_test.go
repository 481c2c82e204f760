package bench_test

import (
	"context"
	"net"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/chatspec/chatspec/bench"
	"github.com/chatspec/chatspec/bench/fanout"
	"github.com/chatspec/chatspec/reference/chatserver"
)

// BenchmarkFanout drives a server in this process with the load generator:
// one op is one delivery (one DATA to one client). It reports deliveries/s
// and the latency p99 as metrics. The server's goroutines carry the pprof
// label server=<sub-benchmark name>, so the reference server's share of a
// profile is
//
//	go test -run '^$' -bench Fanout/reference -cpuprofile cpu.out ./bench
//	go tool pprof -tagfocus server=reference -top cpu.out
func BenchmarkFanout(b *testing.B) {
	servers := []struct {
		name  string
		start func(name string, l net.Listener) (stop func())
	}{
		{"reference", func(name string, l net.Listener) func() {
			srv := chatserver.New(chatserver.Config{})
			return serveLabelled(name, l, srv.Serve, srv.Close)
		}},
		{"baseline-1", func(name string, l net.Listener) func() {
			srv := fanout.New(fanout.Config{LinesPerWrite: 1})
			return serveLabelled(name, l, srv.Serve, srv.Close)
		}},
		{"baseline-16", func(name string, l net.Listener) func() {
			srv := fanout.New(fanout.Config{LinesPerWrite: 16})
			return serveLabelled(name, l, srv.Serve, srv.Close)
		}},
		{"baseline-256", func(name string, l net.Listener) func() {
			srv := fanout.New(fanout.Config{LinesPerWrite: 256})
			return serveLabelled(name, l, srv.Serve, srv.Close)
		}},
	}
	const clients, senders = 200, 10
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			stop := s.start(s.name, l)
			defer stop()
			per := b.N/(clients*senders) + 1
			res, err := bench.Run(context.Background(), bench.Config{
				Addr: l.Addr().String(), Clients: clients, Senders: senders, Messages: per,
				Heartbeat: -1, Drain: 30 * time.Second,
			})
			if err != nil {
				b.Fatal(err)
			}
			if res.Lost != 0 || res.Drops != 0 {
				b.Errorf("lost %d, drops %d", res.Lost, res.Drops)
			}
			b.ReportMetric(res.DeliveriesPerSec, "deliveries/s")
			b.ReportMetric(float64(res.Latency.P99)/1e6, "p99-ms")
		})
	}
}

// serveLabelled runs serve(l) in a goroutine with the pprof label
// server=name (its children inherit it) and returns a function that closes the
// server and waits for serve to return.
func serveLabelled(name string, l net.Listener, serve func(net.Listener) error, closeFn func() error) func() {
	done := make(chan struct{})
	go pprof.Do(context.Background(), pprof.Labels("server", name), func(context.Context) {
		defer close(done)
		serve(l)
	})
	return func() {
		closeFn()
		<-done
	}
}
