package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cucumber/godog"
	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/report"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The features of the fake suite: each step's text says what it does.
const fakeFeature = `@fake
Feature: Fake
  "A feature for the engine's tests."

  @must @rule:fake.pass
  Rule: passes
    Scenario: it passes
      Given all is well
      Then all is well

  @must @rule:fake.fail
  Rule: fails
    Scenario: it fails
      Given all is well
      Then the rule breaks

  @should @rule:fake.warn
  Rule: warns
    Scenario: it warns
      Then the rule breaks

  @must @rule:fake.precondition
  Rule: a failed precondition is not a failure
    Scenario: its precondition fails
      Given the rule breaks
      Then all is well

  @must @rule:fake.not-graded
  Rule: not graded
    Scenario: it cannot judge
      Then it cannot judge

  @must @rule:fake.outline
  Rule: outline rows run one by one
    Scenario Outline: row <n>
      Then row <n> runs

      Examples:
        | n |
        | 1 |
        | 2 |
        | 3 |

  @must @rule:fake.flaky @isolated
  Rule: inconclusive evidence is tried again
    Scenario: inconclusive at first
      Then the evidence is spoiled once

  @should @rule:fake.crash @fragile
  Rule: fragile
    Scenario: it crashes the target
      Then the target dies

  @should @rule:fake.after @fragile
  Rule: after the crash
    Scenario: it runs after the crash
      Then all is well
`

// fakeTarget records what ran; its steps do what their text says.
type fakeTarget struct {
	mu       sync.Mutex
	ran      []string // guarded by mu: scenario names, in order
	spoiled  bool     // guarded by mu: the flaky scenario spoiled once already
	dead     bool     // guarded by mu
	running  int      // guarded by mu: scenarios running now
	isolated []int    // guarded by mu: scenarios running while an isolated one ran
	finished bool
}

func (f *fakeTarget) Describe() string                      { return "fake" }
func (f *fakeTarget) Prepare(context.Context, *State) error { return nil }
func (f *fakeTarget) Skip([]string) string                  { return "" }
func (f *fakeTarget) Finish(*report.Report)                 { f.finished = true }
func (f *fakeTarget) Alive(context.Context) error           { return f.aliveErr() }
func (f *fakeTarget) aliveErr() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dead {
		return errors.New("no answer")
	}
	return nil
}

type fakeWorld struct {
	f *fakeTarget
	s *Scenario
}

func (w *fakeWorld) End() {
	w.f.mu.Lock()
	w.f.running--
	w.f.mu.Unlock()
}

func (f *fakeTarget) Start(sc *godog.ScenarioContext, s *Scenario) World {
	f.mu.Lock()
	f.ran = append(f.ran, s.Result.Name)
	f.running++
	if s.Class == Isolated {
		f.isolated = append(f.isolated, f.running)
	}
	f.mu.Unlock()
	w := &fakeWorld{f: f, s: s}
	sc.Step(`^all is well$`, func() error { return nil })
	sc.Step(`^the rule breaks$`, func() error {
		return &Failure{Expected: "x", Actual: "y", Needs: "fake.pass"}
	})
	sc.Step(`^it cannot judge$`, func() error { return NotGradedf("fake.pass", "no way") })
	sc.Step(`^row (\d+) runs$`, func(n int) error {
		if s.Result.Name != fmt.Sprintf("row %d", n) {
			return fmt.Errorf("row %d ran as %q", n, s.Result.Name)
		}
		return nil
	})
	sc.Step(`^the evidence is spoiled once$`, func() error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.spoiled {
			f.spoiled = true
			return &Inconclusive{Reason: "a foreign change"}
		}
		return nil
	})
	sc.Step(`^the target dies$`, func() error {
		f.mu.Lock()
		f.dead = true
		f.mu.Unlock()
		return &Failure{Expected: "no crash", Actual: "crash"}
	})
	return w
}

func fakeSuite(f *fakeTarget) Suite {
	return Suite{Name: "fake", Features: fstest.MapFS{"fake.feature": {Data: []byte(fakeFeature)}}, Target: f}
}

func outcomes(rep *report.Report) map[string]report.Outcome {
	out := make(map[string]report.Outcome)
	for _, s := range rep.Scenarios {
		out[s.Name] = s.Outcome
	}
	return out
}

