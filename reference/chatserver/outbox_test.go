package chatserver

import (
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

func newTestOutbox(t *testing.T, max int) *outbox {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return newOutbox(a, max, time.Minute, time.Minute, nil, nil)
}

// take returns the next batch as strings, dropped LISTs left out.
func take(t *testing.T, o *outbox) []string {
	t.Helper()
	batch, err := o.next(nil)
	if err != nil {
		t.Fatalf("next = %v", err)
	}
	var got []string
	for _, f := range batch {
		if f != nil {
			got = append(got, string(f))
		}
	}
	return got
}

// lagging returns an outbox whose writer is busy writing a batch.
func lagging(t *testing.T) *outbox {
	o := newTestOutbox(t, 1000)
	o.Send([]byte("D0"))
	if got := take(t, o); len(got) != 1 {
		t.Fatalf("first batch = %q", got)
	}
	return o
}

func TestOutboxConflatesLists(t *testing.T) {
	tests := []struct {
		name  string
		queue func(o *outbox)
		want  []string
	}{
		{"lists only", func(o *outbox) {
			o.SendList([]byte("L1"))
			o.SendList([]byte("L2"))
			o.SendList([]byte("L3"))
		}, []string{"L3"}},
		{"newest list after the events before it", func(o *outbox) {
			o.Send([]byte("D1"))
			o.SendList([]byte("L1"))
			o.Send([]byte("D2"))
			o.SendList([]byte("L2"))
			o.Send([]byte("D3"))
		}, []string{"D1", "D2", "L2", "D3"}},
		{"data never conflates", func(o *outbox) {
			o.Send([]byte("D1"))
			o.Send([]byte("D1"))
		}, []string{"D1", "D1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := lagging(t)
			tt.queue(o)
			if got := take(t, o); !slices.Equal(got, tt.want) {
				t.Errorf("batch = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestOutboxKeepsUpGetsEveryList: a LIST already taken by the writer is
// never replaced, and nor is one queued while the writer is not writing:
// a client that keeps up sees every LIST.
func TestOutboxKeepsUpGetsEveryList(t *testing.T) {
	o := newTestOutbox(t, 1000)
	for _, l := range []string{"L1", "L2", "L3"} {
		o.SendList([]byte(l))
		if got := take(t, o); !slices.Equal(got, []string{l}) {
			t.Errorf("batch = %q, want [%q]", got, l)
		}
	}
	o = newTestOutbox(t, 1000) // a writer that has not started writing yet
	o.SendList([]byte("L1"))
	o.SendList([]byte("L2"))
	if got := take(t, o); !slices.Equal(got, []string{"L1", "L2"}) {
		t.Errorf("batch = %q, want [L1 L2]", got)
	}
}

func TestOutboxOverflow(t *testing.T) {
	o := newTestOutbox(t, 10)
	o.SendList(make([]byte, 100)) // a LIST does not count against the bound
	o.Send(make([]byte, 6))
	o.Send(make([]byte, 4)) // exactly full
	if o.state != outboxOpen {
		t.Fatal("outbox overflowed at its bound, want at bound+1")
	}
	o.Send(make([]byte, 1))
	if _, err := o.next(nil); !errors.Is(err, errSlowConsumer) {
		t.Errorf("next after overflow = %v, want errSlowConsumer", err)
	}
	o.Send([]byte("x")) // ignored, no panic
}

func TestOutboxDrainAndAbort(t *testing.T) {
	o := newTestOutbox(t, 100)
	o.Send([]byte("D1"))
	o.drain()
	o.Send([]byte("late")) // refused once draining
	if got := take(t, o); !slices.Equal(got, []string{"D1"}) {
		t.Errorf("batch while draining = %q, want [D1]", got)
	}
	if _, err := o.next(nil); !errors.Is(err, errDrained) {
		t.Errorf("next when drained = %v, want errDrained", err)
	}

	o = newTestOutbox(t, 100)
	o.Send([]byte("D1"))
	o.abort()
	if _, err := o.next(nil); !errors.Is(err, errAborted) {
		t.Errorf("next after abort = %v, want errAborted", err)
	}
}

// TestOutboxWakesWriter: a writer waiting in next wakes for a frame.
func TestOutboxWakesWriter(t *testing.T) {
	o := newTestOutbox(t, 100)
	got := make(chan []string)
	go func() {
		batch, _ := o.next(nil)
		var s []string
		for _, f := range batch {
			s = append(s, string(f))
		}
		got <- s
	}()
	o.Send([]byte("D1"))
	if g := <-got; len(g) == 0 || g[0] != "D1" {
		t.Errorf("woken writer got %q, want D1 first", g)
	}
}

// BenchmarkOutboxSend is the per-recipient cost of a broadcast.
func BenchmarkOutboxSend(b *testing.B) {
	a, c := net.Pipe()
	defer a.Close()
	defer c.Close()
	o := newOutbox(a, 1<<30, time.Minute, time.Minute, new(sync.Pool), nil)
	frame := make([]byte, 80)
	b.ReportAllocs()
	var batch [][]byte
	for i := 0; b.Loop(); i++ {
		o.Send(frame)
		if i%64 == 63 {
			batch, _ = o.next(batch)
		}
	}
}
