package steps

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// ScenarioResult is the outcome of one scenario.
type ScenarioResult struct {
	Feature  string   // the feature's name, e.g. "Presence"
	Rule     string   // the Rule: the scenario belongs to
	Scenario string   // the scenario's name (an outline row's, expanded)
	File     string   // "features/presence.feature"
	Line     int      // the scenario's (or the outline row's) line
	Level    string   // "MUST" or "SHOULD"
	Tags     []string // every tag, inherited ones included

	Ran        bool   // false: the run ended before the scenario ran
	Err        error  // nil: passed
	Step       string // the step that failed
	Transcript string // every connection's bytes, for a failed scenario
}

// Passed reports whether the scenario ran and passed.
func (r ScenarioResult) Passed() bool { return r.Ran && r.Err == nil }

// NotGraded reports whether the scenario could not judge the server
// because it could not connect.
func (r ScenarioResult) NotGraded() bool {
	var ce *ConnectError
	return !r.Ran || errors.As(r.Err, &ce)
}

// Stopped says when a server stopped accepting connections for good.
type Stopped struct {
	At     time.Duration // offset from the run's start of the first refused connection
	After  string        // the last scenario that connected before it
	During string        // the scenario whose connection was refused
	Err    error
}

// Report is the outcome of a Run.
type Report struct {
	Config      Config
	Start       time.Time
	Elapsed     time.Duration
	Unreachable error // the server could not be reached or did not answer JOIN; nothing ran
	NoScenarios bool  // the tag filter selected no scenario
	Scenarios   []ScenarioResult
	Stopped     *Stopped
}

// Counts of a Report.
type Counts struct {
	MustPassed, MustFailed     int
	ShouldPassed, ShouldFailed int
	NotGraded                  int // could not connect, or did not run
}

// Counts tallies the scenarios by level and outcome.
func (r *Report) Counts() Counts {
	var c Counts
	for _, s := range r.Scenarios {
		switch {
		case s.NotGraded():
			c.NotGraded++
		case s.Level == "MUST" && s.Passed():
			c.MustPassed++
		case s.Level == "MUST":
			c.MustFailed++
		case s.Passed():
			c.ShouldPassed++
		default:
			c.ShouldFailed++
		}
	}
	return c
}

// OK reports whether the server passes: reachable, at least one scenario
// ran, every scenario graded, no MUST-level failure, and, with
// Config.Strict, no SHOULD-level failure either.
func (r *Report) OK() bool {
	if r.Unreachable != nil || r.NoScenarios || len(r.Scenarios) == 0 {
		return false
	}
	c := r.Counts()
	if c.NotGraded > 0 || c.MustFailed > 0 {
		return false
	}
	return !r.Config.Strict || c.ShouldFailed == 0
}

// Failed returns the scenarios that ran and failed, in file order.
func (r *Report) Failed() []ScenarioResult {
	var out []ScenarioResult
	for _, s := range r.Scenarios {
		if s.Ran && s.Err != nil && !s.NotGraded() {
			out = append(out, s)
		}
	}
	return out
}

// Write renders the report: a paragraph for an unreachable server, or one
// block per failed scenario (rule, level, expected, actual, transcript),
// then the summary.
func (r *Report) Write(w io.Writer) {
	cfg := r.Config
	fmt.Fprintf(w, "\nchatspec conformance report for %s (%s framing, heartbeat %s, expiry %s, wait %s, quiet %s)\n",
		cfg.Addr, cfg.Framing, cfg.Heartbeat, cfg.Expiry, cfg.Wait, cfg.Quiet)
	if r.Unreachable != nil {
		fmt.Fprintf(w, "\n%s\n\nVerdict: FAIL (nothing was graded)\n", wrap(r.Unreachable.Error(), 76, ""))
		return
	}
	if r.NoScenarios {
		fmt.Fprintf(w, "\nNo scenario matched the tag filter %q, so nothing was graded.\n"+
			"godog's tag syntax is @a, ~@a (not), @a&&@b (and), @a,@b (or); \"not @a\" selects nothing.\n\nVerdict: FAIL\n", cfg.Godog.Tags)
		return
	}
	r.writeRules(w)
	for _, s := range r.Failed() {
		r.writeFailure(w, s)
	}
	if st := r.Stopped; st != nil {
		var lost []string
		for _, s := range r.Scenarios {
			if s.NotGraded() {
				lost = append(lost, fmt.Sprintf("    %s:%d %s", s.File, s.Line, s.Scenario))
			}
		}
		fmt.Fprintf(w, "\nSERVER STOPPED ACCEPTING CONNECTIONS\n%s\n%s\n",
			wrap(fmt.Sprintf("At +%.3fs a connection was refused (%v), and every later attempt failed too. "+
				"The last scenario that connected was %q; the server probably crashed or hung during or right after it. "+
				"These %d scenarios could not be graded:", st.At.Seconds(), st.Err, st.After, len(lost)), 76, "  "),
			strings.Join(lost, "\n"))
	}
	r.writeSummary(w)
}

