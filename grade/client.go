package grade

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/clientsteps"
	"github.com/chatspec/chatspec/conformance"
	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/report"
)

// ClientFlags is the command line of one client grading (chatgrade
// client): the -client-* flags of go test ./conformance, the flags every
// grading shares (-strict, -rule, -report-*), godog's and a -timeout.
type ClientFlags struct {
	// Client is the client suite's flags, shared with go test.
	Client conformance.ClientFlags
	// Run is -strict, -rule and the report files.
	Run conformance.RunFlags
	// Godog is godog's options, bound as -godog.*.
	Godog godog.Options
	// Timeout bounds the whole run, reports included.
	Timeout time.Duration
}

// Register binds every flag to fs, with its default.
func (f *ClientFlags) Register(fs *flag.FlagSet) {
	f.Client.Register(fs)
	f.Run.Register(fs)
	registerRun(fs, &f.Godog, &f.Timeout)
}

// ClientPlan is a client grading, checked and ready to run.
type ClientPlan struct {
	// Config is the client target's configuration; the caller may set
	// Instructions (where manual mode writes what the person should do).
	Config clientsteps.Config
	// Options are the engine's; the caller may add Progress and Live.
	Options engine.Options
	// Timeout bounds the run.
	Timeout time.Duration
}

// Plan checks the parsed flags: that they name a client (a command, a
// profile or manual mode), its profile, the timings, and that -timeout
// leaves the run the time it may need. Every error wraps ErrUsage.
func (f *ClientFlags) Plan() (ClientPlan, error) {
	if !f.Client.Grading() {
		return ClientPlan{}, usageError(errors.New("no client: give its command (chatgrade client -- COMMAND...), -client-profile FILE or -client-manual"))
	}
	cfg, err := f.Client.Config()
	if err != nil {
		return ClientPlan{}, usageError(err)
	}
	opts, err := runOptions(f.Run.Options(), f.Godog, f.Run.Given("godog.format"), f.Timeout, func(deadline time.Time) error {
		return conformance.CheckClientDeadline(cfg, deadline)
	})
	if err != nil {
		return ClientPlan{}, err
	}
	return ClientPlan{Config: cfg, Options: opts, Timeout: f.Timeout}, nil
}

// Run grades the client, ending a little before p.Timeout like
// Plan.Run.
func (p ClientPlan) Run(ctx context.Context) (*report.Report, error) {
	ctx, cancel := runContext(ctx, p.Timeout)
	defer cancel()
	return conformance.GradeClient(ctx, p.Config, p.Options)
}

// registerRun binds what every grading's command line has besides its
// suite's flags: godog's flags and -timeout.
func registerRun(fs *flag.FlagSet, g *godog.Options, timeout *time.Duration) {
	g.Concurrency = engine.DefaultConcurrency
	godog.BindFlags("godog.", fs, g)
	fs.DurationVar(timeout, "timeout", DefaultTimeout, "the longest the whole run may take; a run that may need more is refused before it starts, with the -timeout it needs")
}

// runOptions completes a plan's engine options with godog's (selection,
// concurrency, step-by-step output) and checks -timeout: positive, and
// enough for the run (check says, given the deadline it would have).
// Every error wraps ErrUsage.
func runOptions(opts engine.Options, g godog.Options, formatGiven bool, timeout time.Duration, check func(deadline time.Time) error) (engine.Options, error) {
	if err := conformance.ApplyGodog(&opts, g, formatGiven); err != nil {
		return opts, usageError(err)
	}
	if timeout <= 0 {
		return opts, usageError(fmt.Errorf("-timeout %s: must be positive", timeout))
	}
	if err := check(time.Now().Add(timeout)); err != nil {
		return opts, usageError(err)
	}
	return opts, nil
}

// runContext is the engine's context for a run bounded by timeout: it
// ends reportMargin early, so that the reports are still written inside
// it.
func runContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, max(timeout-reportMargin, timeout/2))
}
