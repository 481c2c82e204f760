package faultproxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// Session is one proxied client connection and its connection to the
// server. Its exported fields and methods are safe to use from any
// goroutine, in particular from a Fault's hooks, which run on the session's
// two goroutines (one per [Direction]).
type Session struct {
	// ID numbers the sessions of a proxy from 1, in accept order.
	ID int

	p        *Proxy
	opened   time.Time // when the proxy accepted the client
	client   net.Conn  // the accepted connection
	upstream net.Conn  // the connection to the server
	done     chan struct{}

	closeOnce, clientOnce, upstreamOnce sync.Once
	pumps                               atomic.Int32 // goroutines still running
	keepUpstream, keepClient            atomic.Bool
	fromClient                          atomic.Int64 // bytes read from the client
	lastFromClient                      atomic.Int64 // unix nanoseconds of the last read from the client
	clientLeft                          atomic.Bool  // the client's side has ended
	serverLeft                          atomic.Bool  // the server's side has ended

	wmu [2]sync.Mutex // wmu[ToServer] serialises writes to upstream, wmu[ToClient] to client

	mu         sync.Mutex
	joined     bool      // the server answered J_OK to a JOIN; guarded by mu
	name       string    // the name of that JOIN as the client sent it; guarded by mu
	serverName string    // the name of that JOIN as the server received it; guarded by mu
	pending    []request // requests sent before joining, awaiting J_OK/J_ER; guarded by mu
	joinFrom   *string   // the client's name while a JOIN frame is being handled; guarded by mu
}

// request is a frame forwarded to the server before the session joined,
// which the server answers with one J_OK or J_ER.
type request struct {
	join   bool   // a well-formed JOIN
	client string // JOIN: the name the client sent
	server string // JOIN: the name forwarded to the server
}

// maxPending bounds the requests remembered before a session joins.
const maxPending = 256

func newSession(p *Proxy, id int, client, upstream net.Conn) *Session {
	s := &Session{ID: id, p: p, opened: time.Now(), client: client, upstream: upstream, done: make(chan struct{})}
	s.pumps.Store(2)
	s.keepUpstream.Store(p.fault.KeepUpstreamOnClose)
	s.keepClient.Store(p.fault.KeepClientOnUpstreamClose)
	return s
}

// Proxy returns the proxy the session belongs to.
func (s *Session) Proxy() *Proxy { return s.p }

// Framing returns the framing of the proxy.
func (s *Session) Framing() protocol.Framing { return s.p.framing }

// Joined reports whether the server has accepted a JOIN on this session
// (it sent J_OK, whatever the Fault forwarded to the client). It is already
// true while the Frame hook sees that J_OK.
func (s *Session) Joined() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.joined
}

// Name returns the name the client joined with, as the client sent it, or
// "" before the server accepted a JOIN.
func (s *Session) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name
}

// ServerName returns the name the server knows the session by: Name,
// unless the Fault rewrote the JOIN.
func (s *Session) ServerName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serverName
}

// SetKeepUpstreamOnClose overrides [Fault.KeepUpstreamOnClose] for this
// session.
func (s *Session) SetKeepUpstreamOnClose(keep bool) { s.keepUpstream.Store(keep) }

// SetKeepClientOnUpstreamClose overrides [Fault.KeepClientOnUpstreamClose]
// for this session.
func (s *Session) SetKeepClientOnUpstreamClose(keep bool) { s.keepClient.Store(keep) }

// Inject sends lines, framed, in direction dir (ToServer: to the server;
// ToClient: to the client) at once, in one write. Frames sent to the server
// are tracked like forwarded ones.
func (s *Session) Inject(dir Direction, lines ...string) error {
	return s.send(dir, lines)
}

// Close closes both of the session's connections, whatever the Fault's
// Keep flags say. It returns at once; the session's goroutines end soon.
func (s *Session) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.closeClient()
	s.closeUpstream()
}

// CloseClient closes the connection to the client only: the server's side
// then ends too, unless the session keeps upstreams open.
func (s *Session) CloseClient() { s.closeClient() }

func (s *Session) closeClient()   { s.clientOnce.Do(func() { s.client.Close() }) }
func (s *Session) closeUpstream() { s.upstreamOnce.Do(func() { s.upstream.Close() }) }

