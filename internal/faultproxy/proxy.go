package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// Direction says which way a frame travels through the proxy.
type Direction uint8

// The two directions.
const (
	// ToServer: from the client to the server.
	ToServer Direction = iota
	// ToClient: from the server to the client.
	ToClient
)

// String returns "to-server" or "to-client".
func (d Direction) String() string {
	switch d {
	case ToServer:
		return "to-server"
	case ToClient:
		return "to-client"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// DefaultKeepAlive is the IMAV interval of [Fault.KeepAlive] when that is
// zero. The server's heartbeat timeout must be well above it.
const DefaultKeepAlive = 100 * time.Millisecond

// dialTimeout bounds the dial to the upstream server and a ghost's join.
const dialTimeout = 5 * time.Second

// maxFrame is the longest frame the proxy reads whole: above any server's
// line limit that the suite probes, and the largest writeUTF frame.
const maxFrame = protocol.MaxUTFFrame

// Fault rewrites the traffic of a [Proxy]. The zero Fault forwards every
// frame unchanged; any nil hook passes its traffic unchanged.
type Fault struct {
	// Frame sees each complete frame (its payload, without terminator) in
	// either direction, on that direction's goroutine, and returns what to
	// forward in its place: nil drops it, []string{line} passes it, several
	// lines forward them all (in one write). It may also call s.Inject, to
	// send a frame either way at once (before the returned lines), and
	// s.Close. Frames the proxy could not read whole (longer than 64 KiB, or
	// bad modified UTF-8) are not shown to Frame: a stand-in with the same
	// defect is forwarded.
	Frame func(s *Session, dir Direction, line string) []string

	// Raw, if set, replaces Frame for the ToServer direction: it sees each
	// chunk of bytes as read() returned it and returns the bytes to forward
	// (nil or empty forwards nothing). The chunk is the hook's to keep.
	// With Raw, the session does not track its JOIN (Name and Joined stay
	// empty). Meaningful in line framing only.
	Raw func(s *Session, chunk []byte) []byte

	// KeepUpstreamOnClose: when the client's connection ends, keep the
	// server's side open, as a server that never notices an abrupt
	// disconnect would (it still drops the connection when its heartbeat
	// timeout expires, unless KeepUpstreamAlive). Hooks may change this per
	// session with [Session.SetKeepUpstreamOnClose].
	KeepUpstreamOnClose bool

	// KeepUpstreamAlive: while an upstream is kept open after its client
	// left, send it IMAV every KeepAlive, so the server keeps the user
	// until the proxy closes.
	KeepUpstreamAlive bool

	// KeepClientOnUpstreamClose: when the server closes a connection, keep
	// the client's side open (what the client sends after that is
	// discarded). Hooks may change this per session with
	// [Session.SetKeepClientOnUpstreamClose].
	KeepClientOnUpstreamClose bool

	// Ghosts are user names that the proxy joins directly on the server
	// when it starts, each on its own connection that reads everything and
	// sends IMAV every KeepAlive until the proxy closes. They model other
	// users (a student's own client, another grader) already in the room.
	Ghosts []string

	// KeepAlive is the IMAV interval of ghosts and of upstreams kept alive.
	// Zero means DefaultKeepAlive.
	KeepAlive time.Duration

	// RawToClient writes to the client the payloads of frames with no
	// delimiter, several in one write when they come together: a server
	// that writes raw bytes (see protocol.FramingRaw). Meaningful in line
	// framing only.
	RawToClient bool

	// ClientGone, if set, is called when a session's client has closed its
	// connection (or it failed) while the server's side was still open,
	// on the session's ToServer goroutine: where a broken server trips
	// over a vanished client.
	ClientGone func(s *Session)
}

func (f *Fault) keepAlive() time.Duration {
	if f.KeepAlive > 0 {
		return f.KeepAlive
	}
	return DefaultKeepAlive
}

// Proxy is a running fault proxy. Its methods are safe for concurrent use.
type Proxy struct {
	upstream string
	framing  protocol.Framing
	fault    Fault
	ln       net.Listener
	done     chan struct{} // closed by Close
	wg       sync.WaitGroup

	frozen atomic.Bool   // Freeze: nothing is forwarded any more
	hung   chan struct{} // closed by StopAccepting
	hang   sync.Once

	mu       sync.Mutex
	closed   bool                  // guarded by mu
	nextID   int                   // guarded by mu
	sessions map[*Session]struct{} // live sessions; guarded by mu
	ghosts   []net.Conn            // guarded by mu
	held     []net.Conn            // guarded by mu: connections accepted after StopAccepting, never served
}

// Freeze makes the proxy forward nothing more, in either direction, on
// any session, old or new, while it still accepts connections: a server
// whose one reading thread died.
func (p *Proxy) Freeze() { p.frozen.Store(true) }

// StopAccepting makes the proxy serve no new connection: the kernel still
// completes them (the listener stays open), but nobody reads or answers:
// a server whose accept thread died. Sessions already open go on.
func (p *Proxy) StopAccepting() { p.hang.Do(func() { close(p.hung) }) }

// Refuse closes the proxy's listener, so that new connections are
// refused: a server that crashed but for the connections it holds.
func (p *Proxy) Refuse() { _ = p.ln.Close() }

// Start listens on 127.0.0.1:0 and proxies every connection it accepts to
// upstream, framed as f, through fault. It joins fault.Ghosts on upstream
// before it returns. Close the Proxy to release everything it holds.
func Start(upstream string, f protocol.Framing, fault Fault) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{
		upstream: upstream,
		framing:  f,
		fault:    fault,
		ln:       ln,
		done:     make(chan struct{}),
		hung:     make(chan struct{}),
		sessions: make(map[*Session]struct{}),
	}
	for _, name := range fault.Ghosts {
		if err := p.startGhost(name); err != nil {
			p.Close()
			return nil, err
		}
	}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr returns the address clients dial: "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Upstream returns the address of the server behind the proxy.
func (p *Proxy) Upstream() string { return p.upstream }

// Framing returns the framing the proxy reads and writes.
func (p *Proxy) Framing() protocol.Framing { return p.framing }

// Close stops accepting, closes every session and ghost, and waits for all
// the proxy's goroutines to end. It returns the listener's close error, if
// any; a second Close returns nil.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	sessions := make([]*Session, 0, len(p.sessions))
	for s := range p.sessions {
		sessions = append(sessions, s)
	}
	ghosts := append(p.ghosts, p.held...)
	p.mu.Unlock()

	err := p.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil // Refuse closed it
	}
	for _, s := range sessions {
		s.Close()
	}
	for _, c := range ghosts {
		c.Close()
	}
	p.wg.Wait()
	if err != nil {
		return fmt.Errorf("faultproxy: close: %w", err)
	}
	return nil
}

// Sessions returns the sessions alive now, in no particular order.
func (p *Proxy) Sessions() []*Session {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Session, 0, len(p.sessions))
	for s := range p.sessions {
		out = append(out, s)
	}
	return out
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	var backoff time.Duration
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, say: wait a little, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-p.done:
				return
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		select {
		case <-p.hung:
			p.mu.Lock()
			p.held = append(p.held, c)
			p.mu.Unlock()
			continue
		default:
		}
		up, err := net.DialTimeout("tcp", p.upstream, dialTimeout)
		if err != nil {
			// The client sees its connection close at once, as if the
			// server had refused it.
			c.Close()
			continue
		}
		p.startSession(c, up)
	}
}

// startSession registers a session and starts its two goroutines, unless
// the proxy has closed meanwhile.
func (p *Proxy) startSession(client, upstream net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		client.Close()
		upstream.Close()
		return
	}
	p.nextID++
	s := newSession(p, p.nextID, client, upstream)
	p.sessions[s] = struct{}{}
	p.wg.Add(2)
	go s.pumpToServer()
	go s.pumpToClient()
}

func (p *Proxy) removeSession(s *Session) {
	p.mu.Lock()
	delete(p.sessions, s)
	p.mu.Unlock()
}
