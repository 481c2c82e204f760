package steps

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// registerPresence binds the steps of LIST.
func (w *world) registerPresence(sc *godog.ScenarioContext) {
	sc.Step(`^(\w+) receives a new LIST that adds (\w+)$`, func(a, x string) error { return w.newList(a, x, true, w.cfg.Wait) })
	sc.Step(`^(\w+) receives a new LIST that removes (\w+)$`, func(a, x string) error { return w.newList(a, x, false, w.cfg.Wait) })
	sc.Step(`^(\w+) receives a new LIST that removes (\w+) within the expiry time$`, w.newListWithoutExpiry)
	sc.Step(`^(\w+) receives a LIST with (\w+) and (\w+)$`, func(a, x, y string) error { return w.listWith(a, x, y) })
	sc.Step(`^(\w+) has received a LIST with (\w+) and (\w+)$`, w.hasReceivedList)
	sc.Step(`^(\w+) receives J_OK before any LIST$`, w.okBeforeList)
	sc.Step(`^every LIST (\w+) received names its users separated by spaces$`, w.listsSpaceSeparated)
	sc.Step(`^(\w+) has received no LIST without (\w+)$`, w.noListWithout)
}

// markEvent records a presence change of name: in the registry, for
// other scenarios to judge LISTs that merge it, and as a mark in every
// client's message list, from which the LIST it causes is looked for.
func (w *world) markEvent(name string, ch change) {
	if w.eventAt == nil {
		w.eventAt = make(map[string]time.Time)
	}
	w.eventAt[name] = w.srv.reg.event(name, ch)
	marks := make(map[*client]int, len(w.clients))
	for _, c := range w.clients {
		marks[c] = c.conn.Len()
	}
	if w.marks == nil {
		w.marks = make(map[string]map[*client]int)
	}
	w.marks[name] = marks
}

// markOf returns where in c's messages the LIST caused by name's last
// change is to be looked for.
func (w *world) markOf(name string, c *client) int {
	if m, ok := w.marks[name][c]; ok {
		return m
	}
	return 0
}

// newList waits for the LIST that the last presence change of the alias
// subject caused at the client alias: the first LIST after the change
// whose difference from the LIST before it includes subject (added, or
// removed). It counts only if every other name that changed with it
// changed in the same way at the same kind of event (a sweep that expires
// two silent clients at once sends one LIST): a LIST that merges another
// kind of change may have been caused by that change alone, and is
// inconclusive.
func (w *world) newList(alias, subject string, added bool, timeout time.Duration) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	name := w.wireName(subject)
	class := w.srv.reg.lastChange(name)
	from := w.markOf(name, c)
	verb := "adds"
	if !added {
		verb = "removes"
	}
	expected := fmt.Sprintf("a LIST that %s %s, caused by %s's %s", verb, name, subject, class)

	var (
		verdict  *listVerdict
		prev     []string
		prevAt   time.Duration
		havePrev bool
	)
	msgs, _ := c.conn.Snapshot()
	for _, m := range msgs[:min(from, len(msgs))] {
		if w.kindOf(m) == kindList {
			prev, prevAt, havePrev = m.Names, m.At, true
		}
	}
	start := c.conn.Transcript().Start()
	seenAfter := 0
	done := func(msgs []peer.Msg, _ error) bool {
		p, pAt, hp := prev, prevAt, havePrev
		var lists []peer.Msg
		for i := from; i < len(msgs); i++ {
			m := msgs[i]
			if w.kindOf(m) != kindList {
				continue
			}
			lists = append(lists, m)
			has := hasName(m, name)
			reflects := has == added && (!hp || slices.Contains(p, name) != added)
			if reflects {
				verdict = w.judgeList(m, p, hp, name, class, i, start.Add(pAt), w.eventAt[name], start.Add(m.At))
				return true
			}
			p, pAt, hp = m.Names, m.At, true
		}
		seenAfter = len(lists)
		verdict = &listVerdict{near: lists}
		return false
	}
	stop := func() {}
	if timeout > w.cfg.Wait {
		stop = w.es.Waiting(expected, timeout)
	}
	c.conn.Wait(w.ctx, timeout, done)
	stop()
	if err := w.ctx.Err(); err != nil {
		return err
	}
	switch {
	case verdict != nil && verdict.ok:
		c.cur.list = max(c.cur.list, verdict.index+1)
		w.noteShape(verdict.msg)
		return nil
	case verdict != nil && verdict.spoiled != "":
		return &engine.Inconclusive{Reason: verdict.spoiled}
	}
	_, end := c.conn.Snapshot()
	near := []peer.Msg(nil)
	if verdict != nil {
		near = verdict.near
	}
	actual := nothing(timeout, near, end)
	if seenAfter > 0 {
		actual = fmt.Sprintf("no LIST that %s %s within %s; received %s", verb, name, timeout, seen(near))
		if end != nil {
			actual += "; then " + describeEnd(end)
		}
	}
	return &engine.Failure{Expected: expected, Actual: actual, Late: w.late(timeout, end)}
}