// pumpDone is the last thing each of the two goroutines does; the last one
// closes what is left and unregisters the session.
func (s *Session) pumpDone() {
	if s.pumps.Add(-1) == 0 {
		s.Close()
		s.p.removeSession(s)
	}
	s.p.wg.Done()
}

// ClientLeft reports whether the client's side of the session has ended.
func (s *Session) ClientLeft() bool { return s.clientLeft.Load() }

// FromClient returns how many bytes the client has sent so far.
func (s *Session) FromClient() int64 { return s.fromClient.Load() }

// countingReader counts the bytes read from a session's client.
type countingReader struct{ s *Session }

func (r countingReader) Read(p []byte) (int, error) {
	n, err := r.s.client.Read(p)
	if n > 0 {
		r.s.fromClient.Add(int64(n))
		r.s.lastFromClient.Store(time.Now().UnixNano())
	}
	return n, err
}

// SilentFor returns how long the client has sent nothing (since it
// connected, if it never sent anything).
func (s *Session) SilentFor() time.Duration {
	last := s.lastFromClient.Load()
	if last == 0 {
		return time.Since(s.opened)
	}
	return time.Since(time.Unix(0, last))
}

// pumpToServer runs on the session's ToServer goroutine.
func (s *Session) pumpToServer() {
	defer s.pumpDone()
	if raw := s.p.fault.Raw; raw != nil {
		s.rawLoop(raw)
	} else {
		s.frameLoop(ToServer, countingReader{s})
	}
	// The client has gone, on its own or because the server went first.
	s.clientLeft.Store(true)
	if gone := s.p.fault.ClientGone; gone != nil && !s.serverLeft.Load() {
		gone(s)
	}
	if !s.keepUpstream.Load() {
		s.closeUpstream()
		return
	}
	if s.p.fault.KeepUpstreamAlive {
		s.keepUpstreamAlive()
	}
}

// pumpToClient runs on the session's ToClient goroutine.
func (s *Session) pumpToClient() {
	defer s.pumpDone()
	s.frameLoop(ToClient, s.upstream)
	s.serverLeft.Store(true)
	// The server has gone: close our end too, so that a kept-alive
	// upstream fails its next write at once.
	s.closeUpstream()
	if !s.keepClient.Load() {
		s.closeClient()
	}
}

// frameLoop reads frames from one side and handles each until that side
// ends. A write error on the other side does not end it: the Keep flags
// decide when a session ends, and a closed side makes the read fail.
func (s *Session) frameLoop(dir Direction, from io.Reader) {
	r := s.p.framing.NewReader(from, maxFrame)
	for {
		line, err := r.ReadFrame()
		switch {
		case err == nil:
			s.handle(dir, line)
		case errors.Is(err, protocol.ErrLineTooLong), errors.Is(err, protocol.ErrBadEncoding):
			s.sendStandIn(dir, err)
		default:
			return
		}
	}
}

// handle passes one frame through the Fault; a frozen proxy drops it.
func (s *Session) handle(dir Direction, line string) {
	if s.p.frozen.Load() {
		return
	}
	if dir == ToServer {
		s.beginFrame(line)
		defer s.endFrame()
	} else {
		s.observeReply(line)
	}
	out := []string{line}
	if hook := s.p.fault.Frame; hook != nil {
		out = hook(s, dir, line)
	}
	_ = s.send(dir, out) // a closed side is noticed by its reader
}

// rawLoop forwards the client's bytes chunk by chunk through hook.
func (s *Session) rawLoop(hook func(*Session, []byte) []byte) {
	buf := make([]byte, 32<<10)
	for {
		n, err := countingReader{s}.Read(buf)
		if n > 0 && !s.p.frozen.Load() {
			if out := hook(s, bytes.Clone(buf[:n])); len(out) > 0 {
				_ = s.write(ToServer, out)
			}
		}
		if err != nil {
			return
		}
	}
}

// keepUpstreamAlive sends IMAV upstream every KeepAlive until the session
// closes or the upstream fails.
func (s *Session) keepUpstreamAlive() {
	t := time.NewTicker(s.p.fault.keepAlive())
	defer t.Stop()
	imav := []string{protocol.Alive().String()}
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			if err := s.send(ToServer, imav); err != nil {
				return
			}
		}
	}
}

