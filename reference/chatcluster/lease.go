package chatcluster

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// observed is what the keeper knows of another node's lease.
type observed struct {
	lease lease
	rev   uint64    // the lease's revision when last seen to change
	since time.Time // when the keeper saw it change (or began watching)
}

// keep is the keeper goroutine: every NodeTimeout/4 it renews this node's
// lease and reads the others'. It owns its observations.
func (n *Node) keep() {
	defer n.wg.Done()
	tick := time.NewTicker(n.cfg.NodeTimeout / 4)
	defer tick.Stop()
	seen := make(map[string]*observed)
	var gen uint64
	for {
		select {
		case <-tick.C:
		case <-n.ctx.Done():
			return
		}
		n.renew()
		n.mu.Lock()
		connected, g := n.connected, n.connGen
		n.mu.Unlock()
		if !connected || g != gen {
			// A watcher cut off from NATS saw nothing: its clock restarts
			// when it is back, so an outage of NATS kills nobody.
			now := time.Now()
			for _, o := range seen {
				o.since = now
			}
			gen = g
			if !connected {
				continue
			}
		}
		n.watch(seen)
	}
}

// renew updates this node's lease, or registers it again under a new
// epoch if it is gone.
func (n *Node) renew() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	if n.fenced {
		n.mu.Unlock()
		n.register()
		return
	}
	rev := n.leaseRev
	val := encode(lease{Proc: n.proc, Epoch: n.epoch, Addr: n.cfg.Addr})
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.RequestTimeout)
	newRev, err := n.nodes.Update(ctx, n.cfg.Node, val, rev)
	cancel()
	n.stats.requests.Add(1)
	switch {
	case err == nil:
		n.mu.Lock()
		n.leaseRev = newRev
		n.mu.Unlock()
	case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		n.fence()
		n.register()
	default:
		n.log.Debug("lease not renewed", "err", err)
	}
}

// fence takes the node out of the cluster after its lease was found gone:
// the others have declared it dead (it was cut off for longer than
// NodeTimeout) or another process has taken its name. Its members' names
// are no longer theirs, so their connections are closed.
func (n *Node) fence() {
	n.mu.Lock()
	if n.fenced || n.closed {
		n.mu.Unlock()
		return
	}
	was := n.availableLocked()
	n.fenced = true
	n.availabilityChangedLocked(was)
	var victims []*local
	for _, l := range n.locals {
		victims = append(victims, l)
	}
	for _, l := range n.joining {
		l.state = localAbandoned
		victims = append(victims, l)
	}
	clear(n.locals)
	clear(n.joining)
	for seq, ch := range n.waiting {
		close(ch)
		delete(n.waiting, seq)
	}
	for _, l := range victims {
		// Released unless a node that declared this one dead did already.
		n.enqueueLocked(nil, &release{name: l.m.Name, rev: l.rev}, false)
	}
	epoch := n.epoch
	n.mu.Unlock()
	n.log.Error("this node's lease is gone: it was declared dead, or another process took its name; disconnecting its clients",
		"epoch", epoch, "clients", len(victims))
	for _, l := range victims {
		if l.m.Disconnect != nil {
			l.m.Disconnect()
		}
	}
}

// register takes a new lease under the next epoch, and publishes the end
// of the previous epoch so that every replica drops its members.
func (n *Node) register() {
	n.mu.Lock()
	next := n.epoch + 1
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.RequestTimeout)
	rev, err := n.nodes.Create(ctx, n.cfg.Node, encode(lease{Proc: n.proc, Epoch: next, Addr: n.cfg.Addr}))
	cancel()
	n.stats.requests.Add(1)
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case errors.Is(err, jetstream.ErrKeyExists):
		if !n.fencedLog {
			n.fencedLog = true
			n.log.Error("another process holds this node's name: this node takes no new JOINs until it is gone; give each node its own name")
		}
		return
	case err != nil:
		n.log.Debug("lease not taken", "err", err)
		return
	}
	if n.closed {
		return
	}
	was := n.availableLocked()
	n.epoch, n.leaseRev, n.fenced, n.fencedLog = next, rev, false, false
	n.availabilityChangedLocked(was)
	n.enqueueLocked(&event{Kind: kindDown, Dead: n.proc, DeadEpoch: next - 1}, nil, false)
	n.log.Info("registered again", "epoch", next)
}

// watch reads every lease, and declares dead the nodes whose lease has
// not changed for NodeTimeout.
func (n *Node) watch(seen map[string]*observed) {
	entries, err := n.scan(n.ctx, n.nodes)
	if err != nil {
		n.log.Debug("leases not read", "err", err)
		return
	}
	now := time.Now()
	present := make(map[string]bool, len(entries))
	for _, e := range entries {
		key := e.Key()
		if key == n.cfg.Node {
			continue
		}
		present[key] = true
		o := seen[key]
		if o == nil || o.rev != e.Revision() {
			l, err := decode[lease](e.Value())
			if err != nil {
				continue
			}
			seen[key] = &observed{lease: l, rev: e.Revision(), since: now}
			continue
		}
		if now.Sub(o.since) >= n.cfg.NodeTimeout && n.declareDead(key, o) {
			delete(seen, key)
		}
	}
	for key := range seen {
		if !present[key] {
			delete(seen, key)
		}
	}
}

// declareDead deletes a silent node's lease, if nobody renewed or deleted it
// meanwhile, and then releases its names and publishes its death. It
// reports whether the node is settled (dead, or found alive after all).
func (n *Node) declareDead(key string, o *observed) bool {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.RequestTimeout)
	defer cancel()
	gone, err := n.deleteAt(ctx, n.nodes, key, o.rev)
	switch {
	case gone:
		return true // renewed after all, or another node was first
	case err != nil:
		n.log.Debug("lease not deleted", "node", key, "err", err)
		return false
	}
	n.log.Warn("node declared dead: its lease was not renewed", "dead", key, "process", o.lease.Proc,
		"addr", o.lease.Addr, "silent_for", time.Since(o.since).Round(time.Millisecond))
	ctx2, cancel2 := context.WithTimeout(n.ctx, 4*n.cfg.RequestTimeout)
	defer cancel2()
	if err := n.bury(ctx2, o.lease.Proc, o.lease.Epoch); err != nil {
		// Its lease is gone: a node that starts later releases its names.
		n.log.Warn("dead node's names not all released", "dead", key, "err", err)
	}
	return true
}
