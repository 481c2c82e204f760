package features_test

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/features"
)

// ruleID is the shape of a rule ID: "<group>.<name>", lower case.
var ruleID = regexp.MustCompile(`^[a-z]+\.[a-z0-9-]+$`)

// TestTags checks the conventions the engine and the reports rely on:
// every scenario has exactly one level tag (@must or @should) and exactly
// one rule tag (@rule:<group>.<name>, whose group is the feature's tag);
// one rule ID has one level and one Rule; a scenario that waits for the
// expiry time is @slow; scenario names are unique within a file; and
// every feature quotes the assignment.
func TestTags(t *testing.T) {
	opts := godog.Options{FS: features.FS, Paths: []string{"."}}
	feats, err := godog.TestSuite{Options: &opts}.RetrieveFeatures()
	if err != nil {
		t.Fatal(err)
	}
	if len(feats) == 0 {
		t.Fatal("no feature files embedded")
	}
	type ruleInfo struct{ level, rule, file string }
	rules := make(map[string]ruleInfo)
	scenarios := 0
	for _, ft := range feats {
		if !strings.Contains(ft.Feature.Description, `"`) {
			t.Errorf("%s: the feature's description does not quote the assignment", ft.Uri)
		}
		group := ""
		for _, tg := range ft.Feature.Tags {
			if g := strings.TrimPrefix(tg.Name, "@"); g != "fragile" {
				group = g
			}
		}
		names := make(map[string]bool)
		for _, p := range ft.Pickles {
			scenarios++
			var tags []string
			for _, tg := range p.Tags {
				tags = append(tags, tg.Name)
			}
			where := ft.Uri + ": " + p.Name
			must, should := slices.Contains(tags, "@must"), slices.Contains(tags, "@should")
			if must == should {
				t.Errorf("%s: has tags %v; want exactly one of @must and @should", where, tags)
			}
			var ids []string
			for _, tg := range tags {
				if id, ok := strings.CutPrefix(tg, "@rule:"); ok {
					ids = append(ids, id)
				}
			}
			if len(ids) != 1 {
				t.Errorf("%s: has rule tags %v; want exactly one @rule:<group>.<name>", where, ids)
				continue
			}
			id := ids[0]
			if !ruleID.MatchString(id) || !strings.HasPrefix(id, group+".") {
				t.Errorf("%s: rule ID %q; want %s.<name>, lower-case letters, digits and '-'", where, id, group)
			}
			level := "@should"
			if must {
				level = "@must"
			}
			rule := ""
			if ru := ft.FindRule(p.AstNodeIds[0]); ru != nil {
				rule = ru.Name
			}
			if prev, ok := rules[id]; ok && (prev.level != level || prev.rule != rule || prev.file != ft.Uri) {
				t.Errorf("%s: rule ID %s is also used for %q (%s, %s); one ID is one Rule with one level", where, id, prev.rule, prev.level, prev.file)
			}
			rules[id] = ruleInfo{level, rule, ft.Uri}
			if names[p.Name] {
				t.Errorf("%s: two scenarios of this file have this name (the report tells them apart by name)", where)
			}
			names[p.Name] = true
			slowSteps := slices.ContainsFunc(p.Steps, func(s *godog.Step) bool { return strings.Contains(s.Text, "expiry time") })
			if slowSteps && !slices.Contains(tags, "@slow") {
				t.Errorf("%s: waits for the expiry time but is not tagged @slow", where)
			}
		}
	}
	t.Logf("%d feature files, %d rules, %d scenarios", len(feats), len(rules), scenarios)
}

// TestOrder checks that Order names every embedded feature file once.
func TestOrder(t *testing.T) {
	files, err := fs.Glob(features.FS, "*.feature")
	if err != nil {
		t.Fatal(err)
	}
	order := features.Order()
	slices.Sort(files)
	sorted := slices.Sorted(slices.Values(order))
	if !slices.Equal(files, sorted) {
		t.Errorf("Order() = %v, want the embedded files %v in some order", order, files)
	}
}
