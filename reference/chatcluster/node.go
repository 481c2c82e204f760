package chatcluster

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatspec/chatspec/reference/chatroom"
)

// Node is one chat server's membership of a cluster. Create it with [Open],
// give [Node.Room] to chatserver.Config.Room, and end it with [Node.Close]
// after the server has shut down.
//
// # Concurrency
//
// A node runs three goroutines of its own, all ended by Close: the
// publisher owns the stream of this process's events (publishes them in
// order, finds out after an outage what the stream already holds); the
// keeper renews this node's lease and watches the others'; the consumer
// (started by Room) applies the room's stream to the node's replica of the
// room. The replica is a chatroom.Room with its own lock; the consumer's
// map of who is where (room.entries) is the consumer's alone. Everything
// the connections, the publisher and the keeper share is guarded by
// Node.mu, taken after the server's mutex, never held together with the
// replica's nor while waiting for NATS; an outbox's mutex may be taken under
// it (held replies are queued under it).
type Node struct {
	cfg     Config              // read-only after Open, defaults filled in
	log     *slog.Logger        // read-only
	nc      *nats.Conn          // safe for concurrent use
	js      jetstream.JetStream // safe for concurrent use
	stream  jetstream.Stream    // the room's stream
	names   jetstream.KeyValue  // user name -> claim
	nodes   jetstream.KeyValue  // node name -> lease
	proc    string              // this process's random id: read-only
	subject string              // where this process publishes: read-only
	stats   counters            // atomic

	ctx    context.Context    // ended by Close (and crash): stops every goroutine and request
	cancel context.CancelFunc // read-only
	wg     sync.WaitGroup     // the publisher, the keeper, the consumer
	wake   chan struct{}      // capacity 1: tells the publisher there is work or NATS is back

	snap     snapshot // written by Open, then read once by Room
	maxLocal int      // guarded by mu, written once by Room: most local members (chatroom.Config.MaxMembers)

	mu         sync.Mutex
	connected  bool                     // guarded by mu: NATS reachable and every queued event accounted for
	fenced     bool                     // guarded by mu: this node's lease is gone; it is registering again
	closed     bool                     // guarded by mu: Close has begun
	roomClosed bool                     // guarded by mu: the server closed the room
	down       chan struct{}            // guarded by mu: closed when the node stops being available; a new one when it is again
	downSince  time.Time                // guarded by mu: when NATS was lost
	connGen    uint64                   // guarded by mu: counts reconnections, so that watchers restart their clocks
	epoch      uint64                   // guarded by mu
	leaseRev   uint64                   // guarded by mu: the revision of this node's lease
	seq        uint64                   // guarded by mu: the last event sequence number given out
	queue      []*job                   // guarded by mu: events not yet taken by the publisher
	queueBytes int                      // guarded by mu: encoded bytes of the events not yet published
	waiting    map[uint64]chan struct{} // guarded by mu: own event seq -> closed when the consumer has applied it
	locals     map[string]*local        // guarded by mu: the members joined through this node (or leaving), by name
	joining    map[string]*local        // guarded by mu: joins waiting for their event, by name
	reserved   int                      // guarded by mu: joins creating their claim
	room       *room                    // guarded by mu: set by Room
	fencedLog  bool                     // guarded by mu: the "name held by another process" error was logged
}

// snapshot is the room as Open read it: the claims of the names bucket,
// and the stream sequence to apply events from.
type snapshot struct {
	next   uint64 // the first stream sequence not reflected in claims
	claims []namedClaim
}

type namedClaim struct {
	name string
	rev  uint64
	claim
}

// local is a member joined, or joining, through this node. Guarded by
// Node.mu.
type local struct {
	m        *chatroom.Member
	rev      uint64 // the revision of the name's claim: identifies this join in events
	epoch    uint64 // the node's epoch when it joined
	now      time.Time
	state    localState
	joinJob  *job
	inflight int           // its DATA events queued or published, not yet applied here
	lastSeq  uint64        // the sequence number of its last event
	held     []heldReply   // replies waiting for its earlier events to be applied
	room     chan struct{} // closed when inflight drops below maxInflight; nil if no Say waits
}

// heldReply is a reply to a member's request that must follow the member's
// event after.
type heldReply struct {
	after uint64
	frame []byte
}

// maxInflight is how many DATA of one member may wait to be applied: past
// it, Say waits (the client's own socket then fills), so that a flooder
// meets the cluster's pace and the queue stays small.
const maxInflight = 32

type localState uint8

