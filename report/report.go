// Package report holds the outcome of a conformance run as plain data, and
// renders it: as text for a terminal, and as JSON, JUnit XML and a
// self-contained HTML page for tools and people.
//
// A [Report] survives a JSON round trip: it holds no godog types, no
// errors and no functions, only what was graded, how, and what happened,
// down to the exact bytes that crossed the wire. The engine fills it; the
// renderers only read it.
package report

import (
	"fmt"
	"strings"
	"time"
)

// Level is how binding a rule is.
type Level string

// The levels.
const (
	// Must: the assignment states the rule.
	Must Level = "MUST"
	// Should: a sensible reading of what the assignment leaves open.
	Should Level = "SHOULD"
)

// Outcome is what became of one scenario.
type Outcome string

// The outcomes.
const (
	// Passed: every step held.
	Passed Outcome = "passed"
	// Failed: a step that states the rule saw the target break it (a MUST
	// rule, or a SHOULD rule with Report.Strict).
	Failed Outcome = "failed"
	// Warned: a SHOULD rule was broken; it fails the run only with
	// Report.Strict.
	Warned Outcome = "warned"
	// NotGraded: the scenario could not reach the behaviour it tests (a
	// precondition failed, the target died, the run ended first); Reason
	// says why and Needs names the rule whose failure explains it.
	NotGraded Outcome = "not graded"
)

// Verdict is the outcome of a whole run.
type Verdict string

// The verdicts.
const (
	// Pass: every MUST scenario was graded and passed, and with Strict
	// every SHOULD scenario that was graded passed too.
	Pass Verdict = "PASS"
	// Fail: a MUST scenario failed (or, with Strict, a SHOULD one).
	Fail Verdict = "FAIL"
	// Incomplete: nothing failed, but some MUST scenarios were not graded.
	Incomplete Verdict = "INCOMPLETE"
	// CannotGrade: nothing could be graded (see Report.CannotGrade).
	CannotGrade Verdict = "CANNOT GRADE"
)

// Direction says which way an Entry's bytes went, or that it is an event.
type Direction string

// The directions, as the text report shows them.
const (
	// Sent: from the suite to the target.
	Sent Direction = "->"
	// Received: from the target to the suite.
	Received Direction = "<-"
	// Event: something that happened (a connect, a close, a wait).
	Event Direction = "**"
)

// Report is the outcome of one run against one target.
type Report struct {
	// Suite is what was graded: "server" or "client".
	Suite string `json:"suite"`
	// Target names what was graded: the server's address (several,
	// comma-separated, for a cluster), or the client's command.
	Target string `json:"target"`
	// Settings is the configuration as given, in a stable order.
	Settings []Setting `json:"settings,omitempty"`
	// Strict: SHOULD failures fail the run (they are Failed, not Warned).
	Strict bool `json:"strict"`
	// Concurrency is how many scenarios ran at once, at most.
	Concurrency int `json:"concurrency"`
	// Started is when the run began.
	Started time.Time `json:"started"`
	// Elapsed is how long the whole run took.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Profile is what the suite learned of the target, before and during
	// the run: its framing and why, the shapes of its replies, its
	// heartbeat timeout, its client limit.
	Profile []Fact `json:"profile,omitempty"`
	// Findings are the root causes of what went wrong, the most important
	// first: the first screen of the text report.
	Findings []Finding `json:"findings,omitempty"`
	// CannotGrade is set when nothing could be graded at all; Scenarios
	// are then all NotGraded.
	CannotGrade *Problem `json:"cannot_grade,omitempty"`
	// Stopped is set when the run ended before every scenario was graded:
	// the target died, or the run's time ran out.
	Stopped *Problem `json:"stopped,omitempty"`
	// Scenarios holds every selected scenario, in file and line order.
	Scenarios []Scenario `json:"scenarios"`
}

