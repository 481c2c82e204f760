// Package engine runs a conformance suite: Gherkin features, through
// godog, against a target (a server, a client), one scenario at a time or
// several side by side, and returns a [report.Report]. It writes no text
// of its own beyond progress lines; the report package renders.
//
// The engine knows nothing of the chat protocol. A [Target] brings it:
// it prepares (probes what it grades), sets up each scenario's steps and
// state (a [World]), and says whether what it grades is still alive. The
// engine brings the rest: selection (tags, paths, rule IDs), scheduling,
// outcomes, retries, the run's time budget and progress.
//
// # Scheduling
//
// Every scenario has a class, from its tags (see [Class]). The run starts
// with the @slow scenarios, side by side (Options.Concurrency at most) and
// with nothing else running; then the ordinary ones, Options.Concurrency
// at once; then the @isolated ones one at a time with nothing else
// running; then the scenarios to retry, alone; then the late failures
// to confirm (below), alone; then the @fragile ones, one at a time, each
// followed by a liveness check, and their own retries and late failures
// to confirm.
//
// # Outcomes
//
// A step that returns nil passed. A *[Failure] fails the scenario, unless
// the step is a precondition (a Given step): the scenario is then not
// graded, needing the rule the Failure names. A *[NotGraded] makes it not
// graded wherever it happens. An *[Inconclusive] has it run again, alone
// (Options.Retries times), then not graded. Any other error is the
// suite's own ([SuiteError]): the scenario is not graded, and Run returns
// the error beside the report.
//
// A Failure that is Late (what should have arrived did not, in time, and
// the connection stayed open) looks the same as a target that is only
// slow: a busy machine, eight scenarios at once. So it counts only once
// confirmed: the scenario runs again, with no ordinary scenario beside it
// and [Scenario.Patience] at [ConfirmPatience], and that run's outcome is
// the scenario's. A late
// failure in a precondition is confirmed the same way before the
// scenario is left not graded.
//
// After a scenario fails, and after every fragile one, the engine asks the
// target whether it is alive. A dead target ends the run: what was
// running when it died and everything after is not graded, and the report
// says in which scenario it stopped answering.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/report"
)

// Suite is what the engine runs: features, and the target they grade.
type Suite struct {
	// Name is the kind of thing graded, for the report: "server", "client".
	Name string
	// Features holds the *.feature files.
	Features fs.FS
	// Order lists feature files in the order the report shows them; files
	// it does not list come after, by name.
	Order []string
	// Target drives what is graded.
	Target Target
}

// Target is what a suite grades, and the steps that grade it.
type Target interface {
	// Describe names what is graded: an address, a command.
	Describe() string
	// Prepare runs once, before any scenario. It may add to the report's
	// profile; it returns a *report.Problem when nothing can be graded.
	Prepare(ctx context.Context, run *State) error
	// Skip reports, for a scenario's tags, why the scenario does not
	// apply to this target ("" if it does): a line-framing rule against a
	// writeUTF server, say. A skipped scenario is left out of the report.
	Skip(tags []string) string
	// Start sets up one scenario: it registers the scenario's steps on sc
	// and returns its state, which the engine ends after the last step.
	Start(sc *godog.ScenarioContext, s *Scenario) World
	// Alive reports whether the target still works: nil if it does.
	Alive(ctx context.Context) error
	// Finish adds to the report what the run taught about the target: its
	// profile and findings. It runs once, after every scenario.
	Finish(rep *report.Report)
}

// World is the state of one scenario, as its Target built it.
type World interface {
	// End runs after the scenario's last step: it closes the scenario's
	// connections and sets apart, in the transcript, what other scenarios
	// caused.
	End()
}

