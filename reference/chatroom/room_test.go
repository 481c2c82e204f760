package chatroom

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// fakeOutbox records what the room queues, as strings without terminator.
// LISTs are conflated like a real outbox that never drains: a newer LIST
// replaces an older unsent one.
type fakeOutbox struct {
	mu       sync.Mutex
	frames   []string // guarded by mu
	conflate bool     // read-only after construction
	listAt   int      // guarded by mu: index of the last unsent LIST, or -1
}

func newFake() *fakeOutbox { return &fakeOutbox{listAt: -1} }

func (f *fakeOutbox) Send(b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames = append(f.frames, strings.TrimSuffix(string(b), "\n"))
}

func (f *fakeOutbox) SendList(b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conflate && f.listAt >= 0 {
		f.frames = slices.Delete(f.frames, f.listAt, f.listAt+1)
	}
	f.listAt = len(f.frames)
	f.frames = append(f.frames, strings.TrimSuffix(string(b), "\n"))
}

// take returns and forgets what was queued.
func (f *fakeOutbox) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := f.frames
	f.frames, f.listAt = nil, -1
	return got
}

var t0 = time.Date(2019, 12, 9, 12, 0, 0, 0, time.UTC)

func join(t *testing.T, r *Room, name string) (*Member, *fakeOutbox) {
	t.Helper()
	out := newFake()
	m := &Member{Name: name, Addr: "127.0.0.1:4242", Remote: "127.0.0.1:50000", Out: out}
	if err := r.Join(m, t0); err != nil {
		t.Fatalf("Join(%q) = %v, want nil", name, err)
	}
	return m, out
}

func check(t *testing.T, who string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s received %q, want %q", who, got, want)
	}
}

func TestJoinSendsOKThenListToAll(t *testing.T) {
	r := New(Config{})
	_, a := join(t, r, "alice")
	check(t, "alice", a.take(), "J_OK", "LIST alice")
	_, b := join(t, r, "bob")
	check(t, "bob", b.take(), "J_OK", "LIST alice bob")
	check(t, "alice", a.take(), "LIST alice bob")
	if got, want := r.Names(), []string{"alice", "bob"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

func TestJoinErrors(t *testing.T) {
	r := New(Config{MaxMembers: 2})
	alice, a := join(t, r, "alice")
	a.take()
	tests := []struct {
		name string
		m    *Member
		want error
	}{
		{"duplicate", &Member{Name: "alice", Out: newFake()}, ErrNameTaken},
		{"invalid", &Member{Name: "al ice", Out: newFake()}, protocol.ErrInvalidName},
		{"empty", &Member{Name: "", Out: newFake()}, protocol.ErrInvalidName},
		{"too long", &Member{Name: "abcdefghijklm", Out: newFake()}, protocol.ErrInvalidName},
		{"twice", alice, ErrAlreadyMember},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Join(tt.m, t0)
			if !errors.Is(err, tt.want) {
				t.Errorf("Join(%q) = %v, want %v", tt.m.Name, err, tt.want)
			}
			if f, ok := tt.m.Out.(*fakeOutbox); ok && tt.m != alice {
				check(t, tt.m.Name, f.take())
			}
		})
	}
	check(t, "alice", a.take()) // no failed join reached anyone

	join(t, r, "bob")
	if err := r.Join(&Member{Name: "carol", Out: newFake()}, t0); !errors.Is(err, ErrFull) {
		t.Errorf("Join(carol) in a full room = %v, want ErrFull", err)
	}
}

func TestLeaveSendsListToRest(t *testing.T) {
	r := New(Config{})
	alice, a := join(t, r, "alice")
	_, b := join(t, r, "bob")
	a.take()
	b.take()
	if !r.Leave(alice) {
		t.Fatal("Leave(alice) = false, want true")
	}
	check(t, "alice", a.take())
	check(t, "bob", b.take(), "LIST bob")
	if r.Leave(alice) {
		t.Error("second Leave(alice) = true, want false")
	}
	check(t, "bob", b.take())
	// The name is free again at once.
	join(t, r, "alice")
}

func TestSay(t *testing.T) {
	r := New(Config{})
	alice, a := join(t, r, "alice")
	_, b := join(t, r, "bob")
	a.take()
	b.take()
	tests := []struct {
		text    string
		wantErr error
	}{
		{"hello: world", nil},
		{"", nil},
		{strings.Repeat("ø", 250), nil},
		{strings.Repeat("x", 251), protocol.ErrTextTooLong},
		{"bell\a", protocol.ErrInvalidText},
		{"\x1b[2J", protocol.ErrInvalidText},
		{"nul\x00", protocol.ErrInvalidText},
		{"bad \xff utf8", protocol.ErrInvalidText},
		{"line\nbreak", protocol.ErrInvalidText},
	}
	for _, tt := range tests {
		err := r.Say(alice, tt.text)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Say(alice, %q) = %v, want %v", tt.text, err, tt.wantErr)
		}
		var want []string
		if tt.wantErr == nil {
			want = []string{"DATA alice: " + tt.text}
		}
		check(t, "alice", a.take(), want...)
		check(t, "bob", b.take(), want...)
	}
	r.Leave(alice)
	b.take()
	if err := r.Say(alice, "ghost"); !errors.Is(err, ErrNotMember) {
		t.Errorf("Say after Leave = %v, want ErrNotMember", err)
	}
	check(t, "bob", b.take())
}

