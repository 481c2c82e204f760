package chatserver

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkFanout measures the whole server over loopback TCP: one client
// sends bursts of DATA, and every joined client (the sender included)
// reads every line; the next burst goes when all have read the last. One op is one DATA; the
// deliveries/s metric counts each line delivered to each client.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchFanout(b, n) })
	}
}

func benchFanout(b *testing.B, n int) {
	srv := New(Config{OutboxBytes: 1 << 20})
	defer srv.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "JOIN u%d\n", i)
		conns[i] = c
	}
	// Wait until everyone is in, then drain what the joins sent.
	for srv.Room().Len() < n {
		time.Sleep(time.Millisecond)
	}
	line := "DATA u0: " + strings.Repeat("x", 64) + "\n"
	marker := "DATA u0: sync\n"
	const burst = 200 // DATA lines per round, then a marker
	var wg sync.WaitGroup
	counts := make(chan int, n)
	starts := make([]chan int, n) // per client: how many lines to read
	for i, c := range conns {
		start := make(chan int, 1)
		starts[i] = start
		wg.Go(func() {
			br := bufio.NewReaderSize(c, 64<<10)
			c.SetReadDeadline(time.Now().Add(time.Minute))
			// Warm-up: J_OK, LISTs, up to the first marker.
			<-start
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					counts <- -1
					return
				}
				if l == marker {
					break
				}
			}
			counts <- 1
			// Timed rounds: nothing but DATA now, so count line ends.
			buf := make([]byte, 64<<10)
			for want := range start {
				seen := 0
				for seen < want {
					k, err := br.Read(buf)
					if err != nil {
						counts <- -1
						return
					}
					seen += bytes.Count(buf[:k], []byte{'\n'})
				}
				counts <- seen
			}
		})
	}
	sender := conns[0]
	req := []byte(strings.Repeat(line, burst) + marker)
	round := func(lines int, msg []byte) {
		for _, start := range starts {
			start <- lines
		}
		if _, err := sender.Write(msg); err != nil {
			b.Fatal(err)
		}
		for range conns {
			if <-counts < 0 {
				b.Fatal("a client failed")
			}
		}
	}
	round(1, []byte(marker)) // warm-up, untimed

	// Rounds of a burst of DATA lines and a marker, each round waiting
	// until every client has read it all: a window that keeps every
	// queue within bounds, as a real load would not necessarily.
	b.ResetTimer()
	rounds := (b.N + burst - 1) / burst
	for range rounds {
		round(burst+1, req)
	}
	b.StopTimer()
	for _, start := range starts {
		close(start)
	}
	total := float64(rounds*(burst+1)) * float64(n)
	b.ReportMetric(total/b.Elapsed().Seconds(), "deliveries/s")
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
}
