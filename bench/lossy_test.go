package bench_test

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatspec/chatspec/bench"
	"github.com/chatspec/chatspec/protocol"
)

// relayServer is a broken fan-out server, to prove that chatbench sees
// what goes wrong: it answers the first frame of each client with J_OK and
// relays every DATA to the clients in join order, unless fate says
// otherwise for the n-th DATA (from 1) and the i-th client (from 0).
type relayServer struct {
	fate func(i, n int) fate

	mu    sync.Mutex
	conns []net.Conn // guarded by mu, in join order
	n     int        // guarded by mu: DATA frames relayed
}

// fate is what relayServer does with one DATA for one client.
type fate int

const (
	deliver fate = iota
	skip         // the client misses it
	hangUp       // the client is disconnected instead
)

// lossyServer: the first client to join misses every skipEvery-th DATA,
// the second is disconnected after closeAfter DATA (and, being a sender,
// stops sending), and the third is disconnected after closeAfter DATA too.
func lossyServer(skipEvery, closeAfter int) *relayServer {
	return &relayServer{fate: func(i, n int) fate {
		switch {
		case i == 0 && n%skipEvery == 0:
			return skip
		case (i == 1 || i == 2) && n == closeAfter+1:
			return hangUp
		}
		return deliver
	}}
}

func (s *relayServer) serve(l net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		wg.Go(func() {
			defer c.Close()
			s.conn(c)
		})
	}
}

func (s *relayServer) conn(c net.Conn) {
	rd := protocol.FramingLine.NewReader(c, 0)
	if _, err := rd.ReadFrame(); err != nil {
		return
	}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
	c.Write([]byte("J_OK\n"))
	for {
		frame, err := rd.ReadFrame()
		if err != nil {
			return
		}
		if !strings.HasPrefix(frame, "DATA ") {
			continue
		}
		s.mu.Lock()
		s.n++
		for i, to := range s.conns {
			switch s.fate(i, s.n) {
			case skip:
				continue
			case hangUp:
				to.Close()
				continue
			}
			to.Write([]byte(frame + "\n"))
		}
		s.mu.Unlock()
	}
}

// closeAll disconnects every client.
func (s *relayServer) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

func TestLossAndDropsAreCounted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := lossyServer(5, 3)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.serve(l)
	}()
	cfg := bench.Config{
		Addr: l.Addr().String(), Clients: 4, Senders: 2, Messages: 20, Window: 4,
		JoinConcurrency: 1, // join in order: client 0 first
		Settle:          -1, Heartbeat: -1,
		Drain: 2 * time.Second, // waits this long for the skipped messages
	}
	res, err := bench.Run(t.Context(), cfg)
	l.Close()
	srv.closeAll()
	<-done
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Drops != 2 || res.ReadersDropped != 1 || res.SendersDropped != 1 {
		t.Errorf("drops %d (%d readers, %d senders), want 2 (1, 1)", res.Drops, res.ReadersDropped, res.SendersDropped)
	}
	// The dropped sender wrote some messages the server never read: they
	// are not due to anyone. Two clients are still connected, and one of
	// them missed every 5th DATA the server relayed.
	relayed := int64(srv.relayed())
	if relayed < 20 || relayed > 40 || res.Sent < relayed {
		t.Fatalf("server relayed %d, chatbench sent %d: want 20 to 40, and no more than sent", relayed, res.Sent)
	}
	if lost := relayed / 5; res.Expected != 2*relayed || res.Lost != lost || res.Received != 2*relayed-lost {
		t.Errorf("expected %d, lost %d, received %d, want %d, %d, %d",
			res.Expected, res.Lost, res.Received, 2*relayed, lost, 2*relayed-lost)
	}
	if res.Duplicated != 0 {
		t.Errorf("duplicated %d, want 0", res.Duplicated)
	}
}

func (s *relayServer) relayed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}
