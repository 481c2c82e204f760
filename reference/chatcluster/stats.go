package chatcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// counters are a node's running totals, updated atomically by whichever
// goroutine does the work.
type counters struct {
	published    atomic.Int64 // events published and acknowledged
	batches      atomic.Int64 // publish round trips (a batch of events each)
	publishNanos atomic.Int64 // time from a batch's first publish to its last acknowledgement
	requests     atomic.Int64 // other NATS round trips: name claims and releases, leases, reads
	applied      atomic.Int64 // events of the stream applied to the replica
	applyNanos   atomic.Int64 // time spent applying them
}

// Stats are a node's totals since it opened: what it cost in NATS round
// trips and in time. A stats request on StatsSubject(room) gets every
// node's.
type Stats struct {
	Node    string `json:"node"`
	Addr    string `json:"addr,omitempty"` // the node's chat address
	Process string `json:"process"`
	Members int    `json:"members"` // joined through this node now
	// Published counts the events this node published (joins, leaves, DATA).
	Published int64 `json:"published"`
	// PublishRoundTrips counts the batches they went out in: one round trip
	// to NATS each.
	PublishRoundTrips int64 `json:"publish_round_trips"`
	// PublishTime is the time spent waiting for NATS to store the batches,
	// summed.
	PublishTime time.Duration `json:"publish_time"`
	// Requests counts the other round trips to NATS: name claims and
	// releases, lease renewals and reads.
	Requests int64 `json:"requests"`
	// Applied counts the events of the room (every node's) this node
	// applied to its replica; ApplyTime is the time that took (formatting
	// the frames and queueing them to this node's clients).
	Applied   int64         `json:"applied"`
	ApplyTime time.Duration `json:"apply_time"`
}

// Stats returns the node's totals.
func (n *Node) Stats() Stats {
	n.mu.Lock()
	members := 0
	for _, l := range n.locals {
		if l.state == localJoined {
			members++
		}
	}
	n.mu.Unlock()
	return Stats{
		Node:              n.cfg.Node,
		Addr:              n.cfg.Addr,
		Process:           n.proc,
		Members:           members,
		Published:         n.stats.published.Load(),
		PublishRoundTrips: n.stats.batches.Load(),
		PublishTime:       time.Duration(n.stats.publishNanos.Load()),
		Requests:          n.stats.requests.Load(),
		Applied:           n.stats.applied.Load(),
		ApplyTime:         time.Duration(n.stats.applyNanos.Load()),
	}
}

// StatsSubject is the NATS subject on which every node of a room answers a
// request with its Stats, as JSON.
func StatsSubject(room string) string { return "chat." + room + ".stats" }

// serveStats answers stats requests; nc.Close ends it.
func (n *Node) serveStats() error {
	_, err := n.nc.Subscribe(StatsSubject(n.cfg.Room), func(m *nats.Msg) {
		b, err := json.Marshal(n.Stats())
		if err == nil {
			_ = m.Respond(b)
		}
	})
	if err != nil {
		return fmt.Errorf("chatcluster: stats: %w", err)
	}
	return nil
}

// GatherStats asks every node of room, through the NATS server at url, for
// its Stats, and returns the answers that come within wait, or as soon as
// want have come (0: wait the whole time).
func GatherStats(ctx context.Context, url, room string, want int, wait time.Duration) ([]Stats, error) {
	if room == "" {
		room = DefaultRoom
	}
	nc, err := nats.Connect(url, nats.Name("chatcluster stats"))
	if err != nil {
		return nil, fmt.Errorf("chatcluster: connect to NATS at %s: %w", url, err)
	}
	defer nc.Close()
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("chatcluster: stats: %w", err)
	}
	if err := nc.PublishRequest(StatsSubject(room), inbox, nil); err != nil {
		return nil, fmt.Errorf("chatcluster: stats: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var all []Stats
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			if len(all) == 0 {
				return nil, fmt.Errorf("chatcluster: no node of room %q answered within %v", room, wait)
			}
			return all, nil
		}
		var s Stats
		if err := json.Unmarshal(m.Data, &s); err == nil {
			all = append(all, s)
		}
		if want > 0 && len(all) >= want {
			return all, nil
		}
	}
}
