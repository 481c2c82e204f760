// Package chatserver is the reference chat server: it accepts TCP
// connections, reads requests, and keeps the room (package chatroom).
//
// # Concurrency
//
// Each connection has two goroutines. The reader (the goroutine running
// ServeConn, or one started by Serve) owns the connection's protocol state
// (joined or not, as whom): it reads one frame at a time under a read
// deadline, parses it with package protocol, and calls the room. The writer
// owns the socket's write side: it takes batches of frames from the
// connection's bounded outbox, copies them into one buffer and writes them
// with a write deadline. The room (one mutex) decides who gets what and
// queues shared, pre-formatted frames into outboxes; queueing never blocks,
// and no socket is written while the room's lock is held. Lock order: the
// server's mutex (listeners, connections), then the room's, then an
// outbox's or the LIST timer's, then a gate's; none is held during I/O.
//
// # Heartbeat
//
// The heartbeat is the read deadline: it is set to HeartbeatTimeout after
// every complete frame, whatever the frame holds (IMAV, any other request,
// even one answered with J_ER: each shows the peer is alive). Bytes of an
// unfinished frame do not move it, so a connection that sends nothing, or
// a byte at a time without ever ending a line, is closed once the timeout
// passes since its last complete frame. This holds before JOIN too.
//
// # Overload
//
// When the room gets more DATA than some client can read, the cost falls
// on whoever causes it: a sender over its allowance is slowed, a reader that
// keeps reading is kept, and only a reader that stops, or that cannot keep
// up even with senders within their allowance, is dropped.
//
// The level of a connection is the bytes queued for it and not yet taken by
// its peer (J_OK, J_ER and DATA; LISTs conflate and are left out). Over a
// quarter of OutboxBytes the connection is congested, over half it is full.
// Each client has an allowance, a token bucket of SendBurst messages that
// fills at SendRate a second and that each DATA spends. Before it reads
// each frame, a connection's reader pauses (it stops reading, so the
// client's frames wait in its socket and its writes block, as with IRC
// servers' "fakelag") while:
//   - its own connection is congested: it does not read what it is sent;
//   - some connection is full: the room takes nothing more from anyone;
//   - some connection is congested and this client's allowance is spent:
//     it waits for the room to catch up, or for its next token.
//
// People typing stay within their allowance and are not slowed by a flood;
// a flooder is held to what the slowest reader takes. A message from
// someone typing waits behind at most a congested queue of flood at each
// reader (plus what the operating system buffers for that reader). The
// time a reader is paused does not count against its heartbeat: its read
// deadline moves on by as much, so a paused client is never expired for a
// silence that is the server's.
//
// A reader is dropped (removed from the room, which sends the others the
// new LIST, and closed) when, as seen by its writer:
//   - it takes no byte for WriteTimeout (a dead peer nobody waits for);
//   - it takes no byte for StallTimeout while it is congested, that is,
//     while senders wait for it (a stalled peer holding a flood back);
//   - it stays full for WriteTimeout: it does not keep up even with the
//     senders within their allowance, and the whole room has waited for it
//     that long;
//   - its level would pass OutboxBytes, which takes over a quarter of
//     OutboxBytes of DATA from different senders at the same instant, each
//     read before the connection became full.
//
// A write that times out says how many bytes it moved but not when, so the
// writer checks at ticks of an eighth of the time allowed: a drop comes at
// most an eighth of it late. A reader that keeps taking bytes, and is not
// full for WriteTimeout on end, is never dropped, however far behind it
// is. Memory per connection is bounded by OutboxBytes of frames (the batch
// being written included) and at most two LISTs.
//
// The gates are this server's own. With a room shared by several servers
// (Config.Room, package chatcluster), a sender is paused only for the
// readers of its own server: DATA from another server reaches this one's
// readers unpaced, and a reader that falls behind such a flood is dropped
// when its level would pass OutboxBytes, as before this policy.
//
// # LIST traffic
//
// Every join or leave sends every name to every member, which grows with
// the square of the room. Two things bound it. The room paces LIST rounds
// to a byte rate (changes in between are merged into the next round, which
// always goes out before any later DATA), so a join storm of 10,000 clients
// completes; in a room of a few dozen the pacing is microseconds. And an
// outbox whose writer is still busy with an earlier batch replaces its
// unwritten LIST with the newer one, so a lagging client gets the newest
// list while one that keeps up gets every list.
//
// # Memory
//
// An idle connection holds no read buffer (it waits for its next byte
// with a one-byte read and borrows a pooled buffer when it comes) and no
// write buffer (writers borrow one per batch), so an idle joined client
// costs about 11 KiB, mostly its two goroutine stacks.
package chatserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatroom"
)

