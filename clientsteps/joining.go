package clientsteps

import (
	"fmt"
	"net"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/protocol"
)

// registerJoining binds the steps of starting and joining.
func (w *world) registerJoining(sc *godog.ScenarioContext) {
	sc.Step(`^the client has started$`, w.start)
	sc.Step(`^the client has joined as (\w+)$`, w.hasJoined)
	sc.Step(`^the user types the name (\w+)$`, func(alias string) error { return w.typeJoin(w.wireName(alias)) })
	sc.Step(`^the user types the name "([^"]*)"$`, w.typeJoin)
	sc.Step(`^the user has typed the name (\w+) and the client has sent a JOIN$`, w.hasSentJoin)
	sc.Step(`^the server answers J_ER$`, func() error { return w.answersER("this name is taken") })
	sc.Step(`^the server answers J_ER "([^"]*)"$`, w.answersER)
	sc.Step(`^the client's first message is JOIN with (\w+)'s name and the server's address$`, w.firstIsJoin)
	sc.Step(`^the client sends a JOIN with (\w+)'s name$`, w.sendsJoinFor)
	sc.Step(`^the first JOIN the client sends is (\w+)'s$`, w.firstJoinIs)
	sc.Step(`^the client says something$`, w.saysSomething)
}

// hasJoined is a precondition: the user types alias's name, and the
// client's join attempt, in any shape, is answered with J_OK and a LIST.
func (w *world) hasJoined(alias string) error {
	name := w.wireName(alias)
	w.hold = false
	if err := w.typeJoin(name); err != nil {
		return err
	}
	if w.await(w.startWait(), func() bool { return w.joinedAs != "" }) {
		// What it prints for J_OK and the LIST is no answer to what
		// comes next.
		w.settle()
		return nil
	}
	return &engine.Failure{
		Expected: fmt.Sprintf("after %s, a JOIN for %s, in any shape", w.lastWhat, name),
		Actual:   w.whatHappened(0),
		Needs:    ruleJoinShape,
	}
}

// attemptFor returns the first join attempt for name from index from of
// the scenario's attempts on, or nil.
func (w *world) attemptFor(name string, from int) *attempt {
	for i := from; i < len(w.attempts); i++ {
		if w.attempts[i].name == name {
			return &w.attempts[i]
		}
	}
	return nil
}

// hasSentJoin is a precondition: the user types alias's name and the
// client sends a join attempt for it, which the server leaves unanswered
// for the next step.
func (w *world) hasSentJoin(alias string) error {
	name := w.wireName(alias)
	w.hold = true
	if err := w.typeJoin(name); err != nil {
		return err
	}
	if w.await(w.startWait(), func() bool { return w.attemptFor(name, 0) != nil }) {
		return nil
	}
	return &engine.Failure{
		Expected: fmt.Sprintf("after %s, a JOIN for %s, in any shape", w.lastWhat, name),
		Actual:   w.whatHappened(0),
		Needs:    ruleJoinShape,
	}
}

// answersER refuses the last join attempt with J_ER 409 and text; from
// then on, the server accepts valid names again.
func (w *world) answersER(text string) error {
	if len(w.attempts) == 0 {
		return fmt.Errorf("clientsteps: no JOIN to answer (a step is missing from the feature)")
	}
	a := w.attempts[len(w.attempts)-1]
	w.hold = false
	w.event(fmt.Sprintf("the server answered J_ER %q", text))
	w.refused = len(w.attempts)
	return w.send(a.wire, protocol.Error(protocol.CodeDuplicateName, text))
}