// Setting is one configuration value, as given: a flag and its value.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Fact is one thing the suite learned of the target.
type Fact struct {
	// Name is what the fact is about: "framing", "J_OK", "heartbeat timeout".
	Name string `json:"name"`
	// Value is the fact, short: "lines (\n)", "never echoes DATA", "about 8s".
	Value string `json:"value"`
	// Detail says how the suite knows, or what it means for the grading.
	Detail string `json:"detail,omitempty"`
}

// Finding is one root cause: one thing the target does that explains one or
// more failed or not-graded scenarios, or a deviation the suite read
// leniently everywhere but in the one rule about it.
type Finding struct {
	// Title says what the target does, in one line.
	Title string `json:"title"`
	// Detail says what to fix, or what the suite did about it.
	Detail string `json:"detail,omitempty"`
	// Rules are the IDs of the rules it fails.
	Rules []string `json:"rules,omitempty"`
	// Failed is how many scenarios it failed or warned.
	Failed int `json:"failed"`
	// NotGraded is how many scenarios it left not graded.
	NotGraded int `json:"not_graded"`
}

// Problem explains why a run graded nothing, or stopped early.
type Problem struct {
	// What went wrong, in a sentence or two.
	What string `json:"what"`
	// Hint says what to try.
	Hint string `json:"hint,omitempty"`
	// During names the scenario in which it happened, if any.
	During string `json:"during,omitempty"`
	// At is when it happened, from the run's start.
	At time.Duration `json:"at_ns,omitempty"`
	// Sample holds the first bytes the target sent, if they help.
	Sample []byte `json:"sample,omitempty"`
}

// Scenario is the outcome of one scenario (one row of an outline).
type Scenario struct {
	// RuleID is the rule's stable ID, "<group>.<name>", from the
	// scenario's @rule: tag.
	RuleID string `json:"rule_id"`
	// Feature, Rule and Name are the feature's, the rule's and the
	// scenario's names (an outline row's name has its values filled in).
	Feature string `json:"feature"`
	Rule    string `json:"rule"`
	Name    string `json:"name"`
	// File and Line locate the scenario (an outline row's own line).
	File string `json:"file"`
	Line int    `json:"line"`
	// Level is the rule's level.
	Level Level `json:"level"`
	// Tags are every tag of the scenario, inherited ones included.
	Tags []string `json:"tags,omitempty"`

	// Outcome is what became of it.
	Outcome Outcome `json:"outcome"`
	// Step is the text of the step that failed, or of the precondition
	// that could not be met.
	Step string `json:"step,omitempty"`
	// Expected and Actual say, for a failed or warned scenario, what the
	// rule asks for and what the target did; Actual also shows the near
	// misses that did arrive.
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	// Reason says why a scenario was not graded.
	Reason string `json:"reason,omitempty"`
	// Needs is the ID of the rule whose failure explains a NotGraded
	// outcome, if one does.
	Needs string `json:"needs,omitempty"`
	// Cause is a short key grouping outcomes of one root cause in the
	// findings ("no-echo", "data-shape"), if the suite knows one.
	Cause string `json:"cause,omitempty"`
	// Retried says how many times the scenario was run again because its
	// evidence was spoiled by something outside it.
	Retried int `json:"retried,omitempty"`
	// Late says the scenario first failed for want of an answer in time,
	// among other scenarios, and so ran again alone with longer waits: the
	// outcome is that run's. Passed and Late is a target that is slow
	// under load.
	Late bool `json:"late,omitempty"`
	// Elapsed is how long the scenario took.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Transcript is every byte the scenario's connections sent and
	// received, with its events, for a scenario that did not pass.
	Transcript []Entry `json:"transcript,omitempty"`
	// Apart counts the frames that other scenarios caused on this
	// scenario's connections (their LISTs, their DATA): left out of the
	// transcript, and never counted for or against this scenario.
	Apart int `json:"apart,omitempty"`
}

