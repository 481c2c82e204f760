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

// findings groups the scenarios that did not pass by root cause: a rule
// whose failure left others not graded, a cause the steps named, and
// each failed rule on its own; the largest group first.
func findings(rep *report.Report) []report.Finding {
	names := make(map[string]string) // rule ID -> rule
	for _, s := range rep.Scenarios {
		names[s.RuleID] = s.Rule
	}
	byKey := make(map[string]*report.Finding)
	var order []string
	add := func(key, title, detail, rule string, failed bool) {
		f, ok := byKey[key]
		if !ok {
			f = &report.Finding{Title: title, Detail: detail}
			byKey[key] = f
			order = append(order, key)
		}
		if failed {
			f.Failed++
		} else {
			f.NotGraded++
		}
		if rule != "" && !slices.Contains(f.Rules, rule) {
			f.Rules = append(f.Rules, rule)
		}
	}
	for _, s := range rep.Scenarios {
		switch {
		case s.Outcome == report.Passed:
		case s.Outcome == report.NotGraded && s.Cause == causeManualView:
			add("cause:"+s.Cause, "Manual mode: what the client shows is not graded", "The suite cannot see a GUI client's window; grade those rules by eye.", "", false)
		case s.Outcome == report.NotGraded && s.Needs != "":
			add("needs:"+s.Needs, fmt.Sprintf("Not graded because %s fails: %s", s.Needs, names[s.Needs]),
				"Fix that rule first: these scenarios need it to reach what they test.", "", false)
		case s.Outcome == report.NotGraded:
			add("reason:"+s.Reason, "Not graded: "+s.Reason, "", "", false)
		default:
			add("rule:"+s.RuleID, fmt.Sprintf("%s [%s] %s", s.RuleID, s.Level, s.Rule), s.Actual, s.RuleID, true)
		}
	}
	out := make([]report.Finding, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	slices.SortStableFunc(out, func(a, b report.Finding) int { return (b.NotGraded + b.Failed) - (a.NotGraded + a.Failed) })
	return out
}