// listVerdict is what newList concluded of the LISTs it saw.
type listVerdict struct {
	ok      bool
	index   int
	msg     peer.Msg
	spoiled string     // why the LIST reflecting the change is inconclusive
	near    []peer.Msg // the LISTs seen, for "actual"
}

// judgeList decides whether m, the first LIST that reflects subject's
// change (at since), was caused by it: every other name that changed
// since prev (which arrived at prevAt) must belong to another scenario's
// user with a change of the same kind; and no user that the client saw in
// neither LIST may have left between prev's arrival and m's (at): the
// LIST the server sent for that leaving would look like one for the
// subject. A
// client that had no LIST before has nothing to compare with: then no
// other kind of change may have happened since the subject's at all.
func (w *world) judgeList(m peer.Msg, prev []string, havePrev bool, subject string, class change, index int, prevAt, since, at time.Time) *listVerdict {
	if !havePrev {
		if others := w.srv.reg.mayChangeDuring(since, at, w.cfg.Quiet, w.cfg.Expiry, class, subject); len(others) > 0 {
			return &listVerdict{index: index, msg: m, spoiled: fmt.Sprintf(
				"the client's first LIST came after other users' changes too (%s), which may have caused it instead: %s",
				strings.Join(others, ", "), m.String())}
		}
		return &listVerdict{ok: true, index: index, msg: m}
	}
	var odd []string
	changed := diff(prev, m.Names)
	for _, n := range changed {
		if n == subject {
			continue
		}
		// Another user's change counts with it if it is the same kind of
		// change, the same way: a join adds, the others remove.
		owner := w.srv.reg.ownerOf(n)
		added := slices.Contains(m.Names, n)
		if owner == 0 || owner == w.serial || w.srv.reg.lastChange(n) != class || added != (class == changeJoin) {
			odd = append(odd, n)
		}
	}
	// A user the client saw in neither LIST, who left between the two,
	// came and went unseen.
	for _, n := range w.srv.reg.leftBetween(prevAt, at) {
		if n != subject && !slices.Contains(prev, n) && !slices.Contains(m.Names, n) {
			odd = append(odd, n+" (came and went unseen)")
		}
	}
	if len(odd) == 0 {
		return &listVerdict{ok: true, index: index, msg: m}
	}
	return &listVerdict{index: index, msg: m, spoiled: fmt.Sprintf(
		"the first LIST that reflects %s's %s also changed %s, by another kind of event, so it may have been caused by that instead: %s",
		subject, class, strings.Join(odd, ", "), m.String())}
}

// String names a change for reports.
func (ch change) String() string {
	switch ch {
	case changeJoin:
		return "JOIN"
	case changeQuit:
		return "QUIT"
	case changeDrop:
		return "silence"
	case changeClose:
		return "disconnect"
	}
	return "change"
}

// newListWithoutExpiry waits up to the expiry time (counted from the
// subject's last message) for the LIST that drops the silent subject, and
// measures the server's timeout.
func (w *world) newListWithoutExpiry(alias, subject string) error {
	s, err := w.existing(subject)
	if err != nil {
		return err
	}
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	last := s.conn.LastWrite()
	left := max(w.cfg.Expiry+w.cfg.Wait-time.Since(last), w.cfg.Wait)
	err = w.newList(alias, subject, false, left)
	if err == nil {
		w.srv.sawTimeout(time.Since(last))
		return nil
	}
	if end := c.conn.Ended(); end != nil && c.silentAt.IsZero() {
		w.srv.sawDrop(c.label)
		return &engine.NotGraded{
			Reason: fmt.Sprintf("the server closed %s's connection although it sent IMAV every %s: -heartbeat is probably longer than the server's timeout", c.label, w.cfg.Heartbeat),
			Needs:  ruleKeepAlive, Cause: causeHeartbeat,
		}
	}
	if f, ok := errors.AsType[*engine.Failure](err); ok {
		f.Actual += fmt.Sprintf(". If the server's heartbeat timeout is longer than -expiry (%s), raise -expiry (and go test's -timeout)", w.cfg.Expiry)
		f.Late = false
	}
	return err
}

