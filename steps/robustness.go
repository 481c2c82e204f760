package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/protocol"
)

// registerRobustness binds the steps of the robustness feature.
func registerRobustness(sc *godog.ScenarioContext) {
	sc.Step(`^(\w+) sends a line of 1 MiB$`, sendsHugeLine)
	sc.Step(`^(\w+) receives J_ER or (?:her|his|its) connection is closed$`, receivesERorClose)
	sc.Step(`^(\w+) opens a connection and closes it without sending anything$`, opensAndCloses)
	sc.Step(`^(\w+) stops reading$`, stopsReading)
	sc.Step(`^(\w+) sends (\d+) numbered messages of 250 characters$`, sendsFlood)
	sc.Step(`^(\w+) receives all of (\w+)'s numbered messages$`, receivesFlood)
	sc.Step(`^(\w+)'s connection is reset$`, connectionReset)
	sc.Step(`^(\d+) clients join with the same name at the same time$`, raceJoin)
	sc.Step(`^exactly one of them receives J_OK$`, exactlyOneOK)
	sc.Step(`^the server still accepts a new client$`, stillAccepts)
}

// hugeLine is the size of the oversized line: 1 MiB in line framing; in
// writeUTF framing, the largest frame there is.
func hugeLine(f protocol.Framing) int {
	if f == protocol.FramingUTF {
		return protocol.MaxUTFFrame
	}
	return 1 << 20
}

// sendsHugeLine sends one line of 1 MiB. A server may close the connection
// part-way, so a failed write is no failure here; a write that cannot
// complete because the server stops reading is.
func sendsHugeLine(ctx context.Context, alias string) error {
	w := step(ctx)
	c, err := w.client(ctx, alias)
	if err != nil {
		return err
	}
	b, err := w.cfg.Framing.AppendFrame(nil, bytes.Repeat([]byte{'x'}, hugeLine(w.cfg.Framing)))
	if err != nil {
		return err
	}
	if err := c.send(b); errors.Is(err, os.ErrDeadlineExceeded) {
		return &Failure{
			Expected: fmt.Sprintf("the server reads a %d-byte line (and discards what it cannot use)", len(b)),
			Actual:   fmt.Sprintf("it stopped reading: the write did not complete within %s", w.cfg.Wait),
		}
	}
	return nil
}

func receivesERorClose(ctx context.Context, alias string) error {
	c, err := step(ctx).existing(alias)
	if err != nil {
		return err
	}
	err = c.expectReply(ctx, "J_ER, or the connection closed", isER)
	if _, eof := c.snapshot(); eof != nil {
		return nil
	}
	return err
}

