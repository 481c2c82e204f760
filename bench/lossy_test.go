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

// lossyServer is a broken fan-out server, to prove that chatbench sees
// what goes wrong: the first client to join misses every skipEvery-th DATA,
// the second is disconnected after closeAfter DATA (and, being a sender,
// stops sending), and the third is disconnected after closeAfter DATA too.
type lossyServer struct {
	skipEvery, closeAfter int

	mu    sync.Mutex
	conns []net.Conn // guarded by mu, in join order
	n     int        // guarded by mu: DATA frames relayed
}

func (s *lossyServer) serve(l net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			s.conn(c)
		}()
	}
}

func (s *lossyServer) conn(c net.Conn) {
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
			switch {
			case i == 0 && s.n%s.skipEvery == 0:
				continue
			case (i == 1 || i == 2) && s.n == s.closeAfter+1:
				to.Close()
				continue
			}
			to.Write([]byte(frame + "\n"))
		}
		s.mu.Unlock()
	}
}

func TestLossAndDropsAreCounted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &lossyServer{skipEvery: 5, closeAfter: 3}
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
	srv.mu.Lock()
	for _, c := range srv.conns {
		c.Close()
	}
	srv.mu.Unlock()
	<-done
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Drops != 2 {
		t.Errorf("drops %d, want 2", res.Drops)
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

func (s *lossyServer) relayed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}
