package chatserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatroom"
)

// conn is one client connection. Its fields are read-only after newConn,
// except those the reader goroutine owns.
type conn struct {
	srv        *Server
	rwc        net.Conn
	id         uint64
	remote     string
	out        *outbox
	writerDone chan struct{} // closed when the writer goroutine ends

	member     *chatroom.Member // owned by the reader goroutine: nil until J_OK
	deadline   time.Time        // owned by the reader goroutine: the read deadline (the heartbeat's)
	allow      allowance        // owned by the reader goroutine: DATA it may send into a congested room
	pauseTimer *time.Timer      // owned by the reader goroutine: wakes a pause when a token is due; nil until needed
}

// endReason says why a connection's reader stopped.
type endReason int

const (
	endEOF      endReason = iota // the peer closed its side
	endQuit                      // the peer sent QUIT
	endFull                      // the server is full (J_ER 503 sent)
	endTimeout                   // heartbeat timeout: no complete frame in time
	endShutdown                  // Server.Shutdown asked the reader to stop
	endError                     // a read error, or the writer or Close closed the socket
)

var endReasonNames = [...]string{"eof", "quit", "server full", "heartbeat timeout", "shutdown", "error"}

func (r endReason) String() string { return endReasonNames[r] }

// graceful reports whether the frames queued for the peer should still be
// written before the connection closes.
func (r endReason) graceful() bool { return r != endError }

// serve runs the reader on the calling goroutine and the writer on a new
// one, and cleans up after both.
func (c *conn) serve() {
	defer c.srv.forget(c)
	log := c.srv.log
	log.Debug("connected", "conn", c.id, "remote", c.remote)

	go c.writeLoop()
	reason, err := c.readLoop()

	if c.member != nil && c.srv.room.Leave(c.member) {
		log.Info("left", "conn", c.id, "name", c.member.Name, "reason", reason.String())
	}
	if reason.graceful() {
		c.out.drain()
	} else {
		c.out.abort()
		c.rwc.Close()
	}
	<-c.writerDone
	c.rwc.Close()
	attrs := []any{"conn", c.id, "remote", c.remote, "reason", reason.String()}
	if err != nil && reason == endError {
		attrs = append(attrs, "err", err)
	}
	log.Debug("disconnected", attrs...)
}

// abort closes the connection at once; both goroutines then end.
func (c *conn) abort() {
	c.out.abort()
	c.rwc.Close()
}

// stopReading makes the reader stop after the frame it is on; the
// connection then closes gracefully. Server.stopping must be set first.
func (c *conn) stopReading() { _ = c.rwc.SetReadDeadline(aLongTimeAgo) }

// errWriterGone ends a reader that was paused when its writer stopped.
var errWriterGone = errors.New("chatserver: writer stopped")

// readLoop reads and handles frames until the connection must end.
func (c *conn) readLoop() (endReason, error) {
	s := c.srv
	c.deadline = time.Now().Add(s.cfg.HeartbeatTimeout)
	if err := c.rwc.SetReadDeadline(c.deadline); err != nil {
		return endError, err
	}
	var fr *frameReader // lent while there are bytes to read; nil when idle
	defer func() {
		switch {
		case fr == nil:
		case fr.idle():
			s.putReader(fr)
		default:
			s.dropReader()
		}
	}()
	var one [1]byte
	for {
		// Pause before the next frame if the client must wait (see
		// "Overload" in the package doc); the pause moves the read
		// deadline, so check for a shutdown after it.
		if c.mustPause() && !c.pause() && !s.stopping.Load() {
			return endError, errWriterGone
		}
		if s.stopping.Load() {
			return endShutdown, nil
		}
		if fr == nil {
			// Idle: wait for a byte without holding a buffer. The read
			// deadline is the heartbeat's, as for any read.
			if _, err := io.ReadFull(c.rwc, one[:]); err != nil {
				return c.readEnd(err)
			}
			fr = s.getReader(c.rwc, one[0])
		}
		line, err := fr.r.ReadFrame()
		switch {
		case err == nil:
		case errors.Is(err, protocol.ErrLineTooLong):
			// Not a complete frame: answer, but do not move the deadline.
			s.log.Debug("request", "conn", c.id, "err", err)
			c.replyCode(protocol.CodeLineTooLong)
			continue
		case errors.Is(err, protocol.ErrBadEncoding):
			// A complete writeUTF frame, badly encoded.
			s.log.Debug("request", "conn", c.id, "err", err)
			c.replyCode(protocol.CodeInvalidText)
			if err := c.refresh(); err != nil {
				return endError, err
			}
			if fr.idle() {
				s.putReader(fr)
				fr = nil
			}
			continue
		default:
			// Mid-frame: not fit for another connection.
			s.dropReader()
			fr = nil
			return c.readEnd(err)
		}
		if err := c.refresh(); err != nil {
			return endError, err
		}
		if fr.idle() {
			s.putReader(fr)
			fr = nil
		}
		if reason, stop := c.handle(line); stop {
			return reason, nil
		}
	}
}

