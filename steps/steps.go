package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/protocol"
)

// register binds every step of the features to its function. Step
// expressions are anchored; an alias is a lower-case word.
func register(sc *godog.ScenarioContext) {
	// Connecting and joining.
	sc.Step(`^(\w+) has connected$`, connected)
	sc.Step(`^(\w+) has joined$`, hasJoined)
	sc.Step(`^(\w+) and (\w+) have joined$`, func(ctx context.Context, a, b string) error { return haveJoined(ctx, a, b) })
	sc.Step(`^(\w+), (\w+) and (\w+) have joined$`, func(ctx context.Context, a, b, c string) error { return haveJoined(ctx, a, b, c) })
	sc.Step(`^(\w+) joins$`, joins)
	sc.Step(`^(\w+) sends JOIN with (?:her|his|its) name$`, joins)
	sc.Step(`^(\w+) sends JOIN with the name "([^"]*)"$`, joinsAsWritten)
	sc.Step(`^(\w+) sends JOIN with (\w+)'s name$`, joinsAsOther)

	// Sending.
	sc.Step(`^(\w+) sends DATA "([^"]*)"$`, sendsData)
	sc.Step(`^(\w+) sends DATA "([^"]*)" under (\w+)'s name$`, sendsDataAs)
	sc.Step(`^(\w+) sends a text of (\d+) "(.)" characters$`, sendsRepeated)
	sc.Step(`^(\w+) sends the line "((?:[^"\\]|\\.)*)"$`, sendsLine)
	sc.Step(`^(\w+) sends IMAV$`, sendsAlive)
	sc.Step(`^(\w+) quits$`, quits)
	sc.Step(`^(\w+) quits and the server has had time to notice$`, quitsAndSettles)
	sc.Step(`^(\w+) closes the connection without QUIT$`, closesWithoutQuit)
	sc.Step(`^(\w+) goes silent$`, goesSilent)
	sc.Step(`^the expiry time passes$`, expiryPasses)

	// Stream framing.
	sc.Step(`^(\w+) sends JOIN and DATA "([^"]*)" in one TCP write$`, joinAndDataInOneWrite)
	sc.Step(`^(\w+) sends JOIN split across three TCP writes$`, joinSplit)

	// Replies.
	sc.Step(`^(\w+) receives J_OK$`, receivesOK)
	sc.Step(`^(\w+) receives J_ER$`, receivesER)
	sc.Step(`^(\w+) receives J_ER with a code and a text$`, receivesERShape)
	sc.Step(`^(\w+) receives J_OK before any LIST$`, receivesOKBeforeList)
	sc.Step(`^(\w+) receives no reply$`, receivesNoReply)

	// DATA.
	sc.Step(`^(\w+) receives DATA "([^"]*)" from (\w+)$`, receivesData)
	sc.Step(`^(\w+) receives (\w+)'s text$`, receivesText)
	sc.Step(`^(\w+) receives no DATA from (\w+)$`, receivesNoDataFrom)
	sc.Step(`^(\w+) receives no DATA "([^"]*)"$`, receivesNoDataText)

	// LIST.
	sc.Step(`^(\w+) receives a LIST with (\w+)$`, func(ctx context.Context, a, x string) error { return receivesListWith(ctx, a, x) })
	sc.Step(`^(\w+) receives a LIST with (\w+) and (\w+)$`, func(ctx context.Context, a, x, y string) error { return receivesListWith(ctx, a, x, y) })
	sc.Step(`^(\w+) receives a LIST without (\w+)$`, receivesListWithout)
	sc.Step(`^(\w+) receives a LIST without (\w+) within the expiry time$`, receivesListWithoutExpiry)
	sc.Step(`^(\w+) has received no LIST without (\w+)$`, receivedNoListWithout)

	// Connections.
	sc.Step(`^(\w+)'s connection is closed by the server$`, closedByServer)
	sc.Step(`^(\w+)'s connection stays open$`, staysOpen)
	sc.Step(`^(\w+)'s connection is closed by the server within the expiry time$`, closedByServerExpiry)

	registerRobustness(sc)
}

// step returns the scenario's world; steps call it first.
func step(ctx context.Context) *world {
	w := worldFrom(ctx)
	if w == nil {
		panic("steps: no scenario state in context (Before hook not run)")
	}
	return w
}

func connected(ctx context.Context, alias string) error {
	_, err := step(ctx).client(ctx, alias)
	return err
}

