package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// class sorts what a client receives into the three streams a step waits
// on: replies to its own requests, DATA, and LIST.
type class uint8

const (
	classReply class = iota // J_OK, J_ER, a malformed J_ER, an over-long frame, anything unexpected
	classData               // DATA, even with a name or text the rules forbid
	classList               // LIST, even with names the rules forbid
	classNoise              // a line that is no protocol message at all
)

// inbound is one frame a client received.
type inbound struct {
	at    time.Duration    // offset from the scenario's start
	raw   string           // the frame's payload, as received
	msg   protocol.Message // as parsed, possibly partly on error
	err   error            // from protocol.Parse or the frame reader
	class class
}

// String renders the frame for a report: the payload quoted, and why it
// does not parse if it does not.
func (in inbound) String() string {
	if errors.Is(in.err, protocol.ErrLineTooLong) {
		return "a frame longer than the suite's limit"
	}
	s := fmt.Sprintf("%q", in.raw)
	if in.err != nil && in.class != classData && in.class != classList {
		var pe *protocol.ParseError
		if errors.As(in.err, &pe) {
			s += " (" + pe.Err.Error() + ")"
		} else {
			s += " (" + in.err.Error() + ")"
		}
	}
	return s
}

// classify parses a frame and sorts it. Parse is lenient as the protocol
// package documents; beyond that, a DATA or LIST whose names or text break
// the rules is still taken as DATA or LIST (another user's problem must not
// fail this scenario), and a J_ER of the wrong shape is a reply, so that the
// step waiting for J_ER reports it at once.
func classify(raw string) inbound {
	in := inbound{raw: raw}
	in.msg, in.err = protocol.Parse(raw)
	switch in.msg.Kind {
	case protocol.KindData:
		if in.err == nil || !errors.Is(in.err, protocol.ErrMalformed) {
			in.class = classData
			return in
		}
	case protocol.KindList:
		if in.err == nil || errors.Is(in.err, protocol.ErrInvalidName) {
			in.class = classList
			return in
		}
	case protocol.KindOK, protocol.KindError:
		in.class = classReply
		return in
	case protocol.KindInvalid:
		in.class = classNoise
		return in
	}
	in.class = classReply
	return in
}

// client is one connection of a scenario to the server under test.
//
// The scenario's step goroutine owns the fields marked "steps only"; the
// reader goroutine appends to msgs under mu; the heartbeat goroutine only
// writes, under wmu.
type client struct {
	alias string
	name  string // the alias's wire name
	label string // "alice (alice_k3j9x2)", for reports
	w     *world
	conn  net.Conn

	wmu sync.Mutex // serialises writes to conn

	mu     sync.Mutex
	msgs   []inbound     // guarded by mu
	eof    error         // guarded by mu: why reading stopped (io.EOF: closed by the server); nil while open
	notify chan struct{} // signalled (cap 1) when msgs or eof change

	closing   chan struct{} // closed when the suite closes the connection
	closeOnce sync.Once
	readDone  chan struct{} // closed when the reader goroutine returns
	paused    atomic.Bool   // the reader has stopped reading
	silent    atomic.Bool   // the heartbeat must not send
	hbOnce    sync.Once     // starts the heartbeat, at the first JOIN
	joined    atomic.Bool   // J_OK arrived

	// steps only
	quit     bool   // the client sent QUIT
	cur      [3]int // next unread index in msgs, per class (reply, data, list)
	joinMark int    // len(msgs) when the last JOIN was sent
	closed   bool   // the suite closed the connection
}

// dial opens a connection for alias and starts its reader.
func (w *world) dial(ctx context.Context, alias string) (*client, error) {
	d := net.Dialer{Timeout: w.cfg.Wait}
	w.log.event(w.label(alias), "connect to %s", w.cfg.Addr)
	conn, err := d.DialContext(ctx, "tcp", w.cfg.Addr)
	if err != nil {
		w.log.event(w.label(alias), "connect failed: %v", err)
		w.run.connectFailed(w.name, err)
		return nil, &ConnectError{Addr: w.cfg.Addr, Err: err}
	}
	w.run.connected(w.name)
	c := &client{
		alias:    alias,
		name:     w.wireName(alias),
		label:    w.label(alias),
		w:        w,
		conn:     conn,
		notify:   make(chan struct{}, 1),
		closing:  make(chan struct{}),
		readDone: make(chan struct{}),
	}
	go c.read()
	return c, nil
}

// tapReader records every chunk read from the connection, exactly as it
// arrived, and blocks for good once the client stops reading.
type tapReader struct{ c *client }

func (t tapReader) Read(p []byte) (int, error) {
	if t.c.paused.Load() {
		<-t.c.closing
		return 0, net.ErrClosed
	}
	n, err := t.c.conn.Read(p)
	if n > 0 {
		t.c.w.log.bytes(t.c.label, "<-", p[:n])
	}
	return n, err
}

// readLimit is the longest frame the suite reads whole: more than any
// legal message, with room for a long LIST of other users.
const readLimit = 64 << 10

// read runs on the client's reader goroutine until the connection ends.
func (c *client) read() {
	defer close(c.readDone)
	r := c.w.cfg.Framing.NewReader(tapReader{c}, readLimit)
	for {
		raw, err := r.ReadFrame()
		var in inbound
		switch {
		case err == nil:
			in = classify(raw)
		case errors.Is(err, protocol.ErrLineTooLong), errors.Is(err, protocol.ErrBadEncoding):
			in = inbound{err: err, class: classReply}
		default:
			c.mu.Lock()
			c.eof = err
			c.mu.Unlock()
			select {
			case <-c.closing:
			default:
				if errors.Is(err, io.EOF) {
					c.w.log.event(c.label, "connection closed by the server")
				} else {
					c.w.log.event(c.label, "connection ended: %v", err)
				}
			}
			c.signal()
			return
		}
		in.at = c.w.log.since()
		if in.msg.Kind == protocol.KindOK && in.err == nil {
			c.joined.Store(true)
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, in)
		c.mu.Unlock()
		c.signal()
	}
}