// readEnd says why a read failed, and logs a heartbeat timeout.
func (c *conn) readEnd(err error) (endReason, error) {
	s := c.srv
	switch {
	case s.stopping.Load():
		return endShutdown, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		if c.member != nil {
			s.log.Info("heartbeat timeout", "conn", c.id, "name", c.member.Name,
				"last", c.member.LastHeartbeat().Format(time.RFC3339))
		} else {
			s.log.Debug("heartbeat timeout", "conn", c.id)
		}
		return endTimeout, err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return endEOF, nil
	default:
		return endError, err
	}
}

// refresh moves the heartbeat deadline after a complete frame.
func (c *conn) refresh() error {
	now := time.Now()
	if c.member != nil {
		c.member.Touch(now)
	}
	c.deadline = now.Add(c.srv.cfg.HeartbeatTimeout)
	return c.rwc.SetReadDeadline(c.deadline)
}

// handle answers one request. It reports whether the connection must end.
func (c *conn) handle(line string) (endReason, bool) {
	s := c.srv
	debug := s.log.Enabled(context.Background(), slog.LevelDebug)
	if debug {
		s.log.Debug("request", "conn", c.id, "line", quoted(line))
	}
	m, err := protocol.Parse(line)
	switch m.Kind {
	case protocol.KindJoin:
		return c.join(m, err)
	case protocol.KindData:
		c.data(m, err)
	case protocol.KindAlive:
		if err != nil {
			c.replyCode(protocol.CodeBadCommand)
		}
	case protocol.KindQuit:
		if err != nil {
			c.replyCode(protocol.CodeBadCommand)
			return 0, false
		}
		return endQuit, true
	case protocol.KindOK, protocol.KindError, protocol.KindList:
		c.reply(protocol.CodeBadCommand, m.Kind.String()+" is sent by the server, not by a client")
	default:
		c.replyCode(protocol.CodeOf(err))
	}
	return 0, false
}

// join handles JOIN.
func (c *conn) join(m protocol.Message, perr error) (endReason, bool) {
	s := c.srv
	if perr != nil {
		c.replyCode(protocol.CodeOf(perr))
		return 0, false
	}
	if c.member != nil {
		c.replyCode(protocol.CodeAlreadyJoined)
		return 0, false
	}
	mem := &chatroom.Member{Name: m.Name, Addr: m.Addr, Remote: c.remote, Out: c.out, Disconnect: c.abort}
	err := s.room.Join(mem, time.Now())
	switch {
	case err == nil:
		c.member = mem
		s.log.Info("joined", "conn", c.id, "name", m.Name, "remote", c.remote, "addr", quoted(m.Addr))
		if s.log.Enabled(context.Background(), slog.LevelDebug) {
			s.log.Debug("response", "conn", c.id, "line", protocol.VerbOK)
		}
	case errors.Is(err, chatroom.ErrNameTaken):
		c.replyCode(protocol.CodeDuplicateName)
	case errors.Is(err, chatroom.ErrFull), errors.Is(err, chatroom.ErrClosed):
		c.replyCode(protocol.CodeServerFull)
		return endFull, true
	case errors.Is(err, ErrUnavailable):
		c.reply(protocol.CodeServerFull, unavailableText)
	default:
		c.replyCode(protocol.CodeOf(err))
	}
	return 0, false
}

// data handles DATA.
func (c *conn) data(m protocol.Message, perr error) {
	switch {
	case errors.Is(perr, protocol.ErrMalformed):
		c.replyCode(protocol.CodeBadCommand)
	case c.member == nil:
		c.replyCode(protocol.CodeNotJoined)
	case m.Name != c.member.Name:
		c.replyCode(protocol.CodeNameMismatch)
	case perr != nil:
		c.replyCode(protocol.CodeOf(perr))
	default:
		if err := c.srv.room.Say(c.member, m.Text); err != nil {
			if errors.Is(err, ErrUnavailable) {
				c.reply(protocol.CodeServerFull, unavailableText)
				return
			}
			c.replyCode(sayCode(err))
			return
		}
		c.allow.spend(time.Now())
		if c.srv.log.Enabled(context.Background(), slog.LevelDebug) {
			c.srv.log.Debug("broadcast", "conn", c.id, "name", c.member.Name, "text", quoted(m.Text))
		}
	}
}

