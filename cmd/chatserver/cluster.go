package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/chatspec/chatspec/reference/chatcluster"
	"github.com/chatspec/chatspec/reference/chatcluster/embedded"
	"github.com/chatspec/chatspec/reference/chatserver"
)

// openTimeout bounds joining the cluster at start-up.
const openTimeout = 30 * time.Second

// clusterFlags are the flags of a node of a cluster.
type clusterFlags struct {
	url         string        // -cluster: NATS URLs, or "embedded"
	node        string        // -node
	room        string        // -cluster-room
	nodeTimeout time.Duration // -node-timeout; 0: the default
	replicas    int           // -cluster-replicas
	natsAddr    string        // -nats-addr, with -cluster embedded
	natsStore   string        // -nats-store, with -cluster embedded
}

func (c *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "cluster", "", "be a node of a cluster sharing one room through NATS JetStream: the NATS `url` (nats://host:4222, several separated by commas), or \"embedded\" to start a NATS server inside this node")
	fs.StringVar(&c.node, "node", "", "this node's `name` in the cluster, unique (default: the host name and the -addr port)")
	fs.StringVar(&c.room, "cluster-room", chatcluster.DefaultRoom, "the shared room's `name`: nodes with the same name share a room")
	fs.DurationVar(&c.nodeTimeout, "node-timeout", 0, "a node that does not renew its lease for this `duration` is declared dead and its users leave (default 10s, or half of -heartbeat-timeout if less)")
	fs.IntVar(&c.replicas, "cluster-replicas", 1, "`copies` NATS keeps of the room's stream and buckets: 1, or 3 with a NATS cluster of three servers or more")
	fs.StringVar(&c.natsAddr, "nats-addr", embedded.DefaultAddr, "with -cluster embedded: the `host:port` the embedded NATS server listens on (port 0: any free port)")
	fs.StringVar(&c.natsStore, "nats-store", "", "with -cluster embedded: the `folder` where JetStream keeps the room (default: a temporary folder, removed on exit)")
}

// check validates the cluster flags, after fs.Parse, against the others.
func (c *clusterFlags) check(fs *flag.FlagSet, heartbeat time.Duration) error {
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if c.url == "" {
		for _, name := range []string{"node", "cluster-room", "cluster-replicas", "node-timeout", "nats-addr", "nats-store"} {
			if given[name] {
				return fmt.Errorf("-%s needs -cluster", name)
			}
		}
		return nil
	}
	if c.url != "embedded" && (given["nats-addr"] || given["nats-store"]) {
		return errors.New("-nats-addr and -nats-store go with -cluster embedded")
	}
	if c.nodeTimeout < 0 || c.nodeTimeout > heartbeat/2 {
		return fmt.Errorf("-node-timeout must be positive and at most half of -heartbeat-timeout (%v), not %v", heartbeat, c.nodeTimeout)
	}
	if c.replicas < 1 || c.replicas > 5 {
		return fmt.Errorf("-cluster-replicas must be 1 to 5, not %d", c.replicas)
	}
	if c.nodeTimeout == 0 {
		c.nodeTimeout = min(chatcluster.DefaultNodeTimeout, heartbeat/2)
	}
	return nil
}

// join starts the embedded NATS server if asked, opens this node of the
// cluster and makes cfg use its room. The returned function leaves the
// cluster and stops the embedded server; call it after the chat server
// has shut down.
func (c *clusterFlags) join(ctx context.Context, chatAddr net.Addr, cfg *chatserver.Config, stdout io.Writer) (leave func(), err error) {
	url := c.url
	var ns *embedded.Server
	if url == "embedded" {
		ns, err = embedded.Start(embedded.Config{Addr: c.natsAddr, StoreDir: c.natsStore, Name: c.node})
		if err != nil {
			return nil, err
		}
		url = ns.URL()
		store := ns.StoreDir()
		if ns.Temporary() {
			store += ", removed on exit"
		}
		fmt.Fprintf(stdout, "chatserver: embedded NATS with JetStream (store %s) at %s: start the other nodes with -cluster %s\n",
			store, url, url)
	}
	stopNATS := func() {
		if ns != nil {
			if err := ns.Shutdown(); err != nil {
				cfg.Logger.Warn("embedded NATS", "err", err)
			}
		}
	}
	node := c.node
	if node == "" {
		node = defaultNodeName(chatAddr)
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	n, err := chatcluster.Open(octx, chatcluster.Config{
		URL:         url,
		Room:        c.room,
		Node:        node,
		Addr:        chatAddr.String(),
		NodeTimeout: c.nodeTimeout,
		Replicas:    c.replicas,
		Logger:      cfg.Logger,
	})
	if err != nil {
		stopNATS()
		return nil, err
	}
	cfg.Room = n.Room
	fmt.Fprintf(stdout, "chatserver: node %s of cluster room %q through NATS at %s\n", node, c.room, url)
	return func() {
		lctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := n.Close(lctx); err != nil {
			cfg.Logger.Warn("leaving the cluster", "err", err)
		}
		stopNATS()
	}, nil
}

// defaultNodeName is the host name and the chat port: unique for nodes on
// different machines, and for nodes on one machine.
func defaultNodeName(chatAddr net.Addr) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	host, _, _ = strings.Cut(host, ".")
	port := "0"
	if ta, ok := chatAddr.(*net.TCPAddr); ok {
		port = strconv.Itoa(ta.Port)
	}
	return chatcluster.NodeName(host + "-" + port)
}
