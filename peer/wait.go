package peer

import (
	"context"
	"time"
)

// Wait blocks until done reports true, reading ends, the timeout passes or
// ctx ends, and returns done's last answer. done sees every message
// received so far and why reading stopped (nil while open); it runs on
// the caller's goroutine, once at the start and again after every change.
func (c *Conn) Wait(ctx context.Context, timeout time.Duration, done func(msgs []Msg, end error) bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		msgs, end := c.Snapshot()
		if done(msgs, end) {
			return true
		}
		if end != nil {
			return false
		}
		select {
		case <-c.notify:
		case <-timer.C:
			msgs, end := c.Snapshot()
			return done(msgs, end)
		case <-ctx.Done():
			return false
		}
	}
}

// Verdict is what an Expect predicate says of one message.
type Verdict uint8

// The verdicts.
const (
	// Skip: not the message waited for; look further.
	Skip Verdict = iota
	// Match: the message waited for.
	Match
	// Mismatch: in the place of the message waited for, but wrong: the
	// wait ends, unsuccessfully.
	Mismatch
)

// Result is the outcome of Expect.
type Result struct {
	// Msg is the message that matched or mismatched; nil if none did.
	Msg *Msg
	// Index is Msg's index in the connection's list, or -1.
	Index int
	// Skipped are the messages passed over, in order.
	Skipped []Msg
	// End is why reading stopped, if it did before a message decided.
	End error

	mismatch bool
}

// Matched reports whether a message matched.
func (r Result) Matched() bool { return r.Msg != nil && r.Index >= 0 && !r.mismatch }

// Mismatched reports whether a message took the expected one's place.
func (r Result) Mismatched() bool { return r.mismatch }

// Expect waits up to timeout for the first message at or after *from that
// judge says Match or Mismatch to, passing over those it says Skip to.
// On a decision it moves *from past the deciding message; on a timeout or
// the end of reading it leaves *from where it was.
func (c *Conn) Expect(ctx context.Context, timeout time.Duration, from *int, judge func(Msg) Verdict) Result {
	res := Result{Index: -1}
	c.Wait(ctx, timeout, func(msgs []Msg, end error) bool {
		res.Skipped = res.Skipped[:0]
		for i := *from; i < len(msgs); i++ {
			switch judge(msgs[i]) {
			case Match:
				res.Msg, res.Index = &msgs[i], i
				return true
			case Mismatch:
				res.Msg, res.Index = &msgs[i], i
				res.mismatch = true
				return true
			}
			res.Skipped = append(res.Skipped, msgs[i])
		}
		res.End = end
		return false
	})
	if res.Msg != nil {
		*from = res.Index + 1
		res.End = nil
	}
	return res
}

// None listens for quiet and returns the messages at or after from that
// bad accepts; it stops early when reading ends, or as soon as stop
// (if not nil) reports true: a barrier has arrived, so nothing caused
// before it can still be on its way. It reports whether it stopped early
// because of stop.
func (c *Conn) None(ctx context.Context, quiet time.Duration, from int, bad func(Msg) bool, stop func([]Msg) bool) (hits []Msg, stopped bool) {
	c.Wait(ctx, quiet, func(msgs []Msg, _ error) bool {
		stopped = stop != nil && stop(msgs)
		return stopped
	})
	msgs, _ := c.Snapshot()
	for i := from; i < len(msgs); i++ {
		if bad(msgs[i]) {
			hits = append(hits, msgs[i])
		}
	}
	return hits, stopped
}

// Barrier calls send, then waits up to timeout for arrived to accept a
// message on to, at or after the length to's list had when send was
// called. A peer handles one connection's requests in order, so whatever
// it sent for requests before the barrier's went out before the barrier's
// own effect: Barrier replaces a guess at how long to listen. It reports
// whether the barrier arrived; a failed send reports false.
func Barrier(ctx context.Context, to *Conn, timeout time.Duration, send func() error, arrived func(Msg) bool) bool {
	from := to.Len()
	if send() != nil {
		return false
	}
	return to.Wait(ctx, timeout, func(msgs []Msg, _ error) bool {
		for i := from; i < len(msgs); i++ {
			if arrived(msgs[i]) {
				return true
			}
		}
		return false
	})
}
