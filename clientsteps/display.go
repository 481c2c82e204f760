package clientsteps

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/protocol"
)

// registerDisplay binds the steps of what the client shows.
func (w *world) registerDisplay(sc *godog.ScenarioContext) {
	sc.Step(`^the server sends DATA "([^"]*)" from (\w+)$`, w.serverSendsData)
	sc.Step(`^the server sends a LIST of (\w+), (\w+) and (\w+)$`, w.serverSendsList)
	sc.Step(`^the server sends DATA with control characters from (\w+)$`, w.serverSendsControl)
	sc.Step(`^the client shows (\w+)'s name and "([^"]*)"$`, func(alias, text string) error {
		return w.shows(w.eventMark, false, w.wireName(alias), text)
	})
	sc.Step(`^the client shows (\w+)'s name and (\w+)'s name$`, func(a, b string) error {
		return w.shows(w.eventMark, false, w.wireName(a), w.wireName(b))
	})
	sc.Step(`^the client shows "([^"]*)"$`, func(text string) error { return w.shows(w.eventMark, true, text) })
	sc.Step(`^the client has shown a DATA from (\w+)(?: again)?$`, w.hasShownData)
	sc.Step(`^the client printed none of the control characters (\w+) sent$`, w.noRawControl)
}

// errNoConnection is a mistake in a feature: a step that needs the
// client's connection comes before one was made.
var errNoConnection = errors.New("clientsteps: no connection to the client yet (a step is missing from the feature)")

// sendTo sends m on the client's connection, as the server's event.
func (w *world) sendTo(m protocol.Message, what string) error {
	if w.cur == nil {
		return errNoConnection
	}
	w.event(what)
	return w.send(w.cur, m)
}

func (w *world) serverSendsData(text, alias string) error {
	return w.sendTo(protocol.Data(w.wireName(alias), text), fmt.Sprintf("the server sent DATA %q from %s", text, w.wireName(alias)))
}

func (w *world) serverSendsList(a, b, c string) error {
	names := []string{w.wireName(a), w.wireName(b), w.wireName(c)}
	if w.joinedAs != "" {
		names[0] = w.joinedAs
	}
	m := protocol.List(names)
	return w.sendTo(m, fmt.Sprintf("the server sent %q", m.String()))
}

// controlText is a DATA text with what a terminal obeys: clear the
// screen, set the window's title, ring the bell, erase backwards.
const controlText = "red \x1b[2J\x1b]0;owned\x07alert\x08\x08\x7f!"

// rawControls are the sequences of controlText that no client prints on
// its own (a client may colour its output, so a bare ESC proves nothing).
var rawControls = []struct{ seq, name string }{
	{"\x1b[2J", "ESC [2J (clear the screen)"},
	{"\x1b]", "ESC ] (an operating system command: the window title)"},
	{"\x07", "BEL"},
	{"\x08", "BS (backspace)"},
	{"\x7f", "DEL"},
}

func (w *world) serverSendsControl(alias string) error {
	if w.cur == nil {
		return errNoConnection
	}
	w.event(fmt.Sprintf("the server sent a DATA from %s with control characters", w.wireName(alias)))
	w.ctlMark = w.eventMark
	// SendFrame: protocol.Message.Validate would refuse the text.
	return w.cur.conn.SendFrame(protocol.VerbData + " " + w.wireName(alias) + ": " + controlText)
}

// notSeen is the outcome of a display step in manual mode.
func (w *world) notSeen() error {
	return &engine.NotGraded{Reason: "manual mode: the suite cannot see the client's window", Cause: causeManualView}
}

