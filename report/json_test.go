package report

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// richReport is a report with every outcome, level and optional part: the
// fixture of the renderers' tests.
func richReport() *Report {
	ms := time.Millisecond
	long := bytes.Repeat([]byte("DATA alice:"+strings.Repeat("x", 39)+"\n"), 6) // 300 bytes of 1,200
	return &Report{
		Suite:  "server",
		Target: "127.0.0.1:4000",
		Settings: []Setting{
			{Name: "addr", Value: "127.0.0.1:4000"},
			{Name: "framing", Value: "auto"},
			{Name: "heartbeat", Value: "1s"},
			{Name: "expiry", Value: "10s"},
			{Name: "godog.concurrency", Value: "4"},
		},
		Concurrency: 4,
		Started:     time.Date(2026, 3, 14, 9, 26, 53, 123456789, time.UTC),
		Elapsed:     23456 * ms,
		Profile: []Fact{
			{Name: "framing", Value: "lines (\\n)", Detail: "the first J_OK ended in \\n"},
			{Name: "J_OK", Value: "J_OK", Detail: "no name after J_OK"},
			{Name: "heartbeat timeout", Value: "about 8s"},
		},
		Findings: []Finding{
			{
				Title:     "No LIST after a join",
				Detail:    "Send the new LIST to every active client each time a user joins.",
				Rules:     []string{"presence.list-on-join"},
				Failed:    1,
				NotGraded: 1,
			},
			{
				Title:  "Control characters are relayed as they came",
				Rules:  []string{"messages.control-chars"},
				Failed: 1,
			},
		},
		Stopped: &Problem{
			What:   "The server stopped accepting connections.",
			Hint:   "Look at the server's log for a crash.",
			During: "Binary junk gets J_ER or a closed connection",
			At:     21 * time.Second,
			Sample: []byte("\x00\xffpanic: <boom>\n"),
		},
		Scenarios: []Scenario{
			{
				RuleID: "joining.valid-name", Feature: "Joining", Rule: "A client that joins with a valid, free name is accepted with J_OK",
				Name: "A valid name is accepted", File: "features/joining.feature", Line: 12, Level: Must,
				Tags: []string{"@joining", "@must", "@rule:joining.valid-name"}, Outcome: Passed, Elapsed: 41 * ms,
			},
			{
				RuleID: "presence.list-on-join", Feature: "Presence", Rule: "When a user joins, every active client receives the new LIST",
				Name: "The clients already there learn of the newcomer", File: "features/presence.feature", Line: 14, Level: Must,
				Tags:    []string{"@presence", "@must", "@rule:presence.list-on-join"},
				Outcome: Failed, Step: "alice receives a LIST with alice and bob",
				Expected: "a LIST naming alice and bob, caused by bob's join",
				Actual:   `nothing within 2s (near miss: "LIST alice\n" at +0.012s, before bob joined)`,
				Retried:  1, Elapsed: 2013 * ms, Apart: 3,
				Transcript: []Entry{
					{At: 0, Conn: "alice (alice_k3j9x2)", Dir: Event, Note: "connected"},
					{At: 1 * ms, Conn: "alice (alice_k3j9x2)", Dir: Sent, Data: []byte("JOIN alice_k3j9x2\n")},
					{At: 3 * ms, Conn: "alice (alice_k3j9x2)", Dir: Received, Data: []byte("J_OK\n")},
					{At: 12 * ms, Conn: "alice (alice_k3j9x2)", Dir: Received, Data: []byte("LIST alice_k3j9x2\n")},
					{At: 13 * ms, Conn: "bob (bob_p2m7q4)", Dir: Event, Note: "connected"},
					{At: 14 * ms, Conn: "bob (bob_p2m7q4)", Dir: Sent, Data: []byte("JOIN bob_p2m7q4\n")},
					{At: 16 * ms, Conn: "bob (bob_p2m7q4)", Dir: Received, Data: []byte("J_OK\n")},
					{At: 1001 * ms, Conn: "alice (alice_k3j9x2)", Dir: Sent, Data: []byte("IMAV\n"), Heartbeat: true},
					{At: 1002 * ms, Conn: "bob (bob_p2m7q4)", Dir: Sent, Data: []byte("IMAV\n"), Heartbeat: true},
					{At: 2013 * ms, Conn: "suite", Dir: Event, Note: "gave up waiting after 2s"},
				},
			},
			{
				RuleID: "presence.list-on-join", Feature: "Presence", Rule: "When a user joins, every active client receives the new LIST",
				Name: "The newcomer receives the LIST too", File: "features/presence.feature", Line: 21, Level: Must,
				Outcome: NotGraded, Step: "alice has joined", Reason: "no LIST after alice joined", Needs: "presence.list-on-join",
				Elapsed: 2004 * ms,
			},
			{
				RuleID: "presence.jok-first", Feature: "Presence", Rule: "The newcomer receives J_OK before any LIST",
				Name: "J_OK comes first", File: "features/presence.feature", Line: 29, Level: Should,
				Outcome: Warned, Step: "alice receives J_OK before any LIST",
				Expected: "J_OK, then LIST", Actual: `"LIST alice_q8\n" came first`, Elapsed: 15 * ms,
				Transcript: []Entry{
					{At: 1 * ms, Conn: "alice (alice_q8)", Dir: Sent, Data: []byte("JOIN alice_q8\r\n")},
					{At: 2 * ms, Conn: "alice (alice_q8)", Dir: Received, Data: []byte("LIST alice_q8\nJ_OK\n")},
				},
			},
			{
				RuleID: "messages.control-chars", Feature: "Messages", Rule: "A text cannot hold control characters that would repaint another user's terminal",
				Name: "An escape sequence is refused", File: "features/messages.feature", Line: 88, Level: Must,
				Outcome: Failed, Step: "bob receives nothing from alice",
				Expected: "J_ER to alice, nothing to bob",
				Actual:   `bob received "DATA alice:\x1b[2J<script>alert(1)</script>\n"`,
				Elapsed:  310 * ms,
				Transcript: []Entry{
					{At: 2 * ms, Conn: "alice (alice_r5)", Dir: Sent, Data: []byte("DATA alice_r5:\x1b[2J<script>alert(1)</script>\n")},
					{At: 4 * ms, Conn: "bob (bob_r5)", Dir: Received, Data: []byte("DATA alice_r5:\x1b[2J<script>alert(1)</script>\n")},
					{At: 5 * ms, Conn: "bob (bob_r5)", Dir: Received, Data: []byte("\x00\xff\xfe]]>\u00e9\n")},
					{At: 6 * ms, Conn: "bob (bob_r5)", Dir: Received, Data: long[:MaxEntryBytes], Size: 1200},
					{At: 9 * ms, Conn: "bob (bob_r5)", Dir: Event, Note: "closed by the server"},
				},
			},
			{
				RuleID: "heartbeat.imav-no-answer", Feature: "Heartbeat", Rule: "IMAV needs no answer",
				Name: "IMAV gets no reply", File: "features/heartbeat.feature", Line: 40, Level: Should,
				Outcome: Passed, Elapsed: 1500 * ms,
			},
			{
				RuleID: "robustness.binary-junk", Feature: "Robustness", Rule: "Binary junk gets J_ER or a closed connection, and the others notice nothing",
				Name: "Junk of 4 KiB", File: "features/robustness.feature", Line: 30, Level: Must,
				Outcome: NotGraded, Reason: "the run stopped: the server stopped accepting connections", Elapsed: 0,
			},
		},
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for name, r := range map[string]*Report{
		"rich":         richReport(),
		"cannot grade": cannotGradeReport(),
		"empty":        {Suite: "client", Target: "java -jar client.jar"},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteJSON(&buf, r); err != nil {
				t.Fatalf("WriteJSON: %v", err)
			}
			got, err := ReadJSON(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatalf("ReadJSON: %v\n%s", err, buf.Bytes())
			}
			if !reflect.DeepEqual(got, r) {
				t.Errorf("ReadJSON(WriteJSON(r)) = %+v\nwant %+v", got, r)
			}
			var again bytes.Buffer
			if err := WriteJSON(&again, got); err != nil {
				t.Fatalf("WriteJSON: %v", err)
			}
			if !bytes.Equal(again.Bytes(), buf.Bytes()) {
				t.Errorf("WriteJSON is not stable:\n%s\nthen\n%s", buf.Bytes(), again.Bytes())
			}
		})
	}
}

