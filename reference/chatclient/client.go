package chatclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// Defaults for the zero fields of a Config.
const (
	// DefaultHeartbeat is the IMAV interval the assignment asks for.
	DefaultHeartbeat = time.Minute
	// DefaultWriteTimeout bounds each write to the server.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultCloseTimeout bounds how long Close waits, after QUIT, for the
	// server to close its side.
	DefaultCloseTimeout = 2 * time.Second
	// DefaultJoinTimeout bounds how long Join waits for J_OK or J_ER.
	DefaultJoinTimeout = 30 * time.Second
	// DefaultEventBuffer is how many events wait for the caller before the
	// reader stops reading from the server.
	DefaultEventBuffer = 256
	// DefaultMaxLineBytes is the longest frame read from the server. A
	// LIST grows with the room (13 bytes a name), far past
	// protocol.DefaultMaxLineBytes: this holds one of 80,000 names.
	DefaultMaxLineBytes = 1 << 20
	// sendQueue is how many messages wait for the writer before Send blocks.
	sendQueue = 64
)

// Config configures a Client. The zero value is useful.
type Config struct {
	// Heartbeat is the interval between IMAV heartbeats while joined. If
	// zero, DefaultHeartbeat is used; if negative, no heartbeat is sent.
	Heartbeat time.Duration
	// Framing is how messages are delimited on the wire. The zero value is
	// protocol.FramingLine.
	Framing protocol.Framing
	// MaxLineBytes is the longest frame accepted from the server; the
	// reader's buffer is this big. If zero, DefaultMaxLineBytes is used.
	MaxLineBytes int
	// WriteTimeout bounds each write. If zero, DefaultWriteTimeout is used.
	WriteTimeout time.Duration
	// CloseTimeout bounds how long Close waits for the server to close its
	// side after QUIT. If zero, DefaultCloseTimeout is used.
	CloseTimeout time.Duration
	// JoinTimeout bounds how long Join waits for the server's answer. If
	// zero, DefaultJoinTimeout is used.
	JoinTimeout time.Duration
	// EventBuffer is the capacity of the Events channel. If zero,
	// DefaultEventBuffer is used.
	EventBuffer int
}

func (cfg Config) withDefaults() Config {
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = DefaultMaxLineBytes
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = DefaultCloseTimeout
	}
	if cfg.JoinTimeout <= 0 {
		cfg.JoinTimeout = DefaultJoinTimeout
	}
	if cfg.EventBuffer <= 0 {
		cfg.EventBuffer = DefaultEventBuffer
	}
	return cfg
}

// Client is one connection to a chat server. Its methods are safe for
// concurrent use. Create it with Dial (or New on a connection you have),
// Join once, read Events until the channel closes, and Close it.
type Client struct {
	conn     net.Conn
	cfg      Config
	joinAddr string // "ip:port" of the server for the JOIN line, or ""

	events    chan Event            // sent on by the reader only; closed when it ends
	out       chan protocol.Message // to the writer
	closing   chan struct{}         // closed by Close (once)
	closeOnce sync.Once
	joinedCh  chan struct{} // closed by the reader on J_OK: the writer starts the heartbeat
	readDone  chan struct{} // closed when the reader has ended (the connection is closed)
	writeDone chan struct{} // closed when the writer has ended

	mu       sync.Mutex
	reply    chan protocol.Message // guarded by mu: the waiting Join's answer channel, or nil
	pending  string                // guarded by mu: the name the waiting Join asked for
	joined   bool                  // guarded by mu
	name     string                // guarded by mu: the joined name
	err      error                 // guarded by mu: why the connection ended, once it has
	writeErr error                 // guarded by mu: the first write error
}

// Dial connects to the chat server at addr ("host:port") and returns a
// Client that has not joined yet. ctx bounds the connection attempt only.
func Dial(ctx context.Context, addr string, cfg Config) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		// "cannot reach host:port: connection refused" reads better than
		// the net package's "dial tcp host:port: connect: ...".
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			err = oe.Err
			var se *os.SyscallError
			if errors.As(err, &se) {
				err = se.Err
			}
		}
		return nil, fmt.Errorf("chatclient: cannot reach %s: %w", addr, err)
	}
	return New(conn, cfg), nil
}

// New returns a Client speaking over conn, which it owns from now on. It
// starts the client's reader and writer goroutines; Close stops them.
func New(conn net.Conn, cfg Config) *Client {
	cfg = cfg.withDefaults()
	c := &Client{
		conn:      conn,
		cfg:       cfg,
		events:    make(chan Event, cfg.EventBuffer),
		out:       make(chan protocol.Message, sendQueue),
		closing:   make(chan struct{}),
		joinedCh:  make(chan struct{}),
		readDone:  make(chan struct{}),
		writeDone: make(chan struct{}),
	}
	// The JOIN line names the server as "ip:port", as the assignment's
	// example does; a connection without a TCP address (net.Pipe) omits it.
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		c.joinAddr = a.String()
	}
	go c.readLoop()
	go c.writeLoop()
	return c
}

// RemoteAddr returns the server's address.
func (c *Client) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// Name returns the name the client joined under, or "" before J_OK.
func (c *Client) Name() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.name
}