// sayCode maps an error of Room.Say to a J_ER code.
func sayCode(err error) protocol.Code {
	if errors.Is(err, chatroom.ErrNotMember) {
		return protocol.CodeNotJoined
	}
	return protocol.CodeOf(err)
}

// replyCode queues "J_ER <code>: <default text>" to this connection.
func (c *conn) replyCode(code protocol.Code) {
	frame, ok := c.srv.errFrames[code]
	if !ok {
		c.reply(code, code.Text())
		return
	}
	c.logResponse(protocol.Error(code, code.Text()))
	c.send(frame)
}

// reply queues "J_ER <code>: <text>" to this connection.
func (c *conn) reply(code protocol.Code, text string) {
	msg := protocol.Error(code, text)
	frame, err := c.srv.cfg.Framing.AppendMessage(nil, msg)
	if err != nil {
		frame = c.srv.errFrames[protocol.CodeBadCommand]
	}
	c.logResponse(msg)
	c.send(frame)
}

// send queues a reply to this connection's own request: through the room
// once joined, so that it follows what the connection's earlier requests
// made the room send it (a cluster room delivers those later).
func (c *conn) send(frame []byte) {
	if c.member != nil {
		c.srv.room.Reply(c.member, frame)
		return
	}
	c.out.Send(frame)
}

func (c *conn) logResponse(msg protocol.Message) {
	if c.srv.log.Enabled(context.Background(), slog.LevelDebug) {
		c.srv.log.Debug("response", "conn", c.id, "line", quoted(msg.String()))
	}
}

// writeLoop is the writer goroutine: it writes batches from the outbox
// until the outbox says stop or a write fails, then closes the socket if
// the stop was not a graceful drain.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	var batch [][]byte
	for {
		var err error
		batch, err = c.out.next(batch)
		if err == nil {
			err = c.write(batch)
		}
		if err == nil {
			continue
		}
		// A write cut short by abort (Close, or the reader giving up) or
		// by overflow fails with a deadline error: log the real reason.
		err = c.out.cause(err)
		switch {
		case errors.Is(err, errDrained), errors.Is(err, errAborted):
		case errors.Is(err, errSlowConsumer), errors.Is(err, errStalled), errors.Is(err, errHeldRoom),
			errors.Is(err, os.ErrDeadlineExceeded):
			c.srv.log.Info("slow consumer dropped", "conn", c.id, "remote", c.remote, "err", err)
			c.out.abort() // hold no sender back any more
			c.rwc.Close()
		default:
			c.srv.log.Debug("write", "conn", c.id, "err", err)
			c.rwc.Close()
		}
		return
	}
}

// write writes a batch of frames in as few writes as it can: small frames
// are copied into one pooled buffer, a frame bigger than the buffer (a long
// LIST) is written on its own.
func (c *conn) write(batch [][]byte) error {
	progress := time.Now() // when the peer last took a byte, or the batch began
	if len(batch) == 1 {
		return c.writeAll(batch[0], &progress)
	}
	bp := c.srv.bufs.Get().(*[]byte)
	defer c.srv.bufs.Put(bp)
	buf := (*bp)[:0]
	for _, f := range batch {
		if len(buf)+len(f) > cap(buf) && len(buf) > 0 {
			if err := c.writeAll(buf, &progress); err != nil {
				return err
			}
			buf = buf[:0]
		}
		if len(f) >= cap(buf) {
			if err := c.writeAll(f, &progress); err != nil {
				return err
			}
			continue
		}
		buf = append(buf, f...)
	}
	if len(buf) > 0 {
		return c.writeAll(buf, &progress)
	}
	return nil
}

// writeAll writes b. A write that reaches its deadline goes on if the peer
// has taken a byte recently enough (outbox.rearm): a reader that keeps
// reading, however slowly, is not cut off mid-batch. *progress is when the
// peer last took a byte, as seen at the end of a write call.
func (c *conn) writeAll(b []byte, progress *time.Time) error {
	for {
		n, err := c.rwc.Write(b)
		if n > 0 {
			*progress = time.Now()
		}
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		if err := c.out.rearm(*progress); err != nil {
			return err
		}
		b = b[n:]
	}
}

// quoted escapes s for a log: control characters, invalid UTF-8 and quotes
// come out as Go escapes, so user input can never end a log line or forge
// one, whatever the handler. (strconv.Quote without the outer quotes; the
// handler adds its own quoting where it needs it.)
type quoted string

// LogValue implements slog.LogValuer.
func (q quoted) LogValue() slog.Value {
	s := strconv.Quote(string(q))
	return slog.StringValue(s[1 : len(s)-1])
}
