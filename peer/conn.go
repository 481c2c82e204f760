// Package peer is one end of a framed chat connection, as a grader holds
// it: it records every byte both ways in a [Transcript], reads every frame
// the other end sends into a list that steps wait on, and writes frames
// with a deadline. The conformance steps dial servers with it; the client
// steps accept clients with it (see [New]).
//
// A [Conn] has a reader goroutine, which appends each frame it reads,
// recognised with [protocol.Recognize], to the connection's message list,
// and, once started, a heartbeat goroutine. Close waits for both. Steps
// wait on the list with [Conn.Wait], [Conn.Expect], [Conn.None] and
// [Barrier]: each returns when its condition holds, the connection ends,
// or its time runs out, whichever is first; none of them sleeps for a
// fixed time.
package peer

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
	"github.com/chatspec/chatspec/report"
)

// Options configures a Conn. The zero value is useful, but for the
// transcript: without one the Conn records into a private one.
type Options struct {
	// Label names the connection in the transcript: "alice (alice_k3j9x2)".
	Label string
	// Framing frames what the Conn reads, and what it sends unless
	// WriteFraming is set.
	Framing protocol.Framing
	// WriteFraming, if not nil, frames what the Conn sends: a grader
	// reads a raw server's replies raw but may send it lines.
	WriteFraming *protocol.Framing
	// Transcript receives every byte and event. Nil: a private one.
	Transcript *Transcript
	// ReadLimit is the longest frame read whole; longer ones are read as a
	// Msg with Err protocol.ErrLineTooLong. Zero means 64 KiB: more than any
	// legal message, with room for a long LIST of other users.
	ReadLimit int
	// WriteTimeout bounds every write. Zero means 5s.
	WriteTimeout time.Duration
	// RawGap is, in FramingRaw, the least time between two writes, so that
	// a peer that takes each read() for one message reads them apart.
	// Zero means 50ms.
	RawGap time.Duration
}

func (o *Options) fill() {
	if o.Transcript == nil {
		o.Transcript = NewTranscript(time.Now())
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 64 << 10
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 5 * time.Second
	}
	if o.RawGap <= 0 {
		o.RawGap = 50 * time.Millisecond
	}
}

// Msg is one message a Conn received: a frame, or one of the messages a
// frame held glued together (see protocol.ShapeGlued).
type Msg struct {
	// At is the offset in the transcript at which the frame was read.
	At time.Duration
	// Frame is the frame's payload, as received (all of it, for a frame
	// that held several messages).
	Frame string
	// Reading is what protocol.Recognize made of it.
	protocol.Reading
	// ReadErr is set for a frame the reader could not take whole:
	// protocol.ErrLineTooLong or protocol.ErrBadEncoding. Reading is then
	// the zero Reading.
	ReadErr error
	// Entry is the index of the frame's transcript entry (-1 if the
	// transcript was full), for Transcript.SetApart.
	Entry int
}

// String renders the message for a report: its frame quoted, and what is
// wrong with it, if anything.
func (m Msg) String() string {
	if m.ReadErr != nil {
		if errors.Is(m.ReadErr, protocol.ErrLineTooLong) {
			return "a frame longer than the suite's limit"
		}
		return "a frame the suite could not read: " + m.ReadErr.Error()
	}
	return fmt.Sprintf("%q", m.Frame)
}

// Conn is one framed connection with a transcript. Its methods are safe
// for concurrent use, but a scenario's steps normally run on one goroutine.
type Conn struct {
	label string
	opts  Options
	conn  net.Conn

	wmu       sync.Mutex // serialises writes to conn
	lastWrite time.Time  // guarded by wmu: for Options.RawGap

	mu     sync.Mutex
	msgs   []Msg         // guarded by mu
	end    error         // guarded by mu: why reading stopped (io.EOF: closed by the other end); nil while open
	notify chan struct{} // cap 1: signalled when msgs or end change

	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	readDone  chan struct{} // closed when the reader returns
	beatDone  chan struct{} // guarded by mu: closed when the heartbeat returns; nil if none started
	paused    atomic.Bool   // StopReading: the reader reads no more
	beating   atomic.Bool   // the heartbeat sends
	byUs      atomic.Bool   // the suite closed or reset the connection
}

// Dial connects to addr and starts reading. The connect and its failure
// are events of the transcript.
func Dial(ctx context.Context, addr string, timeout time.Duration, opts Options) (*Conn, error) {
	opts.fill()
	opts.Transcript.Event(opts.Label, "connect to %s", addr)
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		opts.Transcript.Event(opts.Label, "connect failed: %v", err)
		return nil, fmt.Errorf("peer: connect to %s: %w", addr, err)
	}
	return start(nc, opts), nil
}

