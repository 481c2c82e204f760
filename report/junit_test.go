package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
)

// xmlNode is any XML element: the tests read the JUnit file as a tree,
// by the names a consumer looks for, not through the writer's own types.
type xmlNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []xmlNode  `xml:",any"`
}

// attr returns the named attribute, or "".
func (n *xmlNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all returns the children of that name.
func (n *xmlNode) all(name string) []*xmlNode {
	var out []*xmlNode
	for i := range n.Children {
		if n.Children[i].XMLName.Local == name {
			out = append(out, &n.Children[i])
		}
	}
	return out
}

// one returns the only child of that name, or nil if there is none.
func (n *xmlNode) one(t *testing.T, name string) *xmlNode {
	t.Helper()
	all := n.all(name)
	if len(all) > 1 {
		t.Errorf("<%s> has %d <%s>, want at most one", n.XMLName.Local, len(all), name)
	}
	if len(all) == 0 {
		return nil
	}
	return all[0]
}

// property returns the value of the named property, or "".
func (n *xmlNode) property(name string) string {
	for _, ps := range n.all("properties") {
		for _, p := range ps.all("property") {
			if p.attr("name") == name {
				return p.attr("value")
			}
		}
	}
	return ""
}

// counts returns a testsuites' or testsuite's counts and time.
func (n *xmlNode) counts() string {
	return fmt.Sprintf("tests=%s failures=%s errors=%s skipped=%s time=%s",
		n.attr("tests"), n.attr("failures"), n.attr("errors"), n.attr("skipped"), n.attr("time"))
}

func parseJUnit(t *testing.T, r *Report) (*xmlNode, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, r); err != nil {
		t.Fatalf("WriteJUnit: %v", err)
	}
	var doc xmlNode
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("WriteJUnit wrote XML that does not parse: %v\n%s", err, buf.Bytes())
	}
	if doc.XMLName.Local != "testsuites" {
		t.Fatalf("the root is <%s>, want <testsuites>", doc.XMLName.Local)
	}
	return &doc, buf.String()
}

func TestJUnitCounts(t *testing.T) {
	r := richReport()
	doc, out := parseJUnit(t, r)
	if got, want := doc.counts(), "tests=7 failures=2 errors=0 skipped=3 time=23.456"; got != want {
		t.Errorf("testsuites: %s, want %s", got, want)
	}
	want := map[string]string{
		"Joining":    "tests=1 failures=0 errors=0 skipped=0 time=0.041",
		"Presence":   "tests=3 failures=1 errors=0 skipped=2 time=4.032", // 2.013 + 2.004 + 0.015
		"Messages":   "tests=1 failures=1 errors=0 skipped=0 time=0.310",
		"Heartbeat":  "tests=1 failures=0 errors=0 skipped=0 time=1.500",
		"Robustness": "tests=1 failures=0 errors=0 skipped=1 time=0.000",
	}
	var names []string
	for _, s := range doc.all("testsuite") {
		name := s.attr("name")
		names = append(names, name)
		if got := s.counts(); got != want[name] {
			t.Errorf("testsuite %q: %s, want %s", name, got, want[name])
		}
		if got := fmt.Sprint(len(s.all("testcase"))); got != s.attr("tests") {
			t.Errorf("testsuite %q: %s testcases, tests=%s", name, got, s.attr("tests"))
		}
		if got := s.attr("timestamp"); got != "2026-03-14T09:26:53" {
			t.Errorf("testsuite %q: timestamp %q", name, got)
		}
	}
	if got := strings.Join(names, ","); got != "Joining,Presence,Messages,Heartbeat,Robustness" {
		t.Errorf("testsuites in the order %s, want the order of their first scenarios", got)
	}
	for name, want := range map[string]string{
		"verdict": "FAIL", "strict": "false", "target": "127.0.0.1:4000", "suite": "server",
		"setting.godog.concurrency": "4", "started": "2026-03-14T09:26:53Z",
	} {
		if got := doc.property(name); got != want {
			t.Errorf("property %s = %q, want %q", name, got, want)
		}
	}
	if got := doc.property("stopped"); !strings.Contains(got, "stopped accepting connections") || !strings.Contains(got, `"\x00\xffpanic: <boom>\n"`) {
		t.Errorf("property stopped = %q", got)
	}
	if !strings.HasPrefix(out, xml.Header+"<testsuites ") {
		t.Errorf("WriteJUnit output starts %q", out[:min(len(out), 80)])
	}
}

