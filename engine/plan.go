package engine

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/report"
)

// Tags with a meaning to the engine. A scenario has exactly one level tag
// and one rule tag; the features package's test enforces it.
const (
	TagMust     = "@must"
	TagShould   = "@should"
	TagRule     = "@rule:" // followed by the rule ID, "<group>.<name>"
	TagSlow     = "@slow"
	TagFragile  = "@fragile"
	TagIsolated = "@isolated"
)

// Class is how the engine schedules a scenario.
type Class uint8

// The classes, in the order their phases end.
const (
	// Ordinary scenarios run Options.Concurrency at a time.
	Ordinary Class = iota
	// Slow scenarios (@slow) wait for a heartbeat window: they run first,
	// side by side, with nothing else running.
	Slow
	// Isolated scenarios (@isolated) judge a broadcast by the event that
	// caused it: they run one at a time, with no other scenario running.
	Isolated
	// Fragile scenarios (@fragile) may crash a fragile target: they run
	// last, one at a time, each followed by a check that the target lives.
	Fragile
)

// String names the class.
func (c Class) String() string {
	return [...]string{"ordinary", "slow", "isolated", "fragile"}[c]
}

// pickle is one scenario (or outline row) to run, with what the report
// needs to know of it.
type pickle struct {
	res   report.Scenario // the static part of its result
	class Class
	file  string // the feature file, relative to the features' root
	scLn  int    // the line of its Scenario (Outline) keyword: godog selects by it
	rowLn int    // its own line: an outline row's, or scLn
}

// RuleID returns the rule ID of tags: the value of the one @rule: tag, or
// "" if there is none (or several).
func RuleID(tags []string) string {
	id := ""
	for _, t := range tags {
		if v, ok := strings.CutPrefix(t, TagRule); ok {
			if id != "" {
				return ""
			}
			id = v
		}
	}
	return id
}

// LevelOf returns the level of tags: Must or Should, or "" if the tags
// have neither or both.
func LevelOf(tags []string) report.Level {
	must, should := slices.Contains(tags, TagMust), slices.Contains(tags, TagShould)
	switch {
	case must && !should:
		return report.Must
	case should && !must:
		return report.Should
	}
	return ""
}

// classOf returns the scheduling class of tags; @fragile wins over
// @isolated, which wins over @slow.
func classOf(tags []string) Class {
	switch {
	case slices.Contains(tags, TagFragile):
		return Fragile
	case slices.Contains(tags, TagIsolated):
		return Isolated
	case slices.Contains(tags, TagSlow):
		return Slow
	}
	return Ordinary
}

// plan parses the features once, selects the scenarios to run and sorts
// them into classes. It fails on features the engine cannot use: a
// scenario without exactly one level and one rule tag.
func plan(s Suite, opts *Options) ([]*pickle, error) {
	paths := opts.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	gopts := godog.Options{FS: s.Features, Paths: paths, Tags: opts.Tags}
	feats, err := godog.TestSuite{Options: &gopts}.RetrieveFeatures()
	if err != nil {
		return nil, fmt.Errorf("engine: read features: %w", err)
	}
	rules := make(map[string]bool, len(opts.Rules))
	for _, r := range opts.Rules {
		rules[r] = true
	}
	var out []*pickle
	seen := make(map[string]bool)
	for _, ft := range feats {
		file, _ := splitLine(ft.Uri)
		for _, p := range ft.Pickles {
			sc := ft.FindScenario(p.AstNodeIds[0])
			if sc == nil {
				return nil, fmt.Errorf("engine: %s: scenario %q not found in its feature", ft.Uri, p.Name)
			}
			pk := &pickle{file: file, scLn: int(sc.Location.Line), rowLn: int(sc.Location.Line)}
			if p.Location != nil {
				pk.rowLn = int(p.Location.Line)
			}
			key := fmt.Sprintf("%s:%d", file, pk.rowLn)
			if seen[key] {
				continue
			}
			seen[key] = true
			var tags []string
			for _, t := range p.Tags {
				tags = append(tags, t.Name)
			}
			pk.res = report.Scenario{
				RuleID:  RuleID(tags),
				Feature: ft.Feature.Name,
				Name:    p.Name,
				File:    path.Join("features", file),
				Line:    pk.rowLn,
				Level:   LevelOf(tags),
				Tags:    tags,
			}
			if ru := ft.FindRule(p.AstNodeIds[0]); ru != nil {
				pk.res.Rule = ru.Name
			}
			if pk.res.RuleID == "" || pk.res.Level == "" {
				return nil, fmt.Errorf("engine: %s: scenario %q needs exactly one @rule: tag and one of @must, @should (it has %v)", key, p.Name, tags)
			}
			if len(rules) > 0 && !rules[pk.res.RuleID] {
				continue
			}
			pk.class = classOf(tags)
			out = append(out, pk)
		}
	}
	rank := func(file string) int {
		if i := slices.Index(s.Order, file); i >= 0 {
			return i
		}
		return len(s.Order)
	}
	slices.SortStableFunc(out, func(a, b *pickle) int {
		if c := rank(a.file) - rank(b.file); c != 0 {
			return c
		}
		if c := strings.Compare(a.file, b.file); c != 0 {
			return c
		}
		return a.rowLn - b.rowLn
	})
	for id := range rules {
		if !slices.ContainsFunc(out, func(p *pickle) bool { return p.res.RuleID == id }) {
			return nil, fmt.Errorf("engine: -rule %s: no selected scenario has this rule ID", id)
		}
	}
	return out, nil
}

// splitLine splits "file.feature:12" into the file and the line (0 if
// none).
func splitLine(uri string) (string, int) {
	i := strings.LastIndexByte(uri, ':')
	if i < 0 {
		return uri, 0
	}
	n := 0
	for _, c := range uri[i+1:] {
		if c < '0' || c > '9' {
			return uri, 0
		}
		n = n*10 + int(c-'0')
	}
	return uri[:i], n
}