// Defaults for the zero values of [Config].
const (
	// DefaultHeartbeatTimeout is twice the assignment's one-minute
	// heartbeat interval.
	DefaultHeartbeatTimeout = 2 * time.Minute
	// DefaultOutboxBytes bounds each connection's queue of unwritten
	// frames: about 800 DATA lines of 80 bytes. Senders over their
	// allowance wait from a quarter of it (16 KiB, about 200 lines: enough
	// for the writer to batch at full speed, little enough that a message
	// of someone typing waits behind at most that much flood), everyone
	// from half of it.
	DefaultOutboxBytes = 64 << 10
	// DefaultWriteTimeout is how long a peer may take no byte, or stay
	// full, before it is dropped.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultStallTimeout is how long a peer that senders wait for may
	// take no byte before it is dropped: a client that reads at all takes
	// bytes every few milliseconds, and a flood should not wait long for
	// one that has stopped.
	DefaultStallTimeout = 2 * time.Second
	// DefaultSendRate is the rate, in messages a second, at which a client
	// may always send DATA, even into a congested room: a quick typist
	// sends one message every few seconds; five a second leaves room for
	// pasted lines and the chat bots students write. (ergo, an IRC server,
	// allows two a second after a burst of five.)
	DefaultSendRate = 5
	// DefaultSendBurst is how many messages a client may send at once
	// beyond DefaultSendRate: a paste of 20 lines goes through unslowed.
	DefaultSendBurst = 20
)

// listBytesPerSecond paces LIST rounds (see chatroom.Config): a LIST to
// everyone costs the square of the room's size, so in a join storm of
// 10,000 clients unpaced LISTs would be terabytes. At this rate a room of
// 30 waits microseconds between rounds, one of 1,000 about 50ms, one of
// 10,000 about 5s; changes in between are merged.
const listBytesPerSecond = 256 << 20

// writeBufferSize is the size of the pooled buffers a writer copies a batch
// of frames into, so that many frames leave in one write.
const writeBufferSize = 16 << 10

// ErrServerClosed is returned by [Server.Serve] after [Server.Close] or
// [Server.Shutdown].
var ErrServerClosed = errors.New("chatserver: server closed")

// Config configures a Server. The zero value is useful.
type Config struct {
	// HeartbeatTimeout: a connection that completes no frame for this long
	// is dropped, joined or not. Zero means DefaultHeartbeatTimeout.
	HeartbeatTimeout time.Duration
	// Framing of every message, both ways. Zero is protocol.FramingLine.
	Framing protocol.Framing
	// MaxClients is the most joined clients at once; a JOIN beyond it gets
	// "J_ER 503" and the connection is closed. Zero means unlimited.
	MaxClients int
	// MaxLineBytes is the longest frame read; a longer one is skipped and
	// answered with "J_ER 431". Zero means protocol.DefaultMaxLineBytes.
	MaxLineBytes int
	// OutboxBytes bounds each connection's queue of unwritten frames
	// (LISTs aside). Senders over their allowance pause while some
	// connection holds over a quarter of it, every sender while some holds
	// over half; a connection that would go over it is dropped (see
	// "Overload"). Zero means DefaultOutboxBytes. It should be well above
	// the longest frame.
	OutboxBytes int
	// WriteTimeout is how long a peer may take no byte of what is written
	// to it, or hold over half of OutboxBytes, before it is dropped. Zero
	// means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// StallTimeout is how long a peer that holds senders back (it holds
	// over a quarter of OutboxBytes) may take no byte before it is dropped.
	// Zero means DefaultStallTimeout; it is at most WriteTimeout.
	StallTimeout time.Duration
	// SendRate is the messages a second each client may send into a
	// congested room (its allowance fills at this rate); a client over its
	// allowance is paused while the room is congested. Zero means
	// DefaultSendRate; negative means no allowance: every sender pauses
	// while the room is congested.
	SendRate float64
	// SendBurst is the most messages a client's allowance holds. Zero
	// means DefaultSendBurst (no allowance if SendRate is negative).
	SendBurst int
	// Logger receives the server's log: every request and response at
	// debug level, joins and leaves at info. Nil discards.
	Logger *slog.Logger
	// Room, if set, makes the room the server's clients join, from the
	// settings the server would give a room of its own (Framing, MaxClients,
	// LIST pacing with the server's timer). New calls it once. Nil means
	// chatroom.New: a room in this process. A room shared by several servers
	// over NATS (package chatcluster) plugs in here.
	Room func(chatroom.Config) Room
}

