package chatcluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatroom"
	"github.com/chatspec/chatspec/reference/chatserver"
)

// room is a node's chatserver.Room: its replica of the shared room, fed
// by the consumer goroutine from the room's stream.
type room struct {
	n      *Node
	mirror *chatroom.Room // the replica: every member of the cluster; safe for concurrent use

	// Owned by the consumer goroutine (by Room until it starts it).
	entries map[string]*entry // by user name: who the replica holds, and under which claim
	dead    map[string]uint64 // process -> its epochs up to this one are dead
}

// entry is a member of the replica.
type entry struct {
	m     *chatroom.Member
	proc  string // the process that claimed the name
	epoch uint64 // its epoch then
	rev   uint64 // the claim's revision
	local bool   // joined through this node: m is the connection's member
}

// ghost is the Outbox of a member joined through another node: that node
// delivers its frames, so this one drops them.
type ghost struct{}

func (ghost) Send([]byte)     {}
func (ghost) SendList([]byte) {}

var _ chatserver.Room = (*room)(nil)

// Room returns the chatserver.Room of this node, made from the settings
// the server passes (rc): the replica formats frames in rc.Framing and
// paces LISTs with rc's timer, and rc.MaxMembers bounds the members joined
// through this node (not the cluster's). Give it to chatserver.Config.Room;
// it may be called once.
func (n *Node) Room(rc chatroom.Config) chatserver.Room {
	n.mu.Lock()
	if n.room != nil {
		n.mu.Unlock()
		panic("chatcluster: Node.Room called twice")
	}
	n.maxLocal = rc.MaxMembers
	rc.MaxMembers = 0
	r := &room{
		n:       n,
		mirror:  chatroom.New(rc),
		entries: make(map[string]*entry),
		dead:    make(map[string]uint64),
	}
	n.room = r
	start := !n.closed
	if start {
		n.wg.Add(1)
	}
	n.mu.Unlock()
	now := time.Now()
	for _, c := range n.snap.claims {
		r.add(&chatroom.Member{Name: c.name, Addr: c.Addr, Remote: "node " + c.Node, Out: ghost{}}, c.Proc, c.Epoch, c.rev, false, now)
	}
	if start {
		go r.consume(n.snap.next)
	}
	return r
}

// Join claims m.Name in the names bucket, publishes the join and waits
// until this node has applied it (J_OK and the LIST are then queued).
func (r *room) Join(m *chatroom.Member, now time.Time) error {
	n := r.n
	if err := protocol.ValidName(m.Name); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	n.mu.Lock()
	var refuse error
	switch {
	case n.closed || n.roomClosed:
		refuse = chatroom.ErrClosed
	case n.locals[m.Name] != nil && n.locals[m.Name].m == m:
		refuse = chatroom.ErrAlreadyMember
	case !n.availableLocked():
		refuse = chatserver.ErrUnavailable
	case n.maxLocal > 0 && len(n.locals)+len(n.joining)+n.reserved >= n.maxLocal:
		refuse = chatroom.ErrFull
	}
	if refuse != nil {
		n.mu.Unlock()
		return fmt.Errorf("join %q: %w", m.Name, refuse)
	}
	n.reserved++
	epoch := n.epoch
	n.mu.Unlock()

	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.RequestTimeout)
	rev, err := n.names.Create(ctx, m.Name, encode(claim{Proc: n.proc, Epoch: epoch, Node: n.cfg.Node, Addr: m.Addr}))
	cancel()
	n.stats.requests.Add(1)

	n.mu.Lock()
	n.reserved--
	switch {
	case errors.Is(err, jetstream.ErrKeyExists):
		n.mu.Unlock()
		return fmt.Errorf("join %q: %w", m.Name, chatroom.ErrNameTaken)
	case err != nil:
		n.mu.Unlock()
		return fmt.Errorf("join %q: %w: %w", m.Name, chatserver.ErrUnavailable, err)
	case n.epoch != epoch || !n.availableLocked() || n.roomClosed:
		// The node lost the cluster meanwhile: give the name back.
		n.enqueueLocked(nil, &release{name: m.Name, rev: rev}, false)
		n.mu.Unlock()
		return fmt.Errorf("join %q: %w", m.Name, chatserver.ErrUnavailable)
	}
	l := &local{m: m, rev: rev, epoch: epoch, now: now}
	n.joining[m.Name] = l
	l.joinJob = n.enqueueLocked(&event{Kind: kindJoin, Name: m.Name, Rev: rev, Node: n.cfg.Node, Addr: m.Addr}, nil, false)
	applied := n.awaitLocked(l.joinJob.ev.Seq)
	down := n.down
	n.mu.Unlock()

	n.awaitApplied(applied, down)
	n.mu.Lock()
	defer n.mu.Unlock()
	if l.state == localJoined {
		return nil
	}
	if l.state == localJoining {
		// Give up: withdraw the join if it has not gone out, or follow it
		// with a leave if it has.
		l.state = localAbandoned
		delete(n.joining, m.Name)
		delete(n.waiting, l.joinJob.ev.Seq)
		rel := &release{name: m.Name, rev: rev}
		if j := l.joinJob; !j.taken {
			j.cut, j.release = true, rel
		} else {
			n.enqueueLocked(&event{Kind: kindLeave, Name: m.Name, Rev: rev}, rel, false)
		}
	}
	return fmt.Errorf("join %q: %w", m.Name, chatserver.ErrUnavailable)
}

