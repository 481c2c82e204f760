package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteText renders the report for a terminal or a log. Its first screen
// says what to fix first: the verdict, then the findings (root causes,
// the most far-reaching first), then the target's profile; then every
// rule with its outcome; then one block per scenario that failed or
// warned (rule, level, step, expected, actual, transcript); then the
// scenarios not graded and why; then the summary again.
func WriteText(w io.Writer, r *Report) error {
	tw := &textWriter{w: w}
	tw.report(r)
	return tw.err
}

// textWriter remembers the first write error, so that rendering code can
// write freely.
type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *textWriter) report(r *Report) {
	t.printf("\nchatspec %s conformance report for %s\n", r.Suite, r.Target)
	t.verdict(r)
	if p := r.CannotGrade; p != nil {
		t.printf("\n%s\n", wrap("CANNOT GRADE: "+p.sentence(), 76, "", ""))
		t.printf("\nNo scenario was graded, so no rule is reported as failed.\n")
		return
	}
	t.findings(r)
	t.profile(r)
	t.rules(r)
	for i := range r.Scenarios {
		if s := &r.Scenarios[i]; s.Outcome == Failed || s.Outcome == Warned {
			t.failure(s)
		}
	}
	t.notGraded(r)
	t.summary(r)
}

// verdict writes the verdict line with the counts.
func (t *textWriter) verdict(r *Report) {
	c := r.Counts()
	t.printf("Verdict: %s  (MUST: %d passed, %d failed, %d not graded; SHOULD: %d passed, %d %s, %d not graded)\n",
		r.Verdict(), c.MustPassed, c.MustFailed, c.MustNotGraded,
		c.ShouldPassed, c.ShouldFailed, shouldWord(r.Strict), c.ShouldNotGraded)
}

func shouldWord(strict bool) string {
	if strict {
		return "failed"
	}
	return "warned"
}

// findings writes the root causes, numbered.
func (t *textWriter) findings(r *Report) {
	if st := r.Stopped; st != nil && len(r.Findings) == 0 {
		t.printf("\nThe run stopped early: %s\n", st.sentence())
	}
	if len(r.Findings) == 0 {
		return
	}
	t.printf("\nWhat went wrong, the most far-reaching first:\n")
	for i, f := range r.Findings {
		var counts []string
		if f.Failed > 0 {
			counts = append(counts, fmt.Sprintf("%d failed", f.Failed))
		}
		if f.NotGraded > 0 {
			counts = append(counts, fmt.Sprintf("%d not graded", f.NotGraded))
		}
		line := fmt.Sprintf("%d. %s", i+1, f.Title)
		if len(counts) > 0 {
			line += " (" + strings.Join(counts, ", ") + ")"
		}
		t.printf("%s\n", wrap(line, 78, "  ", "     "))
		if f.Detail != "" {
			t.printf("%s\n", wrap(f.Detail, 78, "     ", "     "))
		}
		if len(f.Rules) > 0 && !(len(f.Rules) == 1 && strings.HasPrefix(f.Title, f.Rules[0])) {
			t.printf("     rules: %s\n", strings.Join(f.Rules, ", "))
		}
	}
}

// profile writes what the suite learned of the target.
func (t *textWriter) profile(r *Report) {
	if len(r.Profile) == 0 {
		return
	}
	t.printf("\nProfile of the %s:\n", r.Suite)
	width := 0
	for _, f := range r.Profile {
		width = max(width, len(f.Name))
	}
	for _, f := range r.Profile {
		t.printf("  %-*s  %s\n", width, f.Name, f.Value)
		if f.Detail != "" {
			pad := strings.Repeat(" ", width+4)
			t.printf("%s\n", wrap(f.Detail, 78, pad, pad))
		}
	}
}

// rules lists every rule with its outcome and tally.
func (t *textWriter) rules(r *Report) {
	t.printf("\nRules (scenarios passed of those selected):\n")
	rules := r.Rules()
	width := 0
	for _, ru := range rules {
		width = max(width, len(ru.ID))
	}
	for _, ru := range rules {
		passed, total := ru.Tally()
		t.printf("  %-4s  %-6s  %-*s  %s (%d/%d)\n", mark(ru.Outcome()), ru.Level, width, ru.ID, ru.Name, passed, total)
	}
}

// mark is the short form of an outcome in the rule list.
func mark(o Outcome) string {
	switch o {
	case Failed:
		return "FAIL"
	case Warned:
		return "WARN"
	case NotGraded:
		return "--"
	}
	return "ok"
}