// Server is a chat server. Create it with [New]; serve with [Server.Serve]
// or [Server.ServeConn]; stop it with [Server.Close] or [Server.Shutdown].
type Server struct {
	cfg       Config                   // read-only after New, defaults filled in
	log       *slog.Logger             // read-only after New
	room      Room                     // safe for concurrent use
	gates     *gates                   // safe for concurrent use: is some outbox congested, full
	errFrames map[protocol.Code][]byte // read-only after New: J_ER frames with the default texts
	bufs      sync.Pool                // *[]byte write buffers of writeBufferSize
	slices    sync.Pool                // *[][]byte frame slices of idle outboxes
	readers   sync.Pool                // *frameReader, lent to connections with bytes to read
	lent      atomic.Int64             // frameReaders lent out now
	nextID    atomic.Uint64            // connection ids, for the log
	stopping  atomic.Bool              // set once Close or Shutdown has begun
	done      chan struct{}            // closed once Close or Shutdown has begun

	listMu    sync.Mutex  // taken under the room's lock (by scheduleList)
	listTimer *time.Timer // guarded by listMu: flushes a paced LIST

	mu        sync.Mutex
	closed    bool                      // guarded by mu
	listeners map[net.Listener]struct{} // guarded by mu
	conns     map[*conn]struct{}        // guarded by mu
	wg        sync.WaitGroup            // Serve loops and connections; Add only under mu while !closed
}

// New returns a Server configured by cfg.
func New(cfg Config) *Server {
	if cfg.HeartbeatTimeout <= 0 {
		cfg.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = protocol.DefaultMaxLineBytes
	}
	if cfg.OutboxBytes <= 0 {
		cfg.OutboxBytes = DefaultOutboxBytes
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	cfg.StallTimeout = min(cfg.StallTimeout, cfg.WriteTimeout)
	switch {
	case cfg.SendRate < 0:
		cfg.SendRate, cfg.SendBurst = 0, 0
	case cfg.SendRate == 0:
		cfg.SendRate = DefaultSendRate
	}
	if cfg.SendBurst <= 0 && cfg.SendRate > 0 {
		cfg.SendBurst = DefaultSendBurst
	}
	if cfg.MaxClients < 0 {
		cfg.MaxClients = 0
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:       cfg,
		log:       log,
		errFrames: make(map[protocol.Code][]byte),
		done:      make(chan struct{}),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		gates:     newGates(),
	}
	rc := chatroom.Config{
		Framing:            cfg.Framing,
		MaxMembers:         cfg.MaxClients,
		ListBytesPerSecond: listBytesPerSecond,
		ScheduleList:       s.scheduleList,
	}
	if cfg.Room != nil {
		s.room = cfg.Room(rc)
	} else {
		s.room = chatroom.New(rc)
	}
	s.readers.New = s.newFrameReader
	s.bufs.New = func() any { b := make([]byte, 0, writeBufferSize); return &b }
	for _, c := range protocol.Codes() {
		s.errFrames[c], _ = cfg.Framing.AppendMessage(nil, protocol.Error(c, c.Text()))
	}
	return s
}

// scheduleList arranges for a paced LIST to be flushed at t. It is called
// with the room's lock held and does not block.
func (s *Server) scheduleList(t time.Time) {
	s.listMu.Lock()
	defer s.listMu.Unlock()
	if s.listTimer == nil {
		s.listTimer = time.AfterFunc(time.Until(t), s.flushList)
		return
	}
	s.listTimer.Reset(time.Until(t))
}

// flushList runs on the LIST timer's goroutine.
func (s *Server) flushList() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	s.room.FlushList()
}