// awaitLocked returns a channel closed when the consumer has applied this
// process's event seq. n.mu must be held.
func (n *Node) awaitLocked(seq uint64) <-chan struct{} {
	ch := make(chan struct{})
	n.waiting[seq] = ch
	return ch
}

// appliedOwn is called by the consumer after applying one of this
// process's events: it wakes whoever waits for it, and sends the replies
// its member's requests were held back for.
func (n *Node) appliedOwn(ev event) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ch, ok := n.waiting[ev.Seq]; ok {
		close(ch)
		delete(n.waiting, ev.Seq)
	}
	if ev.Kind != kindData && ev.Kind != kindLeave {
		return
	}
	l := n.locals[ev.Name]
	if l == nil || l.rev != ev.Rev {
		return
	}
	if ev.Kind == kindData {
		l.inflight--
	}
	n.releaseLocked(l, ev.Seq)
	if ev.Kind == kindLeave {
		delete(n.locals, ev.Name)
	}
	if l.room != nil && l.inflight < maxInflight {
		close(l.room)
		l.room = nil
	}
}

// localLocked returns m's record if m is joined through this node and not
// leaving. n.mu must be held.
func (n *Node) localLocked(m *chatroom.Member) *local {
	l := n.locals[m.Name]
	if l == nil || l.m != m || l.state != localJoined || n.closed || n.roomClosed {
		return nil
	}
	return l
}

// Leave releases m's name and publishes its departure. While NATS is
// available it returns once this node has applied the departure, so the
// name is free and m has been sent everything its earlier requests caused;
// otherwise at once (the name is released when NATS is back).
func (r *room) Leave(m *chatroom.Member) bool {
	n := r.n
	n.mu.Lock()
	l := n.localLocked(m)
	if l == nil {
		// After Close, Node.Close releases every name and publishes the
		// node's departure at once.
		n.mu.Unlock()
		return false
	}
	l.state = localLeaving
	j := n.enqueueLocked(&event{Kind: kindLeave, Name: m.Name, Rev: l.rev}, &release{name: m.Name, rev: l.rev}, false)
	l.lastSeq = j.ev.Seq
	var applied <-chan struct{}
	if n.availableLocked() {
		applied = n.awaitLocked(j.ev.Seq)
	} else {
		n.releaseLocked(l, math.MaxUint64)
	}
	down := n.down
	n.mu.Unlock()
	if applied != nil {
		n.awaitApplied(applied, down)
	}
	return true
}

// awaitApplied waits, without n.mu, until this node has applied an event
// (applied closes), the node stops being available (down closes), a
// request's time runs out or the node stops.
func (n *Node) awaitApplied(applied, down <-chan struct{}) {
	timer := time.NewTimer(n.cfg.RequestTimeout)
	defer timer.Stop()
	select {
	case <-applied:
	case <-down:
	case <-timer.C:
	case <-n.ctx.Done():
	}
}

