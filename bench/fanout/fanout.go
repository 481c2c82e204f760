// Package fanout is the baseline chatbench measures servers against: the
// least a chat server can do. It answers each connection's first frame with
// J_OK, and writes every later DATA frame, as it arrived, to every
// connection. It keeps no room, sends no LIST, validates nothing and parses
// nothing beyond the frame boundaries and the verb.
//
// Each line read goes to Writers writer goroutines. A writer takes the lines
// waiting for it, at most LinesPerWrite (it never waits to fill a batch),
// and writes them in one write call to each of its share of the connections
// in turn. The cost measured is one write system call per connection per
// batch. The figures
// of a real server divided by this server's, with the same clients, say how
// close that server comes to what the machine can do at all.
package fanout

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"

	"github.com/chatspec/chatspec/protocol"
)

// Config configures a Server. The zero value is useful.
type Config struct {
	// Framing of the clients' streams; zero value = protocol.FramingLine.
	Framing protocol.Framing
	// LinesPerWrite is the most lines written to a connection in one write
	// call: a writer takes up to this many lines that are already waiting
	// (it never waits to fill a batch). 0 = 1.
	LinesPerWrite int
	// Writers is the number of writer goroutines; each connection belongs
	// to one. 0 = runtime.GOMAXPROCS(0).
	Writers int
	// MaxLineBytes bounds a frame read from a client; 0 =
	// protocol.DefaultMaxLineBytes.
	MaxLineBytes int
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("fanout: server closed")

// Server is the baseline fan-out server.
type Server struct {
	cfg  Config
	jok  []byte // J_OK, framed
	done chan struct{}

	writers []*writer

	mu        sync.Mutex
	next      int                   // guarded by mu: the writer the next joined connection goes to
	all       map[net.Conn]struct{} // guarded by mu: joined or not, to close them
	listeners []net.Listener        // guarded by mu
	closed    bool                  // guarded by mu

	wg sync.WaitGroup // the broadcaster, readers and Serve loops
}

// New returns a Server and starts its writer goroutines; Close stops them.
func New(cfg Config) *Server {
	if cfg.LinesPerWrite <= 0 {
		cfg.LinesPerWrite = 1
	}
	if cfg.Writers <= 0 {
		cfg.Writers = runtime.GOMAXPROCS(0)
	}
	jok, _ := cfg.Framing.AppendMessage(nil, protocol.OK())
	s := &Server{
		cfg:  cfg,
		jok:  jok,
		done: make(chan struct{}),
		all:  make(map[net.Conn]struct{}),
	}
	for range cfg.Writers {
		w := &writer{lines: make(chan []byte, 4096)}
		s.writers = append(s.writers, w)
		s.wg.Add(1)
		go s.write(w)
	}
	return s
}

// Serve accepts connections on l until Close; it returns ErrServerClosed
// then, or the accept error that stopped it.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, l)
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			return fmt.Errorf("fanout: accept: %w", err)
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return ErrServerClosed
		}
		s.all[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.read(c)
	}
}

// Close stops accepting, closes every connection and waits for the
// server's goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for _, l := range s.listeners {
		l.Close()
	}
	for c := range s.all {
		c.Close()
	}
	s.mu.Unlock()
	close(s.done)
	s.wg.Wait()
	return nil
}

// read is one connection's reader goroutine.
func (s *Server) read(c net.Conn) {
	defer s.wg.Done()
	defer s.remove(c)
	rd := s.cfg.Framing.NewReader(c, s.cfg.MaxLineBytes)
	if _, err := rd.ReadFrame(); err != nil {
		return
	}
	// Join before answering, so that a client that has J_OK receives every
	// DATA broadcast after it.
	s.mu.Lock()
	w := s.writers[s.next]
	s.next = (s.next + 1) % len(s.writers)
	w.conns = append(w.conns[:len(w.conns):len(w.conns)], c)
	s.mu.Unlock()
	if _, err := c.Write(s.jok); err != nil {
		return
	}
	prefix := protocol.VerbData + " "
	for {
		frame, err := rd.ReadFrame()
		if errors.Is(err, protocol.ErrLineTooLong) {
			continue
		}
		if err != nil {
			return
		}
		if !strings.HasPrefix(frame, prefix) {
			continue // IMAV, QUIT and anything else
		}
		line, err := s.cfg.Framing.AppendFrame(nil, []byte(frame))
		if err != nil {
			continue
		}
		for _, w := range s.writers {
			select {
			case w.lines <- line:
			case <-s.done:
				return
			}
		}
	}
}

func (s *Server) remove(c net.Conn) {
	c.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.all, c)
	for _, w := range s.writers {
		for i, x := range w.conns {
			if x == c {
				conns := make([]net.Conn, 0, len(w.conns)-1)
				conns = append(conns, w.conns[:i]...)
				w.conns = append(conns, w.conns[i+1:]...)
				return
			}
		}
	}
}

// writer is one writer goroutine's share of the connections.
type writer struct {
	lines chan []byte // framed lines from the readers; each is read-only
	// conns is guarded by Server.mu; it is replaced, never modified in
	// place, so the writer may use the slice it loaded without the lock.
	conns []net.Conn
}

// write is a writer goroutine: it batches the waiting lines and writes each
// batch to each of its connections in turn. A connection whose write fails
// is closed (its reader then removes it).
func (s *Server) write(w *writer) {
	defer s.wg.Done()
	var batch []byte
	for {
		var line []byte
		select {
		case line = <-w.lines:
		case <-s.done:
			return
		}
		batch = append(batch[:0], line...)
	fill:
		for n := 1; n < s.cfg.LinesPerWrite; n++ {
			select {
			case line = <-w.lines:
				batch = append(batch, line...)
			default:
				break fill
			}
		}
		s.mu.Lock()
		conns := w.conns
		s.mu.Unlock()
		for _, c := range conns {
			if _, err := c.Write(batch); err != nil {
				c.Close()
			}
		}
	}
}