// opensAndCloses opens a connection, sends nothing, and closes it: what a
// port scanner does.
func opensAndCloses(ctx context.Context, alias string) error {
	w := step(ctx)
	c, err := w.dial(ctx, alias)
	if err != nil {
		return err
	}
	w.log.event(c.label, "closes the connection without sending anything")
	c.shut()
	// Give the server the quiet time to trip over it before the next step.
	select {
	case <-time.After(w.cfg.Quiet):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func stopsReading(ctx context.Context, alias string) error {
	c, err := step(ctx).existing(alias)
	if err != nil {
		return err
	}
	c.w.log.event(c.label, "stops reading from its connection")
	c.stopReading()
	return nil
}

// floodWait is how long a flood waits for a reader's progress: twice
// Config.Wait, as megabytes take a busy machine longer than one message.
func floodWait(cfg *Config) time.Duration { return 2 * cfg.Wait }

// floodText is the text of numbered message i: the number, then padding to
// 250 characters.
func floodText(i int) string {
	s := fmt.Sprintf("message %d ", i)
	return s + strings.Repeat("-", protocol.MaxTextLen-len(s))
}

// floodWindow is how many messages a flood runs ahead of the slowest
// client that reads: a chat at the pace the server delivers, so that a
// server with a bounded queue per client never has to cut off a client
// that reads.
const floodWindow = 50

// sendsFlood sends n numbered DATA messages, never more than floodWindow
// ahead of what every reading client of the scenario has received, the
// sender's own echo included (a server may cut off a client that does not
// keep up, even the sender). If delivery to another client stops for
// floodWait, it stops sending: the step that checks the delivery reports
// it. A sender that receives no echo at all is not waited for again.
func sendsFlood(ctx context.Context, alias string, n int) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	var readers []*client
	for _, o := range w.clients {
		if !o.closed && !o.paused.Load() {
			readers = append(readers, o)
		}
	}
	seen := make(map[*client]*floodCount, len(readers))
	for _, o := range readers {
		seen[o] = &floodCount{from: c.name, next: 1, at: o.cur[classData]}
	}
	w.sent[alias] = n // the check expects them all, however many are sent
	sent := 0
	for sent < n {
		// Wait until every reader is within the window.
		for i := 0; i < len(readers); i++ {
			o := readers[i]
			fc := seen[o]
			o.await(ctx, floodWait(w.cfg), func(ins []inbound, eof error) bool {
				fc.scan(ins)
				return fc.next-1 >= sent-floodWindow
			})
			if fc.next-1 >= sent-floodWindow {
				continue
			}
			if o == c {
				w.log.event(c.label, "receives no echo of its messages within %s; the flood no longer waits for it", floodWait(w.cfg))
				readers = append(readers[:i], readers[i+1:]...)
				i--
				continue
			}
			w.log.event(c.label, "sent %d numbered messages, then stopped: %s received only %d within %s", sent, o.label, fc.next-1, floodWait(w.cfg))
			return nil
		}
		var buf []byte
		for k := 0; k < floodWindow && sent < n; k++ {
			sent++
			if buf, err = w.cfg.Framing.AppendMessage(buf, protocol.Data(c.name, floodText(sent))); err != nil {
				return err
			}
		}
		if err := c.sendQuiet(buf); err != nil {
			return err
		}
	}
	w.log.event(c.label, "sent %d numbered messages of 250 characters, at most %d ahead of every reader", n, floodWindow)
	return nil
}

// floodCount follows one client's receipt of a flood: the next number it
// waits for, and how far it has looked.
type floodCount struct {
	from string
	next int
	at   int
}

func (fc *floodCount) scan(ins []inbound) {
	for ; fc.at < len(ins); fc.at++ {
		in := ins[fc.at]
		if in.class == classData && in.msg.Name == fc.from && in.msg.Text == floodText(fc.next) {
			fc.next++
		}
	}
}

// receivesFlood checks that every numbered message arrived, in order,
// within floodWait of the last one being sent.
func receivesFlood(ctx context.Context, alias, from string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	n := w.sent[from]
	if n == 0 {
		return fmt.Errorf("steps: %s sent no numbered messages in this scenario", from)
	}
	name := w.wireName(from)
	next := 1
	var ended error
	timeout := floodWait(w.cfg)
	c.await(ctx, timeout, func(ins []inbound, eof error) bool {
		for i := c.cur[classData]; i < len(ins); i++ {
			in := ins[i]
			c.cur[classData] = i + 1
			if in.class != classData || in.msg.Name != name {
				continue
			}
			if in.msg.Text == floodText(next) {
				next++
			}
		}
		ended = eof
		return next > n
	})
	if next > n {
		return nil
	}
	actual := fmt.Sprintf("only messages 1 to %d arrived within %s", next-1, timeout)
	if ended != nil {
		actual += "; then the " + describeEOF(ended)
	}
	return &Failure{Expected: fmt.Sprintf("all %d messages from %s, in order", n, name), Actual: actual}
}

func connectionReset(ctx context.Context, alias string) error {
	c, err := step(ctx).existing(alias)
	if err != nil {
		return err
	}
	c.reset()
	return nil
}

// raceJoin opens n connections, then has all of them send JOIN with one
// fresh name at the same instant.
func raceJoin(ctx context.Context, n int) error {
	w := step(ctx)
	name := w.wireName("racer")
	cs := make([]*client, n)
	for i := range cs {
		c, err := w.client(ctx, fmt.Sprintf("racer%d", i+1))
		if err != nil {
			return err
		}
		cs[i] = c
	}
	frames := make([][]byte, n)
	for i, c := range cs {
		b, err := w.cfg.Framing.AppendMessage(nil, protocol.Join(name, w.joinAddr(c)))
		if err != nil {
			return err
		}
		frames[i] = b
		c.markJoin()
	}
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = c.send(frames[i])
		}()
	}
	close(start)
	wg.Wait()
	w.racers = cs
	return errors.Join(errs...)
}

// exactlyOneOK checks the replies to a raceJoin: one J_OK, and J_ER or a
// closed connection for every other client.
func exactlyOneOK(ctx context.Context) error {
	w := step(ctx)
	var oks []string
	for _, c := range w.racers {
		if err := c.expectReply(ctx, "J_OK or J_ER", func(in inbound) bool { return isOK(in) || isER(in) }); err != nil {
			if _, eof := c.snapshot(); eof != nil {
				continue
			}
			return err
		}
		ins, _ := c.snapshot()
		if isOK(ins[c.cur[classReply]-1]) {
			oks = append(oks, c.alias)
		}
	}
	if len(oks) != 1 {
		actual := "J_OK for none of them"
		if len(oks) > 1 {
			actual = fmt.Sprintf("J_OK for %d of them: %s", len(oks), strings.Join(oks, ", "))
		}
		return &Failure{
			Expected: fmt.Sprintf("J_OK for exactly one of the %d clients that joined as %s", len(w.racers), w.wireName("racer")),
			Actual:   actual,
		}
	}
	return nil
}

// stillAccepts joins a new client and has it quit: the server survived.
func stillAccepts(ctx context.Context) error {
	w := step(ctx)
	c, err := w.dial(ctx, "newcomer")
	if err != nil {
		return &Failure{
			Expected: "the server still accepts a new client",
			Actual:   err.Error() + ": the server seems to have crashed or hung",
		}
	}
	w.clients["newcomer"] = c
	c.markJoin()
	if err := c.sendMessage(protocol.Join(c.name, w.joinAddr(c))); err != nil {
		return err
	}
	if err := c.expectReply(ctx, "J_OK to a new client's JOIN: the server still serves", isOK); err != nil {
		return err
	}
	return nil
}