func TestJUnitTestcases(t *testing.T) {
	r := richReport()
	doc, out := parseJUnit(t, r)
	var cases []*xmlNode
	for _, s := range doc.all("testsuite") {
		cases = append(cases, s.all("testcase")...)
	}
	if len(cases) != len(r.Scenarios) {
		t.Fatalf("%d testcases, want one per scenario (%d)", len(cases), len(r.Scenarios))
	}
	byName := make(map[string]*xmlNode)
	for i, c := range cases {
		s := r.Scenarios[i]
		got := fmt.Sprintf("%s/%s at %s:%s in %ss", c.attr("classname"), c.attr("name"), c.attr("file"), c.attr("line"), c.attr("time"))
		if want := fmt.Sprintf("%s/%s at %s in %.3fs", s.RuleID, s.Name, s.Location(), s.Elapsed.Seconds()); got != want {
			t.Errorf("testcase %d = %s, want %s", i, got, want)
		}
		if got := c.property("level"); got != string(s.Level) {
			t.Errorf("testcase %s: level %q, want %q", s.Name, got, s.Level)
		}
		if got := c.property("outcome"); got != string(s.Outcome) {
			t.Errorf("testcase %s: outcome %q, want %q", s.Name, got, s.Outcome)
		}
		if c.one(t, "error") != nil {
			t.Errorf("testcase %s has an error element", s.Name)
		}
		byName[s.Name] = c
	}

	failed := byName["The clients already there learn of the newcomer"]
	failure := failed.one(t, "failure")
	if failure == nil || failed.one(t, "skipped") != nil {
		t.Fatalf("the failed scenario should have a failure and no skipped element")
	}
	if got, want := failure.attr("message"), "FAIL [MUST] When a user joins, every active client receives the new LIST"; got != want {
		t.Errorf("failure message %q, want %q", got, want)
	}
	for _, want := range []string{
		"Step:     alice receives a LIST with alice and bob\n",
		"Expected: a LIST naming alice and bob, caused by bob's join\n",
		`Actual:   nothing within 2s (near miss: "LIST alice\n" at +0.012s, before bob joined)`,
	} {
		if !strings.Contains(failure.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, failure.Text)
		}
	}
	systemOut := failed.one(t, "system-out").Text
	for _, want := range []string{
		"alice (alice_k3j9x2) -> \"JOIN alice_k3j9x2\\n\"\n",
		"alice (alice_k3j9x2) ** connected\n",
		"bob (bob_p2m7q4)     <- \"J_OK\\n\"\n",
		"+1.001s..+1.002s heartbeat            -> \"IMAV\\n\" from alice (alice_k3j9x2) x1, bob (bob_p2m7q4) x1\n",
		"(3 frames that other scenarios caused on these connections are left out)\n",
	} {
		if !strings.Contains(systemOut, want) {
			t.Errorf("system-out lacks %q:\n%s", want, systemOut)
		}
	}
	if got := failed.property("retried"); got != "1" {
		t.Errorf("retried = %q, want 1", got)
	}

	warned := byName["J_OK comes first"]
	if skipped := warned.one(t, "skipped"); warned.one(t, "failure") != nil || skipped == nil ||
		skipped.attr("message") != "WARN [SHOULD] The newcomer receives J_OK before any LIST" {
		t.Errorf("the warned scenario should be skipped, not failed, with a WARN [SHOULD] message")
	}

	notGraded := byName["The newcomer receives the LIST too"].one(t, "skipped")
	if want := "not graded: no LIST after alice joined (needs: presence.list-on-join)"; notGraded == nil || notGraded.attr("message") != want {
		t.Errorf("the not graded scenario should be skipped with the message %q", want)
	}

	binary := byName["An escape sequence is refused"].one(t, "system-out").Text
	for _, want := range []string{
		`"DATA alice_r5:\x1b[2J<script>alert(1)</script>\n"`,
		`"\x00\xff\xfe]]>é\n"`,
		`xxx"... (1200 bytes in all)`,
	} {
		if !strings.Contains(binary, want) {
			t.Errorf("system-out lacks %q:\n%s", want, binary)
		}
	}

	// Each message once: the details are not repeated in the message,
	// nor a scenario's transcript anywhere else.
	for _, once := range []string{
		"a LIST naming alice and bob, caused by bob's join",
		"no LIST after alice joined",
		"J_OK, then LIST",
		"JOIN alice_k3j9x2",
	} {
		if n := strings.Count(out, once); n != 1 {
			t.Errorf("%q appears %d times in the file, want once", once, n)
		}
	}
}

