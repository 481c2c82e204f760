package chatcluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// TestNodeKilled: a node is killed while everyone talks. Its users leave
// every other node's LIST within one heartbeat timeout (the clients' read
// deadline while they wait), their names are free again, and the
// survivors' messages all arrive, once each, in one order.
func TestNodeKilled(t *testing.T) {
	n1, n2, n3 := newCluster(t).three()
	alice, bob := n1.dial(t, "alice"), n2.dial(t, "bob")
	carol, dave := n3.dial(t, "carol"), n3.dial(t, "dave")
	for _, cl := range []*client{alice, bob, carol, dave} {
		cl.join()
	}
	everyone := []string{"alice", "bob", "carol", "dave"}
	alice.awaitList(guard, everyone...)
	bob.awaitList(guard, everyone...)

	const each = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	killed := make(chan struct{})
	for _, cl := range []*client{alice, bob} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if i == each/2 {
					<-killed // the second half goes out after the kill
				}
				if err := cl.trySend(fmt.Sprintf("DATA %s: %d", cl.name, i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	n3.crash()
	close(killed)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	alice.awaitList(heartbeatTimeout, "alice", "bob")
	bob.awaitList(heartbeatTimeout, "alice", "bob")
	alice.awaitData(2 * each)
	bob.awaitData(2 * each)
	if !slices.Equal(alice.data, bob.data) {
		t.Fatalf("alice and bob saw different orders:\nalice %q\nbob   %q", alice.data, bob.data)
	}
	for _, who := range []string{"alice", "bob"} {
		n := 0
		for _, d := range alice.data {
			if strings.HasPrefix(d, "DATA "+who+":") {
				if want := fmt.Sprintf("DATA %s: %d", who, n); d != want {
					t.Fatalf("got %q, want %q: lost, duplicated or reordered", d, want)
				}
				n++
			}
		}
		if n != each {
			t.Fatalf("%d of %s's %d messages arrived", n, who, each)
		}
	}

	// The dead node's names are free.
	carol2 := n1.dial(t, "carol")
	carol2.join()
	dave2 := n2.dial(t, "dave")
	dave2.join()
	dave2.awaitList(guard, "alice", "bob", "carol", "dave")
	if !strings.Contains(n1.log.String()+n2.log.String(), "node declared dead") {
		t.Error("no survivor logged the node's death")
	}
}

// TestRestartedNode: a node killed and started again under the same name
// takes over at once (long before its lease would time out) and does not
// bring back its previous users.
func TestRestartedNode(t *testing.T) {
	c := newCluster(t)
	n1 := c.nodeWith("n1", protocol.FramingLine, time.Hour)
	n2 := c.nodeWith("n2", protocol.FramingLine, time.Hour)
	alice, _ := aliceAndBob(t, n1, n2)

	n2.crash()
	n2b := c.nodeWith("n2", protocol.FramingUTF, time.Hour)
	alice.awaitList(guard, "alice")
	carol := n2b.dial(t, "carol")
	carol.join()
	if got := carol.read(guard); got != "LIST alice carol" {
		t.Fatalf("carol's first LIST on the restarted node: %q, want \"LIST alice carol\"", got)
	}
	bob2 := n2b.dial(t, "bob")
	bob2.join()
	alice.awaitList(guard, "alice", "bob", "carol")
	if !strings.Contains(n2b.log.String(), "took over the node name") {
		t.Error("the restarted node did not log its takeover")
	}
}

// TestNATSOutage: NATS stops and starts again. Meanwhile new JOINs get
// J_ER 503, open connections stay, DATA is accepted; afterwards every
// message arrives exactly once, in one order, and joins work again. Each
// node logs the outage once.
func TestNATSOutage(t *testing.T) {
	c := newCluster(t)
	n1, n2 := c.node("n1", protocol.FramingLine), c.node("n2", protocol.FramingUTF)
	alice, bob := aliceAndBob(t, n1, n2)
	alice.send("DATA alice: before")
	alice.awaitData(1)
	bob.awaitData(1)

	c.stopNATS()
	carol := n1.dial(t, "carol")
	carol.send("JOIN carol, 127.0.0.1:4242")
	if got, want := carol.read(guard), "J_ER 503: "+"chat cluster unavailable, try again later"; got != want {
		t.Fatalf("JOIN during the outage: %q, want %q", got, want)
	}
	const each = 5
	for i := range each {
		alice.send(fmt.Sprintf("DATA alice: during %d", i))
		bob.send(fmt.Sprintf("DATA bob: during %d", i))
	}
	c.startNATS(c.addr)

	alice.awaitData(1 + 2*each)
	bob.awaitData(1 + 2*each)
	if !slices.Equal(alice.data, bob.data) {
		t.Fatalf("alice and bob saw different orders:\nalice %q\nbob   %q", alice.data, bob.data)
	}
	for _, who := range []string{"alice", "bob"} {
		var got []string
		for _, d := range alice.data[1:] {
			if strings.HasPrefix(d, "DATA "+who+":") {
				got = append(got, d)
			}
		}
		var want []string
		for i := range each {
			want = append(want, fmt.Sprintf("DATA %s: during %d", who, i))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s's messages after the outage: %q, want %q", who, got, want)
		}
	}
	// alice's echoes came through n1: n1 is back, and carol's connection
	// is still open.
	carol.join()
	alice.awaitList(guard, "alice", "bob", "carol")
	bob.awaitList(guard, "alice", "bob", "carol")
	// Nothing more: the next frame each gets is the reply to this probe.
	for _, cl := range []*client{alice, bob} {
		cl.send("SYNC")
		if got := cl.read(guard); got != "J_ER 401: unknown command" {
			t.Fatalf("%s: got %q after the outage, want nothing more", cl.name, got)
		}
	}
	for _, tn := range []*testNode{n1, n2} {
		if n := strings.Count(tn.log.String(), "NATS unavailable"); n != 1 {
			t.Errorf("node %s logged the outage %d times, want once", tn.name, n)
		}
	}
}

// TestFencedNode: a node whose lease disappears (declared dead while cut
// off, as an operator deleting it does here) disconnects its clients, whose
// names are no longer theirs, and registers again.
func TestFencedNode(t *testing.T) {
	c := newCluster(t)
	n1, n2 := c.node("n1", protocol.FramingLine), c.node("n2", protocol.FramingLine)
	alice, bob := aliceAndBob(t, n1, n2)

	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := n1.node.nodes.Delete(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	bob.expectClosed()
	alice.awaitList(guard, "alice")
	bob2 := n2.dial(t, "bob")
	bob2.join()
	alice.awaitList(guard, "alice", "bob")
	if !strings.Contains(n2.log.String(), "registered again") {
		t.Error("n2 did not log its new registration")
	}
}

// TestRecoverSkipsStoredEvents: after an outage, the events the stream
// stored although their acknowledgements were lost are not published
// again; the others are.
func TestRecoverSkipsStoredEvents(t *testing.T) {
	c := newCluster(t)
	n := c.node("n1", protocol.FramingLine).node
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	var pending []*job
	for seq := uint64(100); seq < 104; seq++ {
		ev := &event{Kind: kindData, Proc: n.proc, Epoch: 1, Seq: seq, Name: "nobody", Text: "x"}
		pending = append(pending, &job{ev: ev, data: encode(ev), done: make(chan struct{})})
	}
	for _, j := range pending[:2] { // stored, acknowledgements lost
		if _, err := n.js.Publish(ctx, n.subject, j.data); err != nil {
			t.Fatal(err)
		}
	}
	n.lostNATS(errors.New("test outage"))
	left := slices.Clone(pending)
	var lastSeq uint64
	if !n.recover(&left, &lastSeq) {
		t.Fatal("recover gave up")
	}
	if len(left) != 2 || left[0].ev.Seq != 102 || left[1].ev.Seq != 103 {
		t.Fatalf("left to publish: %d jobs, want seqs 102 and 103", len(left))
	}
	for _, j := range pending[:2] {
		select {
		case <-j.done:
		default:
			t.Errorf("stored job %d not marked done", j.ev.Seq)
		}
	}
}
