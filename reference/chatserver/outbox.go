package chatserver

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Why a writer stops.
var (
	// errSlowConsumer: the connection's queue went over its byte bound.
	errSlowConsumer = errors.New("chatserver: slow consumer: outbound queue full")
	// errStalled: the peer took no byte for WriteTimeout, or for
	// StallTimeout while it held senders back.
	errStalled = errors.New("chatserver: slow consumer: took no byte in time")
	// errHeldRoom: the queue stayed over its full mark for WriteTimeout,
	// holding back every sender of the room.
	errHeldRoom = errors.New("chatserver: slow consumer: held the room back")
	// errAborted: the connection is being torn down without a flush.
	errAborted = errors.New("chatserver: connection aborted")
	// errDrained: a graceful close has written everything queued.
	errDrained = errors.New("chatserver: outbound queue drained")
)

// outboxState is the life cycle of an outbox.
type outboxState uint8

const (
	outboxOpen     outboxState = iota // accepting frames
	outboxDraining                    // no new frames; the writer writes what is queued, then stops
	outboxOverflow                    // over its bound: the writer stops at once
	outboxAborted                     // torn down: the writer stops at once
)

// maxSpareFrames bounds the frame slices kept for reuse: a busy writer
// swaps two slices between the queue and its batch; an idle one gives both
// back to the server's pool, so that it holds nothing after a burst.
const maxSpareFrames = 1024

// outbox is one connection's bounded outbound queue: the room and the
// connection's reader put frames in (Send, SendList, never blocking), the
// connection's writer goroutine takes them out in batches (next). It
// implements chatroom.Outbox.
//
// Frames are shared with other outboxes and never modified. The byte bound
// counts J_OK, J_ER and DATA frames, not LISTs: their bytes are shared by
// every recipient, the room paces how many it makes, and a connection that
// lags holds at most one (see SendList).
//
// The level of an outbox is the bytes it holds unwritten: its queue and the
// batch its writer is writing (LISTs left out, as for the bound). Two marks
// below the bound tell the server's gates how far behind the peer is (see
// "Overload" in the package doc): over a quarter of the bound the outbox is
// congested, over half it is full. The outbox keeps its count in the gates
// up to date; an outbox that is closing counts in neither.
type outbox struct {
	conn    net.Conn      // read-only: only SetWriteDeadline is called on it here
	max     int           // read-only: byte bound of the queue
	timeout time.Duration // read-only: how long a write may go without progress, or full
	stall   time.Duration // read-only: how long a write may go without progress while congested
	slices  *sync.Pool    // read-only: *[][]byte frame slices shared by outboxes; nil for none
	gates   *gates        // read-only: the server's congested and full gates; nil for none
	wake    chan struct{} // capacity 1: tells the writer that q or state changed
	below   chan struct{} // capacity 1: tells the reader that the level fell to the congestion mark
	over    atomic.Bool   // the level is over the congestion mark; written under mu, read by the reader without it

	mu        sync.Mutex
	q         [][]byte    // guarded by mu: frames not yet taken by the writer; nil entries are dropped LISTs
	qBytes    int         // guarded by mu: bytes of q, not counting the LIST at listAt
	wBytes    int         // guarded by mu: bytes of the batch the writer holds, not counting LISTs
	listAt    int         // guarded by mu: index in q of the queued LIST, or -1
	spare     [][]byte    // guarded by mu: the writer's last batch, emptied, for reuse
	state     outboxState // guarded by mu
	writing   bool        // guarded by mu: the writer is writing a batch
	congested bool        // guarded by mu: counted in gates.congested (level over max/4)
	full      bool        // guarded by mu: counted in gates.full (level over max/2)
	since     time.Time   // guarded by mu: when congested last became true
	fullSince time.Time   // guarded by mu: when full last became true
	deadline  time.Time   // guarded by mu: the write deadline while writing
}

// newOutbox returns an outbox for conn; timeout and stall are the
// server's WriteTimeout and StallTimeout. slices, if not nil, recycles
// frame slices between bursts; it may be shared by many outboxes. g, if
// not nil, is told when the outbox becomes congested or full, and no
// longer is.
func newOutbox(conn net.Conn, maxBytes int, timeout, stall time.Duration, slices *sync.Pool, g *gates) *outbox {
	return &outbox{
		conn: conn, max: maxBytes, timeout: timeout, stall: stall, slices: slices, gates: g,
		wake: make(chan struct{}, 1), below: make(chan struct{}, 1), listAt: -1,
	}
}