const (
	localJoining   localState = iota // claim made, event queued
	localJoined                      // event applied: J_OK sent
	localLeaving                     // Leave called: the leave event is queued
	localAbandoned                   // Join gave up; the claim is released
)

// Open connects to NATS at cfg.URL, creates the room's stream and buckets
// if they do not exist, takes this node's lease (from a previous process of
// the same name too), and reads who is in the room. The connection is kept
// until Close; ctx bounds only Open itself.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("chatcluster: process id: %w", err)
	}
	n := &Node{
		cfg:       cfg,
		log:       cfg.Logger.With("node", cfg.Node),
		proc:      hex.EncodeToString(id[:]),
		wake:      make(chan struct{}, 1),
		connected: true,
		down:      make(chan struct{}),
		epoch:     1,
		waiting:   make(map[uint64]chan struct{}),
		locals:    make(map[string]*local),
		joining:   make(map[string]*local),
	}
	n.subject = "chat." + cfg.Room + ".ev." + n.proc
	n.ctx, n.cancel = context.WithCancel(context.Background())

	opts := append(slices.Clip(cfg.Options),
		nats.Name("chatserver node "+cfg.Node),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(cfg.ReconnectWait),
		nats.ReconnectBufSize(-1), // fail publishes at once while away: the publisher keeps them
		nats.PingInterval(max(cfg.NodeTimeout/4, 500*time.Millisecond)),
		nats.MaxPingsOutstanding(2),
		nats.Timeout(cfg.RequestTimeout),
		nats.DisconnectErrHandler(n.onDisconnect),
		nats.ReconnectHandler(n.onReconnect),
	)
	n.nc, err = nats.Connect(cfg.URL, opts...)
	if err != nil {
		n.cancel()
		return nil, fmt.Errorf("chatcluster: connect to NATS at %s: %w", cfg.URL, err)
	}
	if err := n.setUp(ctx); err != nil {
		n.stop()
		return nil, err
	}
	return n, nil
}

// setUp is the part of Open after the connection.
func (n *Node) setUp(ctx context.Context) error {
	cfg := n.cfg
	var err error
	n.js, err = jetstream.New(n.nc,
		jetstream.WithPublishAsyncTimeout(cfg.RequestTimeout),
		jetstream.WithPublishAsyncMaxPending(4*maxBatch))
	if err != nil {
		return fmt.Errorf("chatcluster: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 4*cfg.RequestTimeout)
	defer cancel()
	n.stream, err = n.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        streamName(cfg.Room),
		Description: "chat room " + cfg.Room + ": every join, leave, DATA and node death, in one order",
		Subjects:    []string{"chat." + cfg.Room + ".ev.*"},
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		MaxAge:      cfg.MaxAge,
		Discard:     jetstream.DiscardOld,
		Duplicates:  2 * time.Minute,
		AllowDirect: true,
	})
	if err != nil {
		return fmt.Errorf("chatcluster: stream %s: %w", streamName(cfg.Room), err)
	}
	bucket := func(suffix, what string) (jetstream.KeyValue, error) {
		kv, err := n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      streamName(cfg.Room) + "_" + suffix,
			Description: what,
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    cfg.Replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("chatcluster: bucket %s_%s: %w", streamName(cfg.Room), suffix, err)
		}
		return kv, nil
	}
	if n.names, err = bucket("names", "chat room "+cfg.Room+": who holds each user name"); err != nil {
		return err
	}
	if n.nodes, err = bucket("nodes", "chat room "+cfg.Room+": each node's lease"); err != nil {
		return err
	}
	n.wg.Add(1)
	go n.publishLoop()

	if err := n.takeOver(ctx); err != nil {
		return err
	}
	val := encode(lease{Proc: n.proc, Epoch: 1, Addr: cfg.Addr})
	rev, err := n.nodes.Create(ctx, cfg.Node, val)
	n.stats.requests.Add(1)
	switch {
	case errors.Is(err, jetstream.ErrKeyExists):
		return fmt.Errorf("chatcluster: node name %q is in use: another node took it while this one started", cfg.Node)
	case err != nil:
		return fmt.Errorf("chatcluster: lease %q: %w", cfg.Node, err)
	}
	n.leaseRev = rev
	if err := n.readRoom(ctx); err != nil {
		return err
	}
	if err := n.serveStats(); err != nil {
		return err
	}
	n.wg.Add(1)
	go n.keep()
	n.log.Info("joined the cluster", "room", cfg.Room, "process", n.proc, "nats", n.nc.ConnectedUrlRedacted(),
		"members", len(n.snap.claims))
	return nil
}

