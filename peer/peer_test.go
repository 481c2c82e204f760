package peer

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/report"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pipe returns a Conn on one end of a net.Pipe and the other end, which
// the test scripts; both are closed when the test ends.
func pipe(t *testing.T, f protocol.Framing) (*Conn, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	c := New(a, Options{Label: "alice", Framing: f})
	t.Cleanup(func() {
		b.Close()
		c.Close()
	})
	return c, b
}

// write has the scripted end write s, in a goroutine: net.Pipe writes block
// until read.
func write(t *testing.T, end net.Conn, s string) {
	t.Helper()
	if _, err := end.Write([]byte(s)); err != nil {
		t.Fatalf("script write %q: %v", s, err)
	}
}

func TestReadsAndRecords(t *testing.T) {
	c, end := pipe(t, protocol.FramingLine)
	write(t, end, "J_OK\r\nLIST alice bob\n")
	ok := c.Wait(context.Background(), time.Minute, func(msgs []Msg, _ error) bool { return len(msgs) == 2 })
	if !ok {
		t.Fatal("Wait did not see two messages")
	}
	msgs, end2 := c.Snapshot()
	if end2 != nil || msgs[0].Kind != protocol.KindOK || msgs[1].Kind != protocol.KindList || msgs[1].Names[1] != "bob" {
		t.Fatalf("Snapshot() = %+v, %v", msgs, end2)
	}
	entries, _, _ := c.Transcript().Entries()
	var got []string
	for _, e := range entries {
		if e.Dir == report.Received {
			got = append(got, string(e.Data))
		}
	}
	if strings.Join(got, "|") != "J_OK\r\n|LIST alice bob\n" {
		t.Errorf("transcript holds %q, want each frame's exact bytes", got)
	}
}

func TestGluedFrameIsTwoMessages(t *testing.T) {
	c, end := pipe(t, protocol.FramingRaw)
	go end.Write([]byte("J_OKLIST alice"))
	c.Wait(context.Background(), time.Minute, func(msgs []Msg, _ error) bool { return len(msgs) == 2 })
	msgs, _ := c.Snapshot()
	if len(msgs) != 2 || msgs[0].Kind != protocol.KindOK || msgs[1].Kind != protocol.KindList || msgs[0].Shape&protocol.ShapeGlued == 0 {
		t.Fatalf("messages = %+v, want J_OK then LIST, glued", msgs)
	}
	if msgs[0].Entry != msgs[1].Entry {
		t.Errorf("the two messages of one frame have entries %d and %d, want one", msgs[0].Entry, msgs[1].Entry)
	}
}

func TestExpect(t *testing.T) {
	isOK := func(m Msg) Verdict {
		switch m.Kind {
		case protocol.KindOK:
			return Match
		case protocol.KindError:
			return Mismatch
		}
		return Skip
	}
	t.Run("match after skipping", func(t *testing.T) {
		c, end := pipe(t, protocol.FramingLine)
		go end.Write([]byte("LIST a\nJ_OK\n"))
		from := 0
		r := c.Expect(context.Background(), time.Minute, &from, isOK)
		if !r.Matched() || r.Index != 1 || from != 2 || len(r.Skipped) != 1 {
			t.Errorf("Expect = %+v, from %d; want a match at 1, one skipped, from 2", r, from)
		}
	})
	t.Run("mismatch", func(t *testing.T) {
		c, end := pipe(t, protocol.FramingLine)
		go end.Write([]byte("J_ER 409: taken\n"))
		from := 0
		r := c.Expect(context.Background(), time.Minute, &from, isOK)
		if r.Matched() || !r.Mismatched() || from != 1 {
			t.Errorf("Expect = %+v, from %d; want a mismatch, from 1", r, from)
		}
	})
	t.Run("timeout leaves the cursor", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, end := pipe(t, protocol.FramingLine)
			go end.Write([]byte("LIST a\n"))
			from := 0
			r := c.Expect(context.Background(), 2*time.Second, &from, isOK)
			if r.Msg != nil || from != 0 || len(r.Skipped) != 1 || r.End != nil {
				t.Errorf("Expect = %+v, from %d; want nothing, from 0, one skipped", r, from)
			}
		})
	})
	t.Run("end of reading", func(t *testing.T) {
		c, end := pipe(t, protocol.FramingLine)
		end.Close()
		from := 0
		r := c.Expect(context.Background(), time.Minute, &from, isOK)
		if r.Msg != nil || !errors.Is(r.End, io.EOF) {
			t.Errorf("Expect = %+v; want no message and io.EOF", r)
		}
		if !errors.Is(c.Ended(), io.EOF) {
			t.Errorf("Ended() = %v after the other end closed, want io.EOF", c.Ended())
		}
	})
}

