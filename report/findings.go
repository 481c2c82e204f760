package report

import (
	"fmt"
	"slices"
	"time"
)

// Findings groups scenarios that did not pass into findings by root
// cause, for a target's Finish: each scenario is counted under a key its
// caller chooses, and the first scenario of a key gives its finding's
// title and detail. Its zero value is ready to use.
type Findings struct {
	at  map[string]int // key -> index in out
	out []Finding
}

// Count counts s under key: a scenario not graded adds to NotGraded, any
// other to Failed and names its rule. f is the finding for a key not seen
// before (its counts and rules are ignored).
func (g *Findings) Count(key string, f Finding, s Scenario) {
	i, seen := g.at[key]
	if !seen {
		if g.at == nil {
			g.at = make(map[string]int)
		}
		i, g.at[key] = len(g.out), len(g.out)
		g.out = append(g.out, Finding{Title: f.Title, Detail: f.Detail})
	}
	fg := &g.out[i]
	if s.Outcome == NotGraded {
		fg.NotGraded++
		return
	}
	fg.Failed++
	if !slices.Contains(fg.Rules, s.RuleID) {
		fg.Rules = append(fg.Rules, s.RuleID)
	}
}

// Sorted returns the findings, the most far-reaching (failed and not
// graded together) first; equal ones in the order their keys came.
func (g *Findings) Sorted() []Finding {
	out := slices.Clone(g.out)
	slices.SortStableFunc(out, func(a, b Finding) int { return (b.NotGraded + b.Failed) - (a.NotGraded + a.Failed) })
	return out
}

// NeedsFinding is the finding of the scenarios not graded because rule id
// (the rule's text) fails.
func NeedsFinding(id, rule string) Finding {
	return Finding{
		Title:  fmt.Sprintf("Not graded because %s fails: %s", id, rule),
		Detail: "Fix that rule first: these scenarios need it to reach what they test.",
	}
}

// DurationRange describes measured durations for a profile fact: "about
// 4s", or "between 3.8s and 5.2s" when they spread over more than a
// second. ds must not be empty.
func DurationRange(ds []time.Duration) string {
	lo, hi := slices.Min(ds), slices.Max(ds)
	if hi-lo > time.Second {
		return fmt.Sprintf("between %s and %s", lo.Round(100*time.Millisecond), hi.Round(100*time.Millisecond))
	}
	return "about " + lo.Round(100*time.Millisecond).String()
}
