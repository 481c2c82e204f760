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

// clientRuleID is the shape of a client rule ID: "client-<group>.<name>".
var clientRuleID = regexp.MustCompile(`^client-[a-z]+\.[a-z0-9-]+$`)

// TestClientTags checks the client features by the conventions of the
// server's (see TestTags): one level tag and one rule tag per scenario,
// the rule's group being the feature's tag, one level and one Rule per
// rule ID, unique scenario names, a quoted assignment; and a heartbeat
// scenario is @slow.
func TestClientTags(t *testing.T) {
	opts := godog.Options{FS: features.Client, Paths: []string{"."}}
	feats, err := godog.TestSuite{Options: &opts}.RetrieveFeatures()
	if err != nil {
		t.Fatal(err)
	}
	if len(feats) == 0 {
		t.Fatal("no client feature files embedded")
	}
	type ruleInfo struct{ level, rule, file string }
	rules := make(map[string]ruleInfo)
	levels := map[string]int{}
	for _, ft := range feats {
		if !strings.Contains(ft.Feature.Description, `"`) {
			t.Errorf("%s: the feature's description does not quote the assignment", ft.Uri)
		}
		if len(ft.Feature.Tags) != 1 {
			t.Errorf("%s: feature tags %v; want exactly one, its group", ft.Uri, ft.Feature.Tags)
			continue
		}
		group := strings.TrimPrefix(ft.Feature.Tags[0].Name, "@")
		names := make(map[string]bool)
		for _, p := range ft.Pickles {
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
			if !clientRuleID.MatchString(id) || !strings.HasPrefix(id, group+".") {
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
			if _, ok := rules[id]; !ok {
				levels[level]++
			}
			rules[id] = ruleInfo{level, rule, ft.Uri}
			if names[p.Name] {
				t.Errorf("%s: two scenarios of this file have this name", where)
			}
			names[p.Name] = true
			beats := slices.ContainsFunc(p.Steps, func(s *godog.Step) bool { return strings.Contains(s.Text, "heartbeat interval") })
			if beats != slices.Contains(tags, "@slow") {
				t.Errorf("%s: waits for heartbeat intervals: %v, tagged @slow: %v; want both or neither", where, beats, !beats)
			}
		}
	}
	t.Logf("%d client feature files, %d rules (%d MUST, %d SHOULD)", len(feats), len(rules), levels["@must"], levels["@should"])
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
