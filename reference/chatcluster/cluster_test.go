package chatcluster

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chatspec/chatspec/protocol"
)

// TestSharedRoom: three nodes, one of them writeUTF, share one room: LISTs
// name everyone, every DATA reaches everyone in one order, a QUIT frees
// the name cluster-wide.
func TestSharedRoom(t *testing.T) {
	n1, n2, n3 := newCluster(t).three()
	alice := n1.dial(t, "alice")
	alice.join()
	alice.awaitList(guard, "alice")
	bob := n2.dial(t, "bob")
	bob.join()
	bob.awaitList(guard, "alice", "bob")
	carol := n3.dial(t, "carol")
	carol.join()
	carol.awaitList(guard, "alice", "bob", "carol")
	alice.awaitList(guard, "alice", "bob", "carol")
	bob.awaitList(guard, "alice", "bob", "carol")

	// Everyone talks at once; everyone hears everything in one order.
	const each = 50
	clients := []*client{alice, bob, carol}
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	for _, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := cl.trySend(fmt.Sprintf("DATA %s: %s says %d: yes", cl.name, cl.name, i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, cl := range clients {
		cl.awaitData(len(clients) * each)
	}
	for _, cl := range clients[1:] {
		if !slices.Equal(cl.data, alice.data) {
			t.Fatalf("%s saw the DATA in another order than alice:\n%s\n%q\nalice\n%q", cl.name, cl.name, cl.data, alice.data)
		}
	}
	for _, cl := range clients {
		var mine []string
		for _, d := range alice.data {
			if strings.HasPrefix(d, "DATA "+cl.name+":") {
				mine = append(mine, d)
			}
		}
		for i, d := range mine {
			if want := fmt.Sprintf("DATA %s: %s says %d: yes", cl.name, cl.name, i); d != want {
				t.Fatalf("%s's message %d arrived as %q, want %q", cl.name, i, d, want)
			}
		}
		if len(mine) != each {
			t.Fatalf("%d of %s's messages arrived, want %d", len(mine), cl.name, each)
		}
	}

	// A name is unique across the cluster, and free again after QUIT.
	bob2 := n1.dial(t, "bob")
	bob2.send("JOIN bob, 127.0.0.1:4242")
	if got := bob2.read(guard); !strings.HasPrefix(got, "J_ER 409:") {
		t.Fatalf("JOIN bob on n1 while bob is on n2: %q, want J_ER 409", got)
	}
	bob.send("QUIT")
	bob.expectClosed()
	alice.awaitList(guard, "alice", "carol")
	carol.awaitList(guard, "alice", "carol")
	bob2.join()
	bob2.awaitList(guard, "alice", "bob", "carol")
	carol.awaitList(guard, "alice", "bob", "carol")
}

// TestJoinRace: three clients on three nodes JOIN one name at the same
// moment, a hundred times: exactly one J_OK each time.
func TestJoinRace(t *testing.T) {
	c := newCluster(t)
	nodes := []*testNode{
		c.node("n1", protocol.FramingLine),
		c.node("n2", protocol.FramingLine),
		c.node("n3", protocol.FramingUTF),
	}
	contenders := make([]*client, len(nodes))
	for i, tn := range nodes {
		contenders[i] = tn.dial(t, fmt.Sprintf("c%d", i))
	}
	for round := range 100 {
		name := fmt.Sprintf("race%d", round)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, cl := range contenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				cl.trySend("JOIN " + name + ", 127.0.0.1:4242")
			}()
		}
		close(start)
		wg.Wait()
		// Every verdict first: the winner's QUIT frees the name.
		winner := -1
		for i, cl := range contenders {
			switch got := cl.read(guard); got {
			case "J_OK":
				if winner >= 0 {
					t.Fatalf("round %d: J_OK for %s on %s and on %s, want exactly one", round, name, nodes[winner].name, nodes[i].name)
				}
				winner = i
			case "J_ER 409: duplicate user name":
			default:
				t.Fatalf("round %d, node %s: JOIN %s answered %q", round, nodes[i].name, name, got)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no J_OK for %s, want exactly one", round, name)
		}
		// The winner leaves; its connection closes once the name is free.
		w := contenders[winner]
		w.awaitList(guard, name)
		w.send("QUIT")
		w.expectClosed()
		contenders[winner] = nodes[winner].dial(t, fmt.Sprintf("c%d", winner))
	}
}

// TestRepliesFollowEchoes: as on a single server, a client's DATA echo
// comes before the answer to its next line, and a client that says
// something and quits at once still gets its echo.
func TestRepliesFollowEchoes(t *testing.T) {
	c := newCluster(t)
	n1, n2 := c.node("n1", protocol.FramingLine), c.node("n2", protocol.FramingLine)
	alice, bob := aliceAndBob(t, n1, n2)
	bob.send("DATA bob: bye\nQUIT")
	if got := bob.read(guard); got != "DATA bob: bye" {
		t.Fatalf("bob got %q, want his echo before the connection closes", got)
	}
	bob.expectClosed()
	alice.awaitList(guard, "alice")
	for i := range 20 {
		// Both lines in one write: the server reads the second before
		// the cluster has ordered the first.
		alice.send(fmt.Sprintf("DATA alice: %d\nHELLO", i))
		for _, want := range []string{fmt.Sprintf("DATA alice: %d", i), "J_ER 401: unknown command"} {
			if got := alice.read(guard); got != want {
				t.Fatalf("round %d: got %q, want %q", i, got, want)
			}
		}
	}
}
