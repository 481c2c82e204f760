package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chatspec/chatspec/bench"
	"github.com/chatspec/chatspec/reference/chatcluster/chatclustertest"
	"github.com/chatspec/chatspec/reference/chatserver"
)

// TestCluster spreads the clients over the two nodes of a cluster and
// checks the figures per node and the nodes' NATS costs.
func TestCluster(t *testing.T) {
	addrs, url := chatclustertest.Start(t, 2, chatserver.Config{})
	var stdout, stderr bytes.Buffer
	args := []string{"-addr", strings.Join(addrs, ","), "-nats", url, "-clients", "6", "-senders", "2",
		"-messages", "10", "-settle", "-1ns", "-drain", "30s", "-json", "-q"}
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("run %q: %v\nstderr: %s", args, err, stderr.String())
	}
	var out struct {
		Target  *bench.Result `json:"target"`
		Cluster []NodeCost    `json:"cluster"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
	}
	r := out.Target
	if r.Joined != 6 || r.Received != 6*2*10 || r.Lost != 0 || r.Duplicated != 0 {
		t.Errorf("joined %d received %d lost %d duplicated %d, want 6 120 0 0", r.Joined, r.Received, r.Lost, r.Duplicated)
	}
	if len(r.Nodes) != 2 {
		t.Fatalf("%d nodes in the result, want 2", len(r.Nodes))
	}
	for i, n := range r.Nodes {
		if n.Addr != addrs[i] || n.Clients != 3 || n.Senders != 1 || n.Delivered != 3*2*10 {
			t.Errorf("node %d: %+v, want %s with 3 clients, 1 sender, 60 deliveries", i, n, addrs[i])
		}
	}
	if len(out.Cluster) != 2 {
		t.Fatalf("NATS costs of %d nodes, want 2", len(out.Cluster))
	}
	for _, c := range out.Cluster {
		if c.Published <= 0 || c.PublishRoundTrips <= 0 || c.Applied <= 0 {
			t.Errorf("node %s: %+v, want events published and applied", c.Node, c)
		}
	}
}