// send frames lines and writes them in dir in one write.
func (s *Session) send(dir Direction, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	f := s.p.framing
	if dir == ToClient && s.p.fault.RawToClient {
		f = protocol.FramingRaw
	}
	var buf []byte
	for _, l := range lines {
		// A payload too large for a writeUTF frame is dropped: AppendFrame
		// then returns buf unchanged.
		buf, _ = f.AppendFrame(buf, []byte(l))
	}
	if dir == ToServer {
		s.noteSent(lines)
	}
	return s.write(dir, buf)
}

// sendStandIn forwards, in place of a frame the proxy could not read, one
// with the same defect: a line over the proxy's limit, or a writeUTF frame
// whose one byte is not modified UTF-8.
func (s *Session) sendStandIn(dir Direction, cause error) {
	var frame []byte
	if errors.Is(cause, protocol.ErrBadEncoding) {
		// Built by hand: AppendFrame only writes well-formed frames.
		frame = []byte{0, 1, 0x80}
	} else {
		frame, _ = s.p.framing.AppendFrame(nil, bytes.Repeat([]byte{'x'}, maxFrame+1))
	}
	if dir == ToServer {
		s.mu.Lock()
		s.notePendingLocked(request{})
		s.mu.Unlock()
	}
	_ = s.write(dir, frame)
}

// write writes b to the side dir points at.
func (s *Session) write(dir Direction, b []byte) error {
	c := s.upstream
	if dir == ToClient {
		c = s.client
	}
	s.wmu[dir].Lock()
	_, err := c.Write(b)
	s.wmu[dir].Unlock()
	if err != nil {
		return fmt.Errorf("faultproxy: session %d: write %v: %w", s.ID, dir, err)
	}
	return nil
}

// beginFrame notes, before the Fault sees a frame from the client, the
// name of a JOIN, so that a JOIN the Fault rewrites is still known by the
// client's name.
func (s *Session) beginFrame(line string) {
	m, _ := protocol.Parse(line)
	if m.Kind != protocol.KindJoin {
		return
	}
	s.mu.Lock()
	s.joinFrom = &m.Name
	s.mu.Unlock()
}

func (s *Session) endFrame() {
	s.mu.Lock()
	s.joinFrom = nil
	s.mu.Unlock()
}

// noteSent records the requests sent to the server before it accepted a
// JOIN. The reference server answers each of them with one J_OK or J_ER,
// except a well-formed IMAV (no answer) or QUIT (it closes), and answers
// them in order; observeReply pairs the answers with them.
func (s *Session) noteSent(lines []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.joined {
		return
	}
	for _, l := range lines {
		m, err := protocol.Parse(l)
		switch {
		case err == nil && (m.Kind == protocol.KindAlive || m.Kind == protocol.KindQuit):
		case err == nil && m.Kind == protocol.KindJoin:
			r := request{join: true, client: m.Name, server: m.Name}
			if s.joinFrom != nil {
				r.client = *s.joinFrom
			}
			s.notePendingLocked(r)
		default:
			s.notePendingLocked(request{})
		}
	}
}

func (s *Session) notePendingLocked(r request) {
	if s.joined {
		return
	}
	if len(s.pending) == maxPending {
		s.pending = s.pending[1:]
	}
	s.pending = append(s.pending, r)
}

// observeReply pairs a J_OK or J_ER from the server with the oldest
// request awaiting one, and marks the session joined on a J_OK to a JOIN.
func (s *Session) observeReply(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.joined || len(s.pending) == 0 {
		return
	}
	m, _ := protocol.Parse(line)
	if m.Kind != protocol.KindOK && m.Kind != protocol.KindError {
		return
	}
	if m.Kind == protocol.KindError {
		s.pending = s.pending[1:]
		return
	}
	// A J_OK answers a JOIN: if requests before it seem unanswered, the
	// pairing has slipped (a server quieter than the reference), and the
	// oldest JOIN is the best guess.
	for _, r := range s.pending {
		if r.join {
			s.joined = true
			s.name, s.serverName = r.client, r.server
			s.pending = nil
			return
		}
	}
}
