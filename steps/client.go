package steps

import (
	"time"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// client is one connection of a scenario to the server under test: a
// peer.Conn and what the steps know of it. Only the scenario's step
// goroutine touches its fields.
type client struct {
	w     *world
	alias string
	name  string // the alias's wire name
	label string // "alice (alicek3j9x2)", for reports
	conn  *peer.Conn

	cur      cursors   // next unread message, per kind
	joinSent bool      // it sent a JOIN
	joinMark int       // messages received when the last JOIN was sent
	joinedOK bool      // a J_OK to its JOIN arrived
	quit     bool      // it sent QUIT
	silentAt time.Time // when it went silent (stopped its heartbeat); zero while beating
	lastSend time.Time // when it last sent anything, the heartbeat aside
}

// cursors are a client's read positions in its message list, one per kind
// of message a step waits for.
type cursors struct {
	reply, data, list int
}

// send sends a message and records, for other scenarios' attribution,
// what it sent.
func (c *client) send(m protocol.Message) error {
	c.w.srv.reg.sent(m.String(), c.w.serial)
	return c.sent(c.conn.SendMessage(m))
}

// sendFrame sends a payload framed, which need not be a valid message.
func (c *client) sendFrame(payload string) error {
	c.w.srv.reg.sent(payload, c.w.serial)
	return c.sent(c.conn.SendFrame(payload))
}

// sendBytes sends bytes already framed.
func (c *client) sendBytes(b []byte) error { return c.sent(c.conn.Send(b)) }

// sent turns a failed write into a NotGraded: the server closed the
// connection (or stopped reading) before the step could act.
func (c *client) sent(err error) error {
	c.lastSend = time.Now()
	if err == nil {
		return nil
	}
	if end := c.conn.Ended(); end != nil {
		return &engine.NotGraded{Reason: c.label + "'s connection was closed by the server before the step could send: " + describeEnd(end)}
	}
	return &engine.NotGraded{Reason: "the suite could not send on " + c.label + "'s connection: " + err.Error()}
}

// join sends a JOIN for name.
func (c *client) join(name string) error {
	c.beginJoin(name)
	return c.sendFrame(c.w.srv.joinPayload(name, c.conn))
}

// beginJoin notes that a JOIN for name is about to go out on c, however
// the step writes it: the presence change, where its replies begin, and
// the heartbeat's clock (the heartbeat sends once J_OK arrived).
func (c *client) beginJoin(name string) {
	c.joinSent = true
	c.w.markEvent(name, changeJoin)
	c.joinMark = c.conn.Len()
	c.cur.reply = max(c.cur.reply, c.joinMark)
	c.conn.StartHeartbeat(c.w.cfg.Heartbeat, c.w.imav())
}

// accepted records that the client's JOIN got J_OK: it is a member, and
// its heartbeat sends from now on.
func (c *client) accepted() {
	c.joinedOK = true
	if c.silentAt.IsZero() {
		c.conn.SetBeating(true)
	}
	c.w.es.State().Alive()
}

// goSilent stops the client's heartbeat.
func (c *client) goSilent() {
	c.conn.SetBeating(false)
	c.silentAt = time.Now()
	c.w.tr.Event(c.label, "goes silent: no more IMAV")
}

// usable reports whether the client has joined, and has neither quit nor
// closed nor stopped reading, so that it can send or receive a barrier.
func (c *client) usable() bool {
	return c.joinedOK && !c.quit && !c.conn.Closed() && !c.conn.Paused() && c.conn.Ended() == nil
}

// close ends the client at the end of its scenario: QUIT if it is still
// open, a half-close, and a short wait for the server to close its side,
// so that what the server does about it (a LIST to the others) is over
// before the next scenario.
func (c *client) close() {
	if c.conn.Closed() {
		return
	}
	if c.conn.Ended() == nil && !c.conn.Paused() {
		if !c.quit {
			c.quit = true
			if c.joinSent {
				c.w.srv.reg.event(c.name, changeQuit)
			}
			_ = c.conn.SendMessage(protocol.Quit())
		}
		if c.conn.CloseWrite() == nil {
			c.conn.Wait(c.w.ctx, c.w.cfg.Quiet, func(_ []peer.Msg, end error) bool { return end != nil })
		}
	}
	c.conn.Close()
}