// shows checks that every one of wants appears on the client's standard
// output (or, with either, on its standard error too: where a client's
// own messages go) after since.
func (w *world) shows(since output, either bool, wants ...string) error {
	if w.cfg.Manual {
		return w.notSeen()
	}
	// missing looks at the output in place: it runs on every chunk the
	// client prints while the step waits.
	missing := func() []string {
		var stdout, stderr []byte
		if w.proc != nil {
			stdout, stderr = w.proc.since(since)
		}
		var out []string
		for _, s := range wants {
			if !bytes.Contains(stdout, []byte(s)) && !(either && bytes.Contains(stderr, []byte(s))) {
				out = append(out, s)
			}
		}
		return out
	}
	if w.await(w.cfg.Wait, func() bool { return len(missing()) == 0 }) {
		return nil
	}
	stdout, stderr, _ := w.printedSince(since)
	absent := missing()
	actual := fmt.Sprintf("no %s within %s", strings.Join(quotedList(absent), " and no "), w.cfg.Wait)
	switch {
	case stdout == "":
		actual += "; it printed nothing on standard output"
	default:
		actual += "; it printed " + quoteOut(stdout)
	}
	if stderr != "" && allIn(absent, stderr) {
		actual += "; they appeared on standard error instead"
	}
	if w.proc != nil && !w.proc.running() {
		actual += "; it exited (" + w.proc.exitStatus() + ")"
	}
	where := "standard output"
	if either {
		where = "standard output or standard error"
	}
	return &engine.Failure{
		Expected: fmt.Sprintf("after %s, %s on %s", w.lastWhat, strings.Join(quotedList(wants), " and "), where),
		Actual:   actual,
		Late:     w.late(),
	}
}

func quotedList(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func allIn(ss []string, in string) bool {
	for _, s := range ss {
		if !strings.Contains(in, s) {
			return false
		}
	}
	return true
}

// hasShownData is a barrier and a precondition: the server sends a DATA
// with a fresh text, and the client shows it, so whatever it printed for
// earlier messages is printed by then.
func (w *world) hasShownData(alias string) error {
	if w.cfg.Manual {
		return w.notSeen()
	}
	if err := w.showBarrier(alias); err != nil {
		return &engine.NotGraded{Reason: "the client did not show a plain DATA: " + err.Error(), Needs: ruleDataShown}
	}
	return nil
}

// showBarrier sends a DATA from alias with a fresh text and waits until
// the client shows it: a client handles what the server sends in order,
// so it has dealt with everything sent before by then. It is no event of
// the scenario's: what the steps judge counts from the event before it.
// It returns the failure of the wait.
func (w *world) showBarrier(alias string) error {
	if w.cur == nil {
		return errNoConnection
	}
	w.texts++
	text := fmt.Sprintf("are you there? (%d)", w.texts)
	var since output
	if w.proc != nil {
		since = w.proc.mark()
	}
	if err := w.send(w.cur, protocol.Data(w.wireName(alias), text)); err != nil {
		return err
	}
	return w.shows(since, false, text)
}

// settle waits, up to Config.Wait, until the client has printed nothing
// for Config.Quiet: whatever it had to print for what came before has
// been printed, and what it prints next answers what comes next.
func (w *world) settle() {
	if w.proc == nil {
		return
	}
	deadline := w.tr.Since() + w.cfg.Wait
	for w.tr.Since() < deadline {
		m := w.proc.mark()
		if !w.await(min(w.cfg.Quiet, deadline-w.tr.Since()), func() bool { return w.proc.mark() != m }) {
			return
		}
	}
}

// noRawControl checks that none of the control sequences sent reached
// the client's output raw.
func (w *world) noRawControl(string) error {
	if w.cfg.Manual {
		return w.notSeen()
	}
	stdout, stderr, _ := w.printedSince(w.ctlMark)
	var raw []string
	for _, c := range rawControls {
		if strings.Contains(stdout+stderr, c.seq) {
			raw = append(raw, c.name)
		}
	}
	if len(raw) == 0 {
		return nil
	}
	return &engine.Failure{
		Expected: fmt.Sprintf("after the server sent the text %q, the text shown with its control characters escaped or left out", controlText),
		Actual:   "printed raw: " + strings.Join(raw, ", ") + ": " + quoteOut(stdout+stderr),
	}
}