// Options configures a run. The zero value runs every scenario, eight at
// a time.
type Options struct {
	// Concurrency is the most scenarios that run at once. Zero means
	// DefaultConcurrency.
	Concurrency int
	// Strict makes SHOULD failures fail the run.
	Strict bool
	// Tags selects scenarios with a godog tag expression ("@must",
	// "~@slow", "@a&&@b", "@a,@b"); "" selects all.
	Tags string
	// Paths selects feature files, or scenarios as "file.feature:LINE";
	// empty selects all.
	Paths []string
	// Rules selects scenarios by rule ID; empty selects all.
	Rules []string
	// Retries is how often an Inconclusive scenario runs again. Zero means
	// 2; negative means never.
	Retries int
	// Settings are recorded in the report as given.
	Settings []report.Setting
	// Progress receives progress lines during the run; nil discards them.
	Progress io.Writer
	// Live makes progress one line rewritten in place (Progress is a
	// terminal); otherwise a line is written every ProgressEvery.
	Live bool
	// ProgressEvery is how often a plain progress line is written while
	// something is waited for. Zero means 10s.
	ProgressEvery time.Duration
	// Godog holds godog's own output options (Format and Output), for
	// step-by-step output of each scenario; nil prints none.
	Godog *godog.Options
	// Revive, if set, is called when the target stops working: if it
	// brings the target back (a grader restarts a crashed server) and
	// returns nil, the run goes on, the scenario that killed it failed
	// and the death recorded in the report's findings; otherwise the run
	// stops as it would without Revive.
	Revive func(ctx context.Context) error
}

// DefaultConcurrency is Options.Concurrency when zero.
const DefaultConcurrency = 8

// ConfirmPatience is Scenario.Patience when a scenario runs again to
// confirm a late failure: a target that was only slow among other
// scenarios answers within four times the wait.
const ConfirmPatience = 4

// Run grades suite.Target with every selected scenario. It returns an
// error only when the suite itself cannot run (features it cannot use, a
// step that does not exist); whatever the target does wrong, being
// unreachable included, is in the report.
func Run(ctx context.Context, suite Suite, opts Options) (*report.Report, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	switch {
	case opts.Retries == 0:
		opts.Retries = 2
	case opts.Retries < 0:
		opts.Retries = 0
	}
	pickles, err := plan(suite, &opts)
	if err != nil {
		return nil, err
	}
	r := &runner{
		suite: suite,
		opts:  opts,
		start: time.Now(),
		run:   &State{},
	}
	r.run.r = r
	r.rep = &report.Report{
		Suite:       suite.Name,
		Target:      suite.Target.Describe(),
		Settings:    opts.Settings,
		Strict:      opts.Strict,
		Concurrency: opts.Concurrency,
		Started:     r.start.Round(0),
	}
	r.pickles = pickles
	if len(r.pickles) == 0 {
		r.rep.CannotGrade = &report.Problem{
			What: "No scenario was selected, so nothing was graded.",
			Hint: "Check the tag expression, -rule and -godog.paths. godog's tag syntax is @a, ~@a (not), @a&&@b (and), @a,@b (or); \"not @a\" selects nothing.",
		}
		r.rep.Elapsed = time.Since(r.start)
		return r.rep, nil
	}
	r.results = make(map[*pickle]*result, len(r.pickles))
	r.confirm = make(map[*pickle]bool)
	r.progress = newProgress(opts.Progress, opts.Live, opts.ProgressEvery, r.start, r.counts)
	defer r.progress.stop()

	if err := suite.Target.Prepare(ctx, r.run); err != nil {
		var prob *report.Problem
		if !errors.As(err, &prob) {
			return nil, fmt.Errorf("engine: prepare: %w", err)
		}
		r.rep.CannotGrade = prob
		r.finish()
		return r.rep, nil
	}
	// What applies may depend on what Prepare learned (the framing).
	// Under mu: the progress goroutine counts them.
	r.mu.Lock()
	r.pickles = slices.DeleteFunc(r.pickles, func(p *pickle) bool { return suite.Target.Skip(p.res.Tags) != "" })
	r.mu.Unlock()
	r.progress.linef("grading %s: %d scenarios, at most %d at once", r.rep.Target, len(r.pickles), opts.Concurrency)
	r.schedule(ctx)
	r.finish()
	return r.rep, errors.Join(r.suiteErrs...)
}

// runner is one Run's state.
type runner struct {
	suite    Suite
	opts     Options
	start    time.Time
	rep      *report.Report
	run      *State
	pickles  []*pickle // selected and applicable, in file order; written under mu once Prepare has run (the progress goroutine reads its length under mu), read-only after
	progress *progress

	mu        sync.Mutex
	results   map[*pickle]*result // guarded by mu
	retry     []*pickle           // guarded by mu: inconclusive, to run again
	late      []*pickle           // guarded by mu: late failures to confirm
	confirm   map[*pickle]bool    // guarded by mu: scenarios running again to confirm a late failure
	suiteErrs []error             // guarded by mu
	dead      *report.Problem     // guarded by mu: the target stopped working
	revived   []report.Problem    // guarded by mu: deaths that Options.Revive undid
	aliveAt   time.Duration       // guarded by mu: when the target was last seen working
	checkMu   sync.Mutex          // serialises liveness checks

	exclusive sync.RWMutex // isolated scenarios hold it for writing, the rest for reading
}