// Events returns the channel of what the server sends. It is closed when
// the connection ends; Err then says why. The caller must keep receiving
// from it: when its buffer is full the client stops reading the server.
func (c *Client) Events() <-chan Event { return c.events }

// Done returns a channel that is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.readDone }

// Err returns nil while the connection is open; afterwards ErrClosed if
// Close ended it, or an error wrapping ErrConnLost that says what happened.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Join sends JOIN with name and waits for the server's answer: nil on J_OK,
// a *JoinError on J_ER. The name is checked with protocol.ValidName first
// and not sent if it is invalid (the error wraps protocol.ErrInvalidName).
// If the connection ends first, the error wraps ErrConnLost or ErrClosed;
// if ctx ends or Config.JoinTimeout passes first, ctx's error or a
// *NoAnswerError (which unwraps to ErrNoAnswer)
// (the client should then be closed: the server may yet accept the name).
func (c *Client) Join(ctx context.Context, name string) error {
	if err := protocol.ValidName(name); err != nil {
		return fmt.Errorf("chatclient: join: %w", err)
	}
	reply := make(chan protocol.Message, 1)
	c.mu.Lock()
	switch {
	case c.err != nil:
		err := c.err
		c.mu.Unlock()
		return fmt.Errorf("chatclient: join %q: %w", name, err)
	case c.joined:
		c.mu.Unlock()
		return fmt.Errorf("chatclient: join %q: %w", name, ErrAlreadyJoined)
	case c.reply != nil:
		c.mu.Unlock()
		return fmt.Errorf("chatclient: join %q: %w", name, ErrJoinPending)
	}
	c.reply, c.pending = reply, name
	c.mu.Unlock()

	timer := time.NewTimer(c.cfg.JoinTimeout)
	defer timer.Stop()
	if err := c.enqueue(protocol.Join(name, c.joinAddr)); err != nil {
		c.dropReply(reply)
		return fmt.Errorf("chatclient: join %q: %w", name, err)
	}
	select {
	case m := <-reply:
		return joinResult(name, m)
	case <-c.readDone:
		select { // an answer that arrived just before the end counts
		case m := <-reply:
			return joinResult(name, m)
		default:
		}
		return fmt.Errorf("chatclient: join %q: %w", name, c.Err())
	case <-ctx.Done():
		c.dropReply(reply)
		return fmt.Errorf("chatclient: join %q: %w", name, ctx.Err())
	case <-timer.C:
		c.dropReply(reply)
		return fmt.Errorf("chatclient: join %q: %w", name, &NoAnswerError{Timeout: c.cfg.JoinTimeout, Framing: c.cfg.Framing})
	}
}

func joinResult(name string, m protocol.Message) error {
	if m.Kind == protocol.KindOK {
		return nil
	}
	return &JoinError{Name: name, Code: m.Code, Text: m.Text}
}

// dropReply withdraws a Join's answer channel if it is still the waiting one.
func (c *Client) dropReply(reply chan protocol.Message) {
	c.mu.Lock()
	if c.reply == reply {
		c.reply, c.pending = nil, ""
	}
	c.mu.Unlock()
}

// Send sends text as a DATA line under the joined name. The text is checked
// with protocol.ValidText first and not sent if it is invalid: the error
// wraps protocol.ErrTextTooLong or protocol.ErrInvalidText and says why in
// words. Send returns once the line is queued for the writer; the server's
// relay of it arrives as an EventMessage.
func (c *Client) Send(text string) error {
	if err := protocol.ValidText(text); err != nil {
		return textError(text, err)
	}
	c.mu.Lock()
	joined, name, err := c.joined, c.name, c.err
	c.mu.Unlock()
	switch {
	case err != nil:
		return fmt.Errorf("chatclient: send: %w", err)
	case !joined:
		return fmt.Errorf("chatclient: send: %w", ErrNotJoined)
	}
	if err := c.enqueue(protocol.Data(name, text)); err != nil {
		return fmt.Errorf("chatclient: send: %w", err)
	}
	return nil
}

// enqueue hands m to the writer.
func (c *Client) enqueue(m protocol.Message) error {
	select {
	case <-c.closing:
		return ErrClosed
	default:
	}
	select {
	case c.out <- m:
		return nil
	case <-c.closing:
		return ErrClosed
	case <-c.writeDone:
		<-c.readDone // the writer ends with the connection; Err is set by then
		return c.Err()
	}
}

// Close sends QUIT (after anything Send has queued), waits a short while
// (Config.CloseTimeout) for the server to close its side, and closes the
// connection. It is safe to call more than once and from any goroutine;
// Events is closed when it returns. It returns nil: the connection ends
// either way.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { close(c.closing) })
	<-c.writeDone
	// Wait for the server's FIN rather than reset the connection under a
	// QUIT the server has not read yet. The deadline bounds the wait.
	_ = c.conn.SetReadDeadline(time.Now().Add(c.cfg.CloseTimeout))
	<-c.readDone
	return nil
}