// streamName is the room's stream; its buckets add a suffix.
func streamName(room string) string { return "CHAT_" + room }

// takeOver ends a previous process of this node's name: it cannot be
// alive (node names are unique), so its users go now rather than after
// NodeTimeout, and a restarted node never shows them.
func (n *Node) takeOver(ctx context.Context) error {
	e, err := n.nodes.Get(ctx, n.cfg.Node)
	n.stats.requests.Add(1)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("chatcluster: lease %q: %w", n.cfg.Node, err)
	}
	old, err := decode[lease](e.Value())
	if err != nil {
		n.log.Warn("unreadable lease replaced", "err", err)
	}
	err = n.nodes.Delete(ctx, n.cfg.Node, jetstream.LastRevision(e.Revision()))
	n.stats.requests.Add(1)
	if err != nil {
		return fmt.Errorf("chatcluster: node name %q: taking over from process %s: %w", n.cfg.Node, old.Proc, err)
	}
	n.log.Warn("took over the node name from a previous process", "process", old.Proc, "addr", old.Addr)
	if old.Proc != "" {
		return n.bury(ctx, old.Proc, old.Epoch)
	}
	return nil
}

// readRoom takes the snapshot Room starts from. The stream's position is
// read first: a name is released before its leave is published, so a name
// still in the bucket after that point leaves at a later stream sequence.
// Names whose process holds no lease are released (that process died
// while declaring another dead, or before anyone saw it die).
func (n *Node) readRoom(ctx context.Context) error {
	info, err := n.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("chatcluster: stream %s: %w", streamName(n.cfg.Room), err)
	}
	entries, err := n.scan(ctx, n.names)
	if err != nil {
		return err
	}
	leases, err := n.scan(ctx, n.nodes)
	if err != nil {
		return err
	}
	live := make(map[string]bool)
	for _, e := range leases {
		if l, err := decode[lease](e.Value()); err == nil {
			live[l.Proc] = true
		}
	}
	orphans := make(map[string]uint64) // process -> highest epoch
	snap := snapshot{next: info.State.LastSeq + 1}
	for _, e := range entries {
		c, err := decode[claim](e.Value())
		if err != nil {
			n.log.Warn("unreadable name claim", "name", e.Key(), "err", err)
			continue
		}
		if !live[c.Proc] {
			orphans[c.Proc] = max(orphans[c.Proc], c.Epoch)
			continue
		}
		snap.claims = append(snap.claims, namedClaim{name: e.Key(), rev: e.Revision(), claim: c})
	}
	slices.SortFunc(snap.claims, func(a, b namedClaim) int { return cmp.Compare(a.rev, b.rev) })
	n.snap = snap
	for proc, epoch := range orphans {
		n.log.Warn("releasing the names of a process without a lease", "process", proc)
		if err := n.bury(ctx, proc, epoch); err != nil {
			return err
		}
	}
	return nil
}

// scan returns every live entry of a bucket.
func (n *Node) scan(ctx context.Context, kv jetstream.KeyValue) ([]jetstream.KeyValueEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	n.stats.requests.Add(1)
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("chatcluster: read %s: %w", kv.Bucket(), err)
	}
	defer w.Stop()
	var all []jetstream.KeyValueEntry
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				return all, nil // the end of the values stored now
			}
			all = append(all, e)
		case <-ctx.Done():
			return nil, fmt.Errorf("chatcluster: read %s: %w", kv.Bucket(), ctx.Err())
		}
	}
}

// bury releases every name of process proc up to epoch and publishes its
// death, after which every node removes its users. The caller has made
// sure the process is dead (deleted its lease).
func (n *Node) bury(ctx context.Context, proc string, epoch uint64) error {
	entries, err := n.scan(ctx, n.names)
	if err != nil {
		return err
	}
	released := 0
	for _, e := range entries {
		c, err := decode[claim](e.Value())
		if err != nil || c.Proc != proc || c.Epoch > epoch {
			continue
		}
		gone, err := n.deleteAt(ctx, n.names, e.Key(), e.Revision())
		switch {
		case err != nil:
			return fmt.Errorf("chatcluster: release %q: %w", e.Key(), err)
		case !gone:
			released++
		}
	}
	n.mu.Lock()
	j := n.enqueueLocked(&event{Kind: kindDown, Dead: proc, DeadEpoch: epoch}, nil, true)
	n.mu.Unlock()
	n.log.Info("released the names of a dead process", "process", proc, "names", released)
	if err := n.await(ctx, j); err != nil {
		return fmt.Errorf("chatcluster: publishing the death of process %s: %w", proc, err)
	}
	return nil
}