// failure writes one failed or warned scenario.
func (t *textWriter) failure(s *Scenario) {
	verdict := "FAIL"
	if s.Outcome == Warned {
		verdict = "WARN"
	}
	t.printf("\n%s [%s] %s: %s\n", verdict, s.Level, s.RuleID, s.Rule)
	t.printf("  Scenario: %s (%s)\n", s.Name, s.Location())
	if s.Step != "" {
		t.printf("  Step:     %s\n", s.Step)
	}
	t.printf("  Expected: %s\n  Actual:   %s\n", s.Expected, s.Actual)
	if s.Retried > 0 {
		t.printf("  (run %d times: other clients' changes spoiled the evidence before)\n", s.Retried+1)
	}
	if s.Late {
		t.printf("  (confirmed: it failed among other scenarios, then again when run alone with longer waits; %s)\n", lateHint)
	}
	if tr := TranscriptText(s, "    "); tr != "" {
		t.printf("  Transcript (-> sent by the suite, <- received, ** events):\n%s", tr)
	}
}

// notGraded lists the scenarios not graded, with why.
func (t *textWriter) notGraded(r *Report) {
	var lines []string
	for _, s := range r.Scenarios {
		if s.Outcome != NotGraded {
			continue
		}
		why := s.Reason
		if s.Needs != "" {
			why += " (needs " + s.Needs + ")"
		}
		lines = append(lines, wrap(fmt.Sprintf("%s [%s] %s: %s", s.Location(), s.Level, s.Name, why), 78, "  ", "      "))
	}
	if len(lines) == 0 {
		return
	}
	if st := r.Stopped; st != nil {
		t.printf("\nTHE TARGET STOPPED WORKING\n%s\n", wrap(st.sentence(), 78, "  ", "  "))
	}
	t.printf("\nNot graded (%d):\n", len(lines))
	for _, l := range lines {
		t.printf("%s\n", l)
	}
}

// summary writes the counts, the failed rules and the verdict.
func (t *textWriter) summary(r *Report) {
	c := r.Counts()
	t.printf("\nSummary (%d scenarios in %.1fs, at most %d at once)\n", len(r.Scenarios), r.Elapsed.Seconds(), r.Concurrency)
	t.printf("  MUST    %3d passed, %d failed, %d not graded\n", c.MustPassed, c.MustFailed, c.MustNotGraded)
	t.printf("  SHOULD  %3d passed, %d %s, %d not graded\n", c.ShouldPassed, c.ShouldFailed, shouldWord(r.Strict), c.ShouldNotGraded)
	var failed []string
	for _, ru := range r.Rules() {
		if o := ru.Outcome(); o == Failed || o == Warned {
			failed = append(failed, fmt.Sprintf("    %-6s %s", ru.Level, ru.ID))
		}
	}
	if len(failed) > 0 {
		t.printf("  Rules that failed:\n%s\n", strings.Join(failed, "\n"))
	}
	t.printf("  Verdict: %s\n", r.Verdict())
}

// TranscriptText renders a scenario's transcript as text, one entry a
// line, each line prefixed: offset, connection, direction, the bytes
// quoted exactly (or the event). A run of heartbeat IMAVs, of any of the
// connections, collapses into one line that counts them per connection.
// It is "" for a scenario without a transcript.
func TranscriptText(s *Scenario, prefix string) string {
	if len(s.Transcript) == 0 && s.Apart == 0 {
		return ""
	}
	type line struct{ at, conn, dir, what string }
	var lines []line
	es := s.Transcript
	for i := 0; i < len(es); i++ {
		e := &es[i]
		if !e.Heartbeat {
			lines = append(lines, line{offset(e.At), e.Conn, string(e.Dir), e.Text()})
			continue
		}
		j := i
		var who []string
		count := make(map[string]int)
		for ; j < len(es) && es[j].Heartbeat; j++ {
			if count[es[j].Conn] == 0 {
				who = append(who, es[j].Conn)
			}
			count[es[j].Conn]++
		}
		j--
		at := offset(e.At)
		if j > i {
			at += ".." + offset(es[j].At)
		}
		parts := make([]string, len(who))
		for k, c := range who {
			parts[k] = fmt.Sprintf("%s x%d", c, count[c])
		}
		lines = append(lines, line{at, "heartbeat", string(Sent), e.Text() + " from " + strings.Join(parts, ", ")})
		i = j
	}
	atWidth, connWidth := 0, 0
	for _, l := range lines {
		atWidth, connWidth = max(atWidth, len(l.at)), max(connWidth, len(l.conn))
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s%-*s %-*s %s %s\n", prefix, atWidth, l.at, connWidth, l.conn, l.dir, l.what)
	}
	if s.Apart > 0 {
		fmt.Fprintf(&b, "%s(%d frames that other scenarios caused on these connections are left out)\n", prefix, s.Apart)
	}
	return b.String()
}

// wrap breaks a paragraph into lines of at most width characters: the
// first starts with first, the others with rest.
func wrap(s string, width int, first, rest string) string {
	var b strings.Builder
	line, empty := first, true
	for _, word := range strings.Fields(s) {
		if !empty && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line, empty = rest, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	b.WriteString(line)
	return b.String()
}

// lateHint is what to try for a failure confirmed with longer waits
// (Scenario.Late), in every rendering.
const lateHint = "a target that is only slow passes with a longer -wait, or -client-wait for a client"