func TestNoneStopsAtBarrier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, end := pipe(t, protocol.FramingLine)
		go end.Write([]byte("DATA bob: early\nDATA bob: barrier\nDATA bob: late\n"))
		start := time.Now()
		hits, stopped := c.None(context.Background(), time.Hour, 0,
			func(m Msg) bool { return m.Kind == protocol.KindData && m.Text != "barrier" },
			func(msgs []Msg) bool {
				for _, m := range msgs {
					if m.Text == "barrier" {
						return true
					}
				}
				return false
			})
		if !stopped || time.Since(start) >= time.Hour {
			t.Errorf("None did not stop at the barrier (stopped %v after %s)", stopped, time.Since(start))
		}
		if len(hits) == 0 || hits[0].Text != "early" {
			t.Errorf("None() = %+v, want the early DATA among the hits", hits)
		}
	})
}

func TestNoneListensForQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := pipe(t, protocol.FramingLine)
		start := time.Now()
		hits, stopped := c.None(context.Background(), 300*time.Millisecond, 0, func(Msg) bool { return true }, nil)
		if len(hits) != 0 || stopped || time.Since(start) != 300*time.Millisecond {
			t.Errorf("None() = %v, %v after %s; want nothing, after exactly the quiet time", hits, stopped, time.Since(start))
		}
	})
}

func TestBarrier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, end := pipe(t, protocol.FramingLine)
		arrived := func(m Msg) bool { return m.Text == "barrier 1" }
		// The other end echoes the barrier.
		got := Barrier(context.Background(), c, time.Minute, func() error {
			go end.Write([]byte("DATA alice: barrier 1\n"))
			return nil
		}, arrived)
		if !got {
			t.Error("Barrier() = false, want true: the barrier arrived")
		}
		// Now it never arrives.
		start := time.Now()
		got = Barrier(context.Background(), c, 2*time.Second, func() error { return nil }, arrived)
		if got || time.Since(start) != 2*time.Second {
			t.Errorf("Barrier() = %v after %s, want false after the timeout (an old arrival does not count)", got, time.Since(start))
		}
		// A failed send.
		if Barrier(context.Background(), c, time.Minute, func() error { return io.ErrClosedPipe }, arrived) {
			t.Error("Barrier() = true after a failed send")
		}
	})
}

func TestHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, end := pipe(t, protocol.FramingLine)
		beats := make(chan time.Time, 10)
		go func() {
			buf := make([]byte, 64)
			for {
				n, err := end.Read(buf)
				if err != nil {
					close(beats)
					return
				}
				if string(buf[:n]) == "IMAV\n" {
					beats <- time.Now()
				}
			}
		}()
		start := time.Now()
		c.StartHeartbeat(time.Minute, []byte("IMAV\n"))
		time.Sleep(90 * time.Second) // a tick while not beating sends nothing
		c.SetBeating(true)
		at := <-beats
		if at.Sub(start) != 2*time.Minute {
			t.Errorf("first heartbeat after %s, want 2m (the first tick was off)", at.Sub(start))
		}
		c.SetBeating(false)
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		select {
		case at := <-beats:
			t.Errorf("a heartbeat at +%s while beating was off", at.Sub(start))
		default:
		}
		c.Close() // waits for the heartbeat goroutine; goleak checks
	})
}

