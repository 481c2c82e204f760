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

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/features"
	"github.com/chatspec/chatspec/internal/faultproxy"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/report"
	"github.com/chatspec/chatspec/steps"
)

// The project's own test of the suite: every server of the catalogue of
// internal/faultproxy is graded, and the outcome of every rule must be
// exactly what the catalogue says: its Fails fail, its Skips are not
// graded, every other rule graded passes.

var mutantPattern = flag.String("mutants", "", "grade only the catalogue's servers whose names match this `regexp`, and show their reports")

// timing is the reference server's heartbeat timeout and the suite's
// timings for one pass of the self-test.
type timing struct {
	timeout                        time.Duration
	heartbeat, expiry, wait, quiet time.Duration
}

// The passes: every scenario is in exactly one. These run many suites at
// once on a machine that may be busy with other tests (and the race
// detector), so they leave room for scheduling delays: a fast pass with a
// server that drops nobody while a scenario runs, and a slow pass with a
// heartbeat timeout well above the clients' IMAV interval.
var (
	fastPass  = pass{tags: "~@slow&&~@heavy", tm: timing{timeout: 30 * time.Second, heartbeat: time.Second, expiry: time.Minute, wait: selfTestWait, quiet: 300 * time.Millisecond}}
	slowPass  = pass{tags: "@slow", tm: timing{timeout: 2 * time.Second, heartbeat: 250 * time.Millisecond, expiry: 4 * time.Second, wait: selfTestWait, quiet: 300 * time.Millisecond}}
	heavyPass = pass{tags: "@heavy", tm: fastPass.tm}
)

type pass struct {
	tags string
	tm   timing
}

// rulesIndex reads the features once: every rule ID with the tags of its
// scenarios.
func rulesIndex(t testing.TB) map[string][]string {
	t.Helper()
	opts := godog.Options{FS: features.FS, Paths: []string{"."}}
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

// passesFor returns the passes that grade the rules m names: always the
// fast one; the slow and heavy ones where m's table names a rule of
// theirs; the slow one for a legal variation, the heavy one where it asks.
func passesFor(m faultproxy.Mutant, rules map[string][]string) []pass {
	ps := []pass{fastPass}
	need := func(tag string) bool {
		return slices.ContainsFunc(slices.Concat(m.Fails, m.Skips, m.Maybe), func(id string) bool { return slices.Contains(rules[id], tag) })
	}
	if m.Legal || need("@slow") {
		ps = append(ps, slowPass)
	}
	if m.Heavy || need("@heavy") {
		ps = append(ps, heavyPass)
	}
	return ps
}

// grade runs the suite against a fresh m in framing f with one pass's
// tags and timings, and returns the report and its text.
func grade(t testing.TB, m faultproxy.Mutant, f protocol.Framing, p pass) (*report.Report, string) {
	t.Helper()
	srv, err := m.Start(f, p.tm.timeout)
	if err != nil {
		t.Fatalf("%s: %v", m.Name, err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("%s: close: %v", m.Name, err)
		}
	})
	cfg := steps.Config{
		Addrs:     []string{srv.Addr()},
		Detect:    true,
		Heartbeat: p.tm.heartbeat,
		Expiry:    p.tm.expiry,
		Wait:      p.tm.wait,
		Quiet:     p.tm.quiet,
	}
	if m.BareJoin {
		cfg.Join = steps.JoinBare
	}
	opts := engine.Options{Tags: p.tags, Concurrency: m.Concurrency}
	rep, err := engine.Run(context.Background(), ServerSuite(cfg), opts)
	if err != nil {
		t.Fatalf("%s: %v", m.Name, err)
	}
	var out bytes.Buffer
	_ = report.WriteText(&out, rep)
	return rep, out.String()
}

// graded is one server graded in all its passes.
type graded struct {
	m    faultproxy.Mutant
	reps []*report.Report
	text string
	took time.Duration // the time its gradings took, in all
}

// merged returns the scenarios of all passes in one report.
func (g graded) merged() *report.Report {
	rep := &report.Report{}
	for _, r := range g.reps {
		rep.Scenarios = append(rep.Scenarios, r.Scenarios...)
	}
	return rep
}

// gradeAll grades every server in every pass it needs, maxGradings at a
// time.
func gradeAll(t *testing.T, ms []faultproxy.Mutant, f protocol.Framing, rules map[string][]string) []graded {
	t.Helper()
	out := make([]graded, len(ms))
	var wg sync.WaitGroup
	var mu sync.Mutex
	slots := make(chan struct{}, maxGradings)
	for i, m := range ms {
		out[i].m = m
		for _, p := range passesFor(m, rules) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				slots <- struct{}{}
				defer func() { <-slots }()
				start := time.Now()
				rep, text := grade(t, m, f, p)
				took := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				out[i].took += took
				out[i].reps = append(out[i].reps, rep)
				out[i].text += text
			}()
		}
	}
	wg.Wait()
	return out
}

// catalogued returns the catalogue's servers of the given names, in order.
func catalogued(t testing.TB, names ...string) []faultproxy.Mutant {
	t.Helper()
	var out []faultproxy.Mutant
	for _, n := range names {
		i := slices.IndexFunc(faultproxy.Catalogue(), func(m faultproxy.Mutant) bool { return m.Name == n })
		if i < 0 {
			t.Fatalf("no server %q in the catalogue", n)
		}
		out = append(out, faultproxy.Catalogue()[i])
	}
	return out
}

