// Package embedded runs a NATS server with JetStream inside the process: the
// newcomer's way to a chat cluster (chatserver -cluster embedded) and the
// tests' NATS. Production clusters use a NATS deployment of their own.
package embedded

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultAddr is where the embedded server listens when Config.Addr is empty:
// NATS's own port, on the loopback interface only.
const DefaultAddr = "127.0.0.1:4222"

// readyTimeout bounds the wait for the server to accept connections.
const readyTimeout = 10 * time.Second

// Config configures an embedded NATS server. The zero value is useful.
type Config struct {
	// Addr is the host:port NATS clients connect to. Port 0 picks a free
	// port (URL says which). Empty means DefaultAddr.
	Addr string
	// StoreDir is the folder where JetStream keeps its streams, so that they
	// outlive a restart of the server. Empty means a new temporary folder,
	// removed by Shutdown.
	StoreDir string
	// Name is the server's name in NATS's own monitoring. Empty means a
	// generated one.
	Name string
}

// Server is a running embedded NATS server.
type Server struct {
	ns       *server.Server // safe for concurrent use
	url      string         // read-only
	storeDir string         // read-only
	tempDir  bool           // read-only: storeDir is ours to remove
}

// Start starts a NATS server with JetStream as cfg says and waits until it
// accepts connections.
func Start(cfg Config) (*Server, error) {
	addr := cfg.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("embedded nats: address %q: bad port", addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if host == "" {
		host = "0.0.0.0"
	}
	s := &Server{storeDir: cfg.StoreDir}
	if s.storeDir == "" {
		dir, err := os.MkdirTemp("", "chatserver-jetstream-")
		if err != nil {
			return nil, fmt.Errorf("embedded nats: %w", err)
		}
		s.storeDir, s.tempDir = dir, true
	}
	opts := &server.Options{
		ServerName: cfg.Name,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   s.storeDir,
		NoLog:      true,
		NoSigs:     true,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		s.removeTemp()
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(readyTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		s.removeTemp()
		return nil, fmt.Errorf("embedded nats: not accepting connections on %s after %v", addr, readyTimeout)
	}
	s.ns = ns
	s.url = clientURL(host, ns.Addr())
	return s, nil
}

// clientURL is the URL other processes on this machine use: the listening
// address, with the loopback address for a server listening on every
// interface.
func clientURL(host string, a net.Addr) string {
	port := "4222"
	if ta, ok := a.(*net.TCPAddr); ok {
		port = strconv.Itoa(ta.Port)
	}
	if ip := net.ParseIP(host); host == "0.0.0.0" || host == "::" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, port)
}

// URL returns the URL NATS clients (the other nodes) connect to, such as
// "nats://127.0.0.1:4222".
func (s *Server) URL() string { return s.url }

// Addr returns the host:port the server listens on, to start it again on
// the same address.
func (s *Server) Addr() string { return s.url[len("nats://"):] }

// StoreDir returns the folder holding JetStream's data.
func (s *Server) StoreDir() string { return s.storeDir }

// Temporary reports whether StoreDir is a temporary folder that Shutdown
// removes.
func (s *Server) Temporary() bool { return s.tempDir }

// Shutdown stops the server, closing every client connection, waits until
// it has stopped, and removes StoreDir if it was a temporary folder.
func (s *Server) Shutdown() error {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
	return s.removeTemp()
}

func (s *Server) removeTemp() error {
	if !s.tempDir {
		return nil
	}
	if err := os.RemoveAll(s.storeDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("embedded nats: remove %s: %w", s.storeDir, err)
	}
	return nil
}
