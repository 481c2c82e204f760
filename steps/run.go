package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/protocol"
)

// Config says which server to grade and how. The durations must be set;
// the conformance package's flags fill them.
type Config struct {
	// Addr is the server's "host:port".
	Addr string
	// Framing is how the server frames messages: lines or writeUTF.
	Framing protocol.Framing
	// Heartbeat is how often every joined client sends IMAV.
	Heartbeat time.Duration
	// Expiry is how long the suite waits for a server to drop a silent
	// client, and how long it holds a heartbeating client before checking
	// that it is still there. Set it a little above the server's timeout.
	Expiry time.Duration
	// Wait bounds every wait for an expected reply.
	Wait time.Duration
	// Quiet is how long the suite listens before it concludes that nothing
	// arrives.
	Quiet time.Duration
	// Strict makes SHOULD-level failures fail the run.
	Strict bool
	// Features holds the *.feature files at its root.
	Features fs.FS
	// Godog holds godog's own options, from its flags: Tags, Format,
	// Concurrency, NoColors, Randomize. An empty Format prints no godog
	// output, only the report. Run sets the rest.
	Godog godog.Options
	// Output receives the report (and godog's output, for a Format without
	// a file). Nil discards it.
	Output io.Writer
}

// DefaultConcurrency is how many scenarios run at once when
// Config.Godog.Concurrency is zero.
const DefaultConcurrency = 8

// Tags with a meaning to the runner.
const (
	tagMust    = "@must"
	tagShould  = "@should"
	tagSlow    = "@slow"
	tagFragile = "@fragile"
	tagLines   = "@lines"
)

// Run grades the server at cfg.Addr with every selected scenario and
// writes the report to cfg.Output. It returns an error only when the suite
// itself cannot run (bad features, bad tags); what the server does wrong,
// including being unreachable, is in the Report.
//
// Scenarios run in two phases. First every scenario but the @fragile ones,
// cfg.Godog.Concurrency at a time, the files that hold @slow scenarios
// first, so that the timing rules wait side by side; then the @fragile
// ones, one at a time, because they may crash a fragile server.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Output == nil {
		cfg.Output = io.Discard
	}
	if cfg.Heartbeat <= 0 || cfg.Expiry <= 0 || cfg.Wait <= 0 || cfg.Quiet <= 0 {
		return nil, errors.New("steps: Heartbeat, Expiry, Wait and Quiet must be positive")
	}
	r := &runner{cfg: cfg, state: &runState{start: time.Now()}}
	if err := r.index(); err != nil {
		return nil, err
	}
	rep := &Report{Config: cfg, Start: r.state.start}
	if len(r.order) == 0 {
		rep.NoScenarios = true
		rep.Elapsed = time.Since(r.state.start)
		rep.Write(cfg.Output)
		return rep, nil
	}
	if err := probe(ctx, &r.cfg); err != nil {
		rep.Unreachable = err
		rep.Elapsed = time.Since(r.state.start)
		rep.Write(cfg.Output)
		return rep, nil
	}

	conc := cfg.Godog.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	conc = max(conc, r.slow+1)
	if ok := r.phase(ctx, "main", r.filter("~"+tagFragile), conc, r.mainPaths); !ok {
		return nil, errors.New("steps: godog could not run the features (see its message above)")
	}
	if len(r.fragilePaths) > 0 {
		if ok := r.phase(ctx, "fragile", r.filter(tagFragile), 1, r.fragilePaths); !ok {
			return nil, errors.New("steps: godog could not run the features (see its message above)")
		}
	}
	rep.Scenarios = r.results()
	rep.Stopped = r.state.stopped()
	rep.Elapsed = time.Since(r.state.start)
	rep.Write(cfg.Output)
	return rep, nil
}

// runner holds one Run's state.
type runner struct {
	cfg   Config
	state *runState

	// Set by index, read-only afterwards.
	info         map[string]*ScenarioResult // by scenarioKey: the static part of each result
	order        []string                   // scenario keys in file and line order
	slow         int                        // selected @slow scenarios
	mainPaths    []string                   // feature files, those with @slow scenarios first
	fragilePaths []string                   // feature files with @fragile scenarios
}