// selected returns the catalogue, or the servers -mutants selects.
func selected(t *testing.T) []faultproxy.Mutant {
	ms := faultproxy.Catalogue()
	if *mutantPattern == "" {
		return ms
	}
	re, err := regexp.Compile(*mutantPattern)
	if err != nil {
		t.Fatalf("-mutants: %v", err)
	}
	return slices.DeleteFunc(ms, func(m faultproxy.Mutant) bool { return !re.MatchString(m.Name) })
}

// skipWhenGrading skips the project's own tests of the suite when -addr
// names a server to grade, or the client flags a client: a student
// grading a hand-in wants its report, not the suite's self-test.
func skipWhenGrading(t *testing.T) {
	t.Helper()
	switch {
	case serverFlags.Addr != "":
		t.Skip("grading the server at -addr; the suite's self-tests run without -addr")
	case clientFlags.Grading():
		t.Skip("grading a client; the suite's self-tests run without -client-cmd, -client-profile and -client-manual")
	}
}

// compare checks a graded server's rules against its table.
func compare(t *testing.T, g graded) {
	t.Helper()
	m := g.m
	if m.CannotGrade {
		for _, r := range g.reps {
			if r.CannotGrade == nil {
				t.Errorf("%s (%s): graded, want CANNOT GRADE", m.Name, m.Does)
			}
		}
		return
	}
	for _, ru := range g.merged().Rules() {
		want := report.Passed
		switch {
		case slices.Contains(m.Fails, ru.ID):
			want = report.Failed
		case slices.Contains(m.Skips, ru.ID), m.SkipRest:
			want = report.NotGraded
		}
		got := ru.Outcome()
		if got == report.Warned {
			got = report.Failed
		}
		if slices.Contains(m.Maybe, ru.ID) {
			continue
		}
		if got != want {
			t.Errorf("%s (%s): rule %s is %s, want %s", m.Name, m.Does, ru.ID, got, want)
		}
	}
	for _, r := range g.reps {
		if r.CannotGrade != nil {
			t.Errorf("%s: cannot grade: %s", m.Name, r.CannotGrade.What)
		}
		if m.Legal && r.Verdict() != report.Pass {
			t.Errorf("%s is a legal variation (%s): verdict %s, want PASS", m.Name, m.Does, r.Verdict())
		}
	}
}

// TestCatalogue grades every server of the catalogue and checks that the
// suite fails it on exactly the rules of its table, leaves exactly the
// rules of its Skips not graded, and passes every other rule it grades.
func TestCatalogue(t *testing.T) {
	skipWhenGrading(t)
	t.Parallel()
	rules := rulesIndex(t)
	for _, m := range faultproxy.Catalogue() {
		for _, id := range slices.Concat(m.Fails, m.Skips, m.Maybe) {
			if _, ok := rules[id]; !ok {
				t.Errorf("%s names rule %q, which no feature has", m.Name, id)
			}
		}
	}
	for _, g := range gradeAll(t, selected(t), protocol.FramingLine, rules) {
		t.Run(g.m.Name, func(t *testing.T) {
			t.Logf("%s graded in %s", g.m.Name, g.took.Round(time.Millisecond))
			compare(t, g)
			if t.Failed() || *mutantPattern != "" {
				t.Logf("report:\n%s", g.text)
			}
		})
	}
}

// TestCatalogueInUTFFraming grades a few servers of the catalogue in
// writeUTF framing, where every frame passes through the other codec.
func TestCatalogueInUTFFraming(t *testing.T) {
	skipWhenGrading(t)
	t.Parallel()
	rules := rulesIndex(t)
	ms := catalogued(t, "no-echo", "accept-long-text", "malformed-ignored", "count-bytes", "data-reformatted", "other-jer-codes")
	for _, g := range gradeAll(t, ms, protocol.FramingUTF, rules) {
		t.Run(g.m.Name, func(t *testing.T) {
			compare(t, g)
			if t.Failed() {
				t.Logf("report:\n%s", g.text)
			}
		})
	}
}

// TestNoisyServerIsGradedTheSameEveryTime grades a server that sends
// LISTs on every event but quits (so that other scenarios' joins bring
// LISTs without a quitter), ten times at once, and checks that every rule
// has the same outcome every time.
func TestNoisyServerIsGradedTheSameEveryTime(t *testing.T) {
	skipWhenGrading(t)
	t.Parallel()
	noisy := catalogued(t, "list-except-quits")[0]
	ms := make([]faultproxy.Mutant, 10)
	for i := range ms {
		ms[i] = noisy
	}
	var first map[string]report.Outcome
	for i, g := range gradeAll(t, ms, protocol.FramingLine, rulesIndex(t)) {
		got := make(map[string]report.Outcome)
		for _, ru := range g.merged().Rules() {
			got[ru.ID] = ru.Outcome()
		}
		if i == 0 {
			first = got
			continue
		}
		for id, o := range got {
			if first[id] != o {
				t.Errorf("run %d: rule %s is %s, but %s in run 1\n%s", i+1, id, o, first[id], g.text)
			}
		}
	}
	t.Logf("%s: %d rules, the same outcome in 10 runs", noisy.Name, len(first))
}
