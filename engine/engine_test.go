package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

  @must @rule:fake.slow
  Rule: a late answer is confirmed alone
    Scenario: slow among others
      Then the answer comes only to a patient wait

  @must @rule:fake.late
  Rule: a late failure counts once confirmed
    Scenario: late every time
      Then nothing arrives in time

  @must @rule:fake.late-precondition
  Rule: a late precondition is confirmed too
    Scenario: its precondition is late
      Given nothing arrives in time
      Then all is well

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
	patient  int      // guarded by mu: patient runs so far
	patients int      // guarded by mu: patient runs running now
	mixed    int      // guarded by mu: times a patient and an impatient run ran at once
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
	if w.s.Patience > 1 {
		w.f.patients--
	}
	w.f.mu.Unlock()
}

func (f *fakeTarget) Start(sc *godog.ScenarioContext, s *Scenario) World {
	f.mu.Lock()
	f.ran = append(f.ran, s.Result.Name)
	f.running++
	if s.Class == Isolated {
		f.isolated = append(f.isolated, f.running)
	}
	if s.Patience > 1 {
		f.patient++
		f.patients++
	}
	if f.patients > 0 && f.running > f.patients {
		f.mixed++
	}
	f.mu.Unlock()
	w := &fakeWorld{f: f, s: s}
	sc.Step(`^all is well$`, func() error {
		s.Transcript.Event("suite", "all is well")
		return nil
	})
	sc.Step(`^the target dies quietly$`, func() error {
		s.Transcript.Event("suite", "the target dies")
		f.mu.Lock()
		f.dead = true
		f.mu.Unlock()
		return nil
	})
	sc.Step(`^the rule breaks$`, func() error {
		return &Failure{Expected: "x", Actual: "y", Needs: "fake.pass"}
	})
	sc.Step(`^the answer comes only to a patient wait$`, func() error {
		if s.Patience == ConfirmPatience {
			return nil
		}
		return &Failure{Expected: "an answer", Actual: "nothing within 1s", Late: true}
	})
	sc.Step(`^nothing arrives in time$`, func() error {
		return &Failure{Expected: "an answer", Actual: fmt.Sprintf("nothing within %ds", s.Patience), Needs: "fake.pass", Late: true}
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
	sc.Step(`^the evidence is spoiled every time$`, func() error { return &Inconclusive{Reason: "a foreign change"} })
	sc.Step(`^the target dies$`, func() error {
		f.mu.Lock()
		f.dead = true
		f.mu.Unlock()
		// Late, as a crash looks to a client: a dead target confirms
		// nothing, so the failure stands.
		return &Failure{Expected: "no crash", Actual: "crash", Late: true}
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
		"it passes":                report.Passed,
		"it fails":                 report.Failed,
		"it warns":                 report.Warned,
		"its precondition fails":   report.NotGraded,
		"it cannot judge":          report.NotGraded,
		"row 1":                    report.Passed,
		"row 2":                    report.Passed,
		"row 3":                    report.Passed,
		"inconclusive at first":    report.Passed,
		"slow among others":        report.Passed,
		"late every time":          report.Failed,
		"its precondition is late": report.NotGraded,
		"it crashes the target":    report.Warned,
		"it runs after the crash":  report.NotGraded,
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
		case "slow among others", "its precondition is late":
			if !s.Late || s.Retried != 0 {
				t.Errorf("%s: Late %v, Retried %d; want late, not retried", s.Name, s.Late, s.Retried)
			}
		case "it runs after the crash":
			if s.Cause != CauseStopped {
				t.Errorf("%s: cause %q, want %q: the target had stopped", s.Name, s.Cause, CauseStopped)
			}
		case "late every time":
			if !s.Late || s.Actual != "nothing within 4s" {
				t.Errorf("late failure: Late %v, Actual %q; want the patient run's", s.Late, s.Actual)
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
	if f.patient != 3 || f.mixed != 0 {
		t.Errorf("%d patient runs, %d beside other scenarios; want 3 (one per late scenario), none beside others", f.patient, f.mixed)
	}
	if i := slices.IndexFunc(rep.Profile, func(f report.Fact) bool { return f.Name == "speed" }); i < 0 || !strings.Contains(rep.Profile[i].Detail, "fake.slow") || strings.Contains(rep.Profile[i].Detail, "fake.late") {
		t.Errorf("profile %+v, want a speed fact naming fake.slow alone", rep.Profile)
	}
	if v := rep.Verdict(); v != report.Fail {
		t.Errorf("verdict %s, want FAIL", v)
	}
}

// TestInconclusiveRetries: an inconclusive scenario runs again while it
// has attempts left, a fragile one too (its phase comes after the
// others' retries), and one spoiled in every attempt is not graded, and
// says so.
func TestInconclusiveRetries(t *testing.T) {
	const feature = `Feature: Retries
  @must @rule:retry.every-time
  Rule: spoiled every time
    Scenario: spoiled every time
      Then the evidence is spoiled every time

  @must @rule:retry.fragile @fragile
  Rule: fragile, spoiled once
    Scenario: fragile, spoiled once
      Then the evidence is spoiled once
`
	f := &fakeTarget{}
	suite := Suite{Name: "fake", Features: fstest.MapFS{"retry.feature": {Data: []byte(feature)}}, Target: f}
	rep, err := Run(context.Background(), suite, Options{Concurrency: 4, Retries: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Scenarios {
		switch s.Name {
		case "spoiled every time":
			if s.Outcome != report.NotGraded || s.Retried != 2 || s.Reason != "other clients' changes spoiled the evidence in every attempt (a foreign change)" {
				t.Errorf("%s: %s after %d retries, reason %q; want not graded after 2, saying the evidence was spoiled in every attempt", s.Name, s.Outcome, s.Retried, s.Reason)
			}
		case "fragile, spoiled once":
			if s.Outcome != report.Passed || s.Retried != 1 {
				t.Errorf("%s: %s after %d retries, reason %q; want passed after 1", s.Name, s.Outcome, s.Retried, s.Reason)
			}
		default:
			t.Errorf("unexpected scenario %q", s.Name)
		}
	}
	if n := strings.Count(strings.Join(f.ran, "\n"), "spoiled every time"); n != 3 {
		t.Errorf("the scenario spoiled every time ran %d times, want 3 (once, then 2 retries)", n)
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

// TestLateFailureStandsWhenTargetDies: a late failure is not confirmed
// on a target that died since; the first run's outcome stands.
func TestLateFailureStandsWhenTargetDies(t *testing.T) {
	const feature = `Feature: Late, then dead

  @must @rule:late.fails
  Rule: late
    Scenario: late every time
      Then nothing arrives in time

  @must @rule:late.kills @isolated
  Rule: kills
    Scenario: it kills the target
      Then the target dies
`
	f := &fakeTarget{}
	suite := Suite{Name: "fake", Features: fstest.MapFS{"late.feature": {Data: []byte(feature)}}, Target: f}
	rep, err := Run(context.Background(), suite, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(rep); got["late every time"] != report.Failed || got["it kills the target"] != report.Failed {
		t.Errorf("outcomes %v: want both failed", got)
	}
	if f.patient != 0 {
		t.Errorf("%d patient runs on a dead target, want none", f.patient)
	}
}

// TestKilledAfterPassing: a fragile scenario whose steps passed but that
// killed the target fails, with its transcript; passed scenarios keep
// none.
func TestKilledAfterPassing(t *testing.T) {
	const feature = `Feature: Killed

  @must @rule:killed.pass
  Rule: passes
    Scenario: it passes
      Then all is well

  @should @rule:killed.kills @fragile
  Rule: kills
    Scenario: it kills the target quietly
      Given all is well
      Then the target dies quietly
`
	f := &fakeTarget{}
	suite := Suite{Name: "fake", Features: fstest.MapFS{"killed.feature": {Data: []byte(feature)}}, Target: f}
	rep, err := Run(context.Background(), suite, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Scenarios {
		switch s.Name {
		case "it passes":
			if s.Outcome != report.Passed || len(s.Transcript) != 0 {
				t.Errorf("%s: %s with %d transcript entries; want passed with none", s.Name, s.Outcome, len(s.Transcript))
			}
		case "it kills the target quietly":
			if s.Outcome != report.Warned || len(s.Transcript) == 0 {
				t.Errorf("%s: %s with %d transcript entries; want warned with its transcript", s.Name, s.Outcome, len(s.Transcript))
			}
		}
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