// Say publishes m's DATA; this node, like every other, queues the frames
// when it applies it. It waits only while m has maxInflight DATA not yet
// applied, and never while NATS is unavailable: the DATA is then queued,
// and goes out when NATS is back.
func (r *room) Say(m *chatroom.Member, text string) error {
	n := r.n
	if err := protocol.ValidText(text); err != nil {
		return fmt.Errorf("say as %q: %w", m.Name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for {
		l := n.localLocked(m)
		switch {
		case l == nil:
			return fmt.Errorf("say as %q: %w", m.Name, chatroom.ErrNotMember)
		case n.queueBytes >= n.cfg.QueueBytes:
			return fmt.Errorf("say as %q: %w: %d bytes of events wait for NATS", m.Name, chatserver.ErrUnavailable, n.queueBytes)
		case n.ctx.Err() != nil:
			return fmt.Errorf("say as %q: %w", m.Name, chatserver.ErrUnavailable)
		case l.inflight < maxInflight || !n.availableLocked():
			j := n.enqueueLocked(&event{Kind: kindData, Name: m.Name, Rev: l.rev, Text: text}, nil, false)
			l.inflight++
			l.lastSeq = j.ev.Seq
			return nil
		}
		if l.room == nil {
			l.room = make(chan struct{})
		}
		room, down := l.room, n.down
		n.mu.Unlock()
		select {
		case <-room:
		case <-down:
		case <-n.ctx.Done():
		}
		n.mu.Lock()
	}
}

// Reply queues frame to m after the frames of m's events not yet applied
// (its echoes), or at once if there are none or NATS is unavailable.
func (r *room) Reply(m *chatroom.Member, frame []byte) {
	n := r.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if l := n.locals[m.Name]; l != nil && l.m == m && l.lastSeq > 0 && n.availableLocked() && (l.inflight > 0 || l.state == localLeaving) {
		l.held = append(l.held, heldReply{after: l.lastSeq, frame: frame})
		return
	}
	m.Out.Send(frame)
}

// Members returns every member of the cluster, as this node knows them.
func (r *room) Members() []*chatroom.Member { return r.mirror.Members() }

// Len returns the number of members of the cluster, as this node knows
// them.
func (r *room) Len() int { return r.mirror.Len() }

// FlushList sends a LIST the replica deferred.
func (r *room) FlushList() { r.mirror.FlushList() }

// Close stops this node taking members; Node.Close then releases their
// names and tells the cluster. It returns the members joined through this
// node.
func (r *room) Close() []*chatroom.Member {
	n := r.n
	n.mu.Lock()
	n.roomClosed = true
	ms := make([]*chatroom.Member, 0, len(n.locals))
	for _, l := range n.locals {
		ms = append(ms, l.m)
	}
	n.mu.Unlock()
	r.mirror.Close()
	return ms
}

// consume is the consumer goroutine: it applies the room's stream, from
// stream sequence next, to the replica, in order, until the node stops.
// The ordered consumer resumes by itself after NATS comes back; consume
// makes a new one if it gives up.
func (r *room) consume(next uint64) {
	n := r.n
	defer n.wg.Done()
	failing := false // the last attempt to read failed: log the first failure only
	fail := func(what string, err error) bool {
		switch {
		case !failing && n.isConnected():
			n.log.Warn("cannot read the room's stream; retrying", "step", what, "err", err)
		default:
			n.log.Debug("cannot read the room's stream; retrying", "step", what, "err", err)
		}
		failing = true
		select {
		case <-time.After(n.cfg.ReconnectWait):
			return true
		case <-n.ctx.Done():
			return false
		}
	}
	for n.ctx.Err() == nil {
		cons, err := n.stream.OrderedConsumer(n.ctx, jetstream.OrderedConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
			OptStartSeq:   next,
		})
		if err != nil {
			if !fail("create consumer", err) {
				return
			}
			continue
		}
		it, err := cons.Messages()
		if err != nil {
			if !fail("consume", err) {
				return
			}
			continue
		}
		for {
			msg, err := it.Next(jetstream.NextContext(n.ctx))
			if n.ctx.Err() != nil {
				it.Stop()
				return
			}
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				break
			}
			if err != nil {
				if !fail("next event", err) {
					it.Stop()
					return
				}
				continue
			}
			failing = false
			if md, err := msg.Metadata(); err == nil {
				if seq := md.Sequence.Stream; seq > next {
					// Only the stream's limits delete events: this node
					// was away longer than the stream keeps them.
					n.log.Error("events missed: the room's stream no longer holds them (MaxAge); this node's LISTs may be stale until it restarts",
						"missed", seq-next, "from", next)
				}
				next = md.Sequence.Stream + 1
			}
			start := time.Now()
			r.apply(msg.Data())
			n.stats.applied.Add(1)
			n.stats.applyNanos.Add(int64(time.Since(start)))
		}
		it.Stop()
	}
}

