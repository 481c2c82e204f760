package chatcluster_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatspec/chatspec/bench"
	"github.com/chatspec/chatspec/reference/chatcluster/chatclustertest"
	"github.com/chatspec/chatspec/reference/chatserver"
)

// BenchmarkCluster drives a cluster in this process (embedded NATS, the
// nodes, the load generator's clients spread over the nodes) with the load
// generator: one op is one delivery. It reports deliveries/s and latency
// p50 and p99. Everything shares the machine's cores, so the profile of
//
//	go test -run '^$' -bench Cluster/nodes=3/clients=100 -cpuprofile cpu.out ./reference/chatcluster
//
// shows where a node's time goes beside NATS's and the clients'.
func BenchmarkCluster(b *testing.B) {
	const senders = 10
	for _, bc := range []struct{ nodes, clients int }{{1, 100}, {3, 100}, {1, 1000}, {3, 1000}} {
		nodes, clients := bc.nodes, bc.clients
		b.Run(fmt.Sprintf("nodes=%d/clients=%d", nodes, clients), func(b *testing.B) {
			addrs, _ := chatclustertest.Start(b, nodes, chatserver.Config{})
			per := b.N/(clients*senders) + 1
			res, err := bench.Run(context.Background(), bench.Config{
				Addr: strings.Join(addrs, ","), Clients: clients, Senders: senders, Messages: per,
				Heartbeat: -1, Drain: 30 * time.Second,
			})
			if err != nil {
				b.Fatal(err)
			}
			if res.Lost > 0 || res.Drops > 0 {
				b.Fatalf("lost %d, drops %d", res.Lost, res.Drops)
			}
			b.ReportMetric(res.DeliveriesPerSec, "deliveries/s")
			b.ReportMetric(float64(res.Latency.P50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(res.Latency.P99.Microseconds())/1000, "p99-ms")
		})
	}
}
