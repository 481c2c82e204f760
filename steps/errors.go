package steps

import (
	"fmt"
	"strings"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/protocol"
)

// registerErrors binds the steps of J_ER.
func (w *world) registerErrors(sc *godog.ScenarioContext) {
	sc.Step(`^(\w+) receives J_ER with a code and a text$`, w.receivesERShape)
	sc.Step(`^(\w+)'s connection stays open$`, w.staysOpenStep)
	sc.Step(`^(\w+) has been answered J_ER to the line "([^"]*)"$`, w.answeredER)
}

// receivesERShape checks the shape of the next J_ER: a code, a colon and
// a text. A missing J_ER is another rule's failure: not graded here.
func (w *world) receivesERShape(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	got, err := w.expectReply(c, protocol.KindError, "J_ER", "")
	if err != nil {
		return asNotGraded(err, "there was no J_ER to judge the shape of")
	}
	const bad = protocol.ShapeErrorNoCode | protocol.ShapeErrorNoColon | protocol.ShapeVerbCase
	if got.Shape&bad != 0 || strings.TrimSpace(got.Text) == "" {
		why := (got.Shape & bad).String()
		if why == "" {
			why = "no text"
		}
		return &engine.Failure{
			Expected: `a J_ER of the shape "J_ER <code>: <text>", with a code and a text`,
			Actual:   fmt.Sprintf("%s (%s)", got.String(), why),
			Cause:    "jer-shape",
		}
	}
	return nil
}

func (w *world) staysOpenStep(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	return w.staysOpen(c, c.label+"'s connection open, so that it can go on")
}

// answeredER is a precondition: alias sends a line and receives J_ER.
func (w *world) answeredER(alias, written string) error {
	if err := w.sendsLine(alias, written); err != nil {
		return err
	}
	c := w.clients[alias]
	_, err := w.expectReply(c, protocol.KindError, fmt.Sprintf("J_ER to %q", written), ruleUnknown)
	return err
}