// hasReceivedList is a precondition: the client received the LIST that
// the join of the later of the two aliases caused, naming both. Like the
// rule it needs, it counts only the LIST that join caused, so that
// whether it holds never depends on what other scenarios do.
func (w *world) hasReceivedList(alias, x, y string) error {
	err := w.newList(alias, y, true, w.preconditionWait(w.srv.prof.listOthers))
	if f, ok := errors.AsType[*engine.Failure](err); ok {
		f.Needs = ruleListOnJoin
	}
	return err
}

// listWith waits for a LIST at the client (from any cause) that names
// every one of the aliases.
func (w *world) listWith(alias string, with ...string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	names := make([]string, len(with))
	for i, a := range with {
		names[i] = w.wireName(a)
	}
	var near []peer.Msg
	r := c.conn.Expect(w.ctx, w.cfg.Wait, &c.cur.list, func(m peer.Msg) peer.Verdict {
		if w.kindOf(m) != kindList {
			return peer.Skip
		}
		for _, n := range names {
			if !hasName(m, n) {
				return peer.Skip
			}
		}
		return peer.Match
	})
	if r.Matched() {
		w.noteShape(*r.Msg)
		return nil
	}
	for _, m := range r.Skipped {
		if w.kindOf(m) == kindList {
			near = append(near, m)
		}
	}
	return &engine.Failure{Expected: "a LIST that names " + strings.Join(names, " and "), Actual: nothing(w.cfg.Wait, near, r.End), Needs: ruleListToJoiner, Late: w.late(w.cfg.Wait, r.End)}
}

// okBeforeList checks that after the client's JOIN, J_OK came before any
// LIST that names the client.
func (w *world) okBeforeList(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	var first *peer.Msg
	c.conn.Wait(w.ctx, w.cfg.Wait, func(msgs []peer.Msg, _ error) bool {
		for i := c.joinMark; i < len(msgs); i++ {
			m := msgs[i]
			k := w.kindOf(m)
			if k == kindReply && w.origin(m) == originOurs || k == kindList && hasName(m, c.name) {
				first = &msgs[i]
				return true
			}
		}
		return false
	})
	const expected = "J_OK first, then a LIST that names the newcomer"
	switch {
	case first == nil:
		return &engine.NotGraded{Reason: "neither J_OK nor a LIST arrived", Needs: ruleValidName}
	case w.kindOf(*first) == kindList:
		return &engine.Failure{Expected: expected, Actual: "the LIST came first: " + first.String()}
	case first.Kind != protocol.KindOK:
		return &engine.NotGraded{Reason: "the JOIN was not accepted: " + first.String(), Needs: ruleValidName}
	}
	c.accepted()
	return nil
}

// listsSpaceSeparated checks the shape of every LIST the client received.
func (w *world) listsSpaceSeparated(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	msgs, _ := c.conn.Snapshot()
	const bad = protocol.ShapeListColon | protocol.ShapeListCommas | protocol.ShapeVerbCase
	for _, m := range msgs {
		if w.kindOf(m) == kindList && m.Shape&bad != 0 {
			return &engine.Failure{
				Expected: `"LIST <name> <name> ...", the names separated by spaces`,
				Actual:   fmt.Sprintf("%s (%s)", m.String(), m.Shape&bad),
				Cause:    "list-shape",
			}
		}
	}
	return nil
}

// noListWithout checks that no LIST since the client's list cursor lacks
// the alias's name.
func (w *world) noListWithout(alias, without string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	name := w.wireName(without)
	msgs, _ := c.conn.Snapshot()
	i := w.listDropped(msgs, name)
	if i < 0 {
		return nil
	}
	w.srv.sawDrop(w.label(without))
	return &engine.Failure{
		Expected: name + " listed all along: it sent IMAV every " + w.cfg.Heartbeat.String(),
		Actual:   fmt.Sprintf("at +%.3fs, %s. If the server's timeout is shorter than -heartbeat, lower -heartbeat", msgs[i].At.Seconds(), msgs[i].String()),
		Cause:    causeHeartbeat,
	}
}
