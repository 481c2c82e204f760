package conformance

import (
	"bytes"
	"context"
	"flag"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/clientsteps"
	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/features"
	"github.com/chatspec/chatspec/internal/faultclient"
	"github.com/chatspec/chatspec/report"
)

// The project's own test of the client suite: every client of the
// catalogue of internal/faultclient is graded, and the outcome of every
// rule must be exactly what the catalogue says: its Fails fail, its Skips
// are not graded, every other rule graded passes.

var clientMutants = flag.String("client-mutants", "", "grade only the catalogue's clients whose names match this `regexp`, and show their reports")

// clientSelfTiming is the fault clients' IMAV interval, the interval the
// suite expects, and the suite's waits, for the self-test: short, with
// room for a machine busy with other tests (and the race detector).
var clientSelfTiming = clientsteps.Config{Heartbeat: localClientHeartbeat, Wait: selfTestWait}

// clientRules reads the client features once: every rule ID with the
// tags of its scenarios.
func clientRules(t testing.TB) map[string][]string {
	t.Helper()
	opts := godog.Options{FS: features.Client, Paths: []string{"."}}
	feats, err := godog.TestSuite{Options: &opts}.RetrieveFeatures()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]string)
	for _, ft := range feats {
		for _, p := range ft.Pickles {
			var tags []string
			for _, tg := range p.Tags {
				tags = append(tags, tg.Name)
			}
			id := engine.RuleID(tags)
			for _, tg := range tags {
				if !slices.Contains(out[id], tg) {
					out[id] = append(out[id], tg)
				}
			}
		}
	}
	return out
}

// clientPasses returns the tag expressions m is graded with: the
// heartbeat rules (which take two intervals) only where m's table names
// one, or m is a legal variation.
func clientPasses(m faultclient.Mutant, rules map[string][]string) []string {
	passes := []string{"~@slow"}
	if m.Legal || slices.ContainsFunc(m.Rules(), func(id string) bool { return slices.Contains(rules[id], "@slow") }) {
		passes = append(passes, "@slow")
	}
	return passes
}

// gradedClient is one client graded in all its passes.
type gradedClient struct {
	reps []*report.Report
	text bytes.Buffer
	took time.Duration
}

// gradeClients grades every client of ms in every pass it needs, at most
// clientGradings at a time.
func gradeClients(t *testing.T, bin string, ms []faultclient.Mutant, rules map[string][]string) []gradedClient {
	t.Helper()
	out := make([]gradedClient, len(ms))
	var mu sync.Mutex // guards out
	var wg sync.WaitGroup
	slots := make(chan struct{}, clientGradings)
	for i, m := range ms {
		for _, tags := range clientPasses(m, rules) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				slots <- struct{}{}
				defer func() { <-slots }()
				cfg := clientSelfTiming
				cfg.Command = m.Command(bin, cfg.Heartbeat)
				cfg.Profile.Quit = m.Quit
				rep, err := GradeClient(context.Background(), cfg, engine.Options{Tags: tags})
				if err != nil {
					t.Errorf("%s: %v", m.Name, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				out[i].reps = append(out[i].reps, rep)
				out[i].took += rep.Elapsed
				_ = report.WriteText(&out[i].text, rep)
			}()
		}
	}
	wg.Wait()
	return out
}

// TestClientCatalogue grades every client of the catalogue and checks
// that the suite fails it on exactly the rules of its table, leaves
// exactly the rules of its Skips not graded, and passes every other rule
// it grades; a legal variation must get PASS.
func TestClientCatalogue(t *testing.T) {
	if clientFlags.Grading() {
		t.Skip("grading the client of -client-cmd; the client suite's self-test runs without it")
	}
	t.Parallel()
	rules := clientRules(t)
	ms := faultclient.Catalogue()
	names := make(map[string]bool)
	covered := make(map[string]bool)
	for _, m := range ms {
		if names[m.Name] {
			t.Errorf("two clients of the catalogue are named %s", m.Name)
		}
		names[m.Name] = true
		for _, id := range m.Rules() {
			if _, ok := rules[id]; !ok {
				t.Errorf("%s names rule %q, which no client feature has", m.Name, id)
			}
		}
		for _, id := range m.Fails {
			covered[id] = true
		}
	}
	for id := range rules {
		if !covered[id] {
			t.Errorf("no client of the catalogue fails rule %s: nothing proves it can fail", id)
		}
	}
	if *clientMutants != "" {
		re, err := regexp.Compile(*clientMutants)
		if err != nil {
			t.Fatalf("-client-mutants: %v", err)
		}
		ms = slices.DeleteFunc(ms, func(m faultclient.Mutant) bool { return !re.MatchString(m.Name) })
	}
	bin := buildCommand(t, "github.com/chatspec/chatspec/internal/faultclient/cmd/faultclient")
	for i, g := range gradeClients(t, bin, ms, rules) {
		m := ms[i]
		t.Run(m.Name, func(t *testing.T) {
			t.Logf("graded in %s", g.took.Round(time.Millisecond))
			checkClientTable(t, m, g.reps)
			if t.Failed() || *clientMutants != "" {
				t.Logf("report:\n%s", g.text.String())
			}
		})
	}
}

// checkClientTable compares every rule graded in reps with m's table.
func checkClientTable(t *testing.T, m faultclient.Mutant, reps []*report.Report) {
	t.Helper()
	all := &report.Report{}
	for _, r := range reps {
		all.Scenarios = append(all.Scenarios, r.Scenarios...)
		if r.CannotGrade != nil {
			t.Errorf("%s: cannot grade: %s", m.Name, r.CannotGrade.What)
		}
		if m.Legal && r.Verdict() != report.Pass {
			t.Errorf("%s is a legal variation (%s): verdict %s, want PASS", m.Name, m.Does, r.Verdict())
		}
	}
	for _, ru := range all.Rules() {
		want := report.Passed
		if slices.Contains(m.Fails, ru.ID) {
			want = report.Failed
		} else if slices.Contains(m.Skips, ru.ID) {
			want = report.NotGraded
		}
		got := ru.Outcome()
		if got == report.Warned {
			got = report.Failed
		}
		if got != want {
			t.Errorf("%s (%s): rule %s is %s, want %s", m.Name, m.Does, ru.ID, got, want)
		}
	}
}