// readLoop is the reader goroutine: it owns the frame reader and the last
// LIST, and ends (closing the connection and Events) when reading fails.
func (c *Client) readLoop() {
	defer close(c.readDone)
	defer close(c.events)
	r := c.cfg.Framing.NewReader(c.conn, c.cfg.MaxLineBytes)
	var online []string // the last LIST; nil before the first
	for {
		line, err := r.ReadFrame()
		switch {
		case errors.Is(err, protocol.ErrLineTooLong):
			c.emit(Event{Kind: EventUnknown, Text: fmt.Sprintf("(a frame over %d bytes, skipped)", c.cfg.MaxLineBytes)})
			continue
		case errors.Is(err, protocol.ErrBadEncoding):
			c.emit(Event{Kind: EventUnknown, Text: "(a frame that is not modified UTF-8, skipped)"})
			continue
		case err != nil:
			c.finish(err)
			return
		}
		m, perr := protocol.Parse(line)
		switch m.Kind {
		case protocol.KindData:
			if errors.Is(perr, protocol.ErrMalformed) {
				c.emit(Event{Kind: EventUnknown, Text: line})
				continue
			}
			// A name or text that breaks the rules is still shown: SafeText
			// makes it harmless, and hiding it would hide the server's bug.
			c.emit(Event{Kind: EventMessage, Name: m.Name, Text: m.Text})
		case protocol.KindList:
			names := m.Names
			if names == nil {
				names = []string{}
			}
			if online != nil {
				joined, left := diffNames(online, names)
				for _, n := range left {
					c.emit(Event{Kind: EventLeft, Name: n, Names: names})
				}
				for _, n := range joined {
					c.emit(Event{Kind: EventJoined, Name: n, Names: names})
				}
			}
			online = names
			c.emit(Event{Kind: EventOnline, Names: names})
		case protocol.KindOK:
			if !c.answerJoin(m) {
				c.emit(Event{Kind: EventUnknown, Text: line})
			}
		case protocol.KindError:
			if perr != nil {
				c.emit(Event{Kind: EventUnknown, Text: line})
				continue
			}
			if !c.answerJoin(m) {
				c.emit(Event{Kind: EventError, Code: m.Code, Text: m.Text})
			}
		default:
			c.emit(Event{Kind: EventUnknown, Text: line})
		}
	}
}

// answerJoin hands J_OK or J_ER to a waiting Join and reports whether one
// was waiting. On J_OK the client is joined from here on.
func (c *Client) answerJoin(m protocol.Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reply == nil {
		return false
	}
	c.reply <- m // buffered, and this is its only send
	if m.Kind == protocol.KindOK {
		c.joined, c.name = true, c.pending
		close(c.joinedCh)
	}
	c.reply, c.pending = nil, ""
	return true
}

// emit delivers ev to Events, or drops it once Close has been called (no
// one need be reading then).
func (c *Client) emit(ev Event) {
	select {
	case c.events <- ev:
	case <-c.closing:
	}
}

// finish records why the connection ended and closes it. Called by the
// reader only, once.
func (c *Client) finish(readErr error) {
	c.conn.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.closing:
		c.err = ErrClosed
		return
	default:
	}
	switch {
	case c.writeErr != nil:
		c.err = fmt.Errorf("%w: write: %w", ErrConnLost, c.writeErr)
	case errors.Is(readErr, io.EOF):
		c.err = fmt.Errorf("%w: the server closed the connection", ErrConnLost)
	case errors.Is(readErr, io.ErrUnexpectedEOF):
		c.err = fmt.Errorf("%w: the server closed the connection mid-message", ErrConnLost)
	default:
		c.err = fmt.Errorf("%w: %w", ErrConnLost, readErr)
	}
}

// writeLoop is the writer goroutine: it owns every write to the connection
// and the heartbeat ticker, which runs from J_OK until the end.
func (c *Client) writeLoop() {
	defer close(c.writeDone)
	joined := c.joinedCh
	if c.cfg.Heartbeat < 0 {
		joined = nil
	}
	var tick <-chan time.Time
	var buf []byte
	write := func(m protocol.Message) bool {
		var err error
		buf, err = c.cfg.Framing.AppendMessage(buf[:0], m)
		if err == nil {
			_ = c.conn.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
			_, err = c.conn.Write(buf)
		}
		if err != nil {
			c.mu.Lock()
			if c.writeErr == nil {
				c.writeErr = err
			}
			c.mu.Unlock()
			c.conn.Close() // ends the reader, which records the error
			return false
		}
		return true
	}
	for {
		select {
		case <-joined:
			t := time.NewTicker(c.cfg.Heartbeat)
			defer t.Stop()
			tick, joined = t.C, nil
		case <-tick:
			if !write(protocol.Alive()) {
				return
			}
		case m := <-c.out:
			if !write(m) {
				return
			}
		case <-c.closing:
			for {
				select {
				case m := <-c.out:
					if !write(m) {
						return
					}
					continue
				default:
				}
				break
			}
			if write(protocol.Quit()) {
				if cw, ok := c.conn.(interface{ CloseWrite() error }); ok {
					_ = cw.CloseWrite()
				}
			}
			return
		case <-c.readDone:
			return
		}
	}
}
