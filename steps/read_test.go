package steps

import (
	"testing"

	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// msgOf recognises a frame as a peer would.
func msgOf(frame string) peer.Msg {
	r := protocol.Recognize(frame)[0]
	return peer.Msg{Frame: frame, Reading: r}
}

func TestKindAndOrigin(t *testing.T) {
	srv := New(Config{Addrs: []string{"x"}})
	w := &world{srv: srv, cfg: &srv.cfg, serial: 1}
	srv.reg.claim("alicek3j9x2", 1)
	srv.reg.claim("carolzz9911", 2)
	srv.reg.sent("HELLO", 2)
	tests := []struct {
		frame string
		kind  kind
		orig  origin
	}{
		{"J_OK", kindReply, originOurs},
		{"J_OK welcome", kindReply, originOurs},
		{"J_ER 409: taken", kindReply, originOurs},
		{"DATA alicek3j9x2: hi", kindData, originOurs},
		{"alicek3j9x2: hi", kindData, originOurs},       // reformatted, our user
		{"[carolzz9911]: hi", kindData, originForeign},  // reformatted, another scenario's
		{"DATA stranger: hi", kindData, originForeign},  // a user nobody in the run knows
		{"Welcome: to the chat", kindNoise, originOurs}, // verb-less, but no known name
		{"DATA carolzz9911 no colon", kindNoise, originForeign},
		{"HELLO", kindNoise, originForeign}, // another scenario's line, echoed
		{"LIST alicek3j9x2 carolzz9911", kindList, originOurs},
		{"IMAV", kindReply, originOurs},
	}
	for _, tt := range tests {
		m := msgOf(tt.frame)
		if k := w.kindOf(m); k != tt.kind {
			t.Errorf("kindOf(%q) = %d, want %d", tt.frame, k, tt.kind)
		}
		if tt.kind == kindList {
			continue // a LIST is judged by its change, not its origin
		}
		if o := w.origin(m); o != tt.orig {
			t.Errorf("origin(%q) = %d, want %d", tt.frame, o, tt.orig)
		}
	}
}

func TestWireNames(t *testing.T) {
	srv := New(Config{Addrs: []string{"x"}})
	w := &world{srv: srv, suffix: randomSuffix(), serial: 1}
	seen := make(map[string]bool)
	for _, alias := range []string{"alice", "bob", "carol", "mallory", "newcomer", "racer10", "checker"} {
		name := w.wireName(alias)
		if err := protocol.ValidName(name); err != nil || len(name) > 11 {
			t.Errorf("wireName(%q) = %q (%v), want a valid name of at most 11 characters", alias, name, err)
		}
		if seen[name] {
			t.Errorf("wireName(%q) = %q, already used by another alias", alias, name)
		}
		seen[name] = true
		if srv.reg.ownerOf(name) != 1 {
			t.Errorf("wireName(%q): the registry does not know %q", alias, name)
		}
	}
	if got := w.freshName("ab-##"); len(got) != 5 || got[:3] != "ab-" || srv.reg.ownerOf(got) != 1 {
		t.Errorf("freshName(%q) = %q", "ab-##", got)
	}
}
