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

// clientScenario is what the conventions say of one client scenario (one
// outline row).
type clientScenario struct {
	where string // "client/joining.feature: the scenario's name"
	group string // the feature's one tag, without "@"
	rule  string // the Rule's name
	tags  []string
	slow  bool // one of its steps waits for heartbeat intervals
}

// ids returns the scenario's rule IDs, from its @rule: tags.
func (s clientScenario) ids() []string {
	var out []string
	for _, tg := range s.tags {
		if id, ok := strings.CutPrefix(tg, "@rule:"); ok {
			out = append(out, id)
		}
	}
	return out
}

// level returns "@must" or "@should", or "" unless it has exactly one.
func (s clientScenario) level() string {
	must, should := slices.Contains(s.tags, "@must"), slices.Contains(s.tags, "@should")
	switch {
	case must && !should:
		return "@must"
	case should && !must:
		return "@should"
	}
	return ""
}

// clientScenarios reads every client feature, failing t on a feature that
// breaks a convention of its own: one tag (its group), a quoted
// assignment, scenario names unique within the file.
func clientScenarios(t *testing.T) []clientScenario {
	t.Helper()
	opts := godog.Options{FS: features.Client, Paths: []string{"."}}
	feats, err := godog.TestSuite{Options: &opts}.RetrieveFeatures()
	if err != nil {
		t.Fatal(err)
	}
	if len(feats) == 0 {
		t.Fatal("no client feature files embedded")
	}
	var out []clientScenario
	for _, ft := range feats {
		if !strings.Contains(ft.Feature.Description, `"`) {
			t.Errorf("%s: the feature's description does not quote the assignment", ft.Uri)
		}
		if len(ft.Feature.Tags) != 1 {
			t.Errorf("%s: feature tags %v; want exactly one, its group", ft.Uri, ft.Feature.Tags)
			continue
		}
		seen := make(map[string]bool)
		for _, p := range ft.Pickles {
			if seen[p.Name] {
				t.Errorf("%s: two scenarios are named %q (the report tells them apart by name)", ft.Uri, p.Name)
			}
			seen[p.Name] = true
			s := clientScenario{where: ft.Uri + ": " + p.Name, group: strings.TrimPrefix(ft.Feature.Tags[0].Name, "@")}
			if ru := ft.FindRule(p.AstNodeIds[0]); ru != nil {
				s.rule = ru.Name
			}
			for _, tg := range p.Tags {
				s.tags = append(s.tags, tg.Name)
			}
			s.slow = slices.ContainsFunc(p.Steps, func(st *godog.Step) bool { return strings.Contains(st.Text, "heartbeat interval") })
			out = append(out, s)
		}
	}
	return out
}

// clientRuleID is the shape of a client rule ID: "client-<group>.<name>".
var clientRuleID = regexp.MustCompile(`^client-[a-z]+\.[a-z0-9-]+$`)

// TestClientTags checks the client features by the conventions the engine
// and the reports rely on: one level tag and one rule tag per scenario,
// the rule's group being the feature's tag, one Rule and one level per
// rule ID; and a scenario that waits for heartbeat intervals is @slow (and
// only such a one).
func TestClientTags(t *testing.T) {
	type ruleInfo struct{ level, rule string }
	rules := make(map[string]ruleInfo)
	levels := make(map[string]int)
	for _, s := range clientScenarios(t) {
		ids, level := s.ids(), s.level()
		if level == "" {
			t.Errorf("%s: has tags %v; want exactly one of @must and @should", s.where, s.tags)
		}
		if len(ids) != 1 {
			t.Errorf("%s: has rule tags %v; want exactly one @rule:<group>.<name>", s.where, ids)
			continue
		}
		if id := ids[0]; !clientRuleID.MatchString(id) || !strings.HasPrefix(id, s.group+".") {
			t.Errorf("%s: rule ID %q; want %s.<name>, lower-case letters, digits and '-'", s.where, id, s.group)
		}
		info := ruleInfo{level, s.rule}
		if prev, ok := rules[ids[0]]; ok && prev != info {
			t.Errorf("%s: rule ID %s is also %q (%s); one ID is one Rule with one level", s.where, ids[0], prev.rule, prev.level)
		} else if !ok {
			levels[level]++
		}
		rules[ids[0]] = info
		if s.slow != slices.Contains(s.tags, "@slow") {
			t.Errorf("%s: waits for heartbeat intervals: %v; tagged @slow: %v; want both or neither", s.where, s.slow, !s.slow)
		}
	}
	t.Logf("%d client rules: %d MUST, %d SHOULD", len(rules), levels["@must"], levels["@should"])
}

// TestClientOrder checks that ClientOrder names every embedded client
// feature file once.
func TestClientOrder(t *testing.T) {
	files, err := fs.Glob(features.Client, "client/*.feature")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	if order := slices.Sorted(slices.Values(features.ClientOrder())); !slices.Equal(files, order) {
		t.Errorf("ClientOrder() = %v, want the embedded files %v in some order", features.ClientOrder(), files)
	}
}
