package chatserver

import (
	"sync"
	"sync/atomic"
	"time"
)

// This file holds the server's overload policy: the gates that say whether
// some reader is behind, the allowance of each sender, and the pause of a
// connection's reader. The package doc ("Overload") states the policy.

// gates are the server's two gates: congested is closed while some
// outbox's level is over its congestion mark, full while some is over its
// full mark.
type gates struct {
	congested, full gate
}

func newGates() *gates {
	g := &gates{}
	g.congested.init()
	g.full.init()
	return g
}

// gate counts the outboxes over one mark. It is open while the count is
// zero. Readers check it on every frame without a lock (closed); a reader
// that must wait takes the channel that is closed when the gate opens
// (opened).
type gate struct {
	n atomic.Int64 // outboxes over the mark

	mu   sync.Mutex    // taken under an outbox's mutex (by add)
	open chan struct{} // guarded by mu: closed while n is 0 (once sync has seen it)
	shut bool          // guarded by mu: open is not closed
}

func (g *gate) init() {
	g.open = make(chan struct{})
	close(g.open)
}

// add counts one outbox more (over) or one less (!over).
func (g *gate) add(over bool) {
	var n int64
	if over {
		n = g.n.Add(1)
	} else {
		n = g.n.Add(-1)
	}
	// Only a change from or to zero concerns the channel. Two such changes
	// may race to the lock; sync reads the count under the lock, so the
	// last one to get it leaves the channel right.
	if n == 0 || over && n == 1 {
		g.mu.Lock()
		g.syncLocked()
		g.mu.Unlock()
	}
}

func (g *gate) syncLocked() {
	switch closed := g.n.Load() > 0; {
	case closed && !g.shut:
		g.open, g.shut = make(chan struct{}), true
	case !closed && g.shut:
		close(g.open)
		g.shut = false
	}
}

// closed reports whether some outbox is over the mark.
func (g *gate) closed() bool { return g.n.Load() > 0 }

// opened returns a channel that is closed once the gate is open (at once
// if it is open now).
func (g *gate) opened() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.syncLocked()
	return g.open
}

// allowance is a sender's token bucket: DATA it may send into a congested
// room. It holds up to burst tokens and gains rate a second; each DATA the
// room takes spends one, and the bucket never goes below zero (DATA sent
// while the room is not congested is free, but leaves the bucket empty).
// It is owned by the connection's reader goroutine.
type allowance struct {
	rate   float64 // tokens a second; 0 = none
	burst  float64
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

func newAllowance(rate float64, burst int, now time.Time) allowance {
	return allowance{rate: rate, burst: float64(burst), tokens: float64(burst), at: now}
}

func (a *allowance) refill(now time.Time) {
	if d := now.Sub(a.at); d > 0 {
		a.tokens = min(a.burst, a.tokens+d.Seconds()*a.rate)
	}
	a.at = now
}

// spend takes one token, if there is one.
func (a *allowance) spend(now time.Time) {
	a.refill(now)
	a.tokens = max(0, a.tokens-1)
}

// has reports whether a DATA may go into a congested room now, and if not,
// how long until it may (0 if never: the allowance has no rate).
func (a *allowance) has(now time.Time) (bool, time.Duration) {
	a.refill(now)
	if a.tokens >= 1 {
		return true, 0
	}
	if a.rate <= 0 {
		return false, 0
	}
	return false, time.Duration((1 - a.tokens) / a.rate * float64(time.Second))
}

// mustPause is the check the reader makes before every frame: whether it
// must wait before reading on. It costs a few atomic loads when nothing is
// behind.
func (c *conn) mustPause() bool {
	g := c.srv.gates
	return c.out.over.Load() || g.full.closed() || g.congested.closed() && c.allow.tokens < 1
}

// pause holds the reader back, and with it the client (its frames wait in
// the socket), while one of these holds:
//   - its own outbox is congested: it does not read what it is sent (its
//     replies, its echoes);
//   - some outbox is full: the room cannot take more from anyone;
//   - some outbox is congested and the client has spent its allowance.
//
// Time paused does not count against the heartbeat: the read deadline is
// moved on by as much. pause returns false if the connection is ending
// (Close, Shutdown, or the writer gave up).
func (c *conn) pause() bool {
	s := c.srv
	g := s.gates
	start := time.Now()
	defer func() {
		if paused := time.Since(start); paused > 0 {
			c.deadline = c.deadline.Add(paused)
			_ = c.rwc.SetReadDeadline(c.deadline)
		}
	}()
	for {
		var (
			wake  <-chan struct{}
			after time.Duration
		)
		switch {
		case c.out.over.Load():
			wake = c.out.below
		case g.full.closed():
			wake = g.full.opened()
		case g.congested.closed():
			ok, wait := c.allow.has(time.Now())
			if ok {
				return true
			}
			wake, after = g.congested.opened(), wait
		default:
			return true
		}
		var tick <-chan time.Time
		if after > 0 {
			if c.pauseTimer == nil {
				c.pauseTimer = time.NewTimer(after)
			} else {
				c.pauseTimer.Reset(after)
			}
			tick = c.pauseTimer.C
		}
		select {
		case <-wake:
		case <-tick:
		case <-s.done:
			return false
		case <-c.writerDone:
			return false
		}
		if c.pauseTimer != nil {
			c.pauseTimer.Stop()
		}
	}
}
