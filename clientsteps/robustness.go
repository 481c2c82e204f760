package clientsteps

import (
	"fmt"
	"strings"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// registerRobustness binds the steps of what a client should survive.
func (w *world) registerRobustness(sc *godog.ScenarioContext) {
	sc.Step(`^the server sends the line "([^"]*)"$`, w.serverSendsLine)
	sc.Step(`^the server sends junk$`, w.serverSendsJunk)
	sc.Step(`^the server sends a line of (\d+) characters$`, w.serverSendsLong)
	sc.Step(`^the server closes the connection$`, w.serverCloses)
	sc.Step(`^the client still works: it sends "([^"]*)"$`, w.stillWorks)
	sc.Step(`^the client printed no stack trace$`, w.noStackTrace)
}

func (w *world) serverSendsLine(line string) error {
	if w.cur == nil {
		return errNoConnection
	}
	w.event(fmt.Sprintf("the server sent %q", line))
	return w.dealtWith(w.cur.conn.SendFrame(line))
}

// dealtWith gives the client time to deal with what the server just sent
// before the user types again: it shows a DATA sent after it (see
// showBarrier), or exits, or Config.Wait passes. A client reads the
// server and its user at once, and a line typed at once could leave it
// before it read what the server sent.
func (w *world) dealtWith(sendErr error) error {
	if sendErr != nil || w.cfg.Manual {
		return sendErr
	}
	_ = w.showBarrier("bob")
	return nil
}

// junk is bytes that are no message and no text: NUL, bytes that are not
// UTF-8, a broken two-byte sequence.
const junk = "\x00\x01\x02\xfe\xff\xc3\x28 }{ \xf0\x28\x8c\x28"

func (w *world) serverSendsJunk() error {
	if w.cur == nil {
		return errNoConnection
	}
	w.event("the server sent junk")
	b := []byte(junk + "\n")
	if w.cur.framing == protocol.FramingUTF {
		// A frame whose length is right and whose bytes are not modified
		// UTF-8: what breaks a DataInputStream.readUTF.
		b = append([]byte{0, byte(len(junk))}, junk...)
	}
	return w.dealtWith(w.cur.conn.Send(b))
}

func (w *world) serverSendsLong(n int) error {
	if w.cur == nil {
		return errNoConnection
	}
	w.event(fmt.Sprintf("the server sent a line of %d characters", n))
	return w.dealtWith(w.cur.conn.SendFrame(strings.Repeat("x", n)))
}

func (w *world) serverCloses() error {
	if w.cur == nil {
		return errNoConnection
	}
	// What the client prints from now on must be about the close, not
	// about what came before.
	w.settle()
	w.event("the server closed the connection")
	w.tr.Event(w.cur.label, "the suite's server closes the connection")
	w.cur.conn.Close()
	return nil
}

// stillWorks checks that what the user said after the server's event
// left the client, in any shape.
func (w *world) stillWorks(text string) error {
	if w.await(w.react(), func() bool { return w.find(w.typedAt, func(m peer.Msg) bool { return holds(m, text) }) != nil }) {
		return nil
	}
	return &engine.Failure{
		Expected: fmt.Sprintf("after %s, a message with the text %q: the client still works", w.lastWhat, text),
		Actual:   w.whatHappened(w.eventOff),
		Cause:    "crash",
	}
}

// noStackTrace checks that the client printed no stack trace since the
// server's last event. It first lets the output settle: standard error is
// a pipe of its own, so a trace printed before what the suite last saw
// on standard output may still be on its way.
func (w *world) noStackTrace() error {
	if w.cfg.Manual {
		// What a GUI client shows is not seen; that it still works was.
		w.tr.Event("suite", "manual mode: the suite cannot see whether the client showed a stack trace")
		return nil
	}
	w.settle()
	stdout, stderr, _ := w.printedSince(w.eventMark)
	trace := traceIn(stderr)
	if trace == "" {
		trace = traceIn(stdout)
	}
	if trace == "" {
		return nil
	}
	return &engine.Failure{
		Expected: "a message in words, if any: no stack trace",
		Actual:   fmt.Sprintf("a stack trace: %q", trace),
		Cause:    "stack-trace",
	}
}
