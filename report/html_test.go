package report

import (
	"bytes"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"
)

func renderHTML(t *testing.T, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	checkHTML(t, buf.String())
	return buf.String()
}

// tagPattern finds start and end tags; checkHTML strips the style sheet
// first, whose selectors hold ">".
var tagPattern = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)([^<>]*)>`)

// voidElements have no end tag.
var voidElements = map[string]bool{"meta": true, "br": true, "hr": true, "img": true, "input": true, "link": true, "wbr": true}

// checkHTML is a parser's sanity check, with no HTML parser at hand: one
// doctype, every element closed in order, no "<" but in a tag, ids unique,
// and every "#id" link landing on one.
func checkHTML(t *testing.T, page string) {
	t.Helper()
	if !strings.HasPrefix(page, "<!DOCTYPE html>\n<html lang=\"en\">") {
		t.Errorf("the page does not start with a doctype and <html lang=\"en\">: %.60q", page)
	}
	start, end := strings.Index(page, "<style>"), strings.Index(page, "</style>")
	if start < 0 || end < start || strings.Count(page, "<style") != 1 {
		t.Fatalf("the page should have one style element")
	}
	body := page[len("<!DOCTYPE html>"):start] + page[end+len("</style>"):]
	var stack []string
	ids := make(map[string]int)
	last := 0
	for _, m := range tagPattern.FindAllStringSubmatchIndex(body, -1) {
		if text := body[last:m[0]]; strings.ContainsAny(text, "<>") {
			t.Errorf("a bare < or > in text: %q", text)
		}
		last = m[1]
		closing, name, attrs := body[m[2]:m[3]] == "/", strings.ToLower(body[m[4]:m[5]]), body[m[6]:m[7]]
		for _, id := range regexp.MustCompile(`\bid="([^"]*)"`).FindAllStringSubmatch(attrs, -1) {
			ids[id[1]]++
		}
		switch {
		case voidElements[name]:
		case !closing:
			stack = append(stack, name)
		case len(stack) == 0 || stack[len(stack)-1] != name:
			t.Fatalf("</%s> closes %v", name, stack)
		default:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		t.Errorf("elements left open: %v", stack)
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q is used %d times", id, n)
		}
		if strings.ContainsAny(id, " \t\n") {
			t.Errorf("id %q holds white space", id)
		}
	}
	for _, m := range regexp.MustCompile(`href="#([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if ids[m[1]] == 0 {
			t.Errorf("the link to #%s lands nowhere", m[1])
		}
	}
}

func TestHTMLContents(t *testing.T) {
	r := richReport()
	page := renderHTML(t, r)
	text := html.UnescapeString(page)
	for _, s := range r.Scenarios {
		if !strings.Contains(page, `id="rule-`+s.RuleID+`"`) {
			t.Errorf("the page has no rule %s", s.RuleID)
		}
		if !strings.Contains(text, s.Name) {
			t.Errorf("the page does not name the scenario %q", s.Name)
		}
	}
	for _, want := range []string{
		"<title>FAIL: chatspec server report for 127.0.0.1:4000</title>",
		`<p class="verdict v-fail"><span class="vh">Verdict: </span>FAIL</p>`,
		"<h1>127.0.0.1:4000</h1>",
		"2 MUST scenarios failed.",
		"<td>1 passed</td>", `<td class="c-fail">2 failed</td>`, `<td class="c-warn">1 warned</td>`, `<td class="c-ng">2 not graded</td>`,
		"<dt>godog.concurrency</dt><dd><code>4</code></dd>",
		"<h2 id=\"findings\">What went wrong</h2>", "<h3>No LIST after a join</h3>",
		`<a href="#rule-presence.list-on-join"><code>presence.list-on-join</code></a>`,
		"<dt>heartbeat timeout</dt><dd>about 8s</dd>",
		"<h2 id=\"stopped\">The run stopped early</h2>",
		// Every outcome in words as well as colour.
		`<span class="badge b-fail">FAIL</span>`, `<span class="badge b-warn">WARN</span>`,
		`<span class="badge b-ng">NOT GRADED</span>`, `<span class="badge b-pass">PASS</span>`,
		"<dl class=\"pairs facts\"><dt>Step</dt><dd>alice receives a LIST with alice and bob</dd>",
		"<dt>Expected</dt><dd>a LIST naming alice and bob, caused by bob&#39;s join</dd>",
		"<dt>Not graded</dt><dd>no LIST after alice joined</dd>",
		"run again 1×",
		"<summary>Transcript, 10 entries (3 caused by other scenarios left out)</summary>",
		`<tr class="event"><td>+0.000s</td><td>alice (alice_k3j9x2)</td><td>**</td><td><em>connected</em></td></tr>`,
		`<tr class="beat"><td>+1.001s</td><td>alice (alice_k3j9x2)</td><td>-&gt;</td><td>"IMAV\n" <span class="small">heartbeat</span></td></tr>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// Bytes exactly, Go-quoted: control characters, NUL and invalid UTF-8
	// visible, a cut entry with its full size.
	for _, want := range []string{
		`"\x00\xff\xfe]]>é\n"`,
		`"DATA alice_r5:\x1b[2J<script>alert(1)</script>\n"`,
		`xxx"... (1200 bytes in all)`,
		`"\x00\xffpanic: <boom>\n"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page lacks the bytes %s", want)
		}
	}
}

func TestHTMLEscapes(t *testing.T) {
	r := richReport()
	r.Target = `<img src=x onerror=alert(1)>`
	r.Scenarios[1].Actual = "</dd><script>alert(2)</script>"
	r.Scenarios[1].Transcript[0].Note = "<b>bold</b>"
	r.Scenarios[1].Transcript[0].Conn = `"><script>`
	r.Findings[0].Rules = append(r.Findings[0].Rules, `x" onclick="alert(3)`)
	page := renderHTML(t, r)
	for _, bad := range []string{"<script", "<img", "<b>bold", `onclick="`, "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;/dd&gt;&lt;script&gt;alert(2)", "&lt;b&gt;bold&lt;/b&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

// TestHTMLSelfContained: the page fetches nothing, and runs nothing.
func TestHTMLSelfContained(t *testing.T) {
	page := renderHTML(t, richReport())
	for _, bad := range []string{"http://", "https://", "//cdn", "src=", "@import", "url(", "<link", "<script", "@font-face"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
}

// TestHTMLOrder: features with the worst rule first, and in a feature
// the rules failed, warned, not graded, then passed.
func TestHTMLOrder(t *testing.T) {
	r := richReport()
	// A passing rule before the failing ones in the same feature.
	r.Scenarios = append([]Scenario{{
		RuleID: "presence.list-on-quit", Feature: "Presence", Rule: "When a user quits, every active client receives the new LIST",
		Name: "The others learn that a user quit", File: "features/presence.feature", Line: 5, Level: Must, Outcome: Passed,
	}}, r.Scenarios...)
	page := renderHTML(t, r)
	order := func(needles ...string) {
		t.Helper()
		at := -1
		for _, n := range needles {
			i := strings.Index(page, n)
			if i < at {
				t.Errorf("%q comes too early; want the order %q", n, needles)
			}
			at = i
		}
	}
	order(`id="rule-presence.list-on-join"`, `id="rule-presence.jok-first"`, `id="rule-presence.list-on-quit"`)
	order(">Presence <", ">Messages <", ">Robustness <", ">Joining <")
	order("<h2 id=\"findings\">", "<h2 id=\"profile\">", "<h2 id=\"rules\">")
	if n := strings.Count(page, `<div class="scenario`); n != 5 {
		t.Errorf("%d scenarios shown in full, want the 5 of rules that did not pass", n)
	}
}

func TestHTMLVerdicts(t *testing.T) {
	pass := &Report{Suite: "server", Target: "t", Strict: true, Scenarios: []Scenario{
		{RuleID: "a.b", Feature: "A", Rule: "R", Name: "S", Level: Must, Outcome: Passed},
		{RuleID: "a.c", Feature: "A", Rule: "R2", Name: "S2", Level: Should, Outcome: Passed},
	}}
	incomplete := &Report{Suite: "server", Target: "t", Scenarios: []Scenario{
		{RuleID: "a.b", Feature: "A", Rule: "R", Name: "S", Level: Must, Outcome: Passed},
		{RuleID: "a.c", Feature: "A", Rule: "R2", Name: "S2", Level: Must, Outcome: NotGraded, Needs: "x.y", Reason: "why"},
	}}
	for _, tc := range []struct {
		r    *Report
		want []string
	}{
		{pass, []string{`v-pass"><span class="vh">Verdict: </span>PASS`, "Every rule that was graded passed, SHOULD rules included.", "0 failed", "SHOULD rules fail the run (strict)"}},
		{incomplete, []string{`v-warn"><span class="vh">Verdict: </span>INCOMPLETE`, "Nothing failed, but 1 MUST scenario could not be graded.", "<dd><code>x.y</code></dd>"}},
		{cannotGradeReport(), []string{`v-ng"><span class="vh">Verdict: </span>CANNOT GRADE`, "<h2 id=\"cannot-grade\">Nothing could be graded</h2>",
			"Start the server first", "&#34;HTTP/1.1 400 Bad Request\\r\\n&#34;"}},
	} {
		page := renderHTML(t, tc.r)
		for _, want := range tc.want {
			if !strings.Contains(page, want) {
				t.Errorf("the %s page lacks %s", tc.r.Verdict(), want)
			}
		}
	}
}

// manyScenarios is a run of n scenarios in 10 features, a quarter failed
// with a transcript of 20 entries, the rest passed.
func manyScenarios(n int) *Report {
	r := richReport()
	r.Scenarios = nil
	for i := range n {
		s := Scenario{
			RuleID: fmt.Sprintf("group%d.rule-%d", i%10, i/4), Feature: fmt.Sprintf("Feature %d", i%10),
			Rule: "A rule that says what the server must do, in a sentence", Name: fmt.Sprintf("Scenario number %d of the run", i),
			File: "features/group.feature", Line: i + 10, Level: Must, Outcome: Passed, Elapsed: time.Duration(i) * time.Millisecond,
		}
		if i%4 == 0 {
			s.Outcome, s.Step, s.Expected, s.Actual = Failed, "alice receives J_OK", "J_OK within 2s", "nothing within 2s"
			for j := range 20 {
				s.Transcript = append(s.Transcript, Entry{At: time.Duration(j) * time.Millisecond, Conn: "alice (alice_k3j9x2)",
					Dir: Received, Data: []byte("LIST alice_k3j9x2 bob_p2m7q4 carol_x8\n")})
			}
		}
		r.Scenarios = append(r.Scenarios, s)
	}
	return r
}

// TestHTMLSize bounds the page. 200 scenarios in 200 rules, 50 of them
// failed with 20 transcript entries each: at most 300 KiB (241 KiB when
// written: 8.5 KiB of page and style, about 0.5 KiB a passed scenario,
// 0.75 KiB a failed one and 0.13 KiB a transcript entry). The same 200
// all passed: at most 128 KiB (102 KiB when written).
func TestHTMLSize(t *testing.T) {
	r := manyScenarios(200)
	if n := len(renderHTML(t, r)); n > 300<<10 {
		t.Errorf("200 scenarios, 50 failed: a page of %d bytes, want at most 300 KiB", n)
	}
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		s.Outcome, s.Step, s.Expected, s.Actual, s.Transcript = Passed, "", "", "", nil
	}
	if n := len(renderHTML(t, r)); n > 128<<10 {
		t.Errorf("200 scenarios, all passed: a page of %d bytes, want at most 128 KiB", n)
	}
}
