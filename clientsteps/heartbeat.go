package clientsteps

import (
	"fmt"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
)

// registerHeartbeat binds the steps of IMAV.
func (w *world) registerHeartbeat(sc *godog.ScenarioContext) {
	sc.Step(`^the user stays idle for two heartbeat intervals$`, w.idleForTwo)
	sc.Step(`^the client sent IMAV within every interval$`, w.imavEveryInterval)
	sc.Step(`^the client has sent its first IMAV$`, w.hasSentIMAV)
	sc.Step(`^the user stays idle for one heartbeat interval$`, w.idleForOne)
	sc.Step(`^the client sent at most one IMAV per interval, and one more$`, w.notTooOften)
}

// limit is the longest gap allowed between J_OK and the first IMAV, and
// between two IMAV: the interval, a quarter of it, and the wait.
func (w *world) limit() time.Duration {
	return w.cfg.Heartbeat + w.cfg.Heartbeat/4 + w.cfg.Wait
}

// imavs returns the IMAV the client sent on its connection since J_OK:
// exactly "IMAV" if strict, else in any shape.
func (w *world) imavs(strict bool) []peer.Msg {
	if w.cur == nil {
		return nil
	}
	msgs, _ := w.cur.msgs()
	var out []peer.Msg
	for _, m := range msgs {
		if m.At > w.joinedAt && isAlive(m) && (!strict || m.Shape == 0 && m.Err == nil) {
			out = append(out, m)
		}
	}
	return out
}

// idleForTwo waits while the user does nothing: until two IMAV have come
// since J_OK, or the allowed gap has passed without one.
func (w *world) idleForTwo() error {
	if w.cfg.Manual {
		w.instructf("Leave the client open and idle (joined, sending nothing) until the next step: up to %s", (2 * w.limit()).Round(time.Second))
	}
	done := w.waiting("the client's IMAV", 2*w.limit())
	defer done()
	for {
		ims := w.imavs(true)
		if len(ims) >= 2 {
			return nil
		}
		last := w.joinedAt
		if len(ims) > 0 {
			last = ims[len(ims)-1].At
		}
		left := last + w.limit() - w.tr.Since()
		if left <= 0 || w.cur.conn.Ended() != nil {
			return nil
		}
		n := len(ims)
		w.await(left, func() bool { return len(w.imavs(true)) > n || w.cur.conn.Ended() != nil })
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
}

// waiting announces a long wait for progress lines.
func (w *world) waiting(what string, total time.Duration) func() {
	if w.es == nil {
		return func() {}
	}
	return w.es.Waiting(what, total)
}

// imavEveryInterval checks the gaps: J_OK to the first IMAV, and the
// first to the second, each within the limit.
func (w *world) imavEveryInterval() error {
	ims := w.imavs(true)
	expected := fmt.Sprintf("IMAV at most %s after J_OK, and again at most %s after that (every %s, with a quarter and -client-wait to spare)",
		w.limit().Round(time.Millisecond), w.limit().Round(time.Millisecond), w.cfg.Heartbeat)
	last := w.joinedAt
	var seen []string
	for i, m := range ims[:min(len(ims), 2)] {
		gap := m.At - last
		if i > 0 {
			w.tgt.sawBeat(gap)
		}
		after := "J_OK"
		if i > 0 {
			after = "the one before"
		}
		seen = append(seen, fmt.Sprintf("IMAV %s after %s", gap.Round(time.Millisecond), after))
		if gap > w.limit() {
			return &engine.Failure{Expected: expected, Actual: strings.Join(seen, ", ") + ": too late", Cause: "imav-late"}
		}
		last = m.At
	}
	if len(ims) >= 2 {
		return nil
	}
	actual := fmt.Sprintf("no IMAV for %s after J_OK", (w.tr.Since() - w.joinedAt).Round(time.Millisecond))
	if len(seen) > 0 {
		actual = strings.Join(seen, ", ") + fmt.Sprintf(", then none for %s", (w.tr.Since()-last).Round(time.Millisecond))
	}
	if loose := len(w.imavs(false)) - len(ims); loose > 0 {
		actual += fmt.Sprintf(" (and %d IMAV not written exactly \"IMAV\")", loose)
	}
	if end := w.cur.conn.Ended(); end != nil {
		actual += "; then its connection ended"
	}
	if w.proc != nil && !w.proc.running() {
		actual += "; it exited (" + w.proc.exitStatus() + ")"
	}
	return &engine.Failure{Expected: expected, Actual: actual, Cause: "imav-late"}
}

// hasSentIMAV is a precondition: an IMAV, in any shape, within the limit
// after J_OK.
func (w *world) hasSentIMAV() error {
	if w.cfg.Manual {
		w.instructf("Leave the client open and idle (joined, sending nothing) until the next step: up to %s", w.limit().Round(time.Second))
	}
	done := w.waiting("the client's first IMAV", w.limit())
	defer done()
	if w.await(w.joinedAt+w.limit()-w.tr.Since(), func() bool { return len(w.imavs(false)) > 0 }) {
		return nil
	}
	return &engine.Failure{
		Expected: fmt.Sprintf("an IMAV within %s of J_OK", w.limit().Round(time.Millisecond)),
		Actual:   "none: " + w.whatHappened(w.joinedAt),
		Needs:    ruleAtLeast,
	}
}

// idleForOne waits one interval from the first IMAV on, or until more
// IMAV have come than the whole wait allows.
func (w *world) idleForOne() error {
	first := w.imavs(false)[0].At
	end := first + w.cfg.Heartbeat
	if w.cfg.Manual {
		w.instructf("Leave the client open and idle (joined, sending nothing) until the next step: up to %s", w.cfg.Heartbeat.Round(time.Second))
	}
	done := w.waiting("an interval of the client's IMAV", end-w.tr.Since())
	defer done()
	allowed := w.allowed(end)
	w.await(end-w.tr.Since(), func() bool { return len(w.imavs(false)) > allowed })
	w.watchedTo = min(w.tr.Since(), end)
	return w.ctx.Err()
}

// allowed is how many IMAV a client that keeps the interval sends from
// J_OK to offset end: one per interval, and one more (its clock may have
// started before J_OK).
func (w *world) allowed(end time.Duration) int {
	return int((end-w.joinedAt)/w.cfg.Heartbeat) + 1
}

// notTooOften checks that the client sent no more IMAV since J_OK than
// one per interval and one more. It counts them over the whole wait, not
// between two of them: a busy machine delivers IMAV late, and a late one
// arrives next to the one after it.
func (w *world) notTooOften() error {
	ims := w.imavs(false)
	end := max(w.watchedTo, ims[len(ims)-1].At)
	allowed := w.allowed(end)
	if len(ims) <= allowed {
		return nil
	}
	var at []string
	for _, m := range ims[:min(len(ims), 8)] {
		at = append(at, "+"+(m.At-w.joinedAt).Round(time.Millisecond).String())
	}
	if len(ims) > 8 {
		at = append(at, "...")
	}
	return &engine.Failure{
		Expected: fmt.Sprintf("at most %d IMAV in the %s after J_OK: one every %s, and one more", allowed, (end - w.joinedAt).Round(time.Millisecond), w.cfg.Heartbeat),
		Actual:   fmt.Sprintf("%d, at %s after J_OK", len(ims), strings.Join(at, ", ")),
	}
}