func TestRawGap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		c := New(a, Options{Label: "alice", Framing: protocol.FramingRaw, RawGap: 100 * time.Millisecond})
		defer c.Close()
		defer b.Close()
		arrivals := make(chan time.Time, 2)
		go func() {
			buf := make([]byte, 64)
			for {
				if _, err := b.Read(buf); err != nil {
					return
				}
				arrivals <- time.Now()
			}
		}()
		start := time.Now()
		if err := c.SendMessage(protocol.Alive()); err != nil {
			t.Fatal(err)
		}
		if err := c.SendMessage(protocol.Quit()); err != nil {
			t.Fatal(err)
		}
		first, second := <-arrivals, <-arrivals
		if first != start || second.Sub(first) != 100*time.Millisecond {
			t.Errorf("writes at +%s and +%s, want +0s and +100ms", first.Sub(start), second.Sub(start))
		}
	})
}

func TestTranscriptApartAndCap(t *testing.T) {
	tr := NewTranscript(time.Now())
	i := tr.bytes(tr.Since(), "alice", report.Received, []byte("LIST other\n"), false)
	tr.bytes(tr.Since(), "alice", report.Received, []byte("J_OK\n"), false)
	tr.SetApart(i)
	tr.SetApart(-1)
	kept, apart, dropped := tr.Entries()
	if len(kept) != 1 || string(kept[0].Data) != "J_OK\n" || apart != 1 || dropped != 0 {
		t.Errorf("Entries() = %+v, %d, %d; want J_OK only, 1 apart", kept, apart, dropped)
	}
	if n := tr.Apart(); n != 1 {
		t.Errorf("Apart() = %d, want 1", n)
	}
	for range MaxEntries {
		tr.bytes(tr.Since(), "alice", report.Sent, []byte("IMAV\n"), true)
	}
	tr.Event("suite", "still recorded")
	kept, _, dropped = tr.Entries()
	if dropped != 2 || kept[len(kept)-1].Note != "still recorded" {
		t.Errorf("a full transcript dropped %d and ends with %+v; want 2 dropped and the event kept", dropped, kept[len(kept)-1])
	}
	long := tr.bytes(tr.Since(), "alice", report.Sent, []byte(strings.Repeat("x", 1000)), false)
	if long != -1 {
		t.Errorf("bytes() on a full transcript = %d, want -1", long)
	}
}

func TestEntryCutsLongData(t *testing.T) {
	tr := NewTranscript(time.Now())
	tr.bytes(tr.Since(), "alice", report.Sent, []byte(strings.Repeat("x", 1000)), false)
	kept, _, _ := tr.Entries()
	if len(kept[0].Data) != report.MaxEntryBytes || kept[0].Size != 1000 {
		t.Errorf("entry holds %d bytes of %d, want %d of 1000", len(kept[0].Data), kept[0].Size, report.MaxEntryBytes)
	}
}

func TestStopReadingAndReset(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		s, err := ln.Accept()
		if err == nil {
			accepted <- s
		}
	}()
	c, err := Dial(context.Background(), ln.Addr().String(), time.Second, Options{Label: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	defer s.Close()
	c.StopReading()
	if _, err := s.Write([]byte("J_OK\n")); err != nil {
		t.Fatal(err)
	}
	c.Reset()
	buf := make([]byte, 8)
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.Read(buf); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("the server's read after Reset = %v, want a reset (not EOF)", err)
	}
	if err := c.Ended(); c.Len() != 0 || errors.Is(err, io.EOF) {
		t.Errorf("after StopReading: %d messages, ended by %v; want 0, not closed by the other end", c.Len(), err)
	}
}

func TestRecord(t *testing.T) {
	tr := NewTranscript(time.Now())
	i := tr.Record("stdout", report.Received, []byte("name: "))
	j := tr.Record("stdin", report.Sent, []byte("alice\n"))
	kept, _, _ := tr.Entries()
	if i != 0 || j != 1 || len(kept) != 2 || kept[0].Conn != "stdout" || kept[0].Dir != report.Received ||
		string(kept[0].Data) != "name: " || kept[1].Conn != "stdin" || kept[1].Heartbeat {
		t.Errorf("Record() = %d, %d; entries %+v; want stdout's bytes then stdin's", i, j, kept)
	}
}