// onDisconnect runs on nats.go's callback goroutine.
func (n *Node) onDisconnect(_ *nats.Conn, err error) {
	n.lostNATS(err)
}

// onReconnect runs on nats.go's callback goroutine.
func (n *Node) onReconnect(*nats.Conn) {
	n.mu.Lock()
	n.connGen++
	n.mu.Unlock()
	n.signal()
}

// signal wakes the publisher. It never blocks.
func (n *Node) signal() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// lostNATS marks NATS unavailable, and logs it once per outage.
func (n *Node) lostNATS(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.connected || n.ctx.Err() != nil {
		return
	}
	n.connected = false
	n.downSince = time.Now()
	n.availabilityChangedLocked(true)
	n.log.Warn("NATS unavailable: new JOINs get J_ER 503 and DATA is queued until it is back", "err", err)
}

// regainedNATS marks NATS available again; resent is how many queued
// events the publisher is about to publish.
func (n *Node) regainedNATS(resent int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.connected {
		return
	}
	n.connected = true
	n.availabilityChangedLocked(false)
	n.log.Info("NATS available again", "after", time.Since(n.downSince).Round(time.Millisecond), "events_to_publish", resent)
}

// availableLocked reports whether the node takes new JOINs.
func (n *Node) availableLocked() bool { return n.connected && !n.fenced && !n.closed }

// availabilityChangedLocked closes n.down if the node has just become
// unavailable (wasAvailable is what it was before the change), or makes a
// new one if it has just become available again. Replies held behind
// events go out at once when the node becomes unavailable: the events may
// wait long.
func (n *Node) availabilityChangedLocked(wasAvailable bool) {
	now := n.availableLocked()
	switch {
	case wasAvailable && !now:
		close(n.down)
		for _, l := range n.locals {
			n.releaseLocked(l, math.MaxUint64)
		}
	case !wasAvailable && now:
		n.down = make(chan struct{})
	}
}

// releaseLocked queues l's held replies that wait for no event after
// upTo. n.mu must be held.
func (n *Node) releaseLocked(l *local, upTo uint64) {
	k := 0
	for ; k < len(l.held) && l.held[k].after <= upTo; k++ {
		l.m.Out.Send(l.held[k].frame)
		l.held[k].frame = nil
	}
	l.held = l.held[k:]
}

// Close leaves the cluster gracefully: it publishes what the node
// accepted, releases its users' names and publishes the node's departure
// (so the others update their LISTs at once), gives up its lease, and
// closes the NATS connection. Call it after the server has shut down. If
// ctx ends first, the rest is left to the other nodes, which declare this
// one dead after NodeTimeout.
func (n *Node) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	was := n.availableLocked()
	n.closed = true
	n.availabilityChangedLocked(was)
	var held []release
	for _, l := range n.locals {
		held = append(held, release{name: l.m.Name, rev: l.rev})
	}
	for _, l := range n.joining {
		held = append(held, release{name: l.m.Name, rev: l.rev})
	}
	n.mu.Unlock()

	err := n.leave(ctx, held)
	n.stop()
	return err
}

// leave is the graceful part of Close.
func (n *Node) leave(ctx context.Context, held []release) error {
	for _, r := range held {
		if _, err := n.deleteAt(ctx, n.names, r.name, r.rev); err != nil {
			return fmt.Errorf("chatcluster: close: release %q: %w", r.name, err)
		}
	}
	n.mu.Lock()
	j := n.enqueueLocked(&event{Kind: kindDown, Dead: n.proc, DeadEpoch: n.epoch}, nil, true)
	rev := n.leaseRev
	n.mu.Unlock()
	if err := n.await(ctx, j); err != nil {
		return fmt.Errorf("chatcluster: close: %w", err)
	}
	if _, err := n.deleteAt(ctx, n.nodes, n.cfg.Node, rev); err != nil {
		return fmt.Errorf("chatcluster: close: lease: %w", err)
	}
	n.log.Info("left the cluster", "room", n.cfg.Room)
	return nil
}

// stop ends the node's goroutines and its connection without a word to
// the cluster.
func (n *Node) stop() {
	n.cancel()
	n.wg.Wait()
	n.nc.Close()
	n.mu.Lock()
	defer n.mu.Unlock()
	for seq, ch := range n.waiting {
		close(ch)
		delete(n.waiting, seq)
	}
}

// crash stops the node as if its process had been killed: the connection
// goes first, so nothing more reaches NATS. For tests.
func (n *Node) crash() {
	n.nc.Close()
	n.stop()
}
