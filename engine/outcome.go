package engine

import (
	"errors"
	"fmt"
)

// Failure is the error of a step that saw the target break a rule: what
// the rule asks for and what happened, in words a student reads. In a
// Given step (a precondition) it makes the scenario not graded instead,
// needing the rule named by Needs.
type Failure struct {
	// Expected says what the rule asks for.
	Expected string
	// Actual says what the target did, near misses included.
	Actual string
	// Needs is the rule ID of the behaviour that failed, for when the
	// failure happens in a precondition ("joining.valid-name" for a JOIN
	// that got no J_OK).
	Needs string
	// Cause is a short key that groups failures with one root cause in
	// the report's findings ("no-echo", "data-shape"); "" for none.
	Cause string
	// Err is the error behind Actual, if any (a failed write).
	Err error
	// Late says that what the step waited for did not arrive within its
	// wait while the connection stayed open: a slow target looks the
	// same, so the engine confirms the failure before it counts (see
	// the package doc).
	Late bool
}

// Error returns "expected ...; actual: ...".
func (f *Failure) Error() string { return "expected " + f.Expected + "; actual: " + f.Actual }

// Unwrap returns the error behind Actual, if any.
func (f *Failure) Unwrap() error { return f.Err }

// NotGraded is the error of a step that cannot judge the rule: the
// scenario could not reach the behaviour it tests. It never fails a
// scenario.
type NotGraded struct {
	// Reason says why, in a sentence.
	Reason string
	// Needs is the rule ID whose failure explains it, if one does.
	Needs string
	// Cause groups it with others of one root cause ("server-full").
	Cause string
}

// Error returns "not graded: reason".
func (n *NotGraded) Error() string { return "not graded: " + n.Reason }

// CauseStopped is the Cause of a scenario not graded because the target
// stopped working while or before it ran (see Report.Stopped).
const CauseStopped = "target-stopped"

// Inconclusive is the error of a step whose evidence something outside
// the scenario spoiled: a change another scenario caused merged into the
// broadcast this one waits for. The engine runs the scenario again,
// alone, before it gives up and reports it not graded.
type Inconclusive struct {
	// Reason says what spoiled the evidence.
	Reason string
}

// Error returns "inconclusive: reason".
func (i *Inconclusive) Error() string { return "inconclusive: " + i.Reason }

// NotGradedf returns a *NotGraded needing rule needs, with a formatted
// reason.
func NotGradedf(needs, format string, args ...any) *NotGraded {
	return &NotGraded{Reason: fmt.Sprintf(format, args...), Needs: needs}
}

// SuiteError is an error of the suite itself, not of the target: a step
// that does not exist, a feature that refers to a client it never opened.
// A run with one returns an error besides its report.
type SuiteError struct {
	Scenario string
	Err      error
}

// Error names the scenario.
func (e *SuiteError) Error() string { return fmt.Sprintf("engine: scenario %q: %v", e.Scenario, e.Err) }

// Unwrap returns the step's error.
func (e *SuiteError) Unwrap() error { return e.Err }

// asFailure, asNotGraded and asInconclusive unwrap a step's error.
func asFailure(err error) (*Failure, bool) {
	var f *Failure
	ok := errors.As(err, &f)
	return f, ok
}

func asNotGraded(err error) (*NotGraded, bool) {
	var n *NotGraded
	ok := errors.As(err, &n)
	return n, ok
}

func asInconclusive(err error) (*Inconclusive, bool) {
	var i *Inconclusive
	ok := errors.As(err, &i)
	return i, ok
}
