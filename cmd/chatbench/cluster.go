package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/chatspec/chatspec/bench"
	"github.com/chatspec/chatspec/reference/chatcluster"
)

// statsWait bounds the wait for the nodes' answers to a stats request.
const statsWait = 2 * time.Second

// NodeCost is what one node of a cluster spent in NATS while the senders
// sent (warm-up included), from the counters the nodes keep
// (chatcluster.Stats).
type NodeCost struct {
	Node string `json:"node"`
	Addr string `json:"addr"`
	// Published is the events the node published per second (DATA, joins,
	// leaves), and PublishRoundTrips the batches they went out in per
	// second: one round trip to NATS each.
	Published         float64 `json:"published_per_sec"`
	PublishRoundTrips float64 `json:"publish_round_trips_per_sec"`
	// PublishRoundTrip is the mean time from a batch's first publish to
	// its last acknowledgement.
	PublishRoundTrip time.Duration `json:"publish_round_trip"`
	// Requests is the other round trips to NATS per second (names, leases).
	Requests float64 `json:"requests_per_sec"`
	// Applied is the events of the whole room the node applied per second;
	// ApplyTime the mean time each took (formatting and queueing frames to
	// its clients).
	Applied   float64       `json:"applied_per_sec"`
	ApplyTime time.Duration `json:"apply_time"`
}

// clusterProbe reads the nodes' counters when the load starts and when it
// ends (through bench.Config.Phase).
type clusterProbe struct {
	url, room string
	nodes     int // how many answers to expect

	mu            sync.Mutex
	start, end    []chatcluster.Stats // guarded by mu
	startT, endT  time.Time           // guarded by mu
	err           error               // guarded by mu: the first failure
	started, done bool                // guarded by mu
}

// phase is bench.Config.Phase: it reads the counters as the senders start
// (warm-up or load) and as the drain begins.
func (p *clusterProbe) phase(ph string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var dst *[]chatcluster.Stats
	var at *time.Time
	switch {
	case (ph == "warmup" || ph == "load") && !p.started:
		p.started, dst, at = true, &p.start, &p.startT
	case ph == "drain" && p.started && !p.done:
		p.done, dst, at = true, &p.end, &p.endT
	default:
		return
	}
	s, err := chatcluster.GatherStats(context.Background(), p.url, p.room, p.nodes, statsWait)
	if err != nil {
		p.err = cmp.Or(p.err, err)
		return
	}
	*dst, *at = s, time.Now()
}

// costs returns each node's costs between the two readings.
func (p *clusterProbe) costs() ([]NodeCost, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return nil, p.err
	}
	if p.start == nil || p.end == nil {
		return nil, fmt.Errorf("the run had no load phase: no NATS figures")
	}
	dt := p.endT.Sub(p.startT).Seconds()
	before := make(map[string]chatcluster.Stats)
	for _, s := range p.start {
		before[s.Process] = s
	}
	var out []NodeCost
	for _, e := range p.end {
		b, ok := before[e.Process]
		if !ok {
			continue // started during the load
		}
		c := NodeCost{
			Node:              e.Node,
			Addr:              e.Addr,
			Published:         float64(e.Published-b.Published) / dt,
			PublishRoundTrips: float64(e.PublishRoundTrips-b.PublishRoundTrips) / dt,
			Requests:          float64(e.Requests-b.Requests) / dt,
			Applied:           float64(e.Applied-b.Applied) / dt,
		}
		if n := e.PublishRoundTrips - b.PublishRoundTrips; n > 0 {
			c.PublishRoundTrip = (e.PublishTime - b.PublishTime) / time.Duration(n)
		}
		if n := e.Applied - b.Applied; n > 0 {
			c.ApplyTime = (e.ApplyTime - b.ApplyTime) / time.Duration(n)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b NodeCost) int { return strings.Compare(a.Addr, b.Addr) })
	return out, nil
}

// writeCosts writes the nodes' NATS costs as a table.
func writeCosts(w io.Writer, costs []NodeCost) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\taddr\tevents published/s\tpublish round trips/s\tevents per round trip\tround trip\tother requests/s\tevents applied/s\tapply per event\t")
	for _, c := range costs {
		per := 0.0
		if c.PublishRoundTrips > 0 {
			per = c.Published / c.PublishRoundTrips
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.1f\t%s\t%.1f\t%.0f\t%s\t\n", c.Node, c.Addr, c.Published, c.PublishRoundTrips,
			per, c.PublishRoundTrip.Round(time.Microsecond), c.Requests, c.Applied, c.ApplyTime.Round(100*time.Nanosecond))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write NATS costs: %w", err)
	}
	return nil
}

// withProbe sets cfg to read the cluster's counters, if url is set.
func withProbe(cfg *bench.Config, url, room string) *clusterProbe {
	if url == "" {
		return nil
	}
	n := len(cfg.Addrs())
	p := &clusterProbe{url: url, room: room, nodes: n}
	cfg.Phase = p.phase
	return p
}
