package chatcluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// maxBatch is the most events the publisher has in flight at once: they
// go out back to back and their acknowledgements come back together, so a
// busy node pays about one NATS round trip per batch, not per event.
const maxBatch = 256

// job is one entry of the publisher's queue: an event to publish, a name
// to release first, or both (a leave). Its fields are set by
// enqueueLocked and then read-only, except as commented.
type job struct {
	ev      *event        // nil for a release alone
	data    []byte        // ev, encoded
	release *release      // the claim to delete before publishing, or nil
	done    chan struct{} // closed once the job is done; nil if nobody waits
	taken   bool          // guarded by Node.mu: the publisher has it
	cut     bool          // guarded by Node.mu until taken: the event was withdrawn, release only
}

// release names a claim: a user name at a revision.
type release struct {
	name string
	rev  uint64
}

// enqueueLocked queues ev (if not nil, with this process's identity and
// next sequence number) after releasing rel (if not nil). n.mu must be
// held.
func (n *Node) enqueueLocked(ev *event, rel *release, wait bool) *job {
	j := &job{ev: ev, release: rel}
	if ev != nil {
		n.seq++
		ev.Proc, ev.Epoch, ev.Seq = n.proc, n.epoch, n.seq
		j.data = encode(ev)
		n.queueBytes += len(j.data)
	}
	if wait {
		j.done = make(chan struct{})
	}
	n.queue = append(n.queue, j)
	if len(n.queue) == 1 {
		n.signal()
	}
	return j
}

// publishLoop is the publisher goroutine. It owns the jobs it has taken
// (pending) until they are done, and lastSeq.
func (n *Node) publishLoop() {
	defer n.wg.Done()
	var (
		pending []*job
		lastSeq uint64 // the stream sequence of this process's last event known to be stored
	)
	for n.ctx.Err() == nil {
		if !n.isConnected() {
			if !n.recover(&pending, &lastSeq) {
				return
			}
			continue
		}
		if len(pending) == 0 {
			pending = n.take()
			if len(pending) == 0 {
				continue
			}
		}
		stored, err := n.process(pending)
		if err != nil {
			if n.ctx.Err() == nil {
				n.lostNATS(err)
			}
			continue
		}
		lastSeq = max(lastSeq, stored)
		n.finish(pending)
		pending = nil
	}
}

// isConnected reports whether the publisher may publish.
func (n *Node) isConnected() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.connected
}

// take waits for jobs and returns the next batch: up to maxBatch jobs, of
// which only the first may release a name (releases happen before the
// publishes of the batch). It returns nothing when NATS is lost or the
// node stops.
func (n *Node) take() []*job {
	n.mu.Lock()
	defer n.mu.Unlock()
	for len(n.queue) == 0 {
		if !n.connected || n.ctx.Err() != nil {
			return nil
		}
		n.mu.Unlock()
		select {
		case <-n.wake:
		case <-n.ctx.Done():
		}
		n.mu.Lock()
	}
	k := 1
	for k < len(n.queue) && k < maxBatch && n.queue[k].release == nil {
		k++
	}
	batch := make([]*job, k)
	copy(batch, n.queue)
	n.queue = append(n.queue[:0], n.queue[k:]...)
	for _, j := range batch {
		j.taken = true
		if j.cut {
			n.queueBytes -= len(j.data)
			j.ev, j.data = nil, nil
		}
	}
	return batch
}