// apply applies one event of the room's stream to the replica.
func (r *room) apply(data []byte) {
	n := r.n
	ev, err := decode[event](data)
	if err != nil {
		n.log.Warn("unreadable event skipped", "err", err)
		return
	}
	if ev.Proc == n.proc {
		defer n.appliedOwn(ev)
	}
	if dead, ok := r.dead[ev.Proc]; ok && ev.Epoch <= dead {
		return // published before its process was declared dead: void
	}
	switch ev.Kind {
	case kindJoin:
		r.join(ev)
	case kindLeave:
		if e := r.entries[ev.Name]; e != nil && e.rev == ev.Rev {
			r.remove(e)
		}
	case kindData:
		if e := r.entries[ev.Name]; e != nil && e.rev == ev.Rev {
			if err := r.mirror.Say(e.m, ev.Text); err != nil {
				n.log.Debug("DATA not delivered", "name", ev.Name, "err", err)
			}
		}
	case kindDown:
		r.dead[ev.Dead] = max(r.dead[ev.Dead], ev.DeadEpoch)
		for _, e := range r.entries {
			if e.proc == ev.Dead && e.epoch <= ev.DeadEpoch {
				r.remove(e)
			}
		}
	}
}

// join applies a join event. A newer claim on a name replaces an older
// one: the names bucket allows it only once the older one was released.
func (r *room) join(ev event) {
	n := r.n
	if old := r.entries[ev.Name]; old != nil {
		if old.rev >= ev.Rev {
			return // the claim the replica holds (from the snapshot), or an older one, gone already
		}
		r.remove(old)
	}
	var m *chatroom.Member
	now := time.Now()
	if ev.Proc == n.proc {
		n.mu.Lock()
		if l := n.joining[ev.Name]; l != nil && l.rev == ev.Rev && l.state == localJoining {
			l.state = localJoined
			delete(n.joining, ev.Name)
			n.locals[ev.Name] = l
			m, now = l.m, l.now
		}
		n.mu.Unlock()
	}
	local := m != nil
	if m == nil {
		m = &chatroom.Member{Name: ev.Name, Addr: ev.Addr, Remote: "node " + ev.Node, Out: ghost{}}
	}
	r.add(m, ev.Proc, ev.Epoch, ev.Rev, local, now)
}

// add joins m to the replica: J_OK to m if it is local, then the LIST.
func (r *room) add(m *chatroom.Member, proc string, epoch, rev uint64, local bool, now time.Time) {
	if err := r.mirror.Join(m, now); err != nil {
		r.n.log.Debug("member not added", "name", m.Name, "err", err)
		return
	}
	r.entries[m.Name] = &entry{m: m, proc: proc, epoch: epoch, rev: rev, local: local}
}

// remove takes e out of the replica. A local member removed while still
// joined (not leaving) lost its name (its node was declared dead): its
// connection is closed.
func (r *room) remove(e *entry) {
	n := r.n
	r.mirror.Leave(e.m)
	delete(r.entries, e.m.Name)
	if !e.local {
		return
	}
	n.mu.Lock()
	l := n.locals[e.m.Name]
	kick := l != nil && l.m == e.m && l.rev == e.rev && l.state == localJoined && !n.closed && !n.roomClosed
	if kick {
		delete(n.locals, e.m.Name)
	}
	n.mu.Unlock()
	if kick && e.m.Disconnect != nil {
		e.m.Disconnect()
	}
}
