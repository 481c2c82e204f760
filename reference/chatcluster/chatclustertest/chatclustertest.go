// Package chatclustertest runs a cluster of reference servers on loopback
// ports for the tests of other packages, as chatservertest does for one
// server.
package chatclustertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/chatspec/chatspec/reference/chatcluster"
	"github.com/chatspec/chatspec/reference/chatcluster/embedded"
	"github.com/chatspec/chatspec/reference/chatserver"
)

// openTimeout bounds starting NATS and each node, and each node's goodbye.
const openTimeout = 30 * time.Second

// Start serves n reference servers configured by cfg as the nodes of one
// cluster, on 127.0.0.1 and ephemeral ports, sharing one room through an
// embedded NATS server with JetStream in a folder of t.TempDir(). It
// returns the nodes' chat addresses and the NATS URL. Everything stops
// when the test ends.
func Start(t testing.TB, n int, cfg chatserver.Config) (addrs []string, natsURL string) {
	t.Helper()
	ns, err := embedded.Start(embedded.Config{Addr: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("chatclustertest: %v", err)
	}
	t.Cleanup(func() {
		if err := ns.Shutdown(); err != nil {
			t.Errorf("chatclustertest: %v", err)
		}
	})
	for i := range n {
		addrs = append(addrs, startNode(t, ns.URL(), fmt.Sprintf("node%d", i+1), cfg))
	}
	return addrs, ns.URL()
}

// startNode starts one node; its cleanup runs before NATS stops.
func startNode(t testing.TB, url, name string, cfg chatserver.Config) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("chatclustertest: listen: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	node, err := chatcluster.Open(ctx, chatcluster.Config{URL: url, Node: name, Addr: l.Addr().String(), Logger: cfg.Logger})
	if err != nil {
		l.Close()
		t.Fatalf("chatclustertest: node %s: %v", name, err)
	}
	cfg.Room = node.Room
	srv := chatserver.New(cfg)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, chatserver.ErrServerClosed) {
			t.Errorf("chatclustertest: node %s: Serve = %v, want ErrServerClosed", name, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
		defer cancel()
		if err := node.Close(ctx); err != nil {
			t.Errorf("chatclustertest: node %s: %v", name, err)
		}
	})
	return l.Addr().String()
}