// TestBroadcastSharesBytes checks that one frame is formatted per event and
// shared among recipients.
func TestBroadcastSharesBytes(t *testing.T) {
	r := New(Config{})
	var frames [][]byte
	var mu sync.Mutex
	rec := recorder(func(b []byte) { mu.Lock(); frames = append(frames, b); mu.Unlock() })
	for _, n := range []string{"a", "b", "c"} {
		if err := r.Join(&Member{Name: n, Out: rec}, t0); err != nil {
			t.Fatal(err)
		}
	}
	frames = nil
	m := r.Members()[0]
	if err := r.Say(m, "hi"); err != nil {
		t.Fatal(err)
	}
	if len(frames) != 3 || &frames[0][0] != &frames[1][0] || &frames[1][0] != &frames[2][0] {
		t.Errorf("Say delivered %d frames, want 3 sharing one backing array", len(frames))
	}
}

type recorder func([]byte)

func (f recorder) Send(b []byte)     { f(b) }
func (f recorder) SendList(b []byte) { f(b) }

func TestUTFFraming(t *testing.T) {
	r := New(Config{Framing: protocol.FramingUTF})
	var got [][]byte
	rec := recorder(func(b []byte) { got = append(got, slices.Clone(b)) })
	if err := r.Join(&Member{Name: "alice", Out: rec}, t0); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{[]byte("\x00\x04J_OK"), []byte("\x00\x0aLIST alice")}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("UTF join frames = %q, want %q", got, want)
	}
}

// TestUTFListTooLarge: a LIST over 65535 bytes cannot be one writeUTF
// frame; the room sends the longest prefix that fits.
func TestUTFListTooLarge(t *testing.T) {
	// Paced, so that 6,000 joins cost one LIST round, not 6,000.
	var r *pacedRoom
	r = &pacedRoom{now: t0}
	r.Room = New(Config{
		Framing:            protocol.FramingUTF,
		ListBytesPerSecond: 1,
		ScheduleList:       func(time.Time) {},
		Now:                func() time.Time { return r.now },
	})
	var last []byte
	rec := recorder(func(b []byte) { last = b })
	for i := range 6000 {
		if err := r.Join(&Member{Name: fmt.Sprintf("user%08d", i), Out: rec}, t0); err != nil {
			t.Fatal(err)
		}
	}
	r.now = t0.Add(1000 * time.Hour)
	r.FlushList()
	n := int(last[0])<<8 | int(last[1])
	if n != len(last)-2 || n > protocol.MaxUTFFrame {
		t.Fatalf("LIST frame length %d for %d payload bytes", n, len(last)-2)
	}
	msg, err := protocol.Parse(string(last[2:]))
	if err != nil {
		t.Fatalf("truncated LIST does not parse: %v", err)
	}
	if got := msg.Names[len(msg.Names)-1]; len(got) != len("user00000000") {
		t.Errorf("truncated LIST ends with %q, want a whole name", got)
	}
	if len(msg.Names) < 5000 {
		t.Errorf("truncated LIST has %d names, want the ~5,000 that fit", len(msg.Names))
	}
}

func TestListConflationInOutbox(t *testing.T) {
	r := New(Config{})
	_, a := join(t, r, "alice")
	a.conflate = true
	a.take()
	for _, n := range []string{"b", "c", "d"} {
		join(t, r, n)
	}
	check(t, "alice", a.take(), "LIST alice b c d")
}

func TestHeartbeat(t *testing.T) {
	r := New(Config{})
	m, _ := join(t, r, "alice")
	if got := m.LastHeartbeat(); !got.Equal(t0) {
		t.Errorf("LastHeartbeat after Join = %v, want %v", got, t0)
	}
	if got := m.Joined(); !got.Equal(t0) {
		t.Errorf("Joined = %v, want %v", got, t0)
	}
	t1 := t0.Add(time.Minute)
	m.Touch(t1)
	if got := m.LastHeartbeat(); !got.Equal(t1) {
		t.Errorf("LastHeartbeat after Touch = %v, want %v", got, t1)
	}
}

func TestClose(t *testing.T) {
	r := New(Config{})
	alice, a := join(t, r, "alice")
	_, b := join(t, r, "bob")
	a.take()
	b.take()
	if got := r.Close(); len(got) != 2 {
		t.Errorf("Close returned %d members, want 2", len(got))
	}
	r.Leave(alice)
	check(t, "bob", b.take()) // nothing sent on leave from a closed room
	if err := r.Join(&Member{Name: "carol", Out: newFake()}, t0); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after Close = %v, want ErrClosed", err)
	}
	if r.Len() != 0 {
		t.Errorf("Len after Close = %d, want 0", r.Len())
	}
}

