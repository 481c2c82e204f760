package steps

import (
	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// registerQuitting binds the steps of QUIT and of leaving without it.
func (w *world) registerQuitting(sc *godog.ScenarioContext) {
	sc.Step(`^(\w+) quits$`, w.quits)
	sc.Step(`^(\w+) quits and the server has had time to notice$`, w.quitsAndSettles)
	sc.Step(`^(\w+)'s connection is closed by the server$`, w.closedByServer)
	sc.Step(`^(\w+) closes the connection without QUIT$`, w.closesWithoutQuit)
}

func (w *world) quits(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	w.markEvent(c.name, changeQuit)
	c.quit = true
	c.conn.SetBeating(false)
	return c.send(protocol.Quit())
}

// quitsAndSettles sends QUIT and waits until the server shows that it
// handled it: it closes the connection, or another member of the scenario
// receives a LIST without the quitter. It never fails: after Config.Wait
// it goes on.
func (w *world) quitsAndSettles(alias string) error {
	if err := w.quits(alias); err != nil {
		return err
	}
	c := w.clients[alias]
	obs := w.otherMember(c)
	wait := w.cfg.Wait
	if obs != nil {
		wait = w.cfg.Quiet
	}
	if c.conn.Wait(w.ctx, wait, func(_ []peer.Msg, end error) bool { return end != nil }) || obs == nil {
		return nil
	}
	from := w.markOf(c.name, obs)
	obs.conn.Wait(w.ctx, w.cfg.Wait, func(msgs []peer.Msg, _ error) bool {
		for i := from; i < len(msgs); i++ {
			if w.kindOf(msgs[i]) == kindList && !hasName(msgs[i], c.name) {
				return true
			}
		}
		return false
	})
	return nil
}

func (w *world) closedByServer(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	return w.expectClosed(c, w.cfg.Wait, "the server closes "+c.label+"'s connection within "+w.cfg.Wait.String())
}

func (w *world) closesWithoutQuit(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	w.markEvent(c.name, changeClose)
	w.tr.Event(c.label, "closes the connection without QUIT")
	c.conn.Close()
	return nil
}