func (c *client) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// heartbeat sends IMAV every Config.Heartbeat, counted from the client's
// first JOIN, until the client goes silent or either side closes the
// connection; a tick before J_OK
// arrived sends nothing, so that a client that has not joined never sends
// IMAV. It runs on its own goroutine, started by the first JOIN.
func (c *client) heartbeat() {
	t := time.NewTicker(c.w.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-c.closing:
			return
		case <-c.readDone: // the server closed the connection
			return
		case <-t.C:
			if c.silent.Load() {
				return
			}
			if !c.joined.Load() {
				continue
			}
			if err := c.sendBeat(); err != nil {
				return
			}
		}
	}
}

// send writes b in one write, bounded by Config.Wait, and records it.
func (c *client) send(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.w.log.bytes(c.label, "->", b)
	if err := c.conn.SetWriteDeadline(time.Now().Add(c.w.cfg.Wait)); err != nil {
		return fmt.Errorf("%s: %w", c.alias, err)
	}
	if _, err := c.conn.Write(b); err != nil {
		c.w.log.event(c.label, "write failed: %v", err)
		return &Failure{Expected: "to send " + quoteBytes(b, len(b)), Actual: "the write failed: " + err.Error(), Err: err}
	}
	return nil
}

// sendQuiet is send without recording the bytes: for floods, which the
// step records as one event instead.
func (c *client) sendQuiet(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.conn.SetWriteDeadline(time.Now().Add(c.w.cfg.Wait)); err != nil {
		return fmt.Errorf("%s: %w", c.alias, err)
	}
	if _, err := c.conn.Write(b); err != nil {
		c.w.log.event(c.label, "write failed: %v", err)
		return &Failure{Expected: fmt.Sprintf("to send %d bytes", len(b)), Actual: "the write failed: " + err.Error(), Err: err}
	}
	return nil
}

// sendBeat sends one heartbeat IMAV.
func (c *client) sendBeat() error {
	b, err := c.w.cfg.Framing.AppendMessage(nil, protocol.Alive())
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.w.log.heartbeat(c.label, b)
	if err := c.conn.SetWriteDeadline(time.Now().Add(c.w.cfg.Wait)); err != nil {
		return err
	}
	_, err = c.conn.Write(b)
	return err
}

// sendMessage frames m and sends it.
func (c *client) sendMessage(m protocol.Message) error {
	b, err := c.w.cfg.Framing.AppendMessage(nil, m)
	if err != nil {
		return fmt.Errorf("%s: frame %s: %w", c.alias, m.Kind, err)
	}
	return c.send(b)
}

// sendLine frames a raw payload and sends it.
func (c *client) sendLine(line string) error {
	b, err := c.w.cfg.Framing.AppendFrame(nil, []byte(line))
	if err != nil {
		return fmt.Errorf("%s: frame %q: %w", c.alias, line, err)
	}
	return c.send(b)
}

// usable reports whether the client has joined and neither quit nor
// closed, so that it can send a barrier or receive one.
func (c *client) usable() bool {
	if !c.joined.Load() || c.quit || c.closed || c.paused.Load() {
		return false
	}
	_, eof := c.snapshot()
	return eof == nil
}

// markJoin notes where the replies to a JOIN about to be sent begin, and
// starts the heartbeat's clock.
func (c *client) markJoin() {
	c.mu.Lock()
	c.joinMark = len(c.msgs)
	c.mu.Unlock()
	c.hbOnce.Do(func() { go c.heartbeat() })
}

// snapshot returns what the client has received so far and whether (and
// why) reading stopped.
func (c *client) snapshot() ([]inbound, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.msgs[:len(c.msgs):len(c.msgs)], c.eof
}

// stopReading makes the reader stop reading from the socket, so that what
// the server sends piles up in the kernel's buffers and then the server's.
func (c *client) stopReading() {
	c.paused.Store(true)
	// Keep the kernel's receive buffer small, so that the server notices.
	if tc, ok := c.conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
}

// close sends QUIT if the connection is still open, half-closes it, and
// waits up to the quiet time for the server to close its side, so that
// what the server does about the QUIT (a LIST to the others) is over before
// the next scenario starts. It runs on the step goroutine at the end of the
// scenario.
func (c *client) close() {
	if c.closed {
		return
	}
	c.closed = true
	if _, eof := c.snapshot(); eof == nil {
		if err := c.sendMessage(protocol.Quit()); err == nil && !c.paused.Load() {
			if tc, ok := c.conn.(*net.TCPConn); ok && tc.CloseWrite() == nil {
				c.await(context.Background(), c.w.cfg.Quiet, func(_ []inbound, eof error) bool { return eof != nil })
			}
		}
	}
	c.shut()
}

// shut closes the connection without QUIT and waits for the reader.
func (c *client) shut() {
	c.closed = true
	c.closeOnce.Do(func() {
		close(c.closing)
		c.conn.Close()
	})
	<-c.readDone
}

// reset closes the connection abortively: the kernel sends RST, not FIN,
// as when a client's machine vanishes from the network.
func (c *client) reset() {
	if tc, ok := c.conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.w.log.event(c.label, "connection reset by the suite (RST)")
	c.shut()
}