// firstIsJoin checks the client's first message on its connection:
// "JOIN <name>, <host>:<port>" with the typed name and the address it
// connected to.
func (w *world) firstIsJoin(alias string) error {
	name := w.wireName(alias)
	w.await(w.startWait(), func() bool { return w.attemptFor(name, 0) != nil })
	first := w.firstMessage(name)
	if first == nil {
		return &engine.Failure{
			Expected: fmt.Sprintf("after %s, a JOIN from the client", w.lastWhat),
			Actual:   w.whatHappened(0),
		}
	}
	local, _ := first.wire.conn.LocalAddr().(*net.TCPAddr)
	want := protocol.Join(name, local.String()).String()
	expected := fmt.Sprintf("after %s, the first message %q: the typed name, then the address the client connected to (a host name that resolves to it will do)", w.lastWhat, want)
	if why := joinShape(first.msg, name, local, resolver(w.cfg.Wait)); why != "" {
		return &engine.Failure{Expected: expected, Actual: fmt.Sprintf("%s on %s: %s", first.msg.String(), first.wire.label, why), Cause: "join-shape"}
	}
	return nil
}

// firstMessage returns the first message of the client's connection: the
// first connection whose first message is an attempt to join as name, or
// else the first connection that sent anything.
func (w *world) firstMessage(name string) *attempt {
	var any *attempt
	for _, wr := range w.wires {
		msgs, _ := wr.msgs()
		if len(msgs) == 0 {
			continue
		}
		a := &attempt{wire: wr, msg: msgs[0]}
		if n, ok := meantName(msgs[0], false, w.typed); ok && n == name {
			return a
		}
		if any == nil {
			any = a
		}
	}
	return any
}

// sendsJoinFor checks that after a refusal the client sends a JOIN for
// alias's name, in any shape, on the same connection or a new one.
func (w *world) sendsJoinFor(alias string) error {
	name := w.wireName(alias)
	if w.await(w.react()+w.cfg.Wait, func() bool { return w.attemptFor(name, w.refused) != nil }) {
		return nil
	}
	return &engine.Failure{
		Expected: fmt.Sprintf("after J_ER, and %s, a new JOIN for %s (on the same connection or a new one)", w.lastWhat, name),
		Actual:   w.whatHappened(w.lastAt),
	}
}

// firstJoinIs checks that the first join attempt of the scenario is for
// alias's name: the names typed before it were refused by the client
// itself. The JOIN of a valid name is the barrier: a client handles what
// is typed in order, so an invalid name it sends goes out before it.
func (w *world) firstJoinIs(alias string) error {
	name := w.wireName(alias)
	// The client may connect only now, having refused the names before.
	w.await(w.startWait(), func() bool { return w.attemptFor(name, 0) != nil })
	var bad []string
	for _, a := range w.attempts {
		if a.name == name {
			break
		}
		bad = append(bad, a.msg.String())
	}
	switch {
	case len(bad) > 0:
		return &engine.Failure{
			Expected: fmt.Sprintf("no JOIN for the invalid name %q, which the client should refuse itself; the first JOIN for %s", w.typed[0], name),
			Actual:   "it sent " + fmt.Sprint(bad) + " (and the suite's server answered J_ER, as a server does)",
		}
	case w.attemptFor(name, 0) == nil:
		return &engine.NotGraded{Reason: fmt.Sprintf("after the user typed an invalid name and then %s, no JOIN came at all: %s", name, w.whatHappened(0)), Needs: ruleJoinShape}
	}
	return nil
}

// saysSomething checks that the client printed something but its prompt
// after the last thing the user or the server did. Manual mode cannot see
// it.
func (w *world) saysSomething() error {
	if w.cfg.Manual {
		return w.notSeen()
	}
	since := w.lastMark
	if w.await(w.cfg.Wait, func() bool { _, _, ok := w.printedSince(since); return ok }) {
		return nil
	}
	stdout, stderr, _ := w.printedSince(since)
	actual := "nothing within " + w.cfg.Wait.String()
	if stdout+stderr != "" {
		actual = "only its prompt again: " + quoteOut(stdout+stderr)
	}
	if w.proc != nil && !w.proc.running() {
		actual += "; it exited (" + w.proc.exitStatus() + ")"
	}
	return &engine.Failure{
		Expected: fmt.Sprintf("after %s, a message on standard output or standard error that says what happened", w.lastWhat),
		Actual:   actual,
		Late:     w.late(),
	}
}
