package clientsteps

import (
	"fmt"
	"strings"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// registerMessages binds the steps of saying something.
func (w *world) registerMessages(sc *godog.ScenarioContext) {
	sc.Step(`^the user says "([^"]*)"$`, func(text string) error { w.say(text); return nil })
	sc.Step(`^the user says a text of (\d+) characters$`, func(n int) error { w.say(longText(n)); return nil })
	sc.Step(`^the client sends the text as DATA from (\w+)$`, w.sendsTextAsData)
	sc.Step(`^the first DATA the client sends after joining is "([^"]*)"$`, w.firstDataIs)
	sc.Step(`^the user has said "([^"]*)" and the client has sent it$`, w.hasSaid)
}

// longText returns a text of n characters, letters and digits, with no
// space for a client to trim.
func longText(n int) string {
	const cycle = "abcdefghijklmnopqrstuvwxyz0123456789"
	return strings.Repeat(cycle, n/len(cycle)+1)[:n]
}

// dataLike reports whether m may be the client's DATA for text: a DATA in
// any shape, or any frame that holds the text.
func dataLike(m peer.Msg, text string) bool {
	return !isAlive(m) && (m.ReadErr == nil && m.Kind == protocol.KindData || holds(m, text))
}

// sendsTextAsData checks the client's next message after the user said
// something: "DATA <name>: <text>" under the name it joined as, the text
// exactly as typed.
func (w *world) sendsTextAsData(alias string) error {
	text := w.lastText
	var got *peer.Msg
	w.await(w.react(), func() bool {
		got = w.find(w.typedAt, func(m peer.Msg) bool { return dataLike(m, text) })
		return got != nil
	})
	want := protocol.Data(w.joinedAs, text).String()
	expected := fmt.Sprintf("after %s, %q: the joined name, a colon and the text as typed", w.lastWhat, want)
	if got == nil {
		return &engine.Failure{Expected: expected, Actual: "no DATA within " + w.react().String() + ": " + w.whatHappened(w.typedAt), Late: w.late()}
	}
	m, err := protocol.Parse(got.Frame)
	var why string
	switch {
	case got.ReadErr != nil:
		why = "a frame the suite could not read"
	case m.Kind != protocol.KindData && got.Kind == protocol.KindData:
		why = "not the shape of DATA (" + got.Shape.String() + ")"
	case m.Kind != protocol.KindData:
		why = "not a DATA"
	case m.Name != w.joinedAs:
		why = fmt.Sprintf("the name %q, not the name it joined as (%q)", m.Name, w.joinedAs)
	case m.Text != text:
		why = fmt.Sprintf("the text %q is not the text typed", m.Text)
	case err != nil:
		why = err.Error()
	default:
		return nil
	}
	return &engine.Failure{Expected: expected, Actual: got.String() + ": " + why, Cause: "data-shape"}
}

// hasSaid is a precondition: the user says text, and a frame that holds
// it leaves the client.
func (w *world) hasSaid(text string) error {
	w.say(text)
	if w.await(w.react(), func() bool { return w.find(w.typedAt, func(m peer.Msg) bool { return holds(m, text) }) != nil }) {
		return nil
	}
	return &engine.Failure{
		Expected: fmt.Sprintf("after %s, a message with the text", w.lastWhat),
		Actual:   w.whatHappened(w.typedAt),
		Needs:    ruleDataShape,
	}
}

// firstDataIs checks that, since the client joined, no message held the
// text refused before text: the DATA of text is the barrier, since a
// client handles what is typed in order.
func (w *world) firstDataIs(text string) error {
	refused := ""
	for i := len(w.saidTexts) - 1; i >= 0; i-- {
		if t := w.saidTexts[i]; t != text {
			refused = t
			break
		}
	}
	barrier := func() *peer.Msg { return w.find(w.joinedAt, func(m peer.Msg) bool { return holds(m, text) }) }
	w.await(w.react(), func() bool { return barrier() != nil })
	if sent := w.find(w.joinedAt, func(m peer.Msg) bool { return holds(m, refused) }); sent != nil {
		return &engine.Failure{
			Expected: fmt.Sprintf("no message with the text of %d characters, which the client should refuse itself", len([]rune(refused))),
			Actual:   "it sent " + sent.String() + " (and the suite's server answered J_ER, as a server does)",
		}
	}
	if barrier() == nil {
		return &engine.NotGraded{Reason: fmt.Sprintf("after the long text and then %q, no message came at all: %s", text, w.whatHappened(w.joinedAt)), Needs: ruleDataShape}
	}
	return nil
}