// result is one scenario's outcome, and when it was decided.
type result struct {
	res report.Scenario
	at  time.Duration // when the outcome was decided, from the run's start
}

// State is what a Target sees of the run in progress. Its methods are
// safe for concurrent use.
type State struct {
	r *runner
}

// AddFact adds a fact to the report's profile.
func (run *State) AddFact(f report.Fact) {
	run.r.mu.Lock()
	defer run.r.mu.Unlock()
	run.r.rep.Profile = append(run.r.rep.Profile, f)
}

// Since returns the offset of now from the run's start.
func (run *State) Since() time.Duration { return time.Since(run.r.start) }

// Alive records that the target just did something only a working target
// does (it answered a JOIN): the liveness mark the engine blames failures
// after.
func (run *State) Alive() {
	run.r.mu.Lock()
	defer run.r.mu.Unlock()
	run.r.aliveAt = time.Since(run.r.start)
}

// counts says how many scenarios have a result, of how many.
func (r *runner) counts() (done, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.results), len(r.pickles)
}

// schedule runs every pickle in its phase.
func (r *runner) schedule(ctx context.Context) {
	var slow, ordinary, isolated, fragile []*pickle
	for _, p := range r.pickles {
		switch p.class {
		case Slow:
			slow = append(slow, p)
		case Isolated:
			isolated = append(isolated, p)
		case Fragile:
			fragile = append(fragile, p)
		default:
			ordinary = append(ordinary, p)
		}
	}
	// The slow scenarios run first, side by side and with nothing else:
	// the broadcasts their timing rules wait for are judged by the event
	// that caused them, which other scenarios' comings and goings would
	// blur.
	r.pool(ctx, slow, r.opts.Concurrency)
	r.pool(ctx, ordinary, r.opts.Concurrency)
	r.pool(ctx, isolated, 1)
	r.retryInconclusive(ctx)
	r.confirmLate(ctx)
	r.pool(ctx, fragile, 1)
	r.retryInconclusive(ctx)
	r.confirmLate(ctx)
}

// retryInconclusive runs the inconclusive scenarios again, alone, until
// none is left to retry: record queues one only while it has attempts
// left (Options.Retries).
func (r *runner) retryInconclusive(ctx context.Context) {
	for {
		again := r.take(&r.retry)
		if len(again) == 0 {
			return
		}
		r.progress.linef("running %d scenario(s) again, alone: other clients' changes spoiled their evidence", len(again))
		r.pool(ctx, again, 1)
	}
}

// take empties a queue of scenarios guarded by mu, and returns what it
// held.
func (r *runner) take(q *[]*pickle) []*pickle {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps := *q
	*q = nil
	return ps
}

// confirmLate runs the late failures so far again, patient, with no
// other scenario beside them: side by side where their class allows
// (a correct but slow target has few of them, so they load it little;
// a broken one has many, and they would fail alike one by one), the
// isolated and fragile ones one at a time.
func (r *runner) confirmLate(ctx context.Context) {
	again := r.take(&r.late)
	if len(again) == 0 {
		return
	}
	r.progress.linef("running %d scenario(s) again, with longer waits and nothing else beside them: what they waited for did not arrive in time", len(again))
	var side, alone []*pickle
	for _, p := range again {
		if p.class == Isolated || p.class == Fragile {
			alone = append(alone, p)
		} else {
			side = append(side, p)
		}
	}
	r.pool(ctx, side, r.opts.Concurrency)
	r.pool(ctx, alone, 1)
}

// pool runs ps, conc at a time, in order.
func (r *runner) pool(ctx context.Context, ps []*pickle, conc int) {
	if len(ps) == 0 {
		return
	}
	conc = max(1, conc)
	next := make(chan *pickle)
	var wg sync.WaitGroup
	for range min(conc, len(ps)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				r.runOne(ctx, p)
			}
		}()
	}
	for _, p := range ps {
		next <- p
	}
	close(next)
	wg.Wait()
}

