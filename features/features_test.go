package features_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/features"
)

// TestTags checks the conventions the suite's runner and report rely on:
// every scenario has exactly one level tag, @must or @should; a scenario
// that waits for the expiry time is @slow; @fragile scenarios have a file
// of their own; scenario names are unique within a file; and every feature
// quotes the assignment.
func TestTags(t *testing.T) {
	opts := godog.Options{FS: features.FS, Paths: []string{"."}}
	feats, err := godog.TestSuite{Options: &opts}.RetrieveFeatures()
	if err != nil {
		t.Fatal(err)
	}
	if len(feats) == 0 {
		t.Fatal("no feature files embedded")
	}
	scenarios := 0
	for _, ft := range feats {
		if !strings.Contains(ft.Feature.Description, `"`) {
			t.Errorf("%s: the feature's description does not quote the assignment", ft.Uri)
		}
		names := make(map[string]bool)
		fragile := 0
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
			if names[p.Name] {
				t.Errorf("%s: two scenarios of this file have this name (the report tells them apart by name)", where)
			}
			names[p.Name] = true
			slowSteps := slices.ContainsFunc(p.Steps, func(s *godog.Step) bool { return strings.Contains(s.Text, "expiry time") })
			if slowSteps && !slices.Contains(tags, "@slow") {
				t.Errorf("%s: waits for the expiry time but is not tagged @slow", where)
			}
			if slices.Contains(tags, "@fragile") {
				fragile++
			}
		}
		if fragile != 0 && fragile != len(ft.Pickles) {
			t.Errorf("%s: %d of %d scenarios are @fragile; a file is all @fragile or none, as the suite runs @fragile files last", ft.Uri, fragile, len(ft.Pickles))
		}
	}
	t.Logf("%d feature files, %d scenarios", len(feats), scenarios)
}
