package steps

import (
	"errors"
	"fmt"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// registerJoining binds the steps of joining and duplicate names, and the
// connecting and joining that every feature uses.
func (w *world) registerJoining(sc *godog.ScenarioContext) {
	sc.Step(`^(\w+) has connected$`, w.connected)
	sc.Step(`^(\w+) has joined$`, w.hasJoined)
	sc.Step(`^(\w+) and (\w+) have joined$`, func(a, b string) error { return w.haveJoined(a, b) })
	sc.Step(`^(\w+), (\w+) and (\w+) have joined$`, func(a, b, c string) error { return w.haveJoined(a, b, c) })
	sc.Step(`^(\w+) joins$`, w.joins)
	sc.Step(`^(\w+) sends JOIN with (?:her|his|its) name$`, w.joins)
	sc.Step(`^(\w+) sends JOIN with the name "([^"]*)"$`, w.joinsAsWritten)
	sc.Step(`^(\w+) sends JOIN with (\w+)'s name$`, w.joinsAsOther)
	sc.Step(`^(\w+) receives J_OK$`, w.receivesOK)
	sc.Step(`^(\w+) receives J_ER$`, w.receivesER)
	sc.Step(`^the server still accepts a valid name$`, w.stillAcceptsValid)
	sc.Step(`^(\w+) receives J_OK exactly as "J_OK"$`, w.receivesOKExactly)
	sc.Step(`^the first thing (\w+) receives is J_OK$`, w.firstIsOK)
	sc.Step(`^(\w+) receives no DATA and no LIST$`, w.receivesNoDataNoList)
	sc.Step(`^(\w+) has been refused (\w+)'s name$`, w.refusedOthersName)
	sc.Step(`^(\w+) has been refused the name "([^"]*)"$`, w.refusedName)
}

func (w *world) connected(alias string) error {
	_, err := w.client(alias)
	return err
}

// joinAs sends JOIN name on alias's connection, connecting it first, and
// waits (without reading it) for the first reply, up to the quiet time,
// so that no two joins of the run overlap on a server that answers in
// time: joins come at a human pace, and only the race of
// robustness.join-race tests a server's simultaneous joins.
func (w *world) joinAs(alias, name string) (*client, error) {
	c, err := w.client(alias)
	if err != nil {
		return nil, err
	}
	unlock := w.srv.lockJoins()
	defer unlock()
	if err := c.join(name); err != nil {
		return c, err
	}
	// A slow server gets a short hold only: the lock must not serialise
	// the run behind a JOIN that gets no answer.
	c.conn.Wait(w.ctx, w.cfg.Quiet, func(msgs []peer.Msg, _ error) bool {
		for _, m := range msgs[c.cur.reply:] {
			if w.kindOf(m) == kindReply {
				return true
			}
		}
		return false
	})
	return c, nil
}

func (w *world) joins(alias string) error {
	_, err := w.joinAs(alias, w.wireName(alias))
	return err
}

func (w *world) joinsAsWritten(alias, written string) error {
	_, err := w.joinAs(alias, w.freshName(written))
	return err
}

func (w *world) joinsAsOther(alias, other string) error {
	_, err := w.joinAs(alias, w.wireName(other))
	return err
}

// hasJoined joins alias and waits for J_OK, then, at a human pace, for
// the LIST that follows it if the server sends one, so that the next
// client joins a settled room.
func (w *world) hasJoined(alias string) error {
	c, err := w.joinAs(alias, w.wireName(alias))
	if err != nil {
		return err
	}
	if got, err := w.expectReply(c, protocol.KindOK, "J_OK to "+c.label+"'s JOIN", ruleValidName); err != nil {
		if got != nil && got.Kind == protocol.KindError {
			w.srv.sawRefusal(got.Raw)
		}
		return err
	}
	if w.srv.prof.listOnJoin {
		c.conn.Wait(w.ctx, w.cfg.Wait, func(msgs []peer.Msg, _ error) bool {
			for _, m := range msgs[c.joinMark:] {
				if w.kindOf(m) == kindList && hasName(m, c.name) {
					return true
				}
			}
			return false
		})
	}
	return nil
}

func (w *world) haveJoined(aliases ...string) error {
	for _, a := range aliases {
		if err := w.hasJoined(a); err != nil {
			return err
		}
	}
	return nil
}

// receivesOK checks that the client's JOIN got J_OK. Outside the rule
// about valid names, a J_ER counts against the rule only if the server
// still accepts a valid name from a new client: a server that refuses
// everyone (it is full) fails joining.valid-name, not this rule.
func (w *world) receivesOK(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	got, err := w.expectReply(c, protocol.KindOK, "J_OK", ruleValidName)
	if err != nil && got != nil && got.Kind == protocol.KindError && w.es.Result.RuleID != ruleValidName {
		if cerr := w.stillAcceptsValid(); cerr != nil {
			return cerr
		}
	}
	return err
}

func (w *world) receivesER(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	_, err = w.expectReply(c, protocol.KindError, `J_ER (of the shape "J_ER <code>: <text>", though any J_ER counts here)`, "")
	return err
}

// stillAcceptsValid is the control of a rule about a refusal: a new client
// with a fresh valid name must get J_OK, or the refusal proves nothing.
func (w *world) stillAcceptsValid() error {
	c, err := w.client("checker")
	if err != nil {
		return err
	}
	if err := c.join(w.wireName("checker")); err != nil {
		return err
	}
	got, _, _ := w.reply(c, w.cfg.Wait)
	if got != nil && got.Kind == protocol.KindOK {
		c.accepted()
		return nil
	}
	what := "no answer"
	if got != nil {
		what = got.String()
		w.srv.sawRefusal(got.Raw)
	}
	return &engine.NotGraded{
		Reason: fmt.Sprintf("the server refuses a valid name too (%s to a new client's JOIN), so its refusal proves nothing: is it full, or does it refuse everyone?", what),
		Needs:  ruleValidName,
		Cause:  causeRefusesValid,
	}
}

// receivesOKExactly checks the next reply is J_OK in the grammar's shape.
func (w *world) receivesOKExactly(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	got, err := w.expectReply(c, protocol.KindOK, "J_OK", ruleValidName)
	if err != nil {
		return asNotGraded(err, "there was no J_OK to judge the shape of")
	}
	if shape := w.srv.shapeOf(*got); shape != 0 {
		return &engine.Failure{Expected: `"J_OK" alone`, Actual: fmt.Sprintf("%s (%s)", got.String(), shape), Cause: "ok-shape"}
	}
	return nil
}

// firstIsOK checks that the first thing the connection received at all
// is J_OK.
func (w *world) firstIsOK(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	var first *peer.Msg
	c.conn.Wait(w.ctx, w.cfg.Wait, func(msgs []peer.Msg, _ error) bool {
		for i := range msgs {
			if w.origin(msgs[i]) == originOurs && w.kindOf(msgs[i]) != kindList {
				first = &msgs[i]
				return true
			}
		}
		return false
	})
	switch {
	case first == nil:
		return &engine.NotGraded{Reason: "no answer to the JOIN arrived", Needs: ruleValidName}
	case first.Kind == protocol.KindError:
		return &engine.NotGraded{Reason: "the JOIN was refused: " + first.String(), Needs: ruleValidName}
	case first.Kind != protocol.KindOK:
		return &engine.Failure{Expected: "J_OK as the first message on the connection", Actual: "first came " + first.String(), Cause: "greeting"}
	}
	c.accepted()
	return nil
}

// receivesNoDataNoList checks that a connection that never joined
// received no DATA and no LIST, whoever caused them.
func (w *world) receivesNoDataNoList(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	hits, _ := c.conn.None(w.ctx, w.cfg.Quiet, 0, func(m peer.Msg) bool {
		k := w.kindOf(m)
		return k == kindData || k == kindList
	}, nil)
	if len(hits) > 0 {
		return &engine.Failure{Expected: "nothing for a connection that has not joined", Actual: "received " + seen(hits)}
	}
	return nil
}

// refusedOthersName is a precondition: alias sends JOIN with other's name
// and receives J_ER.
func (w *world) refusedOthersName(alias, other string) error {
	return w.refused(alias, w.wireName(other), ruleDuplicate)
}

// refusedName is a precondition: alias sends JOIN with a written name and
// receives J_ER.
func (w *world) refusedName(alias, written string) error {
	return w.refused(alias, w.freshName(written), ruleInvalidName)
}

func (w *world) refused(alias, name, needs string) error {
	c, err := w.joinAs(alias, name)
	if err != nil {
		return err
	}
	_, err = w.expectReply(c, protocol.KindError, fmt.Sprintf("J_ER to a JOIN as %q", name), needs)
	return err
}

// asNotGraded turns the Failure of a step that only sets the stage into
// a NotGraded with reason.
func asNotGraded(err error, reason string) error {
	if f, ok := errors.AsType[*engine.Failure](err); ok {
		return &engine.NotGraded{Reason: reason + " (expected " + f.Expected + "; actual: " + f.Actual + ")", Needs: f.Needs}
	}
	return err
}
