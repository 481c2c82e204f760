package steps

import (
	"slices"
	"testing"
	"time"

	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

func TestRegistryTracesNames(t *testing.T) {
	r := newRegistry()
	r.claim("alicek3j9x2", 1)
	r.claim("bobk3j9x2", 1)
	r.claim("carolzz9911", 2)
	r.claim("7", 3) // a one-digit name, as joining.valid-name uses
	tests := []struct {
		frame string
		want  []int
	}{
		{"DATA alicek3j9x2: hi", []int{1}},
		{"J_ER 410: invalid name bobk3j9x2", []int{1}},
		{"LIST alicek3j9x2 carolzz9911", []int{1, 2}},
		{"J_ER 410: 1 to 12 of A-Z 7", nil}, // too short to trace
		{"Welcome!", nil},
	}
	for _, tt := range tests {
		if got := r.namesIn(tt.frame); !slices.Equal(got, tt.want) {
			t.Errorf("namesIn(%q) = %v, want %v", tt.frame, got, tt.want)
		}
	}
	r.sent("HELLO", 1)
	r.sent("HELLO", 2)
	r.sent("PING", 2)
	r.sent(protocol.VerbAlive, 2)
	for _, tt := range []struct {
		payload string
		serial  int
		want    bool
	}{
		{"HELLO", 1, false}, // sent by 1 too: it may be 1's own echo
		{"PING", 1, true},
		{"PING", 2, false},
		{"IMAV", 1, false}, // every scenario sends it: never traced
		{"never sent", 1, false},
	} {
		if got := r.sentByOthersOnly(tt.payload, tt.serial); got != tt.want {
			t.Errorf("sentByOthersOnly(%q, %d) = %v, want %v", tt.payload, tt.serial, got, tt.want)
		}
	}
}

func TestRegistryWindows(t *testing.T) {
	r := newRegistry()
	t0 := time.Now()
	r.event("x", changeJoin)
	r.event("x", changeQuit)
	r.event("y", changeJoin)
	r.event("s", changeDrop)
	t1 := time.Now()
	if got := r.leftBetween(t0, t1); !slices.Equal(got, []string{"s", "x"}) {
		t.Errorf("leftBetween = %v, want [s x]", got)
	}
	r.settle("x")
	later := t1.Add(time.Hour)
	// A quit takes effect within quiet; a silence within expiry; a
	// settled change took effect by the time it was settled.
	if got := r.mayChangeDuring(later, later.Add(time.Second), time.Second, 2*time.Hour, changeJoin, ""); !slices.Equal(got, []string{"s"}) {
		t.Errorf("an hour later, mayChangeDuring = %v, want [s] (a silence may take the whole expiry)", got)
	}
	if got := r.mayChangeDuring(t0, t1, time.Second, time.Minute, changeDrop, "x"); !slices.Equal(got, []string{"y"}) {
		t.Errorf("mayChangeDuring(drop, not x) = %v, want [y]", got)
	}
	if r.lastChange("x") != changeQuit || r.lastChange("nobody") != changeNone {
		t.Errorf("lastChange: x %s, nobody %s", r.lastChange("x"), r.lastChange("nobody"))
	}
}

// listMsg is a LIST as a peer delivers it.
func listMsg(names ...string) peer.Msg {
	m := protocol.List(names)
	return peer.Msg{Frame: m.String(), Reading: protocol.Reading{Message: m, Raw: m.String()}}
}

func TestJudgeList(t *testing.T) {
	srv := New(Config{Addrs: []string{"x"}})
	w := &world{srv: srv, cfg: &srv.cfg, serial: 1}
	reg := srv.reg
	for _, n := range []string{"alice", "bob"} {
		reg.claim(n, 1)
	}
	reg.claim("other", 2)
	reg.claim("ghost", 2)
	start := time.Now()
	reg.event("alice", changeJoin)
	reg.event("other", changeJoin)
	prevAt := time.Now()
	since := reg.event("bob", changeJoin)
	at := time.Now()
	prev := []string{"alice", "other"}

	ok := w.judgeList(listMsg("alice", "other", "bob"), prev, true, "bob", changeJoin, 2, prevAt, since, at)
	if !ok.ok {
		t.Errorf("a LIST that adds only bob: %+v, want it counted", ok)
	}
	merged := w.judgeList(listMsg("alice", "bob"), prev, true, "bob", changeJoin, 2, prevAt, since, at)
	if merged.ok || merged.spoiled == "" {
		t.Errorf("a LIST that adds bob and drops another user who joined: %+v, want inconclusive", merged)
	}
	reg.event("other", changeJoin) // a join merged with a join: one sweep of the same kind
	if v := w.judgeList(listMsg("alice", "other", "bob"), []string{"alice"}, true, "bob", changeJoin, 2, prevAt, since, time.Now()); !v.ok {
		t.Errorf("a LIST that merges two joins: %+v, want it counted", v)
	}
	reg.event("ghost", changeJoin)
	reg.event("ghost", changeQuit)
	if v := w.judgeList(listMsg("alice", "other", "bob"), prev, true, "bob", changeJoin, 2, prevAt, since, time.Now()); v.ok {
		t.Errorf("a user came and went unseen: %+v, want inconclusive", v)
	}
	if v := w.judgeList(listMsg("alice", "bob"), nil, false, "bob", changeJoin, 0, start, since, time.Now()); v.ok {
		t.Errorf("no LIST before, and other kinds of change meanwhile: %+v, want inconclusive", v)
	}
}