// writeRules lists every rule, per level, in file order with its outcome,
// so that a grader sees what passed as well as what failed.
func (r *Report) writeRules(w io.Writer) {
	type ruleKey struct{ file, rule, level string }
	type tally struct {
		first            int // the line of its first scenario, for ordering
		passed, failed   int
		notGraded, total int
	}
	var keys []ruleKey
	tallies := make(map[ruleKey]*tally)
	for _, s := range r.Scenarios {
		k := ruleKey{s.File, s.Rule, s.Level}
		t, ok := tallies[k]
		if !ok {
			t = &tally{first: s.Line}
			tallies[k] = t
			keys = append(keys, k)
		}
		t.first = min(t.first, s.Line)
		t.total++
		switch {
		case s.NotGraded():
			t.notGraded++
		case s.Passed():
			t.passed++
		default:
			t.failed++
		}
	}
	slices.SortFunc(keys, func(a, b ruleKey) int {
		if c := strings.Compare(a.file, b.file); c != 0 {
			return c
		}
		return tallies[a].first - tallies[b].first
	})
	fmt.Fprintf(w, "\nRules (scenarios passed of those run)\n")
	for _, k := range keys {
		t := tallies[k]
		mark := "ok"
		switch {
		case t.failed > 0 && k.level == "SHOULD" && !r.Config.Strict:
			mark = "WARN"
		case t.failed > 0:
			mark = "FAIL"
		case t.notGraded > 0:
			mark = "--"
		}
		fmt.Fprintf(w, "  %-4s  %-6s  %s: %s (%d/%d)\n", mark, k.level, strings.TrimPrefix(k.file, "features/"), k.rule, t.passed, t.total)
	}
}

func (r *Report) writeFailure(w io.Writer, s ScenarioResult) {
	verdict := "FAIL"
	if s.Level == "SHOULD" && !r.Config.Strict {
		verdict = "WARN"
	}
	fmt.Fprintf(w, "\n%s [%s] %s: %s\n", verdict, s.Level, s.Feature, s.Rule)
	fmt.Fprintf(w, "  Scenario: %s (%s:%d)\n", s.Scenario, s.File, s.Line)
	if s.Step != "" {
		fmt.Fprintf(w, "  Step:     %s\n", s.Step)
	}
	var f *Failure
	if errors.As(s.Err, &f) {
		fmt.Fprintf(w, "  Expected: %s\n  Actual:   %s\n", f.Expected, f.Actual)
	} else {
		fmt.Fprintf(w, "  Error:    %v\n", s.Err)
	}
	if s.Transcript != "" {
		fmt.Fprintf(w, "  Transcript (-> sent by the suite, <- received from the server, ** events):\n%s", indent(s.Transcript, "  "))
	}
}

func (r *Report) writeSummary(w io.Writer) {
	c := r.Counts()
	fmt.Fprintf(w, "\nSummary (%d scenarios in %.1fs)\n", len(r.Scenarios), r.Elapsed.Seconds())
	fmt.Fprintf(w, "  MUST    %3d passed, %d failed\n", c.MustPassed, c.MustFailed)
	shouldFail := "warned (fail the run only with -strict)"
	if r.Config.Strict {
		shouldFail = "failed"
	}
	fmt.Fprintf(w, "  SHOULD  %3d passed, %d %s\n", c.ShouldPassed, c.ShouldFailed, shouldFail)
	if c.NotGraded > 0 {
		fmt.Fprintf(w, "  NOT GRADED %d (could not connect)\n", c.NotGraded)
	}
	type ruleKey struct{ level, file, rule string }
	var rules []ruleKey
	seenRule := make(map[ruleKey]int)
	for _, s := range r.Failed() {
		k := ruleKey{s.Level, s.File, s.Rule}
		if _, ok := seenRule[k]; !ok {
			rules = append(rules, k)
		}
		seenRule[k]++
	}
	if len(rules) > 0 {
		fmt.Fprintf(w, "  Failed rules:\n")
		for _, k := range rules {
			fmt.Fprintf(w, "    %-6s %s: %s (%d scenario(s))\n", k.level, k.file, k.rule, seenRule[k])
		}
	}
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "  Verdict: %s\n", verdict)
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

// wrap breaks a paragraph into lines of at most width characters.
func wrap(s string, width int, prefix string) string {
	var b strings.Builder
	for i, para := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		line := prefix
		for _, word := range strings.Fields(para) {
			if len(line) > len(prefix) && len(line)+1+len(word) > width {
				b.WriteString(line + "\n")
				line = prefix
			}
			if len(line) > len(prefix) {
				line += " "
			}
			line += word
		}
		b.WriteString(line)
	}
	return b.String()
}
