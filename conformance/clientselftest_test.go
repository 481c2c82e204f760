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

	"github.com/chatspec/chatspec/clientsteps"
	"github.com/chatspec/chatspec/engine"
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
var clientSelfTiming = clientsteps.Config{Heartbeat: localClientHeartbeat, Wait: selfTestWait, Start: selfTestWait}

// gradedClient is one client graded.
type gradedClient struct {
	rep  *report.Report
	text bytes.Buffer
}

// gradeClients grades every client of ms with every rule, the heartbeat
// rules included (they run first, side by side), at most clientGradings
// at a time.
func gradeClients(t *testing.T, bin string, ms []faultclient.Mutant) []gradedClient {
	t.Helper()
	out := make([]gradedClient, len(ms))
	var wg sync.WaitGroup
	slots := make(chan struct{}, clientGradings)
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			cfg := clientSelfTiming
			cfg.Command = m.Command(bin, cfg.Heartbeat)
			cfg.Profile.Quit = m.Quit
			rep, err := GradeClient(context.Background(), cfg, engine.Options{Concurrency: m.Concurrency})
			if err != nil {
				t.Errorf("%s: %v", m.Name, err)
				return
			}
			out[i].rep = rep // each goroutine writes its own element
			_ = report.WriteText(&out[i].text, rep)
		}()
	}
	wg.Wait()
	return out
}

// TestClientCatalogue grades every client of the catalogue and checks
// that the suite fails it on exactly the rules of its table, leaves
// exactly the rules of its Skips not graded, and passes every other rule
// it grades; a legal variation must get PASS.
func TestClientCatalogue(t *testing.T) {
	skipWhenGrading(t)
	t.Parallel()
	ms := faultclient.Catalogue()
	if *clientMutants != "" {
		re, err := regexp.Compile(*clientMutants)
		if err != nil {
			t.Fatalf("-client-mutants: %v", err)
		}
		ms = slices.DeleteFunc(ms, func(m faultclient.Mutant) bool { return !re.MatchString(m.Name) })
	}
	bin := buildCommand(t, "github.com/chatspec/chatspec/internal/faultclient/cmd/faultclient")
	graded := gradeClients(t, bin, ms)
	rules := make(map[string]bool) // every rule ID graded
	for i, g := range graded {
		m := ms[i]
		if g.rep == nil {
			continue
		}
		for _, ru := range g.rep.Rules() {
			rules[ru.ID] = true
		}
		t.Run(m.Name, func(t *testing.T) {
			t.Logf("graded in %s", g.rep.Elapsed.Round(time.Millisecond))
			checkClientTable(t, m, g.rep)
			if t.Failed() || *clientMutants != "" {
				t.Logf("report:\n%s", g.text.String())
			}
		})
	}
	if *clientMutants != "" {
		return
	}
	// The tables name real rules, and every rule is failed by some client.
	names := make(map[string]bool)
	failed := make(map[string]bool)
	for _, m := range ms {
		if names[m.Name] {
			t.Errorf("two clients of the catalogue are named %s", m.Name)
		}
		names[m.Name] = true
		for _, id := range m.Rules() {
			if !rules[id] {
				t.Errorf("%s names rule %q, which no client feature has", m.Name, id)
			}
		}
		for _, id := range m.Fails {
			failed[id] = true
		}
	}
	for id := range rules {
		if !failed[id] {
			t.Errorf("no client of the catalogue fails rule %s: nothing proves it can fail", id)
		}
	}
}

// checkClientTable compares every rule graded in rep with m's table.
func checkClientTable(t *testing.T, m faultclient.Mutant, rep *report.Report) {
	t.Helper()
	if rep.CannotGrade != nil {
		t.Errorf("%s: cannot grade: %s", m.Name, rep.CannotGrade.What)
	}
	if m.Legal && rep.Verdict() != report.Pass {
		t.Errorf("%s is a legal variation (%s): verdict %s, want PASS", m.Name, m.Does, rep.Verdict())
	}
	for _, ru := range rep.Rules() {
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