// congestionMark and fullMark are the levels above which an outbox is
// congested and full.
func (o *outbox) congestionMark() int { return o.max / 4 }
func (o *outbox) fullMark() int       { return o.max / 2 }

// levelChangedLocked brings the congested and full flags, and the gates'
// counts, in line with the level and state. o.mu must be held.
func (o *outbox) levelChangedLocked() {
	level := o.qBytes + o.wBytes
	open := o.state == outboxOpen
	if c := open && level > o.congestionMark(); c != o.congested {
		o.congested = c
		o.over.Store(c)
		if o.gates != nil {
			o.gates.congested.add(c)
		}
		if c {
			// Senders wait for this peer from now on: it has StallTimeout
			// to take a byte. A blocked writer checks at the next tick.
			o.since = time.Now()
			if d := o.since.Add(o.stall / ticks); o.writing && d.Before(o.deadline) {
				o.deadline = d
				_ = o.conn.SetWriteDeadline(d)
			}
		} else {
			select {
			case o.below <- struct{}{}:
			default:
			}
		}
	}
	if f := open && level > o.fullMark(); f != o.full {
		o.full = f
		if f {
			o.fullSince = time.Now()
		}
		if o.gates != nil {
			o.gates.full.add(f)
		}
	}
}

// newSlice returns an empty frame slice, recycled if it can.
func (o *outbox) newSlice() [][]byte {
	if o.slices != nil {
		if p, ok := o.slices.Get().(*[][]byte); ok {
			return (*p)[:0]
		}
	}
	return make([][]byte, 0, 16)
}

// freeSlice recycles s, which must hold no frames (clear it first).
func (o *outbox) freeSlice(s [][]byte) {
	if o.slices != nil && cap(s) > 0 && cap(s) <= maxSpareFrames {
		o.slices.Put(&s)
	}
}

// signal wakes the writer if it is waiting. It never blocks.
func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Send queues frame. If the level would go over the bound, the connection
// is marked a slow consumer: nothing more is queued, and the writer's
// current write is interrupted so that the connection is dropped at once.
// (The server holds senders back long before that; see "Overload" in the
// package doc.)
func (o *outbox) Send(frame []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state != outboxOpen {
		return
	}
	if o.qBytes+o.wBytes+len(frame) > o.max {
		o.state = outboxOverflow
		o.levelChangedLocked()
		// Interrupt a write blocked on a peer that does not read. The
		// writer sets its deadlines under o.mu too, so it cannot undo this.
		_ = o.conn.SetWriteDeadline(aLongTimeAgo)
		o.signal()
		return
	}
	if o.q == nil {
		o.q = o.newSlice()
	}
	o.q = append(o.q, frame)
	o.qBytes += len(frame)
	if o.qBytes+o.wBytes > o.congestionMark() {
		o.levelChangedLocked()
	}
	if len(o.q) == 1 {
		o.signal()
	}
}

// SendList queues a LIST frame. If the connection lags (its writer is
// still writing an earlier batch, and a LIST queued since is unwritten),
// the new LIST replaces that one: a lagging client gets the newest list,
// one that keeps up gets every list.
func (o *outbox) SendList(frame []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state != outboxOpen {
		return
	}
	if o.listAt >= 0 && o.writing {
		// The older list is stale: drop it. The new one goes at the end,
		// after the events that happened before it.
		o.q[o.listAt] = nil
	}
	if o.q == nil {
		o.q = o.newSlice()
	}
	o.listAt = len(o.q)
	o.q = append(o.q, frame)
	if len(o.q) == 1 {
		o.signal()
	}
}

// drain stops the queue taking frames; the writer writes what is queued
// and then stops with errDrained.
func (o *outbox) drain() { o.setState(outboxDraining) }

// abort stops the queue and the writer at once; queued frames are dropped.
func (o *outbox) abort() { o.setState(outboxAborted) }

