package steps

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// kind sorts what a client receives into the streams a step waits on.
type kind uint8

const (
	kindReply kind = iota // J_OK, J_ER, a frame that could not be read, a request verb where a reply belongs
	kindData              // DATA, in any shape Recognize knows, with any name or text
	kindList              // LIST, in any shape Recognize knows
	kindNoise             // no protocol message at all: a greeting, a malformed DATA, junk
)

// kindOf sorts a message. A verb-less "name: text" is a DATA only when the
// name is one the run's scenarios use (a greeting "Welcome: hi" is not).
func (w *world) kindOf(m peer.Msg) kind {
	if m.ReadErr != nil {
		return kindReply
	}
	switch m.Kind {
	case protocol.KindData:
		switch {
		case m.Shape&protocol.ShapeNoVerb != 0 && w.srv.reg.ownerOf(m.Name) == 0:
			return kindNoise
		case errors.Is(m.Err, protocol.ErrMalformed) && m.Shape == 0:
			return kindNoise // "DATA alice no colon"
		}
		return kindData
	case protocol.KindList:
		return kindList
	case protocol.KindInvalid:
		return kindNoise
	}
	return kindReply
}

// origin says which scenario caused a message.
type origin uint8

const (
	originOurs    origin = iota // this scenario, or nobody can tell
	originForeign               // another scenario, or a user the suite does not know
)

// origin traces a message (other than a LIST, which is judged by its
// change) to the scenario that caused it: a DATA by its user's name; any
// other frame by the user names it holds, or else by being a line another
// scenario sent (a server that echoes what it does not understand).
func (w *world) origin(m peer.Msg) origin {
	reg := w.srv.reg
	if m.ReadErr != nil {
		return originOurs
	}
	if w.kindOf(m) == kindData {
		if reg.ownerOf(m.Name) == w.serial {
			return originOurs
		}
		return originForeign
	}
	if owners := reg.namesIn(m.Raw); len(owners) > 0 {
		if slices.Contains(owners, w.serial) {
			return originOurs
		}
		return originForeign
	}
	if reg.sentByOthersOnly(m.Raw, w.serial) {
		return originForeign
	}
	return originOurs
}

// ours reports whether m is this scenario's and of kind k.
func (w *world) ours(m peer.Msg, k kind) bool {
	return w.kindOf(m) == k && w.origin(m) == originOurs
}

// describeEnd says how a connection ended, for "actual".
func describeEnd(err error) string {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection was closed by the server"
	}
	return "the connection ended: " + err.Error()
}

// seen lists messages for "actual": quoted, at most eight.
func seen(msgs []peer.Msg) string {
	parts := make([]string, 0, min(len(msgs), 9))
	for i, m := range msgs {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("and %d more", len(msgs)-8))
			break
		}
		parts = append(parts, m.String())
	}
	return strings.Join(parts, ", ")
}

// nothing is "actual" for a wait that saw nothing of use: what arrived
// instead (near misses) and how the connection ended, if it did.
func nothing(within time.Duration, near []peer.Msg, end error) string {
	s := "nothing within " + within.String()
	if len(near) > 0 {
		s = fmt.Sprintf("no such message within %s; received %s", within, seen(near))
	}
	if end != nil {
		s += "; then " + describeEnd(end)
	}
	return s
}

// late says whether a failed wait of timeout is one the engine should
// confirm before it counts (engine.Failure.Late): the connection stayed
// open, and the wait was at least the ordinary one for an answer
// (-wait), not the brief wait of a precondition for what the patient
// probe did not see (see preconditionWait). The minutes-long waits for a
// heartbeat timeout are no load spike: their callers clear Late rather
// than pay for them twice.
func (w *world) late(timeout time.Duration, end error) bool {
	return end == nil && timeout >= w.cfg.Wait
}

// preconditionWait is how long a precondition waits for a behaviour the
// probe saw (seen) or did not: a behaviour the server showed gets the
// whole wait, one it did not show only Config.Quiet, so that a server
// without it is not graded on the rules that need it without minutes of
// waiting, while one whose probe was merely unlucky still shows it
// within the quiet time.
func (w *world) preconditionWait(seen bool) time.Duration {
	if seen {
		return w.cfg.Wait
	}
	return w.cfg.Quiet
}

// reply waits for the client's next reply to its own requests (J_OK, J_ER
// in any shape, a frame the suite could not read, anything unexpected),
// passing over DATA, LIST, noise and whatever other scenarios caused.
// It returns the reply, or nil with the noise seen and how the connection
// ended.
func (w *world) reply(c *client, timeout time.Duration) (got *peer.Msg, noise []peer.Msg, end error) {
	r := c.conn.Expect(w.ctx, timeout, &c.cur.reply, func(m peer.Msg) peer.Verdict {
		if w.ours(m, kindReply) {
			return peer.Match
		}
		return peer.Skip
	})
	for _, m := range r.Skipped {
		if w.ours(m, kindNoise) {
			noise = append(noise, m)
		}
	}
	if r.Matched() {
		return r.Msg, noise, nil
	}
	return nil, noise, r.End
}

// expectReply waits for the client's next reply and checks that it is of
// kind want (KindOK or KindError, in any shape). It records the shapes it
// sees. expected says what the step waits for; needs is the rule the
// reply belongs to.
func (w *world) expectReply(c *client, want protocol.Kind, expected, needs string) (*peer.Msg, error) {
	got, noise, end := w.reply(c, w.cfg.Wait)
	if got == nil {
		actual := nothing(w.cfg.Wait, nil, end)
		if len(noise) > 0 {
			actual += "; received only lines that are no protocol message: " + seen(noise)
		}
		return nil, &engine.Failure{Expected: expected, Actual: actual, Needs: needs, Late: w.late(w.cfg.Wait, end)}
	}
	w.noteShape(*got)
	if got.Kind != want {
		return got, &engine.Failure{Expected: expected, Actual: got.String(), Needs: needs}
	}
	if want == protocol.KindOK {
		c.accepted()
	}
	return got, nil
}