func scenarioKey(uri, name string) string { return uri + "\x00" + name }

// filter combines the user's tag expression with extra terms, in godog's
// syntax: "," is OR, "&&" is AND, "~" is NOT.
func (r *runner) filter(extra ...string) string {
	if r.cfg.Framing != protocol.FramingLine {
		extra = append(extra, "~"+tagLines)
	}
	add := strings.Join(extra, "&&")
	user := strings.TrimSpace(r.cfg.Godog.Tags)
	if user == "" {
		return add
	}
	if add == "" {
		return user
	}
	var ors []string
	for _, clause := range strings.Split(user, ",") {
		ors = append(ors, strings.TrimSpace(clause)+"&&"+add)
	}
	return strings.Join(ors, ",")
}

// index parses the features once, for the report's rule names and lines,
// and plans the phases.
func (r *runner) index() error {
	opts := godog.Options{FS: r.cfg.Features, Paths: []string{"."}, Tags: r.filter()}
	feats, err := godog.TestSuite{Options: &opts}.RetrieveFeatures()
	if err != nil {
		return fmt.Errorf("steps: read features: %w", err)
	}
	r.info = make(map[string]*ScenarioResult)
	type file struct {
		uri           string
		slow, fragile bool
	}
	var files []file
	for _, ft := range feats {
		f := file{uri: ft.Uri}
		for _, p := range ft.Pickles {
			sc := ft.FindScenario(p.AstNodeIds[0])
			res := &ScenarioResult{
				Feature:  ft.Feature.Name,
				Scenario: p.Name,
				File:     path.Join("features", ft.Uri),
			}
			if sc != nil {
				res.Line = int(sc.Location.Line)
			}
			if p.Location != nil {
				res.Line = int(p.Location.Line)
			}
			if ru := ft.FindRule(p.AstNodeIds[0]); ru != nil {
				res.Rule = ru.Name
			}
			for _, t := range p.Tags {
				res.Tags = append(res.Tags, t.Name)
			}
			res.Level = levelOf(res.Tags)
			if slices.Contains(res.Tags, tagSlow) && !slices.Contains(res.Tags, tagFragile) {
				r.slow++
				f.slow = true
			}
			if slices.Contains(res.Tags, tagFragile) {
				f.fragile = true
			}
			key := scenarioKey(ft.Uri, p.Name)
			if _, dup := r.info[key]; !dup {
				r.order = append(r.order, key)
			}
			r.info[key] = res
		}
		if len(ft.Pickles) > 0 {
			files = append(files, f)
		}
	}
	slices.SortStableFunc(files, func(a, b file) int {
		switch {
		case a.slow == b.slow:
			return 0
		case a.slow:
			return -1
		}
		return 1
	})
	for _, f := range files {
		r.mainPaths = append(r.mainPaths, f.uri)
		if f.fragile {
			r.fragilePaths = append(r.fragilePaths, f.uri)
		}
	}
	return nil
}

// levelOf returns "MUST", "SHOULD" or "" (no level tag, or both: a defect
// of the features that a test of the conformance package catches).
func levelOf(tags []string) string {
	must, should := slices.Contains(tags, tagMust), slices.Contains(tags, tagShould)
	switch {
	case must && !should:
		return "MUST"
	case should && !must:
		return "SHOULD"
	}
	return ""
}

// phase runs one godog suite over paths, filtered by tags. It reports
// whether godog could run at all.
func (r *runner) phase(ctx context.Context, name, tags string, concurrency int, paths []string) bool {
	opts := godog.Options{
		Strict:         true,
		Tags:           tags,
		Concurrency:    concurrency,
		Paths:          paths,
		FS:             r.cfg.Features,
		NoColors:       r.cfg.Godog.NoColors,
		Randomize:      r.cfg.Godog.Randomize,
		DefaultContext: ctx,
		Format:         r.cfg.Godog.Format,
		Output:         r.cfg.Output,
	}
	if opts.Format == "" {
		opts.Format, opts.Output = "progress", io.Discard
	} else if name != "main" {
		opts.Format = phaseFormat(opts.Format, name)
	}
	suite := godog.TestSuite{Name: "chatspec", ScenarioInitializer: r.initScenario, Options: &opts}
	return suite.Run() != 2
}

