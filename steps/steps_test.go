package steps

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

func TestWireNames(t *testing.T) {
	w := newWorld(&Config{}, &runState{}, "test")
	seen := make(map[string]bool)
	for _, alias := range []string{"alice", "bob", "carol", "mallory", "newcomer", "racer10"} {
		name := w.wireName(alias)
		if err := protocol.ValidName(name); err != nil {
			t.Errorf("wireName(%q) = %q: %v", alias, name, err)
		}
		if len(name) > 11 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			t.Errorf("wireName(%q) = %q, want at most 11 lower-case letters and digits", alias, name)
		}
		if seen[name] {
			t.Errorf("wireName(%q) = %q, already used by another alias", alias, name)
		}
		seen[name] = true
		if again := w.wireName(alias); again != name {
			t.Errorf("wireName(%q) = %q, then %q", alias, name, again)
		}
	}
}

func TestFreshName(t *testing.T) {
	for _, in := range []string{"#", "abcdef######", "ab cd###", ""} {
		got := freshName(in)
		if len(got) != len(in) {
			t.Errorf("freshName(%q) = %q, want %d bytes", in, got, len(in))
		}
		for i := range in {
			if in[i] == '#' && (got[i] < '0' || got[i] > '9') || in[i] != '#' && got[i] != in[i] {
				t.Errorf("freshName(%q) = %q", in, got)
				break
			}
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		line string
		want class
	}{
		{"J_OK", classReply},
		{"J_ER 409: taken", classReply},
		{"J_ER bad name", classReply},       // the wrong shape still answers the request
		{"DATA bob: hi", classData},         //
		{"DATA bjørn: hi", classData},       // another user's bad name is no concern of this scenario
		{"LIST a b", classList},             //
		{"LIST a bjørn", classList},         //
		{"LIST  a, b ", classList},          //
		{"Welcome to the chat", classNoise}, // no protocol message at all
		{"IMAV", classReply},                // a request where a reply belongs: unexpected
	}
	for _, tt := range tests {
		if got := classify(tt.line).class; got != tt.want {
			t.Errorf("classify(%q).class = %d, want %d", tt.line, got, tt.want)
		}
	}
}

func TestFilter(t *testing.T) {
	tests := []struct {
		user    string
		framing protocol.Framing
		extra   []string
		want    string
	}{
		{"", protocol.FramingLine, []string{"~@fragile"}, "~@fragile"},
		{"@must", protocol.FramingLine, []string{"~@fragile"}, "@must&&~@fragile"},
		{"@must,@slow", protocol.FramingLine, []string{"@fragile"}, "@must&&@fragile,@slow&&@fragile"},
		{"", protocol.FramingUTF, []string{"~@fragile"}, "~@fragile&&~@lines"},
		{"", protocol.FramingLine, nil, ""},
	}
	for _, tt := range tests {
		r := &runner{cfg: Config{Framing: tt.framing}}
		r.cfg.Godog.Tags = tt.user
		if got := r.filter(tt.extra...); got != tt.want {
			t.Errorf("filter(%q, %v, %v) = %q, want %q", tt.user, tt.framing, tt.extra, got, tt.want)
		}
	}
}

func TestPhaseFormat(t *testing.T) {
	if got, want := phaseFormat("pretty,junit:out/report.xml,cucumber:c", "fragile"), "pretty,junit:out/report.fragile.xml,cucumber:c.fragile"; got != want {
		t.Errorf("phaseFormat = %q, want %q", got, want)
	}
}

func TestTranscriptCollapsesHeartbeats(t *testing.T) {
	tr := newTranscript(time.Now())
	tr.bytes("alice", "->", []byte("JOIN alice, 1.2.3.4:5\n"))
	for range 3 {
		tr.heartbeat("alice", []byte("IMAV\n"))
		tr.heartbeat("bob", []byte("IMAV\n"))
	}
	tr.bytes("alice", "<-", []byte("DATA bob: \x1b[2J\n"))
	out := tr.String()
	if n := strings.Count(out, "IMAV"); n != 1 {
		t.Errorf("transcript shows IMAV %d times, want 1 collapsed line:\n%s", n, out)
	}
	if !strings.Contains(out, "alice x3, bob x3") {
		t.Errorf("transcript does not count the heartbeats:\n%s", out)
	}
	if !strings.Contains(out, `"DATA bob: \x1b[2J\n"`) {
		t.Errorf("transcript does not escape the bytes:\n%s", out)
	}
}

func TestReportVerdict(t *testing.T) {
	must := ScenarioResult{Level: "MUST", Ran: true}
	should := ScenarioResult{Level: "SHOULD", Ran: true}
	fail := &Failure{Expected: "x", Actual: "y"}
	mustFail, shouldFail := must, should
	mustFail.Err, shouldFail.Err = fail, fail
	notGraded := must
	notGraded.Err = &ConnectError{Addr: "a", Err: errors.New("refused")}
	tests := []struct {
		name   string
		strict bool
		sc     []ScenarioResult
		want   bool
	}{
		{"all pass", false, []ScenarioResult{must, should}, true},
		{"SHOULD warns", false, []ScenarioResult{must, shouldFail}, true},
		{"SHOULD fails with -strict", true, []ScenarioResult{must, shouldFail}, false},
		{"MUST fails", false, []ScenarioResult{mustFail, should}, false},
		{"not graded", false, []ScenarioResult{notGraded, should}, false},
		{"nothing ran", false, nil, false},
	}
	for _, tt := range tests {
		rep := &Report{Config: Config{Strict: tt.strict}, Scenarios: tt.sc}
		if got := rep.OK(); got != tt.want {
			t.Errorf("%s: OK() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