// runOne runs one pickle, records its result, and checks the target's
// liveness after a failure or a fragile scenario.
func (r *runner) runOne(ctx context.Context, p *pickle) {
	r.mu.Lock()
	_, again := r.results[p]
	confirming := r.confirm[p]
	r.mu.Unlock()
	// A confirming run has only other confirming runs beside it (their
	// phase), and those only if neither is isolated.
	if p.class == Isolated || again && !confirming {
		r.exclusive.Lock()
		defer r.exclusive.Unlock()
	} else {
		r.exclusive.RLock()
		defer r.exclusive.RUnlock()
	}
	res := p.res
	r.mu.Lock()
	dead := r.dead
	if prev, ok := r.results[p]; ok {
		res.Retried, res.Late = prev.res.Retried, prev.res.Late
		if confirming {
			res.Late = true
		} else {
			res.Retried++
		}
	}
	r.mu.Unlock()
	if confirming && dead != nil {
		return // a dead target confirms nothing: the first run's outcome stands
	}
	next := final
	switch {
	case dead != nil:
		res.Outcome, res.Reason, res.Cause = report.NotGraded, "the target had stopped working: "+dead.What, CauseStopped
	case ctx.Err() != nil:
		res.Outcome, res.Reason = report.NotGraded, "the run's time ran out before this scenario"
	default:
		next = r.execute(ctx, p, &res, confirming)
	}
	r.record(p, res, next)
	if dead == nil && ctx.Err() == nil && (p.class == Fragile || res.Outcome == report.Failed || res.Outcome == report.Warned) {
		r.checkAlive(ctx, p, p.class == Fragile || p.class == Isolated || r.opts.Concurrency == 1)
	}
}

// next says what a scenario's run leaves to do.
type next int

const (
	final        next = iota // the outcome stands
	late                     // a late Failure: confirm it (see confirmLate)
	inconclusive             // an Inconclusive: run it again, alone, while attempts are left
)

// record stores a scenario's result (replacing an earlier attempt's) and
// queues an inconclusive one to run again, and a late failure to confirm.
// An inconclusive scenario with no attempt left is not graded.
func (r *runner) record(p *pickle, res report.Scenario, n next) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case n == late && !r.confirm[p]:
		r.confirm[p] = true
		r.late = append(r.late, p)
	case n == inconclusive && res.Retried < r.opts.Retries:
		r.retry = append(r.retry, p)
	case n == inconclusive:
		res.Reason = "other clients' changes spoiled the evidence in every attempt (" + res.Reason + ")"
	}
	r.results[p] = &result{res: res, at: time.Since(r.start)}
}

// checkAlive asks the target whether it still works, after p. A dead
// target stops the run: whatever failed since it was last seen working is
// re-marked not graded, and p, if it ran alone (so that it killed the
// target), fails.
func (r *runner) checkAlive(ctx context.Context, p *pickle, alone bool) {
	r.checkMu.Lock()
	defer r.checkMu.Unlock()
	r.mu.Lock()
	dead := r.dead
	r.mu.Unlock()
	if dead != nil {
		return
	}
	err := r.suite.Target.Alive(ctx)
	now := time.Since(r.start)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.aliveAt = now
		return
	}
	if ctx.Err() != nil {
		return
	}
	death := &report.Problem{
		What:   fmt.Sprintf("it stopped answering during or just after %q (%v)", p.res.Name, err),
		Hint:   "Look at the server's output for an exception at that moment. Every scenario from then on is not graded, not failed.",
		During: p.res.Name,
		At:     now,
	}
	// What p waited for in vain was the target dying, not being slow.
	r.late = slices.DeleteFunc(r.late, func(q *pickle) bool { return q == p })
	if r.opts.Revive != nil {
		r.mu.Unlock()
		rerr := r.opts.Revive(ctx)
		r.mu.Lock()
		if rerr == nil {
			death.Hint = "It was restarted, and the run went on."
			r.revived = append(r.revived, *death)
			if res, ok := r.results[p]; ok && alone && res.res.Outcome == report.Passed {
				res.res.Outcome = report.Failed
				res.res.Expected = "the target still works after this scenario"
				res.res.Actual = "it stopped answering right after it (" + err.Error() + "), and was restarted"
				res.res.Step = "(the check after the scenario)"
			}
			r.aliveAt = time.Since(r.start)
			r.progress.linef("the target stopped answering after %q and was restarted", p.res.Name)
			return
		}
		death.Hint += " Restarting it failed: " + rerr.Error()
	}
	r.dead = death
	for q, res := range r.results {
		switch {
		case q == p && alone && res.res.Outcome == report.Passed:
			res.res.Outcome = report.Failed
			res.res.Expected = "the target still works after this scenario"
			res.res.Actual = "it stopped answering right after it: " + err.Error()
			res.res.Step = "(the check after the scenario)"
		case q != p && (res.res.Outcome == report.Failed || res.res.Outcome == report.Warned) && res.at > r.aliveAt:
			res.res.Outcome, res.res.Reason, res.res.Cause = report.NotGraded, "the target stopped working while it ran", CauseStopped
			res.res.Needs = ""
		}
	}
	r.progress.linef("the target stopped answering after %q: the remaining scenarios are not graded", p.res.Name)
}

