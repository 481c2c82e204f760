// Package grade runs one grading of a chat server, or of a client, as a
// command line asks for it: the flags of go test ./conformance
// (conformance.ServerFlags or conformance.ClientFlags, and godog's own
// -godog.* flags), a -timeout that the run keeps inside, and the exit
// codes chatgrade gives a script. chatgrade server and chatgrade client
// use it directly; chatgrade class uses it for every student, with the
// roster's settings turned into the same flags.
package grade

import (
	"context"
	"errors"
	"flag"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/conformance"
	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/report"
	"github.com/chatspec/chatspec/steps"
)

// The exit codes of a grading, for scripts.
const (
	// ExitPass: the verdict is PASS.
	ExitPass = 0
	// ExitFail: a MUST rule failed (or, with -strict, any rule).
	ExitFail = 1
	// ExitCannotGrade: the server could not be graded (unreachable, no
	// answer, a framing the suite cannot read), or not completely
	// (INCOMPLETE: nothing failed, but some MUST rules could not be
	// graded), or the suite itself failed.
	ExitCannotGrade = 2
	// ExitUsage: the command line was wrong; nothing was graded.
	ExitUsage = 3
)

// DefaultTimeout is -timeout's default: well above what a run with the
// default timings may need (steps.Budget).
const DefaultTimeout = 30 * time.Minute

// reportMargin is kept free at the end of -timeout for writing the
// reports: the engine's run ends this much earlier.
const reportMargin = 15 * time.Second

// Flags is the command line of one grading. Register binds it to a flag
// set; after parsing, Plan checks it and turns it into a Plan.
type Flags struct {
	// Server is the suite's own flags, shared with go test ./conformance.
	Server conformance.ServerFlags
	// Godog is godog's options, bound as -godog.*: -godog.tags,
	// -godog.paths and -godog.concurrency select and schedule;
	// -godog.format adds godog's step-by-step output.
	Godog godog.Options
	// Timeout bounds the whole run, reports included.
	Timeout time.Duration
}

// Register binds every flag to fs, with its default.
func (f *Flags) Register(fs *flag.FlagSet) {
	f.Server.Register(fs)
	registerRun(fs, &f.Godog, &f.Timeout)
}

// Plan is a grading, checked and ready to run.
type Plan struct {
	// Config is the server target's configuration.
	Config steps.Config
	// Options are the engine's; the caller may add Progress, Live and
	// Revive.
	Options engine.Options
	// Timeout bounds the run.
	Timeout time.Duration
	// Wrap, if set, wraps the server target before the run: a grader
	// that starts the server itself watches it this way.
	Wrap func(engine.Target) engine.Target
}

// ErrUsage marks an error in the command line: ExitUsage. Such an error
// is one for errors.Is, and its text is the problem's alone.
var ErrUsage = errors.New("usage")

// usageErr is an error in the command line: errors.Is(e, ErrUsage).
type usageErr struct{ err error }

func (e usageErr) Error() string        { return e.err.Error() }
func (e usageErr) Unwrap() error        { return e.err }
func (e usageErr) Is(target error) bool { return target == ErrUsage }

// usageError marks err as an ErrUsage.
func usageError(err error) error { return usageErr{err} }

// Plan checks the parsed flags: the server's address, the timings, and
// that -timeout leaves the run the time it may need (the error then names
// the -timeout to use). Every error wraps ErrUsage.
func (f *Flags) Plan() (Plan, error) {
	if len(steps.ParseAddrs(f.Server.Addr)) == 0 {
		return Plan{}, usageError(errors.New("no server address: give HOST:PORT"))
	}
	cfg, err := f.Server.Config()
	if err != nil {
		return Plan{}, usageError(err)
	}
	opts, err := runOptions(f.Server.Options(), f.Godog, f.Server.Given("godog.format"), f.Timeout, func(deadline time.Time) error {
		return conformance.CheckDeadline(cfg, deadline)
	})
	if err != nil {
		return Plan{}, err
	}
	return Plan{Config: cfg, Options: opts, Timeout: f.Timeout}, nil
}

// Run grades the server. The engine's run ends a little before
// p.Timeout, so that the reports can still be written inside it; what
// had not been graded by then is not graded, and the report says why.
func (p Plan) Run(ctx context.Context) (*report.Report, error) {
	ctx, cancel := runContext(ctx, p.Timeout)
	defer cancel()
	suite := conformance.ServerSuite(p.Config)
	if p.Wrap != nil {
		suite.Target = p.Wrap(suite.Target)
	}
	return engine.Run(ctx, suite, p.Options)
}

// ExitCode returns the exit code for a run's report and error: the
// suite's own error, or no report, is ExitCannotGrade.
func ExitCode(rep *report.Report, err error) int {
	if err != nil || rep == nil {
		return ExitCannotGrade
	}
	switch rep.Verdict() {
	case report.Pass:
		return ExitPass
	case report.Fail:
		return ExitFail
	}
	return ExitCannotGrade
}
