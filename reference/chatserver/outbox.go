package chatserver

import (
	"errors"
	"net"
	"sync"
	"time"
)

// Why a writer stops.
var (
	// errSlowConsumer: the connection's queue went over its byte bound.
	errSlowConsumer = errors.New("chatserver: slow consumer: outbound queue full")
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
type outbox struct {
	conn    net.Conn      // read-only: only SetWriteDeadline is called on it here
	max     int           // read-only: byte bound of the queue
	timeout time.Duration // read-only: write deadline per batch
	slices  *sync.Pool    // read-only: *[][]byte frame slices shared by outboxes; nil for none
	wake    chan struct{} // capacity 1: tells the writer that q or state changed

	mu      sync.Mutex
	q       [][]byte    // guarded by mu: frames not yet taken by the writer; nil entries are dropped LISTs
	qBytes  int         // guarded by mu: bytes of q, not counting the LIST at listAt
	listAt  int         // guarded by mu: index in q of the queued LIST, or -1
	spare   [][]byte    // guarded by mu: the writer's last batch, emptied, for reuse
	state   outboxState // guarded by mu
	writing bool        // guarded by mu: the writer is writing a batch
}

// newOutbox returns an outbox for conn. slices, if not nil, recycles frame
// slices between bursts; it may be shared by many outboxes.
func newOutbox(conn net.Conn, maxBytes int, timeout time.Duration, slices *sync.Pool) *outbox {
	return &outbox{conn: conn, max: maxBytes, timeout: timeout, slices: slices, wake: make(chan struct{}, 1), listAt: -1}
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

// Send queues frame. If the queue would go over its bound, the connection
// is marked a slow consumer: nothing more is queued, and the writer's
// current write is interrupted so that the connection is dropped at once.
func (o *outbox) Send(frame []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.state != outboxOpen {
		return
	}
	if o.qBytes+len(frame) > o.max {
		o.state = outboxOverflow
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
		if s == outboxAborted {
			_ = o.conn.SetWriteDeadline(aLongTimeAgo)
		}
	}
	o.signal()
}

// cause returns why a write failed: errAborted or errSlowConsumer if the
// outbox interrupted it (both set a write deadline in the past, so the
// write itself reports only a timeout), err otherwise.
func (o *outbox) cause(err error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch o.state {
	case outboxAborted:
		return errAborted
	case outboxOverflow:
		return errSlowConsumer
	}
	return err
}

// next is called by the writer goroutine only. It recycles the previous
// batch, waits for frames, and returns them with the connection's write
// deadline set for writing them. It returns errSlowConsumer, errAborted or
// errDrained when the writer must stop.
func (o *outbox) next(prev [][]byte) ([][]byte, error) {
	clear(prev) // drop references to shared frames
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writing = false
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
	batch := o.q
	o.q, o.spare = o.spare, nil
	o.qBytes, o.listAt = 0, -1
	o.writing = true
	_ = o.conn.SetWriteDeadline(time.Now().Add(o.timeout))
	return batch, nil
}

// aLongTimeAgo is a deadline in the past: it makes a pending I/O call
// return at once.
var aLongTimeAgo = time.Unix(1, 0)