// finish fills the report: results in file order, the stop, the target's
// profile and findings, the elapsed time.
func (r *runner) finish() {
	r.mu.Lock()
	for _, p := range r.pickles {
		if res, ok := r.results[p]; ok {
			r.rep.Scenarios = append(r.rep.Scenarios, res.res)
			continue
		}
		res := p.res
		res.Outcome = report.NotGraded
		res.Reason = "not run"
		if r.rep.CannotGrade != nil {
			res.Reason = "nothing could be graded"
		}
		r.rep.Scenarios = append(r.rep.Scenarios, res)
	}
	r.rep.Stopped = r.dead
	for _, d := range r.revived {
		r.rep.Findings = append(r.rep.Findings, report.Finding{Title: "The target was restarted: " + d.What, Detail: d.Hint, Failed: 1})
	}
	r.mu.Unlock()
	for i := range r.rep.Scenarios {
		s := &r.rep.Scenarios[i]
		if s.Outcome == report.Failed && s.Level == report.Should && !r.opts.Strict {
			s.Outcome = report.Warned
		}
		if s.Outcome == report.Passed {
			s.Transcript = nil
		}
	}
	var slow []string
	for _, s := range r.rep.Scenarios {
		if s.Late && s.Outcome == report.Passed && !slices.Contains(slow, s.RuleID) {
			slow = append(slow, s.RuleID)
		}
	}
	if len(slow) > 0 {
		r.rep.Profile = append(r.rep.Profile, report.Fact{
			Name:   "speed",
			Value:  "slow among other scenarios",
			Detail: "What some scenarios waited for did not arrive in time while others ran; alone, with longer waits, they passed. Not a failure: the server, or the machine, is slow under load. Rules: " + strings.Join(slow, ", "),
		})
	}
	r.suite.Target.Finish(r.rep)
	r.rep.Elapsed = time.Since(r.start)
}

// Scenario is what a Target's steps see of the scenario they run in.
type Scenario struct {
	// Result is the static part of the scenario's result: rule ID, names,
	// level, tags.
	Result report.Scenario
	// Class is how the engine schedules it.
	Class Class
	// Transcript records the scenario's connections.
	Transcript *peer.Transcript
	// Attempt counts from 0; above 0, the scenario runs again, alone.
	Attempt int
	// Patience multiplies how long the steps wait for what should arrive:
	// 1, or ConfirmPatience when the scenario runs again to confirm a late
	// failure.
	Patience int

	run *State
	ctx context.Context
}

// Context returns the scenario's context: it ends when the run does.
func (s *Scenario) Context() context.Context { return s.ctx }

// State returns the run the scenario belongs to.
func (s *Scenario) State() *State { return s.run }

// Waiting announces a wait of up to total for what ("the server to drop
// a silent client"), for progress lines; call the returned func when the
// wait ends.
func (s *Scenario) Waiting(what string, total time.Duration) (done func()) {
	return s.run.r.progress.wait(s.Result.Name, what, total)
}