// New wraps a connection already open (one a fake server accepted) and
// starts reading it.
func New(nc net.Conn, opts Options) *Conn {
	opts.fill()
	opts.Transcript.Event(opts.Label, "connection from %s", nc.RemoteAddr())
	return start(nc, opts)
}

func start(nc net.Conn, opts Options) *Conn {
	c := &Conn{
		label:    opts.Label,
		opts:     opts,
		conn:     nc,
		notify:   make(chan struct{}, 1),
		closing:  make(chan struct{}),
		readDone: make(chan struct{}),
	}
	go c.read()
	return c
}

// Label returns the connection's name in the transcript.
func (c *Conn) Label() string { return c.label }

// Framing returns the framing the connection reads.
func (c *Conn) Framing() protocol.Framing { return c.opts.Framing }

// Transcript returns the transcript the connection records into.
func (c *Conn) Transcript() *Transcript { return c.opts.Transcript }

// LocalAddr and RemoteAddr return the socket's addresses.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr returns the address of the other end.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// tap records every chunk the reader gets, for FramingRaw and for bytes
// that never complete a frame, and blocks for good once reading stops.
type tap struct{ c *Conn }

func (t tap) Read(p []byte) (int, error) {
	if t.c.paused.Load() {
		<-t.c.closing
		return 0, net.ErrClosed
	}
	n, err := t.c.conn.Read(p)
	if t.c.paused.Load() {
		// StopReading came while this read was under way (and cut it
		// short, or raced it): what it read counts as not read.
		<-t.c.closing
		return 0, net.ErrClosed
	}
	return n, err
}

// read runs on the reader goroutine until the connection ends.
func (c *Conn) read() {
	defer close(c.readDone)
	tr := c.opts.Transcript
	r := c.opts.Framing.NewReader(tap{c}, c.opts.ReadLimit)
	for {
		payload, err := r.ReadFrame()
		if err != nil && !errors.Is(err, protocol.ErrLineTooLong) && !errors.Is(err, protocol.ErrBadEncoding) {
			c.mu.Lock()
			c.end = err
			c.mu.Unlock()
			if !c.byUs.Load() {
				switch {
				case errors.Is(err, io.EOF):
					tr.Event(c.label, "connection closed by the other end")
				case errors.Is(err, io.ErrUnexpectedEOF):
					tr.Event(c.label, "connection closed by the other end inside a frame")
				default:
					tr.Event(c.label, "connection ended: %v", err)
				}
			}
			c.signal()
			return
		}
		at := tr.Since()
		var msgs []Msg
		if err != nil {
			idx := tr.add(report.Entry{At: at, Conn: c.label, Dir: report.Received, Note: err.Error()})
			msgs = []Msg{{At: at, ReadErr: err, Entry: idx}}
		} else {
			idx := tr.bytes(at, c.label, report.Received, r.Bytes(), false)
			recognize := protocol.Recognize
			if c.opts.Framing == protocol.FramingRaw {
				recognize = protocol.RecognizeRaw
			}
			for _, rd := range recognize(payload) {
				msgs = append(msgs, Msg{At: at, Frame: payload, Reading: rd, Entry: idx})
			}
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, msgs...)
		c.mu.Unlock()
		c.signal()
	}
}

func (c *Conn) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// Send writes b in one write (after Options.RawGap in FramingRaw),
// bounded by Options.WriteTimeout, and records it.
func (c *Conn) Send(b []byte) error { return c.write(b, true, false) }

// SendQuiet is Send without recording the bytes, for floods: the caller
// records one event for them instead.
func (c *Conn) SendQuiet(b []byte) error { return c.write(b, false, false) }

// writeFraming is the framing of what the Conn sends.
func (c *Conn) writeFraming() protocol.Framing {
	if c.opts.WriteFraming != nil {
		return *c.opts.WriteFraming
	}
	return c.opts.Framing
}

// SendMessage frames m and sends it.
func (c *Conn) SendMessage(m protocol.Message) error {
	b, err := c.writeFraming().AppendMessage(nil, m)
	if err != nil {
		return fmt.Errorf("peer: %s: frame %s: %w", c.label, m.Kind, err)
	}
	return c.Send(b)
}

// SendFrame frames a payload, which need not be a valid message, and
// sends it.
func (c *Conn) SendFrame(payload string) error {
	b, err := c.writeFraming().AppendFrame(nil, []byte(payload))
	if err != nil {
		return fmt.Errorf("peer: %s: frame %q: %w", c.label, payload, err)
	}
	return c.Send(b)
}

