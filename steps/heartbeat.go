package steps

import (
	"errors"
	"fmt"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// registerHeartbeat binds the steps of IMAV and the timing rules.
func (w *world) registerHeartbeat(sc *godog.ScenarioContext) {
	sc.Step(`^the expiry time passes$`, w.expiryPasses)
	sc.Step(`^(\w+) goes silent$`, w.goesSilent)
	sc.Step(`^(\w+)'s connection is closed by the server within the expiry time$`, w.closedWithinExpiry)
	sc.Step(`^(\w+)'s connection is still open$`, w.stillOpen)
	sc.Step(`^(\w+) sends IMAV$`, w.sendsIMAV)
	sc.Step(`^(\w+) receives no reply$`, w.receivesNoReply)
}

// expiryPasses holds the scenario's clients, heartbeating, for the expiry
// time, and fails at once if the server drops one of them (closes its
// connection, or sends a LIST without it): what it saw is the verdict, so
// that no later step races the drop it has not seen yet.
func (w *world) expiryPasses() error {
	w.tr.Event("suite", "waits for the expiry time, %s", w.cfg.Expiry)
	done := w.es.Waiting("the expiry time, holding heartbeating clients", w.cfg.Expiry)
	defer done()
	deadline := time.Now().Add(w.cfg.Expiry)
	for time.Now().Before(deadline) {
		for _, c := range w.clients {
			// Watch each connection in turn, a slice of the time each.
			left := time.Until(deadline)
			if left <= 0 {
				break
			}
			if c.conn.Wait(w.ctx, min(left, 200*time.Millisecond), func(msgs []peer.Msg, end error) bool {
				return end != nil || w.droppedOn(msgs) != nil
			}) {
				w.tr.Event("suite", "stops waiting: the server dropped a heartbeating client")
				return w.heartbeatDrop()
			}
			if err := w.ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// droppedOn returns the first heartbeating client of the scenario that a
// LIST in msgs leaves out after naming it, or nil.
func (w *world) droppedOn(msgs []peer.Msg) *client {
	for _, o := range w.clients {
		if o.joinedOK && !o.quit && o.silentAt.IsZero() && w.listDropped(msgs, o.name) >= 0 {
			return o
		}
	}
	return nil
}

// heartbeatDrop is the failure of a heartbeating client dropped by the
// server: its connection closed, or a LIST without it; nil if none was.
func (w *world) heartbeatDrop() error {
	for _, c := range w.clients {
		if c.joinedOK && !c.quit && c.silentAt.IsZero() && c.conn.Ended() != nil {
			return w.stillOpen(c.alias)
		}
	}
	for _, c := range w.clients {
		msgs, _ := c.conn.Snapshot()
		if o := w.droppedOn(msgs); o != nil {
			return w.noListWithout(c.alias, o.alias)
		}
	}
	return nil
}

// listDropped returns the index of the first LIST in msgs that leaves out
// name after one that named it, or -1.
func (w *world) listDropped(msgs []peer.Msg, name string) int {
	named := false
	for i, m := range msgs {
		if w.kindOf(m) != kindList {
			continue
		}
		has := hasName(m, name)
		if named && !has {
			return i
		}
		named = named || has
	}
	return -1
}

func (w *world) goesSilent(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	w.markEvent(c.name, changeDrop)
	c.goSilent()
	return nil
}

// closedWithinExpiry waits up to the expiry time, counted from the
// client's last message, for the server to close its connection, and
// measures the server's timeout.
func (w *world) closedWithinExpiry(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	last := c.conn.LastWrite()
	left := max(w.cfg.Expiry+w.cfg.Wait-time.Since(last), w.cfg.Wait)
	done := w.es.Waiting("the server to close a silent client's connection", left)
	err = w.expectClosed(c, left, fmt.Sprintf("the server closes the silent %s's connection within the expiry time, %s", c.label, w.cfg.Expiry))
	done()
	if err == nil {
		w.srv.sawTimeout(time.Since(last))
		return nil
	}
	if f, ok := errors.AsType[*engine.Failure](err); ok {
		f.Actual += fmt.Sprintf(". If the server's heartbeat timeout is longer than -expiry (%s), raise -expiry (and go test's -timeout)", w.cfg.Expiry)
		f.Late = false
	}
	return err
}

// stillOpen checks that a heartbeating client's connection is open.
func (w *world) stillOpen(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	if end := c.conn.Ended(); end != nil {
		w.srv.sawDrop(c.label)
		return &engine.Failure{
			Expected: c.label + "'s connection open: it sent IMAV every " + w.cfg.Heartbeat.String(),
			Actual:   describeEnd(end) + ". If the server's timeout is shorter than -heartbeat, lower -heartbeat",
			Cause:    causeHeartbeat,
		}
	}
	return nil
}

func (w *world) sendsIMAV(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	w.lastSender = alias
	return c.send(protocol.Alive())
}

// receivesNoReply checks that nothing addressed to the client alone (J_OK,
// J_ER, anything unexpected) answers its last request. If another member
// of the scenario receives a DATA the client sends next, the server has
// handled the request; the suite then listens a third of the quiet time
// more, else the whole of it.
func (w *world) receivesNoReply(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	quiet := w.cfg.Quiet
	if w.barrierFrom(c, w.otherMember(c)) {
		quiet /= 3
	}
	hits, _ := c.conn.None(w.ctx, quiet, c.cur.reply, func(m peer.Msg) bool {
		k := w.kindOf(m)
		return (k == kindReply || k == kindNoise) && w.origin(m) == originOurs
	}, nil)
	end := c.conn.Ended()
	switch {
	case len(hits) > 0:
		return &engine.Failure{Expected: "no reply", Actual: "received " + seen(hits)}
	case end != nil:
		return &engine.Failure{Expected: "no reply, and the connection open", Actual: describeEnd(end)}
	}
	return nil
}
