package clientsteps

import (
	"fmt"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// registerQuitting binds the steps of leaving.
func (w *world) registerQuitting(sc *godog.ScenarioContext) {
	sc.Step(`^the user leaves$`, func() error { w.leave(); return nil })
	sc.Step(`^standard input ends$`, func() error { w.endInput(); return nil })
	sc.Step(`^the client sends QUIT$`, w.sendsQuit)
	sc.Step(`^the client closes its connection$`, w.closesConnection)
}

// sendsQuit checks that the client's next message after the user left,
// IMAV aside, is "QUIT".
func (w *world) sendsQuit() error {
	wr := w.cur
	var got *peer.Msg
	w.await(w.react(), func() bool {
		// Ended first: once it is set, every message is in the list.
		ended := wr.conn.Ended() != nil
		got = w.find(w.typedAt, func(m peer.Msg) bool { return !isAlive(m) })
		return got != nil || ended
	})
	expected := fmt.Sprintf("after %s, \"QUIT\"", w.lastWhat)
	switch {
	case got == nil && wr.conn.Ended() != nil:
		return &engine.Failure{Expected: expected, Actual: "the client closed the connection without QUIT", Cause: "no-quit"}
	case got == nil:
		actual := "nothing within " + w.react().String()
		if w.proc != nil && w.proc.running() {
			actual += "; the client is still running"
		} else if w.proc != nil {
			actual += "; the client exited (" + w.proc.exitStatus() + ")"
		}
		return &engine.Failure{Expected: expected, Actual: actual, Cause: "no-quit", Late: w.late()}
	}
	if m, err := protocol.Parse(got.Frame); err != nil || m.Kind != protocol.KindQuit {
		return &engine.Failure{Expected: expected, Actual: got.String(), Cause: "no-quit"}
	}
	w.quitAt = got.At
	return nil
}

// closesConnection checks that the client closes its connection after
// QUIT: the suite's server does not.
func (w *world) closesConnection() error {
	wr := w.cur
	if w.await(w.react(), func() bool { return wr.conn.Ended() != nil }) {
		return nil
	}
	var after []peer.Msg
	msgs, _ := wr.msgs()
	for _, m := range msgs {
		if m.At > w.quitAt {
			after = append(after, m)
		}
	}
	actual := fmt.Sprintf("QUIT arrived, but the connection was still open %s later", w.react())
	if len(after) > 0 {
		actual += "; it sent " + seen(after) + " after QUIT"
	}
	return &engine.Failure{
		Expected: "after QUIT, the client closes its connection (a half-close will do): the server need not",
		Actual:   actual,
	}
}