// noteShape records a shape departure of a reply, DATA or LIST for the
// server's profile. Glued messages in raw framing are that framing's
// nature, not a departure.
func (w *world) noteShape(m peer.Msg) {
	if shape := w.srv.shapeOf(m); shape != 0 && m.Kind != protocol.KindInvalid {
		w.srv.sawShape(m.Kind.String(), shape, m.Raw)
	}
}

// shapeOf is m's departure from the grammar's shape, but for being glued
// to another message where the framing has no delimiter to keep them
// apart.
func (s *Server) shapeOf(m peer.Msg) protocol.Shape {
	if s.framing == protocol.FramingRaw {
		return m.Shape &^ protocol.ShapeGlued
	}
	return m.Shape
}

// expectData waits for a DATA with text from the user name (in any shape),
// passing over other DATA. On a timeout, "actual" shows the near misses:
// this scenario's DATA with another text, and frames that hold the text.
func (w *world) expectData(c *client, name, text string, timeout time.Duration, needs string) (*peer.Msg, error) {
	want := protocol.Data(name, text)
	var near []peer.Msg
	r := c.conn.Expect(w.ctx, timeout, &c.cur.data, func(m peer.Msg) peer.Verdict {
		if w.kindOf(m) == kindData && m.Name == name && m.Text == text {
			return peer.Match
		}
		return peer.Skip
	})
	if r.Matched() {
		w.noteShape(*r.Msg)
		return r.Msg, nil
	}
	for _, m := range r.Skipped {
		if w.origin(m) == originOurs && (w.kindOf(m) == kindData || strings.Contains(m.Frame, text) && text != "") {
			near = append(near, m)
		}
	}
	return nil, &engine.Failure{Expected: fmt.Sprintf("%q", want.String()), Actual: nothing(timeout, near, r.End), Needs: needs, Late: w.late(timeout, r.End)}
}

// expectClosed waits up to timeout for the server to close the client's
// connection.
func (w *world) expectClosed(c *client, timeout time.Duration, expected string) error {
	if c.conn.Wait(w.ctx, timeout, func(_ []peer.Msg, end error) bool { return end != nil }) {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	return &engine.Failure{Expected: expected, Actual: "the connection is still open after " + timeout.String(), Late: w.late(timeout, nil)}
}

// staysOpen listens for the quiet time and fails if the server closes the
// connection meanwhile.
func (w *world) staysOpen(c *client, expected string) error {
	c.conn.Wait(w.ctx, w.cfg.Quiet, func(_ []peer.Msg, end error) bool { return end != nil })
	if end := c.conn.Ended(); end != nil {
		return &engine.Failure{Expected: expected, Actual: describeEnd(end)}
	}
	return nil
}

// barrierFrom has from send a DATA with a fresh text and waits for to to
// receive it: a server handles one connection's requests in order, so
// whatever an earlier request of from made it send to to has arrived by
// then. It reports whether the barrier arrived; it sends nothing, and
// returns false, unless both clients can take part and the server is known
// to relay DATA (and, for from == to, to echo it).
func (w *world) barrierFrom(from, to *client) bool {
	if from == nil || to == nil || !from.usable() || !to.usable() || !w.srv.prof.relay || from == to && !w.srv.prof.echo {
		return false
	}
	text := fmt.Sprintf("(barrier %d, anything the server sends for earlier messages comes before this)", len(w.barriers)+1)
	w.barriers[text] = true
	return peer.Barrier(w.ctx, to.conn, w.cfg.Wait, func() error {
		return from.send(protocol.Data(from.name, text))
	}, func(m peer.Msg) bool {
		return w.kindOf(m) == kindData && m.Name == from.name && m.Text == text
	})
}

// otherMember returns a client of the scenario other than the given ones
// that can take part in a barrier, or nil.
func (w *world) otherMember(not ...*client) *client {
	for _, alias := range slices.Sorted(maps.Keys(w.clients)) {
		c := w.clients[alias]
		if !slices.Contains(not, c) && c.usable() {
			return c
		}
	}
	return nil
}

// expectNoData checks that no DATA that bad accepts reaches c. It waits
// for a barrier from the last sender if it can (the sender's next DATA
// reaching c), else listens for the quiet time.
func (w *world) expectNoData(c *client, expected string, bad func(peer.Msg) bool) error {
	until, quiet := " within "+w.cfg.Quiet.String(), w.cfg.Quiet
	if from := w.clients[w.lastSender]; w.barrierFrom(from, c) {
		until, quiet = " before "+from.label+"'s next message", 0
	}
	hits, _ := c.conn.None(w.ctx, quiet, c.cur.data, func(m peer.Msg) bool {
		return w.kindOf(m) == kindData && bad(m) && !w.barriers[m.Text]
	}, nil)
	if len(hits) > 0 {
		return &engine.Failure{Expected: expected + until, Actual: "received " + seen(hits)}
	}
	return nil
}

// listNames returns the names of a LIST, as Recognize read them.
func hasName(m peer.Msg, name string) bool { return slices.Contains(m.Names, name) }

// diff returns the names in exactly one of a and b.
func diff(a, b []string) []string {
	var out []string
	for _, n := range a {
		if !slices.Contains(b, n) {
			out = append(out, n)
		}
	}
	for _, n := range b {
		if !slices.Contains(a, n) {
			out = append(out, n)
		}
	}
	return out
}