func TestOutcomes(t *testing.T) {
	f := &fakeTarget{}
	rep, err := Run(context.Background(), fakeSuite(f), Options{Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]report.Outcome{
		"it passes":               report.Passed,
		"it fails":                report.Failed,
		"it warns":                report.Warned,
		"its precondition fails":  report.NotGraded,
		"it cannot judge":         report.NotGraded,
		"row 1":                   report.Passed,
		"row 2":                   report.Passed,
		"row 3":                   report.Passed,
		"inconclusive at first":   report.Passed,
		"it crashes the target":   report.Warned,
		"it runs after the crash": report.NotGraded,
	}
	got := outcomes(rep)
	for name, o := range want {
		if got[name] != o {
			t.Errorf("%q: outcome %q, want %q", name, got[name], o)
		}
	}
	if len(rep.Scenarios) != len(want) {
		t.Errorf("%d scenarios in the report, want %d", len(rep.Scenarios), len(want))
	}
	for _, s := range rep.Scenarios {
		switch s.Name {
		case "its precondition fails":
			if s.Needs != "fake.pass" || !strings.Contains(s.Reason, "precondition") || s.Step != "the rule breaks" {
				t.Errorf("precondition: %+v", s)
			}
		case "it fails":
			if s.Expected != "x" || s.Actual != "y" || s.Step != "the rule breaks" || s.RuleID != "fake.fail" || s.Level != report.Must {
				t.Errorf("failure: %+v", s)
			}
		case "inconclusive at first":
			if s.Retried != 1 {
				t.Errorf("inconclusive scenario: Retried = %d, want 1", s.Retried)
			}
		}
	}
	if rep.Stopped == nil || rep.Stopped.During != "it crashes the target" {
		t.Errorf("Stopped = %+v, want the crash scenario named", rep.Stopped)
	}
	if !f.finished {
		t.Error("Finish was not called")
	}
	for _, n := range f.isolated {
		if n != 1 {
			t.Errorf("an isolated scenario ran beside %d other(s)", n-1)
		}
	}
	if v := rep.Verdict(); v != report.Fail {
		t.Errorf("verdict %s, want FAIL", v)
	}
}

func TestSelectByRule(t *testing.T) {
	f := &fakeTarget{}
	rep, err := Run(context.Background(), fakeSuite(f), Options{Rules: []string{"fake.outline"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != 3 || len(f.ran) != 3 {
		t.Errorf("ran %v, report has %d scenarios; want the three rows", f.ran, len(rep.Scenarios))
	}
	if _, err := Run(context.Background(), fakeSuite(f), Options{Rules: []string{"fake.nope"}}); err == nil {
		t.Error("an unknown -rule was accepted")
	}
}

func TestSelectByPathAndLine(t *testing.T) {
	f := &fakeTarget{}
	rep, err := Run(context.Background(), fakeSuite(f), Options{Paths: []string{"fake.feature:7"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != 1 || rep.Scenarios[0].Name != "it passes" {
		t.Errorf("report = %+v, want only the scenario at line 7", rep.Scenarios)
	}
}

func TestNothingSelected(t *testing.T) {
	rep, err := Run(context.Background(), fakeSuite(&fakeTarget{}), Options{Tags: "@nothing"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.CannotGrade == nil || rep.Verdict() != report.CannotGrade {
		t.Errorf("report = %+v, want CANNOT GRADE", rep)
	}
}

func TestDeadlineEndsTheRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := Run(ctx, fakeSuite(&fakeTarget{}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Scenarios {
		if s.Outcome != report.NotGraded || !strings.Contains(s.Reason, "time ran out") {
			t.Errorf("%q: %s (%s), want not graded: time ran out", s.Name, s.Outcome, s.Reason)
		}
	}
}

// TestPerScenarioCost measures what running each scenario through its own
// godog suite costs; it fails on nothing but the outcome.
func TestPerScenarioCost(t *testing.T) {
	f := &fakeTarget{}
	start := time.Now()
	rep, err := Run(context.Background(), fakeSuite(f), Options{Rules: []string{"fake.pass", "fake.outline"}})
	if err != nil || !rep.OK() {
		t.Fatalf("err %v, verdict %s", err, rep.Verdict())
	}
	t.Logf("%d scenarios in %s", len(rep.Scenarios), time.Since(start))
}

func TestReviveGoesOn(t *testing.T) {
	f := &fakeTarget{}
	revived := 0
	opts := Options{Revive: func(context.Context) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.dead = false
		revived++
		return nil
	}}
	rep, err := Run(context.Background(), fakeSuite(f), opts)
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(rep)
	if got["it crashes the target"] != report.Warned || got["it runs after the crash"] != report.Passed {
		t.Errorf("outcomes %v: want the crash warned and the scenario after it passed", got)
	}
	if revived != 1 || rep.Stopped != nil || len(rep.Findings) == 0 {
		t.Errorf("revived %d times, stopped %+v, findings %+v; want one revival, no stop, a finding", revived, rep.Stopped, rep.Findings)
	}
}

// TestProgressLines: a run that takes a while says how far it is, without
// a terminal a line at a time.
func TestProgressLines(t *testing.T) {
	var buf syncBuffer
	f := &fakeTarget{}
	_, err := Run(context.Background(), fakeSuite(f), Options{Progress: &buf, ProgressEvery: time.Millisecond, Rules: []string{"fake.pass"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "grading fake: 1 scenarios") {
		t.Errorf("progress:\n%s\nwant the opening line", buf.String())
	}
}

// syncBuffer is a strings.Builder safe for the progress goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