// cannotGradeReport is a run that graded nothing.
func cannotGradeReport() *Report {
	r := &Report{
		Suite: "server", Target: "127.0.0.1:4999",
		Started: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC), Elapsed: 2 * time.Second,
		CannotGrade: &Problem{
			What:   "Nothing answered at 127.0.0.1:4999: connection refused.",
			Hint:   "Start the server first, or pass its address with -addr.",
			Sample: []byte("HTTP/1.1 400 Bad Request\r\n"),
		},
	}
	for _, s := range richReport().Scenarios {
		r.Scenarios = append(r.Scenarios, Scenario{
			RuleID: s.RuleID, Feature: s.Feature, Rule: s.Rule, Name: s.Name, File: s.File, Line: s.Line, Level: s.Level,
			Outcome: NotGraded, Reason: "nothing answered",
		})
	}
	return r
}

// TestJSONGolden keeps the format stable: a report written by an earlier
// version still reads, and the output changes only on purpose (go test
// ./report -run Golden -update rewrites the files).
func TestJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, richReport()); err != nil {
		t.Fatal(err)
	}
	golden(t, "rich.json", buf.Bytes())
	f, err := os.Open(filepath.Join("testdata", "rich.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ReadJSON(f)
	if err != nil {
		t.Fatalf("ReadJSON(testdata/rich.json): %v", err)
	}
	if !reflect.DeepEqual(got, richReport()) {
		t.Errorf("ReadJSON(testdata/rich.json) differs from richReport()")
	}
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gotLines), len(wantLines)) {
		g, w := "(end)", "(end)"
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Errorf("output differs from %s at line %d (run with -update if the change is meant):\ngot  %s\nwant %s", path, i+1, g, w)
			return
		}
	}
}