func (o *outbox) setState(s outboxState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state == outboxOpen || o.state == outboxDraining && s != outboxDraining {
		o.state = s
		o.levelChangedLocked() // a closing outbox holds nobody back
		if s == outboxAborted {
			_ = o.conn.SetWriteDeadline(aLongTimeAgo)
		}
	}
	o.signal()
}

// rearm is called by the writer when a write has timed out: progress is
// when the peer last took a byte (or the batch began). If the peer took
// one recently enough, rearm moves the deadline on (see armLocked) and
// returns nil: the write goes on. Otherwise it returns why the writer must
// stop.
func (o *outbox) rearm(progress time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.stoppedLocked(); err != nil {
		return err
	}
	return o.armLocked(progress, time.Now())
}

// stoppedLocked returns errAborted or errSlowConsumer if the outbox has
// stopped the writer, nil otherwise. o.mu must be held.
func (o *outbox) stoppedLocked() error {
	switch o.state {
	case outboxAborted:
		return errAborted
	case outboxOverflow:
		return errSlowConsumer
	}
	return nil
}

// armLocked sets the write deadline for a writer whose peer last took a
// byte at progress (or whose batch began then), and returns why the writer
// must stop if the time allowed has run out: WriteTimeout after progress;
// while the outbox is congested, StallTimeout after progress or after it
// became congested, whichever is later; while it is full, WriteTimeout
// after it became full. o.mu must be held.
//
// A write that times out reports how many bytes it moved, not when, so the
// deadline comes in ticks of an eighth of the time allowed: a write that
// moved bytes by a tick counts as progress at that tick. The writer thus
// stops at most an eighth later than the time allowed since the last byte.
func (o *outbox) armLocked(progress, now time.Time) error {
	limit, tick, why := progress.Add(o.timeout), o.timeout/ticks, errStalled
	if o.congested {
		if d := later(progress, o.since).Add(o.stall); d.Before(limit) {
			limit = d
		}
		tick = o.stall / ticks
	}
	if o.full {
		if d := o.fullSince.Add(o.timeout); d.Before(limit) {
			limit, why = d, errHeldRoom
		}
	}
	if !now.Before(limit) {
		return why
	}
	o.deadline = limit
	if d := now.Add(tick); d.Before(limit) {
		o.deadline = d
	}
	_ = o.conn.SetWriteDeadline(o.deadline)
	return nil
}

// ticks is how many times a blocked write checks for progress within the
// time it is allowed (see armLocked).
const ticks = 8

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// cause returns why a write failed: errAborted or errSlowConsumer if the
// outbox interrupted it (both set a write deadline in the past, so the
// write itself reports only a timeout), err otherwise.
func (o *outbox) cause(err error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if stop := o.stoppedLocked(); stop != nil {
		return stop
	}
	return err
}

// next is called by the writer goroutine only, once the previous batch is
// written. It recycles that batch, waits for frames, and returns them with
// the connection's write deadline set for writing them (see armLocked). It
// returns errSlowConsumer, errHeldRoom, errAborted or errDrained when the
// writer must stop.
func (o *outbox) next(prev [][]byte) ([][]byte, error) {
	clear(prev) // drop references to shared frames
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writing = false
	if o.wBytes > 0 { // the previous batch is written
		o.wBytes = 0
		o.levelChangedLocked()
	}
	if cap(prev) <= maxSpareFrames {
		o.spare = prev[:0]
	}
	for len(o.q) == 0 && o.state == outboxOpen {
		// Going idle: hold no slices while waiting.
		o.freeSlice(o.q)
		o.freeSlice(o.spare)
		o.q, o.spare = nil, nil
		o.mu.Unlock()
		<-o.wake
		o.mu.Lock()
	}
	switch {
	case o.state == outboxOverflow:
		return nil, errSlowConsumer
	case o.state == outboxAborted:
		return nil, errAborted
	case len(o.q) == 0: // draining, and all written
		return nil, errDrained
	}
	now := time.Now()
	if err := o.armLocked(now, now); err != nil {
		return nil, err // full for WriteTimeout already
	}
	batch := o.q
	o.q, o.spare = o.spare, nil
	o.wBytes, o.qBytes, o.listAt = o.qBytes, 0, -1
	o.writing = true
	return batch, nil
}

// aLongTimeAgo is a deadline in the past: it makes a pending I/O call
// return at once.
var aLongTimeAgo = time.Unix(1, 0)
