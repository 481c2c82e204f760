package clientsteps

import (
	"fmt"
	"slices"
	"time"

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
		lo, hi := slices.Min(c.beats), slices.Max(c.beats)
		v := "about " + lo.Round(100*time.Millisecond).String()
		if hi-lo > time.Second {
			v = fmt.Sprintf("between %s and %s", lo.Round(100*time.Millisecond), hi.Round(100*time.Millisecond))
		}
		rep.Profile = append(rep.Profile, report.Fact{Name: "IMAV interval", Value: v, Detail: fmt.Sprintf("measured between two IMAV; expected: %s", c.cfg.Heartbeat)})
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
	var out []report.Finding
	at := make(map[string]int) // root cause -> index in out
	for _, s := range rep.Scenarios {
		key, f, ok := rootCause(s, names)
		if !ok {
			continue
		}
		i, seen := at[key]
		if !seen {
			i, at[key] = len(out), len(out)
			out = append(out, f)
		}
		g := &out[i]
		if s.Outcome == report.NotGraded {
			g.NotGraded++
			continue
		}
		g.Failed++
		if !slices.Contains(g.Rules, s.RuleID) {
			g.Rules = append(g.Rules, s.RuleID)
		}
	}
	slices.SortStableFunc(out, func(a, b report.Finding) int { return (b.NotGraded + b.Failed) - (a.NotGraded + a.Failed) })
	return out
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
		return "needs " + s.Needs, report.Finding{
			Title:  fmt.Sprintf("Not graded because %s fails: %s", s.Needs, names[s.Needs]),
			Detail: "Fix that rule first: these scenarios need it to reach what they test.",
		}, true
	case s.Outcome == report.NotGraded:
		return "reason " + s.Reason, report.Finding{Title: "Not graded: " + s.Reason}, true
	}
	return "rule " + s.RuleID, report.Finding{Title: fmt.Sprintf("%s [%s] %s", s.RuleID, s.Level, s.Rule), Detail: s.Actual}, true
}