func TestJSONShape(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, richReport()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"{\n  \"verdict\": \"FAIL\",\n  \"counts\": {\n    \"must_passed\": 1,\n    \"must_failed\": 2,",
		`"elapsed_ns": 23456000000`,
		`"started": "2026-03-14T09:26:53.123456789Z"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteJSON output lacks %q:\n%s", want, out)
		}
	}
}

func TestReadJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in  string
		notReport bool
	}{
		{"empty", "", false},
		{"not JSON", "FAIL", false},
		{"truncated", `{"suite": "server", "scenarios": [`, false},
		{"an array", `[1, 2]`, true},
		{"no scenarios", `{"suite": "server"}`, true},
		{"trailing data", `{"scenarios": []} {}`, false},
		{"wrong type", `{"scenarios": [{"line": "twelve"}]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ReadJSON(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("ReadJSON(%q) = %+v, want an error", tc.in, r)
			}
			if got := errors.Is(err, ErrNotReport); got != tc.notReport {
				t.Errorf("ReadJSON(%q) = %v; errors.Is(err, ErrNotReport) = %v, want %v", tc.in, err, got, tc.notReport)
			}
		})
	}
	r, err := ReadJSON(strings.NewReader(`{"scenarios": [], "from_a_newer_version": 1}` + "\n\n"))
	if err != nil || r.Scenarios == nil {
		t.Errorf("ReadJSON of a report with an unknown field = %+v, %v; want a report", r, err)
	}
}