// join sends JOIN name on the alias's connection.
func join(ctx context.Context, alias, name string) (*client, error) {
	w := step(ctx)
	c, err := w.client(ctx, alias)
	if err != nil {
		return nil, err
	}
	c.markJoin()
	return c, c.sendMessage(protocol.Join(name, w.joinAddr(c)))
}

func joins(ctx context.Context, alias string) error {
	_, err := join(ctx, alias, step(ctx).wireName(alias))
	return err
}

func joinsAsWritten(ctx context.Context, alias, name string) error {
	_, err := join(ctx, alias, freshName(name))
	return err
}

func joinsAsOther(ctx context.Context, alias, other string) error {
	_, err := join(ctx, alias, step(ctx).wireName(other))
	return err
}

func hasJoined(ctx context.Context, alias string) error {
	c, err := join(ctx, alias, step(ctx).wireName(alias))
	if err != nil {
		return err
	}
	return c.expectReply(ctx, "J_OK to "+c.label+"'s JOIN", isOK)
}

func haveJoined(ctx context.Context, aliases ...string) error {
	for _, a := range aliases {
		if err := hasJoined(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

func sendsData(ctx context.Context, alias, text string) error {
	return sendData(ctx, alias, alias, text)
}

func sendsDataAs(ctx context.Context, alias, text, other string) error {
	return sendData(ctx, alias, other, text)
}

func sendData(ctx context.Context, alias, as, text string) error {
	w := step(ctx)
	c, err := w.client(ctx, alias)
	if err != nil {
		return err
	}
	w.texts[alias] = text
	w.lastSender = alias
	return c.sendMessage(protocol.Data(w.wireName(as), text))
}

func sendsRepeated(ctx context.Context, alias string, count int, char string) error {
	return sendData(ctx, alias, alias, strings.Repeat(char, count))
}

// sendsLine sends a line written in the feature, with Go string escapes
// (\r, \x1b) and {alias}/{addr} placeholders, framed as the suite frames.
func sendsLine(ctx context.Context, alias, written string) error {
	w := step(ctx)
	line, err := strconv.Unquote(`"` + written + `"`)
	if err != nil {
		return fmt.Errorf("steps: bad escape in %q: %w", written, err)
	}
	c, err := w.client(ctx, alias)
	if err != nil {
		return err
	}
	line = w.expand(c, line)
	if m, err := protocol.Parse(line); err == nil && m.Kind == protocol.KindJoin {
		c.markJoin()
	}
	w.lastSender = alias
	return c.sendLine(line)
}

func sendsAlive(ctx context.Context, alias string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	w.lastSender = alias
	return c.sendMessage(protocol.Alive())
}

func quits(ctx context.Context, alias string) error {
	c, err := step(ctx).existing(alias)
	if err != nil {
		return err
	}
	c.quit = true
	return c.sendMessage(protocol.Quit())
}

// quitsAndSettles sends QUIT and waits until the server shows it handled
// it: it closes the connection, or another client of the scenario receives
// a LIST without the quitter after one with it (a server sends one
// connection's LISTs in order, so an older LIST that arrives late cannot
// pass for the new one). It never fails: after Config.Wait it goes on.
func quitsAndSettles(ctx context.Context, alias string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	c.quit = true
	if err := c.sendMessage(protocol.Quit()); err != nil {
		return err
	}
	deadline := time.Now().Add(w.cfg.Wait)
	for time.Now().Before(deadline) {
		if _, eof := c.snapshot(); eof != nil {
			return nil
		}
		for _, o := range w.clients {
			if o == c || o.closed {
				continue
			}
			ins, _ := o.snapshot()
			if listDropped(ins, 0, c.name) >= 0 {
				return nil
			}
		}
		select {
		case <-c.notify:
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// listDropped returns the index of the first LIST at or after from that
// does not include name and follows one that does, or -1.
func listDropped(ins []inbound, from int, name string) int {
	with := false
	for i := range ins {
		if ins[i].class != classList {
			continue
		}
		has := listHas(ins[i], name)
		if with && !has && i >= from {
			return i
		}
		with = with || has
	}
	return -1
}

func closesWithoutQuit(ctx context.Context, alias string) error {
	c, err := step(ctx).existing(alias)
	if err != nil {
		return err
	}
	c.w.log.event(c.label, "connection closed by the suite, without QUIT")
	c.shut()
	return nil
}

func goesSilent(ctx context.Context, alias string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	c.silent.Store(true)
	w.silent = time.Now()
	w.log.event(c.label, "goes silent: no more IMAV")
	return nil
}

func expiryPasses(ctx context.Context) error {
	w := step(ctx)
	w.log.event("suite", "waits for the expiry time, %s", w.cfg.Expiry)
	select {
	case <-time.After(w.cfg.Expiry):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func joinAndDataInOneWrite(ctx context.Context, alias, text string) error {
	w := step(ctx)
	c, err := w.client(ctx, alias)
	if err != nil {
		return err
	}
	b, err := w.cfg.Framing.AppendMessage(nil, protocol.Join(c.name, w.joinAddr(c)))
	if err != nil {
		return err
	}
	if b, err = w.cfg.Framing.AppendMessage(b, protocol.Data(c.name, text)); err != nil {
		return err
	}
	c.markJoin()
	return c.send(b)
}

// joinSplit sends a JOIN in three writes: its first byte, then up to its
// middle, then the rest, pausing between them so that they arrive apart.
func joinSplit(ctx context.Context, alias string) error {
	w := step(ctx)
	c, err := w.client(ctx, alias)
	if err != nil {
		return err
	}
	b, err := w.cfg.Framing.AppendMessage(nil, protocol.Join(c.name, w.joinAddr(c)))
	if err != nil {
		return err
	}
	c.markJoin()
	pause := min(w.cfg.Quiet/2, 100*time.Millisecond)
	for i, p := range [][]byte{b[:1], b[1 : len(b)/2], b[len(b)/2:]} {
		if i > 0 {
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := c.send(p); err != nil {
			return err
		}
	}
	return nil
}

func receivesOK(ctx context.Context, alias string) error {
	c, err := step(ctx).existing(alias)
	if err != nil {
		return err
	}
	return c.expectReply(ctx, "J_OK", isOK)
}

func receivesER(ctx context.Context, alias string) error {
	c, err := step(ctx).existing(alias)
	if err != nil {
		return err
	}
	return c.expectReply(ctx, `J_ER, of the shape "J_ER <code>: <text>"`, isER)
}

func receivesERShape(ctx context.Context, alias string) error {
	c, err := step(ctx).existing(alias)
	if err != nil {
		return err
	}
	return c.expectReply(ctx, `J_ER of the shape "J_ER <code>: <text>", with a code and a text`, func(in inbound) bool {
		return isER(in) && in.msg.Code != "" && strings.TrimSpace(in.msg.Text) != ""
	})
}

// receivesOKBeforeList checks that, after the client's last JOIN, J_OK
// arrived before any LIST naming the client.
func receivesOKBeforeList(ctx context.Context, alias string) error {
	c, err := step(ctx).existing(alias)
	if err != nil {
		return err
	}
	var first *inbound
	c.await(ctx, c.w.cfg.Wait, func(ins []inbound, _ error) bool {
		for i := c.joinMark; i < len(ins); i++ {
			in := ins[i]
			if in.class == classReply || in.class == classList && listHas(in, c.name) {
				first = &ins[i]
				return true
			}
		}
		return false
	})
	const expected = "J_OK first, then a LIST that names the newcomer"
	switch {
	case first == nil:
		_, eof := c.snapshot()
		if eof != nil {
			return &Failure{Expected: expected, Actual: describeEOF(eof)}
		}
		return &Failure{Expected: expected, Actual: c.nothingWithin(c.w.cfg.Wait)}
	case first.class == classList:
		return &Failure{Expected: expected, Actual: "the LIST came first: " + first.String()}
	case !isOK(*first):
		return &Failure{Expected: expected, Actual: first.String()}
	}
	return nil
}

// receivesNoReply checks that nothing addressed to the client alone (J_OK,
// J_ER, anything unexpected) arrives in reply to its last request: before
// the echo of a barrier it sends next, or, if it receives no echo, within
// the quiet time.
func receivesNoReply(ctx context.Context, alias string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	until := " within " + w.cfg.Quiet.String()
	if w.barrier(ctx, c, c) {
		until = " before the echo of its next message"
	} else {
		c.await(ctx, w.cfg.Quiet, func([]inbound, error) bool { return false })
	}
	ins, eof := c.snapshot()
	var hits []inbound
	for i := c.cur[classReply]; i < len(ins); i++ {
		if ins[i].class == classReply || ins[i].class == classNoise {
			hits = append(hits, ins[i])
		}
	}
	switch {
	case len(hits) > 0:
		return &Failure{Expected: "no reply" + until, Actual: "received " + seen(hits, nil)}
	case eof != nil:
		return &Failure{Expected: "no reply, and the connection open", Actual: describeEOF(eof)}
	}
	return nil
}

func receivesData(ctx context.Context, alias, text, from string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	name := w.wireName(from)
	want := protocol.Data(name, text)
	return c.expectBroadcast(ctx, classData, fmt.Sprintf("%q", want.String()), func(in inbound) bool {
		return in.msg.Name == name && in.msg.Text == text
	}, w.fromScenario)
}

func receivesText(ctx context.Context, alias, from string) error {
	w := step(ctx)
	text, ok := w.texts[from]
	if !ok {
		return fmt.Errorf("steps: %s has sent no text in this scenario", from)
	}
	return receivesData(ctx, alias, text, from)
}

func receivesNoDataFrom(ctx context.Context, alias, from string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	name := w.wireName(from)
	return c.expectNone(ctx, classData, "no DATA from "+name, dataFrom(name))
}

func receivesNoDataText(ctx context.Context, alias, text string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	return c.expectNone(ctx, classData, fmt.Sprintf("no DATA with the text %q", text), func(in inbound) bool {
		return in.msg.Text == text
	})
}

func receivesListWith(ctx context.Context, alias string, with ...string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	names := make([]string, len(with))
	for i, a := range with {
		names[i] = w.wireName(a)
	}
	return c.expectBroadcast(ctx, classList, "a LIST that includes "+strings.Join(names, " and "), func(in inbound) bool {
		for _, n := range names {
			if !listHas(in, n) {
				return false
			}
		}
		return true
	}, w.fromScenario)
}

func receivesListWithout(ctx context.Context, alias, without string) error {
	return listWithout(ctx, alias, without, step(ctx).cfg.Wait)
}

func receivesListWithoutExpiry(ctx context.Context, alias, without string) error {
	w := step(ctx)
	// The wait runs from the moment the client went silent.
	left := w.cfg.Expiry + w.cfg.Wait - time.Since(w.silent)
	return listWithout(ctx, alias, without, max(left, w.cfg.Wait))
}

func listWithout(ctx context.Context, alias, without string, timeout time.Duration) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	name := w.wireName(without)
	return c.expectBroadcastWithin(ctx, timeout, classList, fmt.Sprintf("a LIST that does not include %s, within %s", name, timeout), func(in inbound) bool {
		return !listHas(in, name)
	}, w.fromScenario)
}

func receivedNoListWithout(ctx context.Context, alias, without string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	name := w.wireName(without)
	ins, eof := c.snapshot()
	for i := c.cur[classList]; i < len(ins); i++ {
		if ins[i].class == classList && !listHas(ins[i], name) {
			return &Failure{
				Expected: name + " listed all along: it sent IMAV every " + w.cfg.Heartbeat.String(),
				Actual:   fmt.Sprintf("at +%.3fs, %s", ins[i].at.Seconds(), ins[i].String()),
			}
		}
	}
	if eof != nil {
		return &Failure{Expected: c.label + "'s connection open", Actual: describeEOF(eof)}
	}
	return nil
}

func closedByServer(ctx context.Context, alias string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	return c.expectClosed(ctx, w.cfg.Wait, "the server closes "+c.label+"'s connection within "+w.cfg.Wait.String())
}

func closedByServerExpiry(ctx context.Context, alias string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	left := max(w.cfg.Expiry+w.cfg.Wait-time.Since(w.silent), w.cfg.Wait)
	return c.expectClosed(ctx, left, "the server closes the silent "+c.label+"'s connection within the expiry time, "+w.cfg.Expiry.String())
}

// staysOpen checks that the server keeps the connection open for the quiet
// time.
func staysOpen(ctx context.Context, alias string) error {
	w := step(ctx)
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	c.await(ctx, w.cfg.Quiet, func(_ []inbound, eof error) bool { return eof != nil })
	if _, eof := c.snapshot(); eof != nil {
		return &Failure{Expected: c.label + "'s connection open, so that it can try again", Actual: describeEOF(eof)}
	}
	return nil
}