// WriteError is the error of a write that failed: the other end closed
// the connection, or stopped reading until the write timed out.
type WriteError struct {
	Label string
	Err   error
}

// Error says which connection could not write and why.
func (e *WriteError) Error() string { return fmt.Sprintf("%s: write: %v", e.Label, e.Err) }

// Unwrap returns the socket's error.
func (e *WriteError) Unwrap() error { return e.Err }

func (c *Conn) write(b []byte, record, beat bool) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.opts.Framing == protocol.FramingRaw && !c.lastWrite.IsZero() {
		if wait := c.opts.RawGap - time.Since(c.lastWrite); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-c.closing:
				t.Stop()
				return &WriteError{Label: c.label, Err: net.ErrClosed}
			}
		}
	}
	if record {
		c.opts.Transcript.bytes(c.opts.Transcript.Since(), c.label, report.Sent, b, beat)
	}
	if err := c.conn.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout)); err != nil {
		return &WriteError{Label: c.label, Err: err}
	}
	_, err := c.conn.Write(b)
	c.lastWrite = time.Now()
	if err != nil {
		if record && !c.byUs.Load() {
			c.opts.Transcript.Event(c.label, "write failed: %v", err)
		}
		return &WriteError{Label: c.label, Err: err}
	}
	return nil
}

// LastWrite returns when the connection last wrote (heartbeats
// included), or the zero time.
func (c *Conn) LastWrite() time.Time {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.lastWrite
}

// Snapshot returns what the connection has received so far and why
// reading stopped (nil while it is open; io.EOF: closed by the other end).
func (c *Conn) Snapshot() ([]Msg, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.msgs[:len(c.msgs):len(c.msgs)], c.end
}

// Len returns how many messages the connection has received.
func (c *Conn) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// Ended reports why reading stopped, or nil while the connection is open.
func (c *Conn) Ended() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.end
}

// StartHeartbeat starts a goroutine that sends frame every interval while
// beating is on (see SetBeating), until the connection closes. It starts
// once; later calls do nothing. Close waits for it.
func (c *Conn) StartHeartbeat(interval time.Duration, frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.beatDone != nil || c.Closed() {
		return
	}
	done := make(chan struct{})
	c.beatDone = done
	go c.heartbeat(interval, frame, done)
}

// SetBeating turns the heartbeat's sending on or off.
func (c *Conn) SetBeating(on bool) { c.beating.Store(on) }

// Beating reports whether the heartbeat sends.
func (c *Conn) Beating() bool { return c.beating.Load() }

func (c *Conn) heartbeat(interval time.Duration, frame []byte, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.closing:
			return
		case <-c.readDone:
			return
		case <-t.C:
			if !c.beating.Load() {
				continue
			}
			if err := c.write(frame, true, true); err != nil {
				return
			}
		}
	}
}

// StopReading makes the reader stop reading, so that what the other end
// sends piles up in the kernel's buffers and then in the other end's.
func (c *Conn) StopReading() {
	c.paused.Store(true)
	// Cut short a read already waiting, so that nothing more is read.
	_ = c.conn.SetReadDeadline(time.Now())
	if tc, ok := c.conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096) // keep the kernel's buffer small, so the other end notices
	}
	c.opts.Transcript.Event(c.label, "stops reading")
}

// Paused reports whether StopReading was called.
func (c *Conn) Paused() bool { return c.paused.Load() }

// CloseWrite half-closes the connection: the other end reads EOF, and the
// Conn still reads what it sends.
func (c *Conn) CloseWrite() error {
	if tc, ok := c.conn.(interface{ CloseWrite() error }); ok {
		c.opts.Transcript.Event(c.label, "half-closes the connection (FIN)")
		return tc.CloseWrite()
	}
	return errors.ErrUnsupported
}

// Close closes the connection and waits for the reader and the heartbeat
// to end. It is safe to call more than once.
func (c *Conn) Close() {
	c.closeOnce.Do(func() {
		if c.Ended() == nil {
			c.byUs.Store(true)
		}
		close(c.closing)
		c.conn.Close()
	})
	<-c.readDone
	c.mu.Lock()
	done := c.beatDone
	c.mu.Unlock()
	if done != nil {
		<-done
	}
}

// Reset closes the connection abortively: the kernel sends RST, not FIN,
// as when a client's machine vanishes from the network.
func (c *Conn) Reset() {
	if tc, ok := c.conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.opts.Transcript.Event(c.label, "connection reset (RST)")
	c.Close()
}

// Closed reports whether Close (or Reset) was called.
func (c *Conn) Closed() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}