// process releases the first job's name, if it has one, then publishes
// the batch's events and waits for NATS to acknowledge them all. It
// returns the stream sequence of the last event stored.
func (n *Node) process(batch []*job) (uint64, error) {
	if r := batch[0].release; r != nil {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.RequestTimeout)
		// Gone means the claim is gone already: released before an outage,
		// or by a node that declared this one dead.
		_, err := n.deleteAt(ctx, n.names, r.name, r.rev)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("chatcluster: release %q: %w", r.name, err)
		}
	}
	futures := make([]jetstream.PubAckFuture, 0, len(batch))
	start := time.Now()
	for _, j := range batch {
		if j.data == nil {
			continue
		}
		msg := &nats.Msg{Subject: n.subject, Data: j.data, Header: nats.Header{}}
		f, err := n.js.PublishMsgAsync(msg, jetstream.WithMsgID(n.proc+"."+strconv.FormatUint(j.ev.Seq, 10)))
		if err != nil {
			return 0, fmt.Errorf("chatcluster: publish: %w", err)
		}
		futures = append(futures, f)
	}
	var last uint64
	for _, f := range futures {
		select {
		case pa := <-f.Ok():
			last = max(last, pa.Sequence)
		case err := <-f.Err():
			return 0, fmt.Errorf("chatcluster: publish: %w", err)
		case <-n.ctx.Done():
			return 0, n.ctx.Err()
		}
	}
	if len(futures) > 0 {
		n.stats.batches.Add(1)
		n.stats.published.Add(int64(len(futures)))
		n.stats.publishNanos.Add(int64(time.Since(start)))
	}
	return last, nil
}

// deleteAt deletes key from kv if it is still at revision rev, and counts
// the request. A revision mismatch is no error: it means the entry is gone
// already (deleted, or replaced, by this node before an outage or by
// another node), which gone reports; err is any other failure. Releasing a
// claim, giving up a lease and declaring a node dead all delete this way,
// so that none of them removes an entry written after it was read.
func (n *Node) deleteAt(ctx context.Context, kv jetstream.KeyValue, key string, rev uint64) (gone bool, err error) {
	err = kv.Delete(ctx, key, jetstream.LastRevision(rev))
	n.stats.requests.Add(1)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return true, nil
	}
	return false, err
}

// await waits until the publisher is done with j, which was queued with
// wait set, and returns nil; or until ctx ends first, and returns ctx's
// error. The caller queues j under n.mu and calls await after releasing
// it, so that the publisher can take the job.
func (n *Node) await(ctx context.Context, j *job) error {
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finish marks jobs done.
func (n *Node) finish(jobs []*job) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, j := range jobs {
		n.queueBytes -= len(j.data)
		if j.done != nil {
			close(j.done)
		}
	}
}

// recover runs while NATS is unavailable: it waits until the connection is
// back, finds out which pending events the stream holds already (they
// were stored, but their acknowledgements were lost), drops them from
// pending, and marks NATS available. It returns false if the node stops.
func (n *Node) recover(pending *[]*job, lastSeq *uint64) bool {
	for {
		if n.nc.IsConnected() {
			stored, last, err := n.storedSince(*lastSeq)
			if err == nil {
				*lastSeq = last
				keep := (*pending)[:0]
				var drop []*job
				for _, j := range *pending {
					if j.ev != nil && stored[j.ev.Seq] {
						drop = append(drop, j)
					} else {
						keep = append(keep, j)
					}
				}
				n.finish(drop)
				*pending = keep
				n.mu.Lock()
				resend := len(keep) + len(n.queue)
				n.mu.Unlock()
				n.regainedNATS(resend)
				return true
			}
			n.log.Debug("NATS not ready yet", "err", err)
		}
		select {
		case <-n.wake:
		case <-time.After(n.cfg.ReconnectWait):
		case <-n.ctx.Done():
			return false
		}
	}
}

// storedSince returns the sequence numbers of this process's events that
// the stream holds after stream sequence after, and the stream sequence of
// the last of them (after, if none). It reads this process's own subject,
// so it is exact however long NATS was away; the message ids that the
// publisher sets cover what it cannot see (an event stored after it looked).
func (n *Node) storedSince(after uint64) (map[uint64]bool, uint64, error) {
	stored := make(map[uint64]bool)
	last := after
	for {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.RequestTimeout)
		m, err := n.stream.GetMsg(ctx, last+1, jetstream.WithGetMsgSubject(n.subject))
		cancel()
		n.stats.requests.Add(1)
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			return stored, last, nil
		case err != nil:
			return nil, 0, fmt.Errorf("chatcluster: read own events: %w", err)
		}
		if ev, err := decode[event](m.Data); err == nil {
			stored[ev.Seq] = true
		}
		last = m.Sequence
	}
}