// Room returns the server's room, for inspection (who is joined, since
// when, last heartbeat). Joining or leaving through it bypasses the
// connections; do not.
func (s *Server) Room() Room { return s.room }

// Serve accepts connections on l and serves each on its own goroutines
// until Close or Shutdown, when it returns ErrServerClosed. Any other
// error from l.Accept that is not temporary ends Serve and is returned.
// Serve closes l when it returns.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()

	s.log.Info("listening", "addr", l.Addr().String())
	var delay time.Duration // backoff after a temporary accept error
	for {
		rw, err := l.Accept()
		if err != nil {
			if s.stopping.Load() {
				return ErrServerClosed
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("accept", "err", err, "retry_in", delay)
				select {
				case <-time.After(delay):
				case <-s.done:
				}
				continue
			}
			return err
		}
		delay = 0
		c := s.newConn(rw)
		if c == nil {
			return ErrServerClosed
		}
		go c.serve()
	}
}

// ServeConn serves one connection until it ends: the peer closes it, sends
// QUIT, goes silent, falls behind, or the server closes. It closes rw.
func (s *Server) ServeConn(rw net.Conn) {
	if c := s.newConn(rw); c != nil {
		c.serve()
	}
}

// newConn registers a connection, or closes rw and returns nil if the
// server is closed. The caller must call c.serve.
func (s *Server) newConn(rw net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		rw.Close()
		return nil
	}
	c := &conn{
		srv:        s,
		rwc:        rw,
		id:         s.nextID.Add(1),
		remote:     rw.RemoteAddr().String(),
		writerDone: make(chan struct{}),
	}
	c.out = newOutbox(rw, s.cfg.OutboxBytes, s.cfg.WriteTimeout, s.cfg.StallTimeout, &s.slices, s.gates)
	c.allow = newAllowance(s.cfg.SendRate, s.cfg.SendBurst, time.Now())
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return c
}

// forget unregisters c; called once by c's reader when it is done.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// beginClose stops accepting and empties the room without telling anyone,
// and returns the open connections. It reports false if already closing.
func (s *Server) beginClose() ([]*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if !s.closed {
		s.closed = true
		s.stopping.Store(true)
		close(s.done)
		s.room.Close() // leaving members no longer cause a LIST each
		s.listMu.Lock()
		if s.listTimer != nil {
			s.listTimer.Stop()
		}
		s.listMu.Unlock()
		for l := range s.listeners {
			if e := l.Close(); e != nil && !errors.Is(e, net.ErrClosed) {
				err = errors.Join(err, e)
			}
		}
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns, err
}

// Close stops accepting, closes every connection at once (queued frames
// are dropped), and waits until every goroutine of the server has ended.
func (s *Server) Close() error {
	conns, err := s.beginClose()
	for _, c := range conns {
		c.abort()
	}
	s.wg.Wait()
	return err
}

// Shutdown stops accepting, stops reading from every connection, lets each
// connection write what is queued for it, closes it, and waits until every
// goroutine of the server has ended. If ctx ends first, the connections are
// closed at once as by Close, and Shutdown returns ctx's error once every
// goroutine has ended.
func (s *Server) Shutdown(ctx context.Context) error {
	conns, err := s.beginClose()
	for _, c := range conns {
		c.stopReading()
	}
	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return err
	case <-ctx.Done():
	}
	conns, _ = s.beginClose()
	for _, c := range conns {
		c.abort()
	}
	<-finished
	return errors.Join(err, ctx.Err())
}
