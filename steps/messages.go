package steps

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// registerMessages binds the steps of DATA.
func (w *world) registerMessages(sc *godog.ScenarioContext) {
	sc.Step(`^(\w+) sends DATA "([^"]*)"$`, w.sendsData)
	sc.Step(`^(\w+) sends DATA "([^"]*)" under (\w+)'s name$`, w.sendsDataAs)
	sc.Step(`^(\w+) sends a text of (\d+) "(.)" characters$`, w.sendsRepeated)
	sc.Step(`^(\w+) sends the line "((?:[^"\\]|\\.)*)"$`, w.sendsLine)
	sc.Step(`^(\w+) receives DATA "([^"]*)" from (\w+)$`, w.receivesData)
	sc.Step(`^(\w+) receives DATA "([^"]*)" from (\w+) exactly as "((?:[^"\\]|\\.)*)"$`, w.receivesDataExactly)
	sc.Step(`^(\w+) receives (\w+)'s text$`, w.receivesText)
	sc.Step(`^(\w+) receives no DATA from (\w+)$`, w.receivesNoDataFrom)
	sc.Step(`^(\w+) receives no DATA "([^"]*)"$`, w.receivesNoDataText)
	sc.Step(`^(\w+) has received a DATA from (\w+)$`, w.hasReceivedData)
}

func (w *world) sendsData(alias, text string) error { return w.sendData(alias, alias, text) }

func (w *world) sendsDataAs(alias, text, other string) error { return w.sendData(alias, other, text) }

func (w *world) sendsRepeated(alias string, count int, char string) error {
	return w.sendData(alias, alias, strings.Repeat(char, count))
}

func (w *world) sendData(alias, as, text string) error {
	c, err := w.client(alias)
	if err != nil {
		return err
	}
	w.texts[alias] = text
	w.lastSender = alias
	return c.send(protocol.Data(w.wireName(as), text))
}

// unquote reads a line written in a feature, with Go string escapes (\r,
// \x1b).
func unquote(written string) (string, error) {
	line, err := strconv.Unquote(`"` + written + `"`)
	if err != nil {
		return "", fmt.Errorf("steps: bad escape in %q: %w", written, err)
	}
	return line, nil
}

// sendsLine sends a line written in the feature, with escapes and
// {alias}/{addr} placeholders, framed as the run frames.
func (w *world) sendsLine(alias, written string) error {
	line, err := unquote(written)
	if err != nil {
		return err
	}
	c, err := w.client(alias)
	if err != nil {
		return err
	}
	line = w.expand(c, line)
	if m, err := protocol.Parse(strings.TrimSuffix(line, "\r")); err == nil && m.Kind == protocol.KindJoin {
		c.beginJoin(m.Name)
	}
	w.lastSender = alias
	return c.sendFrame(line)
}

func (w *world) receivesData(alias, text, from string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	_, err = w.expectData(c, w.wireName(from), text, w.cfg.Wait, "")
	return err
}

// receivesDataExactly checks the relayed DATA's shape: the suite finds it
// leniently, then compares its frame with the grammar's.
func (w *world) receivesDataExactly(alias, text, from, written string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	want, err := unquote(written)
	if err != nil {
		return err
	}
	want = w.expand(c, want)
	m, err := w.expectData(c, w.wireName(from), text, w.cfg.Wait, ruleToOthers)
	if err != nil {
		return asNotGraded(err, "the DATA did not reach "+c.label+" in any shape")
	}
	shape := w.srv.shapeOf(*m)
	if m.Raw != want || shape != 0 {
		return &engine.Failure{Expected: fmt.Sprintf("%q", want), Actual: fmt.Sprintf("%q (%s)", m.Raw, shapeOrSpacing(shape)), Cause: "data-shape"}
	}
	return nil
}

// shapeOrSpacing names a shape departure, or says the difference is in
// the spacing.
func shapeOrSpacing(s protocol.Shape) string {
	if s == 0 {
		return "other spacing"
	}
	return s.String()
}

func (w *world) receivesText(alias, from string) error {
	text, ok := w.texts[from]
	if !ok {
		return fmt.Errorf("steps: %s has sent no text in this scenario", from)
	}
	return w.receivesData(alias, text, from)
}

func (w *world) receivesNoDataFrom(alias, from string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	name := w.wireName(from)
	return w.expectNoData(c, "no DATA from "+name, func(m peer.Msg) bool { return m.Name == name })
}

func (w *world) receivesNoDataText(alias, text string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	return w.expectNoData(c, fmt.Sprintf("no DATA with the text %q", text), func(m peer.Msg) bool { return m.Text == text })
}

// hasReceivedData is a precondition: from sends a fresh DATA and alias
// receives it, so that the server is known to relay what the scenario
// will later see it refuse or lose.
func (w *world) hasReceivedData(alias, from string) error {
	c, err := w.existing(alias)
	if err != nil {
		return err
	}
	f, err := w.existing(from)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("(%s speaks, message %d)", from, len(w.barriers)+1)
	w.barriers[text] = true
	if err := f.send(protocol.Data(f.name, text)); err != nil {
		return err
	}
	_, err = w.expectData(c, f.name, text, w.preconditionWait(w.srv.prof.relay), ruleToOthers)
	return err
}