// execute runs one pickle through godog and fills res; it reports what
// the outcome leaves to do (see judge). A confirming run is patient.
func (r *runner) execute(ctx context.Context, p *pickle, res *report.Scenario, confirming bool) next {
	start := time.Now()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &Scenario{
		Result:     p.res,
		Class:      p.class,
		Transcript: peer.NewTranscript(start),
		Attempt:    res.Retried,
		Patience:   1,
		run:        r.run,
		ctx:        sctx,
	}
	if confirming {
		s.Attempt++
		s.Patience = ConfirmPatience
	}
	// godog runs the rows of an outline one after another on this
	// goroutine; only the row p stands for is active, the others skip.
	var (
		world    World
		active   bool
		stepErr  error
		stepText string
		stepType string
	)
	init := func(sc *godog.ScenarioContext) {
		sc.Before(func(ctx context.Context, gs *godog.Scenario) (context.Context, error) {
			active = gs.Location != nil && int(gs.Location.Line) == p.rowLn && world == nil
			if !active {
				return ctx, godog.ErrSkip
			}
			world = r.suite.Target.Start(sc, s)
			return ctx, nil
		})
		sc.StepContext().After(func(ctx context.Context, st *godog.Step, _ godog.StepResultStatus, err error) (context.Context, error) {
			if active && err != nil && stepErr == nil {
				stepErr, stepText, stepType = err, st.Text, string(st.Type)
			}
			return ctx, err
		})
	}
	// The steps are registered by Start, in the Before hook: godog looks
	// them up when each step runs.
	gopts := godog.Options{
		Strict:         true,
		Paths:          []string{fmt.Sprintf("%s:%d", p.file, p.scLn)},
		FS:             r.suite.Features,
		Concurrency:    1,
		DefaultContext: sctx,
		Format:         "progress",
		Output:         io.Discard,
	}
	var out *strings.Builder
	if g := r.opts.Godog; g != nil && g.Format != "" && g.Output != nil {
		out = &strings.Builder{}
		gopts.Format, gopts.Output, gopts.NoColors = g.Format, out, g.NoColors
	}
	godog.TestSuite{Name: r.suite.Name, ScenarioInitializer: init, Options: &gopts}.Run()
	if world != nil {
		world.End()
	}
	if out != nil {
		r.mu.Lock()
		io.WriteString(r.opts.Godog.Output, out.String())
		r.mu.Unlock()
	}
	res.Elapsed = time.Since(start)
	res.Step = stepText
	n := r.judge(p, res, world, stepErr, stepType)
	// A scenario run alone may yet fail for killing the target (see
	// checkAlive): it keeps its transcript until finish knows.
	if res.Outcome != report.Passed || p.class == Fragile || p.class == Isolated || r.opts.Concurrency == 1 {
		entries, apart, dropped := s.Transcript.Entries()
		res.Transcript, res.Apart = entries, apart
		if dropped > 0 {
			res.Transcript = append(res.Transcript, report.Entry{At: res.Elapsed, Conn: "suite", Dir: report.Event, Note: fmt.Sprintf("%d more entries were not kept", dropped)})
		}
	} else {
		res.Apart = s.Transcript.Apart()
	}
	return n
}

// judge turns the first failing step's error into the scenario's
// outcome, and reports what it leaves to do: a late Failure to confirm,
// an Inconclusive to run again.
func (r *runner) judge(p *pickle, res *report.Scenario, world World, err error, stepType string) next {
	precondition := stepType == "Context"
	switch {
	case world == nil && err == nil:
		res.Outcome, res.Reason = report.NotGraded, "the scenario did not start"
	case err == nil:
		res.Outcome = report.Passed
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		res.Outcome, res.Reason = report.NotGraded, "the run's time ran out during this scenario"
	default:
		if inc, ok := asInconclusive(err); ok {
			res.Outcome, res.Reason = report.NotGraded, inc.Reason
			return inconclusive
		}
		if ng, ok := asNotGraded(err); ok {
			res.Outcome, res.Reason, res.Needs, res.Cause = report.NotGraded, ng.Reason, ng.Needs, ng.Cause
			return final
		}
		if f, ok := asFailure(err); ok {
			if precondition {
				res.Outcome, res.Needs, res.Cause = report.NotGraded, f.Needs, f.Cause
				res.Reason = fmt.Sprintf("a precondition failed: expected %s; actual: %s", f.Expected, f.Actual)
				return lateIf(f.Late)
			}
			res.Outcome, res.Expected, res.Actual, res.Cause = report.Failed, f.Expected, f.Actual, f.Cause
			return lateIf(f.Late)
		}
		res.Outcome, res.Reason = report.NotGraded, "the suite failed: "+err.Error()
		r.mu.Lock()
		r.suiteErrs = append(r.suiteErrs, &SuiteError{Scenario: p.res.Name, Err: err})
		r.mu.Unlock()
	}
	return final
}

// lateIf is late for a late Failure, final otherwise.
func lateIf(isLate bool) next {
	if isLate {
		return late
	}
	return final
}
