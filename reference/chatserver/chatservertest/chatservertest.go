// Package chatservertest runs the reference server on a loopback port for
// the tests of other packages, as net/http/httptest does for HTTP.
package chatservertest

import (
	"errors"
	"net"
	"testing"

	"github.com/chatspec/chatspec/reference/chatserver"
)

// Start serves a new chatserver with cfg on 127.0.0.1 and an ephemeral
// port, and returns its address and the server. The server is closed when
// the test ends, and the test fails if Serve returned anything but
// chatserver.ErrServerClosed.
func Start(t testing.TB, cfg chatserver.Config) (addr string, srv *chatserver.Server) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("chatservertest: listen: %v", err)
	}
	srv = chatserver.New(cfg)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, chatserver.ErrServerClosed) {
			t.Errorf("chatservertest: Serve = %v, want ErrServerClosed", err)
		}
	})
	return l.Addr().String(), srv
}