// TestConcurrentSameName: many goroutines join one name; exactly one wins.
func TestConcurrentSameName(t *testing.T) {
	r := New(Config{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 50 {
		wg.Go(func() {
			if r.Join(&Member{Name: "same", Out: newFake()}, t0) == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d joins of one name succeeded, want 1", wins)
	}
}

// discard is an Outbox that drops everything, for benchmarks.
type discard struct{}

func (discard) Send([]byte)     {}
func (discard) SendList([]byte) {}

func BenchmarkSay(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			r := New(Config{})
			for i := range n {
				if err := r.Join(&Member{Name: fmt.Sprintf("u%d", i), Out: discard{}}, t0); err != nil {
					b.Fatal(err)
				}
			}
			m := r.Members()[0]
			text := strings.Repeat("x", 64)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := r.Say(m, text); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

func BenchmarkJoinLeave(b *testing.B) {
	r := New(Config{})
	for i := range 1000 {
		if err := r.Join(&Member{Name: fmt.Sprintf("u%d", i), Out: discard{}}, t0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		m := &Member{Name: "newcomer", Out: discard{}}
		if err := r.Join(m, t0); err != nil {
			b.Fatal(err)
		}
		r.Leave(m)
	}
}

// pacedRoom is a room with a fake clock and a recorded schedule.
type pacedRoom struct {
	*Room
	now       time.Time
	scheduled []time.Time
}

func newPacedRoom(budget int64) *pacedRoom {
	p := &pacedRoom{now: t0}
	p.Room = New(Config{
		ListBytesPerSecond: budget,
		ScheduleList:       func(at time.Time) { p.scheduled = append(p.scheduled, at) },
		Now:                func() time.Time { return p.now },
	})
	return p
}

func TestListPacing(t *testing.T) {
	// 100 bytes per second: "LIST alice\n" to 1 member costs 11 bytes,
	// so the next round may go 110ms later.
	r := newPacedRoom(100)
	_, a := join(t, r.Room, "alice")
	check(t, "alice", a.take(), "J_OK", "LIST alice")

	r.now = t0.Add(50 * time.Millisecond)
	_, b := join(t, r.Room, "bob")
	check(t, "bob", b.take(), "J_OK") // the LIST waits
	check(t, "alice", a.take())
	if want := []time.Time{t0.Add(110 * time.Millisecond)}; !slices.Equal(r.scheduled, want) {
		t.Fatalf("scheduled %v, want %v", r.scheduled, want)
	}
	carol, c := join(t, r.Room, "carol") // merged into the same round
	c.take()
	r.Leave(carol)
	if len(r.scheduled) != 1 {
		t.Errorf("scheduled %d flushes, want 1 for changes in one window", len(r.scheduled))
	}

	r.now = t0.Add(100 * time.Millisecond) // early: asks again
	r.FlushList()
	check(t, "alice", a.take())
	if len(r.scheduled) != 2 {
		t.Errorf("an early flush scheduled %d times in all, want 2", len(r.scheduled))
	}
	r.now = t0.Add(110 * time.Millisecond)
	r.FlushList()
	check(t, "alice", a.take(), "LIST alice bob")
	check(t, "bob", b.take(), "LIST alice bob")
	check(t, "carol", c.take())
	r.FlushList() // nothing due: nothing sent
	check(t, "alice", a.take())
}

// TestListPacingDataFlushes: a deferred LIST goes out before a later DATA,
// so no member sees DATA from a member missing from its last LIST.
func TestListPacingDataFlushes(t *testing.T) {
	r := newPacedRoom(1)
	_, a := join(t, r.Room, "alice")
	a.take()
	bob, b := join(t, r.Room, "bob")
	check(t, "bob", b.take(), "J_OK")
	if err := r.Say(bob, "hi"); err != nil {
		t.Fatal(err)
	}
	check(t, "alice", a.take(), "LIST alice bob", "DATA bob: hi")
	check(t, "bob", b.take(), "LIST alice bob", "DATA bob: hi")
	r.FlushList() // the scheduled flush finds nothing due
	check(t, "alice", a.take())
}

func TestReplyGoesToTheMemberAlone(t *testing.T) {
	r := New(Config{})
	alice, a := join(t, r, "alice")
	_, b := join(t, r, "bob")
	a.take()
	b.take()
	if err := r.Say(alice, "hi"); err != nil {
		t.Fatal(err)
	}
	r.Reply(alice, []byte("J_ER 401: unknown command\n"))
	check(t, "alice", a.take(), "DATA alice: hi", "J_ER 401: unknown command")
	check(t, "bob", b.take(), "DATA alice: hi")
}
