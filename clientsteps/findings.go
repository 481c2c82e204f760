package clientsteps

import (
	"fmt"

	"github.com/chatspec/chatspec/report"
)

// Finish adds to the report what the run learned of the client (its IMAV
// interval) and the findings: the root causes of what failed and what
// could not be graded, the most far-reaching first. It closes the shared
// listener.
func (c *Client) Finish(rep *report.Report) {
	c.Close()
	c.mu.Lock()
	rep.Profile = append(rep.Profile, c.facts...)
	if len(c.beats) > 0 {
		rep.Profile = append(rep.Profile, report.Fact{Name: "IMAV interval", Value: report.DurationRange(c.beats), Detail: fmt.Sprintf("measured between two IMAV; expected: %s", c.cfg.Heartbeat)})
	}
	c.mu.Unlock()
	rep.Findings = append(rep.Findings, findings(rep)...)
}

// findings groups the scenarios that did not pass by root cause (see
// rootCause), the largest group first.
func findings(rep *report.Report) []report.Finding {
	names := make(map[string]string) // rule ID -> rule
	for _, s := range rep.Scenarios {
		names[s.RuleID] = s.Rule
	}
	var g report.Findings
	for _, s := range rep.Scenarios {
		if key, f, ok := rootCause(s, names); ok {
			g.Count(key, f, s)
		}
	}
	return g.Sorted()
}

// rootCause names the root cause of a scenario that did not pass, and the
// finding that stands for it: manual mode's blindness, the rule a
// scenario not graded needs, its reason, or the failed rule itself. ok is
// false for a scenario that passed.
func rootCause(s report.Scenario, names map[string]string) (key string, f report.Finding, ok bool) {
	switch {
	case s.Outcome == report.Passed:
		return "", f, false
	case s.Outcome == report.NotGraded && s.Cause == causeManualView:
		return "manual", report.Finding{Title: "Manual mode: what the client shows is not graded", Detail: "The suite cannot see a GUI client's window; grade those rules by eye."}, true
	case s.Outcome == report.NotGraded && s.Needs != "":
		return "needs " + s.Needs, report.NeedsFinding(s.Needs, names[s.Needs]), true
	case s.Outcome == report.NotGraded:
		return "reason " + s.Reason, report.Finding{Title: "Not graded: " + s.Reason}, true
	}
	return "rule " + s.RuleID, report.Finding{Title: fmt.Sprintf("%s [%s] %s", s.RuleID, s.Level, s.Rule), Detail: s.Actual}, true
}
