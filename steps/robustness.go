package steps

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// registerRobustness binds the steps of the robustness feature.
func (w *world) registerRobustness(sc *godog.ScenarioContext) {
	sc.Step(`^(\w+) sends a line of 1 MiB$`, w.sendsHugeLine)
	sc.Step(`^(\w+) receives J_ER or (?:her|his|its) connection is closed$`, w.receivesERorClose)
	sc.Step(`^(\w+) opens a connection and closes it without sending anything$`, w.opensAndCloses)
	sc.Step(`^(\w+) stops reading$`, w.stopsReading)
	sc.Step(`^(\w+) sends (\d+) numbered messages of 250 characters$`, w.sendsFlood)
	sc.Step(`^(\w+) receives all of (\w+)'s numbered messages$`, w.receivesFlood)
	sc.Step(`^(\w+)'s connection is reset$`, w.connectionReset)
	sc.Step(`^(\d+) clients join with the same name at the same time$`, w.raceJoin)
	sc.Step(`^exactly one of them receives J_OK$`, w.exactlyOneOK)
	sc.Step(`^the server still accepts a new client$`, w.stillAccepts)
}

// hugeLine is the size of the oversized line: 1 MiB; in writeUTF framing,
// the largest frame there is.
func hugeLine(f protocol.Framing) int {
	if f == protocol.FramingUTF {
		return protocol.MaxUTFFrame
	}
	return 1 << 20
}

// sendsHugeLine sends one line of 1 MiB. A server may close the connection
// part-way, so a failed write is no failure here; a write that cannot
// complete because the server stops reading is.
func (w *world) sendsHugeLine(alias string) error {
	c, err := w.client(alias)
	if err != nil {
		return err
	}
	b, err := w.streamFraming().AppendFrame(nil, bytes.Repeat([]byte{'x'}, hugeLine(w.srv.framing)))
	if err != nil {
		return err
	}
	if err := c.conn.Send(b); errors.Is(err, os.ErrDeadlineExceeded) {
		return &engine.Failure{
			Expected: fmt.Sprintf("the server reads a %d-byte line (and discards what it cannot use)", len(b)),
			Actual:   fmt.Sprintf("it stopped reading: the write did not complete within %s", w.cfg.Wait),
			Late:     true,
		}
	}
	return nil
}

func (w *world) receivesERorClose(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	got, noise, end := w.reply(c, w.cfg.Wait)
	switch {
	case got != nil && got.Kind == protocol.KindError, got == nil && end != nil:
		return nil
	case got != nil:
		return &engine.Failure{Expected: "J_ER, or the connection closed", Actual: got.String()}
	}
	actual := nothing(w.cfg.Wait, nil, nil)
	if len(noise) > 0 {
		actual += "; received only " + seen(noise)
	}
	return &engine.Failure{Expected: "J_ER, or the connection closed", Actual: actual, Late: w.late(w.cfg.Wait, end)}
}

// opensAndCloses opens a connection, sends nothing, and closes it: what a
// port scanner does. It gives the server the quiet time to trip over it.
func (w *world) opensAndCloses(alias string) error {
	c, err := w.dial(alias)
	if err != nil {
		return err
	}
	w.tr.Event(c.label, "closes the connection without sending anything")
	c.conn.Close()
	return w.sleep(w.cfg.Quiet)
}

func (w *world) stopsReading(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	c.conn.StopReading()
	return nil
}

// floodText is the text of numbered message i: the number, then padding
// to 250 characters.
func floodText(i int) string {
	s := fmt.Sprintf("message %d ", i)
	return s + strings.Repeat("-", protocol.MaxTextLen-len(s))
}

// floodWindow is how many messages a flood runs ahead of the slowest
// client that reads: a chat at the pace the server delivers, so that a
// server with a bounded queue per client never has to cut off a client
// that reads.
const floodWindow = 50

// floodCount follows one client's receipt of a flood: the next number it
// waits for, and how far it has looked.
type floodCount struct {
	from string
	next int
	at   int
}

func (fc *floodCount) scan(w *world, msgs []peer.Msg) {
	for ; fc.at < len(msgs); fc.at++ {
		m := msgs[fc.at]
		if w.kindOf(m) == kindData && m.Name == fc.from && m.Text == floodText(fc.next) {
			fc.next++
		}
	}
}

