package steps

import (
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/protocol"
)

// registerFraming binds the steps of stream framing.
func (w *world) registerFraming(sc *godog.ScenarioContext) {
	sc.Step(`^(\w+) sends JOIN and DATA "([^"]*)" in one TCP write$`, w.joinAndDataInOneWrite)
	sc.Step(`^(\w+) sends JOIN split across three TCP writes$`, w.joinSplit)
}

// streamFraming is the framing of the framing rules' bytes: what the
// suite writes, but lines for a server that takes each read() for a
// message (that is what these rules test it on).
func (w *world) streamFraming() protocol.Framing {
	if w.srv.write == protocol.FramingRaw {
		return protocol.FramingLine
	}
	return w.srv.write
}

func (w *world) joinAndDataInOneWrite(alias, text string) error {
	c, err := w.client(alias)
	if err != nil {
		return err
	}
	f := w.streamFraming()
	b, err := f.AppendFrame(nil, []byte(w.srv.joinPayload(c.name, c.conn)))
	if err != nil {
		return err
	}
	if b, err = f.AppendMessage(b, protocol.Data(c.name, text)); err != nil {
		return err
	}
	c.beginJoin(c.name)
	return c.sendBytes(b)
}

// joinSplit sends a JOIN in three writes: its first byte, then up to its
// middle, then the rest, pausing between them so that they arrive apart.
func (w *world) joinSplit(alias string) error {
	c, err := w.client(alias)
	if err != nil {
		return err
	}
	b, err := w.streamFraming().AppendFrame(nil, []byte(w.srv.joinPayload(c.name, c.conn)))
	if err != nil {
		return err
	}
	c.beginJoin(c.name)
	pause := min(w.cfg.Quiet/2, 100*time.Millisecond)
	for i, p := range [][]byte{b[:1], b[1 : len(b)/2], b[len(b)/2:]} {
		if i > 0 {
			if err := w.sleep(pause); err != nil {
				return err
			}
		}
		if err := c.sendBytes(p); err != nil {
			return err
		}
	}
	return nil
}
