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

// Server is a Mutant running: a reference server on 127.0.0.1 behind a
// Proxy with a fresh Fault. Clients dial Addr.
type Server struct {
	// Proxy is the proxy clients talk to.
	Proxy *Proxy
	// Upstream is the reference server behind it.
	Upstream *chatserver.Server

	served    chan error // Serve's result
	closeOnce sync.Once
	closeErr  error // set by closeOnce
}

// Start runs the mutant in framing f. heartbeat is the server's heartbeat
// timeout unless the mutant sets its own (zero: the server's default).
// Close the Server when done.
func (m Mutant) Start(f protocol.Framing, heartbeat time.Duration) (*Server, error) {
	if m.HeartbeatTimeout != 0 {
		heartbeat = m.HeartbeatTimeout
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: mutant %s: listen: %w", m.Name, err)
	}
	srv := chatserver.New(chatserver.Config{HeartbeatTimeout: heartbeat, Framing: f})
	s := &Server{Upstream: srv, served: make(chan error, 1)}
	go func() { s.served <- srv.Serve(l) }()
	fault := Fault{}
	if m.Fault != nil {
		fault = m.Fault()
	}
	if s.Proxy, err = Start(l.Addr().String(), f, fault); err != nil {
		_ = s.closeUpstream()
		return nil, fmt.Errorf("faultproxy: mutant %s: %w", m.Name, err)
	}
	return s, nil
}

// Addr returns the address clients dial.
func (s *Server) Addr() string { return s.Proxy.Addr() }

// Close closes the proxy, then the server, and waits for both. Later calls
// return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = errors.Join(s.Proxy.Close(), s.closeUpstream()) })
	return s.closeErr
}

func (s *Server) closeUpstream() error {
	err := s.Upstream.Close()
	if serr := <-s.served; !errors.Is(serr, chatserver.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("faultproxy: serve: %w", serr))
	}
	return err
}