// sendsFlood sends n numbered DATA messages, never more than floodWindow
// ahead of what every reading client of the scenario has received (the
// sender's own echo included only if the server echoes). It stops when a
// reader makes no progress for twice Config.Wait, or when Config.Flood is
// over: the check then reports how far it got.
func (w *world) sendsFlood(alias string, n int) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	var readers []*client
	for _, o := range w.clients {
		if o.usable() && (o != c || w.srv.prof.echo) {
			readers = append(readers, o)
		}
	}
	counts := make(map[*client]*floodCount, len(readers))
	for _, o := range readers {
		counts[o] = &floodCount{from: c.name, next: 1, at: o.cur.data}
	}
	w.flood[alias] = n
	stall := 2 * w.cfg.Wait
	done := w.es.Waiting(fmt.Sprintf("a flood of %d messages", n), w.cfg.Flood)
	defer done()
	deadline := time.Now().Add(w.cfg.Flood)
	sent := 0
	for sent < n {
		if time.Now().After(deadline) {
			w.tr.Event(c.label, "sent %d of %d numbered messages, then stopped: the flood's time (-flood %s) was over", sent, n, w.cfg.Flood)
			return nil
		}
		for _, o := range readers {
			fc := counts[o]
			o.conn.Wait(w.ctx, stall, func(msgs []peer.Msg, _ error) bool {
				fc.scan(w, msgs)
				return fc.next-1 >= sent-floodWindow
			})
			if fc.next-1 < sent-floodWindow {
				w.tr.Event(c.label, "sent %d numbered messages, then stopped: %s received only %d within %s", sent, o.label, fc.next-1, stall)
				return nil
			}
		}
		var buf []byte
		for k := 0; k < floodWindow && sent < n; k++ {
			sent++
			if buf, err = w.srv.write.AppendMessage(buf, protocol.Data(c.name, floodText(sent))); err != nil {
				return err
			}
		}
		if err := c.conn.SendQuiet(buf); err != nil {
			return c.sent(err)
		}
	}
	w.tr.Event(c.label, "sent %d numbered messages of 250 characters, at most %d ahead of every reader", n, floodWindow)
	return nil
}

// receivesFlood checks that every numbered message arrived, in order.
func (w *world) receivesFlood(alias, from string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	n := w.flood[from]
	if n == 0 {
		return fmt.Errorf("steps: %s sent no numbered messages in this scenario", from)
	}
	fc := &floodCount{from: w.wireName(from), next: 1, at: c.cur.data}
	timeout := 2 * w.cfg.Wait
	c.conn.Wait(w.ctx, timeout, func(msgs []peer.Msg, _ error) bool {
		fc.scan(w, msgs)
		return fc.next > n
	})
	c.cur.data = fc.at
	if fc.next > n {
		return nil
	}
	actual := fmt.Sprintf("only messages 1 to %d arrived", fc.next-1)
	end := c.conn.Ended()
	if end != nil {
		actual += "; then " + describeEnd(end)
	}
	return &engine.Failure{Expected: fmt.Sprintf("all %d messages from %s, in order", n, fc.from), Actual: actual, Late: end == nil}
}

func (w *world) connectionReset(alias string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	w.markEvent(c.name, changeClose)
	c.conn.Reset()
	return nil
}

// raceJoin opens n connections, then has all of them send JOIN with one
// fresh name at the same instant.
func (w *world) raceJoin(n int) error {
	name := w.wireName("racer")
	cs := make([]*client, n)
	for i := range cs {
		c, err := w.dial(fmt.Sprintf("racer%d", i+1))
		if err != nil {
			for _, d := range cs[:i] {
				d.conn.Close()
			}
			return err
		}
		cs[i] = c
	}
	w.racers = cs
	frames := make([][]byte, n)
	for i, c := range cs {
		b, err := w.srv.write.AppendFrame(nil, []byte(w.srv.joinPayload(name, c.conn)))
		if err != nil {
			return err
		}
		frames[i] = b
		c.beginJoin(name)
	}
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = c.conn.Send(frames[i])
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return &engine.NotGraded{Reason: "the suite could not send every JOIN of the race: " + err.Error()}
	}
	return nil
}

// exactlyOneOK checks the replies to a race: one J_OK, and J_ER or a
// closed connection for every other client.
func (w *world) exactlyOneOK() error {
	var oks []string
	for _, c := range w.racers {
		got, _, _ := w.reply(c, w.cfg.Wait)
		if got != nil && got.Kind == protocol.KindOK {
			oks = append(oks, c.alias)
		}
	}
	if len(oks) == 0 {
		// A server that refuses everyone (it is full) cannot be judged
		// on a race.
		if err := w.stillAcceptsValid(); err != nil {
			return err
		}
	}
	if len(oks) != 1 {
		actual := "J_OK for none of them"
		if len(oks) > 1 {
			actual = fmt.Sprintf("J_OK for %d of them: %s", len(oks), strings.Join(oks, ", "))
		}
		return &engine.Failure{
			Expected: fmt.Sprintf("J_OK for exactly one of the %d clients that joined as %s", len(w.racers), w.wireName("racer")),
			Actual:   actual,
		}
	}
	return nil
}

// stillAccepts joins a new client: the server survived.
func (w *world) stillAccepts() error {
	c, err := w.dial("newcomer")
	if err != nil {
		return &engine.Failure{Expected: "the server still accepts a new client", Actual: "the connection was refused: the server seems to have crashed"}
	}
	w.clients["newcomer"] = c
	if err := c.join(c.name); err != nil {
		return err
	}
	_, err = w.expectReply(c, protocol.KindOK, "J_OK to a new client's JOIN: the server still serves", "")
	return err
}