func TestJUnitCannotGrade(t *testing.T) {
	r := cannotGradeReport()
	doc, _ := parseJUnit(t, r)
	if got, want := doc.counts(), "tests=7 failures=0 errors=0 skipped=7 time=2.000"; got != want {
		t.Errorf("testsuites: %s, want %s: every scenario skipped", got, want)
	}
	if got := doc.property("verdict"); got != string(CannotGrade) {
		t.Errorf("verdict %q, want %q", got, CannotGrade)
	}
	if got := doc.property("cannot_grade"); !strings.HasPrefix(got, "Nothing answered") || !strings.Contains(got, "Start the server first") {
		t.Errorf("cannot_grade = %q", got)
	}
}

// TestJUnitRawBytes: bytes XML cannot hold, wherever they come from,
// leave a file that parses.
func TestJUnitRawBytes(t *testing.T) {
	r := richReport()
	s := &r.Scenarios[1]
	s.Name = "nul\x00 esc\x1b bad\xff"
	s.Actual = "\x1b[2J<script>\x00]]>"
	s.Transcript[0].Note = "closed \x00\x7f"
	s.Transcript[0].Conn = "al\x01ice"
	doc, _ := parseJUnit(t, r)
	c := doc.all("testsuite")[1].all("testcase")[0]
	if got := c.attr("name"); got != "nul\uFFFD esc\uFFFD bad\uFFFD" {
		t.Errorf("name %q", got)
	}
	if got := c.one(t, "failure").Text; !strings.Contains(got, "Actual:   \uFFFD[2J<script>\uFFFD]]>\n") {
		t.Errorf("failure text %q", got)
	}
	if got := c.one(t, "system-out").Text; !strings.Contains(got, "al\uFFFDice") || !strings.Contains(got, "** closed \uFFFD\x7f\n") {
		t.Errorf("system-out %q", got)
	}
}

func TestJUnitGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, richReport()); err != nil {
		t.Fatal(err)
	}
	golden(t, "rich.xml", buf.Bytes())
}

func TestXMLSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		"tab\tnl\ncr\r":  "tab\tnl\ncr\r",
		"nul\x00esc\x1b": "nul\uFFFDesc\uFFFD",
		"bad\xffutf8":    "bad\uFFFDutf8",
		"é€😀":            "é€😀",
		"\uFFFE":         "\uFFFD",
	} {
		if got := xmlSafe(in); got != want {
			t.Errorf("xmlSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestJUnitShape checks the nesting that Jenkins and GitLab walk: one
// testsuites root, testsuite under it, testcase under that, and in a
// testcase only properties, one failure or skipped, and system-out.
func TestJUnitShape(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, richReport()); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"testsuites":                                        true,
		"testsuites/properties":                             true,
		"testsuites/properties/property":                    true,
		"testsuites/testsuite":                              true,
		"testsuites/testsuite/testcase":                     true,
		"testsuites/testsuite/testcase/properties":          true,
		"testsuites/testsuite/testcase/properties/property": true,
		"testsuites/testsuite/testcase/failure":             true,
		"testsuites/testsuite/testcase/skipped":             true,
		"testsuites/testsuite/testcase/system-out":          true,
	}
	seen := make(map[string]int)
	var path []string
	var results int // failure or skipped elements in the current testcase
	dec := xml.NewDecoder(&buf)
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			path = append(path, tok.Name.Local)
			p := strings.Join(path, "/")
			if !allowed[p] {
				t.Errorf("element %s is not in the JUnit shape", p)
			}
			seen[p]++
			switch tok.Name.Local {
			case "testcase":
				results = 0
			case "failure", "skipped":
				if results++; results > 1 {
					t.Errorf("a testcase has more than one failure or skipped element")
				}
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		}
	}
	if seen["testsuites"] != 1 || seen["testsuites/testsuite"] != 5 || seen["testsuites/testsuite/testcase"] != 7 {
		t.Errorf("1 testsuites, 5 testsuite, 7 testcase expected; got %v", seen)
	}
}