// phaseFormat gives a later phase's file formats files of their own, so
// that "junit:report.xml" leaves report.xml and report.fragile.xml.
func phaseFormat(format, phase string) string {
	parts := strings.Split(format, ",")
	for i, p := range parts {
		name, file, ok := strings.Cut(p, ":")
		if !ok {
			continue
		}
		ext := path.Ext(file)
		parts[i] = name + ":" + strings.TrimSuffix(file, ext) + "." + phase + ext
	}
	return strings.Join(parts, ",")
}

// initScenario sets up one scenario: its steps, its world, and the hooks
// that close its clients and record its result.
func (r *runner) initScenario(sc *godog.ScenarioContext) {
	register(sc)
	sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
		w := newWorld(&r.cfg, r.state, s.Name)
		return withWorld(ctx, w), nil
	})
	sc.StepContext().After(func(ctx context.Context, st *godog.Step, _ godog.StepResultStatus, err error) (context.Context, error) {
		if w := worldFrom(ctx); w != nil && err != nil && w.failedStep == "" {
			w.failedStep = st.Text
		}
		return ctx, err
	})
	sc.After(func(ctx context.Context, s *godog.Scenario, err error) (context.Context, error) {
		w := worldFrom(ctx)
		if w == nil {
			return ctx, err
		}
		w.closeAll()
		r.record(s, w, err)
		return ctx, err
	})
}

// record stores a finished scenario's result.
func (r *runner) record(s *godog.Scenario, w *world, err error) {
	key := scenarioKey(s.Uri, s.Name)
	base, ok := r.info[key]
	res := ScenarioResult{Scenario: s.Name, File: path.Join("features", s.Uri)}
	if ok {
		res = *base
	}
	res.Ran = true
	if err != nil {
		res.Err = err
		res.Step = w.failedStep
		res.Transcript = w.log.String()
	}
	r.state.mu.Lock()
	r.state.results = append(r.state.results, res)
	r.state.mu.Unlock()
}

// results returns every selected scenario's result in file and line
// order; a scenario that did not run (the run was cancelled) has Ran false.
func (r *runner) results() []ScenarioResult {
	r.state.mu.Lock()
	got := make(map[string]ScenarioResult, len(r.state.results))
	for _, res := range r.state.results {
		got[scenarioKey(strings.TrimPrefix(res.File, "features/"), res.Scenario)] = res
	}
	r.state.mu.Unlock()
	out := make([]ScenarioResult, 0, len(r.order))
	for _, key := range r.order {
		if res, ok := got[key]; ok {
			out = append(out, res)
			continue
		}
		out = append(out, *r.info[key])
	}
	return out
}

// runState is what the scenarios of one Run share: their results, and when
// the server accepted and refused connections. Its fields are guarded by
// mu; scenarios run on godog's goroutines.
type runState struct {
	start time.Time

	mu       sync.Mutex
	results  []ScenarioResult // guarded by mu
	lastOK   string           // guarded by mu: the last scenario to connect
	lastOKAt time.Duration    // guarded by mu
	refusals []refusal        // guarded by mu
}

type refusal struct {
	scenario string
	at       time.Duration
	err      error
	lastOK   string // the last scenario to connect before this refusal
}

func (s *runState) connected(scenario string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastOK, s.lastOKAt = scenario, time.Since(s.start)
}

func (s *runState) connectFailed(scenario string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals = append(s.refusals, refusal{scenario: scenario, at: time.Since(s.start), err: err, lastOK: s.lastOK})
}

// stopped reports when the server stopped accepting connections for good:
// the first refusal after the last successful connect, or nil.
func (s *runState) stopped() *Stopped {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rf := range s.refusals {
		if rf.at >= s.lastOKAt {
			return &Stopped{At: rf.at, After: rf.lastOK, During: rf.scenario, Err: rf.err}
		}
	}
	return nil
}