// Entry is one line of a transcript.
type Entry struct {
	// At is the offset from the scenario's start.
	At time.Duration `json:"at_ns"`
	// Conn names the connection: "alice (alice_k3j9x2)", or "suite".
	Conn string `json:"conn"`
	// Dir says which way the bytes went, or that this is an event.
	Dir Direction `json:"dir"`
	// Data holds the exact bytes sent or received (at most MaxEntryBytes
	// of them; Size says how many there were).
	Data []byte `json:"data,omitempty"`
	// Size is how many bytes there were, when Data was cut.
	Size int `json:"size,omitempty"`
	// Note says what happened, for an Event.
	Note string `json:"note,omitempty"`
	// Heartbeat marks an IMAV the suite's heartbeat sent (not a step).
	Heartbeat bool `json:"heartbeat,omitempty"`
}

// MaxEntryBytes is the most bytes of one read or write an Entry keeps.
const MaxEntryBytes = 300

// Counts tallies a Report's scenarios by level and outcome.
type Counts struct {
	MustPassed, MustFailed, MustNotGraded       int
	ShouldPassed, ShouldFailed, ShouldNotGraded int // ShouldFailed counts Warned and Failed
}

// Counts tallies the scenarios.
func (r *Report) Counts() Counts {
	var c Counts
	for _, s := range r.Scenarios {
		must := s.Level == Must
		switch s.Outcome {
		case Passed:
			if must {
				c.MustPassed++
			} else {
				c.ShouldPassed++
			}
		case Failed, Warned:
			if must {
				c.MustFailed++
			} else {
				c.ShouldFailed++
			}
		default:
			if must {
				c.MustNotGraded++
			} else {
				c.ShouldNotGraded++
			}
		}
	}
	return c
}

// Verdict returns the run's verdict.
func (r *Report) Verdict() Verdict {
	if r.CannotGrade != nil || len(r.Scenarios) == 0 {
		return CannotGrade
	}
	c := r.Counts()
	switch {
	case c.MustFailed > 0, r.Strict && c.ShouldFailed > 0:
		return Fail
	case c.MustPassed == 0 && c.ShouldPassed == 0:
		return CannotGrade
	case c.MustNotGraded > 0:
		return Incomplete
	}
	return Pass
}

// OK reports whether the verdict is Pass.
func (r *Report) OK() bool { return r.Verdict() == Pass }

// Location returns "file:line".
func (s *Scenario) Location() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// Group returns the rule group of the scenario's rule ID: "presence" for
// "presence.list-on-join".
func (s *Scenario) Group() string {
	g, _, _ := strings.Cut(s.RuleID, ".")
	return g
}

// Setting returns the value of the named setting, or "".
func (r *Report) Setting(name string) string {
	for _, s := range r.Settings {
		if s.Name == name {
			return s.Value
		}
	}
	return ""
}

// Rules groups the scenarios by rule ID, in the order of their first
// scenario.
func (r *Report) Rules() []Rule {
	var out []Rule
	index := make(map[string]int)
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		j, ok := index[s.RuleID]
		if !ok {
			j = len(out)
			index[s.RuleID] = j
			out = append(out, Rule{ID: s.RuleID, Feature: s.Feature, Name: s.Rule, Level: s.Level, File: s.File})
		}
		out[j].Scenarios = append(out[j].Scenarios, s)
	}
	return out
}

// Rule is one rule and its scenarios, for renderers.
type Rule struct {
	ID        string
	Feature   string
	Name      string
	Level     Level
	File      string
	Scenarios []*Scenario
}

// Outcome returns the rule's outcome: Failed or Warned if any of its
// scenarios failed or warned, else NotGraded if any was not graded, else
// Passed.
func (r Rule) Outcome() Outcome {
	out := Passed
	for _, s := range r.Scenarios {
		switch s.Outcome {
		case Failed:
			return Failed
		case Warned:
			out = Warned
		case NotGraded:
			if out == Passed {
				out = NotGraded
			}
		}
	}
	return out
}

// Tally returns how many of the rule's scenarios passed, and how many
// there are.
func (r Rule) Tally() (passed, total int) {
	for _, s := range r.Scenarios {
		if s.Outcome == Passed {
			passed++
		}
	}
	return passed, len(r.Scenarios)
}

// Error returns What, so that a Problem can travel as an error (a
// target's Prepare returns one when nothing can be graded).
func (p *Problem) Error() string { return p.What }
