package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatserver"
)

// Mutant is one server of the catalogue: the reference server, perhaps
// configured otherwise (ServerConfig), behind a Proxy running a fresh
// Fault (or reached directly when Fault is nil). It says exactly how the
// conformance suite must grade it: which rules fail, which are not graded;
// every other rule graded must pass. [Mutant.Start] runs it:
//
//	srv, err := m.Start(protocol.FramingLine, suiteHeartbeatTimeout)
//	if err != nil { ... }
//	defer srv.Close()
//	// grade srv.Addr(), compare with m.Fails and m.Skips
type Mutant struct {
	// Name is short and unique, e.g. "no-list-to-others".
	Name string
	// Does says what the server does differently, in words.
	Does string
	// Fails are the IDs of the rules the suite must fail (or warn) it on,
	// and no others: for a broken server, the rule it breaks, and any rule
	// that cannot help breaking with it.
	Fails []string
	// Skips are the IDs of the rules the suite must leave not graded (for
	// at least one of their scenarios, and fail in none): rules whose
	// scenarios need the broken behaviour to reach what they test.
	Skips []string
	// SkipRest: every rule graded but those in Fails must be not graded
	// (a server that refuses everyone cannot be graded on anything else).
	SkipRest bool
	// Maybe are the IDs of rules whose outcome is not checked: where the
	// server's fault makes a race of what the rule's scenario can observe
	// (each entry's Note says which race).
	Maybe []string
	// CannotGrade: the suite must refuse to grade it (a CANNOT GRADE
	// report, with its one paragraph of diagnosis).
	CannotGrade bool
	// Legal marks a legal variation: the verdict must be PASS (without
	// -strict); Fails may then hold SHOULD rules it costs.
	Legal bool
	// LineOnly: the mutant means something in line framing only (a Raw
	// fault, a variant of line terminators).
	LineOnly bool
	// Server configures the reference server behind the proxy; zero fields
	// take what Start is given.
	Server chatserver.Config
	// Concurrency, if not zero, is the suite's concurrency for this
	// server (a server with a client limit is graded one scenario at a
	// time).
	Concurrency int
	// BareJoin grades the server with the suite's -join bare.
	BareJoin bool
	// Heavy grades a legal variation with the @heavy scenarios too (a
	// broken server is, when its table names a @heavy rule).
	Heavy bool
	// Note says anything else a reader of the catalogue needs to know.
	Note string
	// Fault returns a new Fault, with fresh shared state, for one run; nil
	// means no proxy at all.
	Fault func() Fault
}

// Server is a Mutant running: a reference server on 127.0.0.1, behind a
// Proxy unless the mutant has no Fault. Clients dial Addr.
type Server struct {
	// Proxy is the proxy clients talk to; nil without a Fault.
	Proxy *Proxy
	// Upstream is the reference server.
	Upstream *chatserver.Server

	addr      string
	served    chan error // Serve's result
	closeOnce sync.Once
	closeErr  error // set by closeOnce
}

// Start runs the mutant in framing f (unless its Server config sets one).
// heartbeat is the server's heartbeat timeout unless the mutant sets its
// own. Close the Server when done.
func (m Mutant) Start(f protocol.Framing, heartbeat time.Duration) (*Server, error) {
	cfg := m.Server
	if cfg.HeartbeatTimeout == 0 {
		cfg.HeartbeatTimeout = heartbeat
	}
	if cfg.Framing == protocol.FramingLine {
		cfg.Framing = f
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: mutant %s: listen: %w", m.Name, err)
	}
	srv := chatserver.New(cfg)
	s := &Server{Upstream: srv, served: make(chan error, 1), addr: l.Addr().String()}
	go func() { s.served <- srv.Serve(l) }()
	if m.Fault == nil {
		return s, nil
	}
	if s.Proxy, err = Start(l.Addr().String(), cfg.Framing, m.Fault()); err != nil {
		_ = s.closeUpstream()
		return nil, fmt.Errorf("faultproxy: mutant %s: %w", m.Name, err)
	}
	s.addr = s.Proxy.Addr()
	return s, nil
}

// Addr returns the address clients dial.
func (s *Server) Addr() string { return s.addr }

// Close closes the proxy, then the server, and waits for both. Later calls
// return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var perr error
		if s.Proxy != nil {
			perr = s.Proxy.Close()
		}
		s.closeErr = errors.Join(perr, s.closeUpstream())
	})
	return s.closeErr
}

func (s *Server) closeUpstream() error {
	err := s.Upstream.Close()
	if serr := <-s.served; !errors.Is(serr, chatserver.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("faultproxy: serve: %w", serr))
	}
	return err
}
