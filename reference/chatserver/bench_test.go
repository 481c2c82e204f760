package chatserver

import (
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
	var wg sync.WaitGroup
	counts := make(chan int, n)
	start := make(chan int, n)
	for _, c := range conns {
		wg.Go(func() {
			buf := make([]byte, 64<<10)
			var tail []byte
			for want := range start {
				// Read until "sync" lines counted: want markers seen.
				seen := 0
				for seen < want {
					c.SetReadDeadline(time.Now().Add(time.Minute))
					k, err := c.Read(buf)
					if err != nil {
						b.Log(err)
						counts <- -1
						return
					}
					data := append(tail, buf[:k]...)
					seen += bytes.Count(data, []byte("sync\n"))
					tail = append(tail[:0], data[max(0, len(data)-4):]...)
					if bytes.HasSuffix(data, []byte("sync\n")) {
						tail = tail[:0]
					}
				}
				counts <- seen
			}
		})
	}
	sender := conns[0]
	send := func(k int) {
		var req []byte
		for range k {
			req = append(req, line...)
		}
		req = append(req, marker...)
		if _, err := sender.Write(req); err != nil {
			b.Fatal(err)
		}
	}
	// Warm up: one round, which also drains the joins' J_OKs and LISTs.
	for range conns {
		start <- 1
	}
	send(1)
	for range conns {
		if <-counts < 0 {
			b.Fatal("a client failed")
		}
	}
	b.ResetTimer()
	// Rounds of a burst of DATA lines and a marker, each round waiting
	// until every client has read the marker: a window that keeps every
	// queue within bounds, as a real load would not necessarily.
	const burst = 200
	rounds := (b.N + burst - 1) / burst
	for range rounds {
		for range conns {
			start <- 1
		}
		send(burst)
		for range conns {
			if <-counts < 0 {
				b.Fatal("a client failed")
			}
		}
	}
	b.StopTimer()
	close(start)
	total := float64(rounds*(burst+1)) * float64(n)
	b.ReportMetric(total/b.Elapsed().Seconds(), "deliveries/s")
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
}
