package conformance

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/features"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/report"
	"github.com/chatspec/chatspec/steps"
)

// RunFlags are the flags every grading shares, a server's or a client's:
// how strict it is, which rules it runs, and the report files it writes.
type RunFlags struct {
	Strict      bool
	Rules       string
	ReportJSON  string
	ReportHTML  string
	ReportJUnit string

	fs *flag.FlagSet
}

// Register binds the shared flags to fs, with their defaults.
func (f *RunFlags) Register(fs *flag.FlagSet) {
	f.fs = fs
	fs.BoolVar(&f.Strict, "strict", false, "fail the run on SHOULD-level failures too")
	fs.StringVar(&f.Rules, "rule", "", "run only these rules: `ID[,ID...]` (e.g. presence.list-on-join)")
	fs.StringVar(&f.ReportJSON, "report-json", "", "write the report as JSON to `FILE`")
	fs.StringVar(&f.ReportHTML, "report-html", "", "write the report as one self-contained HTML page to `FILE`")
	fs.StringVar(&f.ReportJUnit, "report-junit", "", "write the report as JUnit XML to `FILE`")
}

// Given reports whether the named flag was set on the command line.
func (f *RunFlags) Given(name string) bool {
	given := false
	if f.fs != nil {
		f.fs.Visit(func(fl *flag.Flag) { given = given || fl.Name == name })
	}
	return given
}

// Options returns the engine's options: strictness, the rules, and every
// flag given on the command line, for the report's settings.
func (f *RunFlags) Options() engine.Options {
	opts := engine.Options{Strict: f.Strict}
	if f.Rules != "" {
		opts.Rules = strings.Split(f.Rules, ",")
	}
	if f.fs != nil {
		f.fs.VisitAll(func(fl *flag.Flag) {
			if f.Given(fl.Name) && !strings.HasPrefix(fl.Name, "test.") {
				opts.Settings = append(opts.Settings, report.Setting{Name: fl.Name, Value: fl.Value.String()})
			}
		})
	}
	return opts
}

// ServerFlags is the command line of a server grading: the flags of
// go test ./conformance, and of chatgrade server. Register binds them to a
// flag set; after parsing, Suite and Options turn them into what
// engine.Run takes.
type ServerFlags struct {
	RunFlags
	Addr        string
	Framing     string // line, utf, raw or auto
	Join        steps.JoinMode
	Heartbeat   time.Duration
	Expiry      time.Duration
	Wait        time.Duration
	Quiet       time.Duration
	Flood       time.Duration
	Concurrency int
	Tags        string
}

// Register binds the flags to fs, with their defaults.
func (f *ServerFlags) Register(fs *flag.FlagSet) {
	f.RunFlags.Register(fs)
	fs.StringVar(&f.Addr, "addr", "", "`host:port` of the server to grade, or several, comma-separated, for the nodes of a cluster")
	fs.StringVar(&f.Framing, "framing", "auto", "`line` (newline-terminated), utf (Java writeUTF), raw (no delimiter: one read is one message) or auto (find out)")
	fs.Var(&f.Join, "join", "how to join: `full` (JOIN <name>, <host>:<port>) or bare (the name alone)")
	fs.DurationVar(&f.Heartbeat, "heartbeat", steps.DefaultHeartbeat, "every joined client sends IMAV at this interval")
	fs.DurationVar(&f.Expiry, "expiry", steps.DefaultExpiry, "how long to wait for a silent client to be dropped (a little above the server's heartbeat timeout)")
	fs.DurationVar(&f.Wait, "wait", steps.DefaultWait, "how long to wait for an expected message")
	fs.DurationVar(&f.Quiet, "quiet", steps.DefaultQuiet, "how long to listen before concluding that nothing arrives")
	fs.DurationVar(&f.Flood, "flood", steps.DefaultFlood, "the longest the flood scenario floods")
}

// Config returns the server target's configuration.
func (f *ServerFlags) Config() (steps.Config, error) {
	cfg := steps.Config{
		Addrs:     steps.ParseAddrs(f.Addr),
		Join:      f.Join,
		Heartbeat: f.Heartbeat,
		Expiry:    f.Expiry,
		Wait:      f.Wait,
		Quiet:     f.Quiet,
		Flood:     f.Flood,
	}
	switch f.Framing {
	case "auto":
		cfg.Detect = true
	case "raw":
		cfg.Framing = protocol.FramingRaw
	default:
		if err := cfg.Framing.Set(f.Framing); err != nil {
			return cfg, fmt.Errorf("-framing: %w (or raw, or auto)", err)
		}
	}
	return cfg, checkPositive(durationFlag{"heartbeat", f.Heartbeat}, durationFlag{"expiry", f.Expiry}, durationFlag{"wait", f.Wait}, durationFlag{"quiet", f.Quiet}, durationFlag{"flood", f.Flood})
}

// durationFlag is a duration flag's name and value, for checkPositive.
type durationFlag struct {
	flag string
	v    time.Duration
}

// checkPositive says which of the flags, if any, is not positive.
func checkPositive(ts ...durationFlag) error {
	for _, t := range ts {
		if t.v <= 0 {
			return fmt.Errorf("-%s %s: must be positive", t.flag, t.v)
		}
	}
	return nil
}

// Options returns the engine's options: selection, concurrency,
// strictness, and the settings as given, for the report.
func (f *ServerFlags) Options() engine.Options {
	opts := f.RunFlags.Options()
	opts.Concurrency, opts.Tags = f.Concurrency, f.Tags
	return opts
}

// ApplyGodog takes selection and concurrency from godog's own options
// (-godog.tags, -godog.paths, -godog.concurrency), and its step-by-step
// output where asked for (-godog.format pretty or progress).
func ApplyGodog(opts *engine.Options, g godog.Options, formatGiven bool) error {
	opts.Concurrency, opts.Tags, opts.Paths = g.Concurrency, g.Tags, g.Paths
	if g.Format == "" || !formatGiven {
		return nil
	}
	if strings.Contains(g.Format, ":") {
		return errors.New("-godog.format: the suite writes its own files: use -report-json, -report-junit or -report-html")
	}
	opts.Godog = &godog.Options{Format: g.Format, Output: os.Stdout, NoColors: g.NoColors}
	return nil
}

// ServerSuite is the server suite for cfg: the server features and the
// steps that drive a server.
func ServerSuite(cfg steps.Config) engine.Suite {
	return engine.Suite{Name: "server", Features: features.FS, Order: features.Order(), Target: steps.New(cfg)}
}

// WriteReports writes rep as text to out, and to the files the flags name
// in their formats. It reports every error, having tried every file.
func (f *RunFlags) WriteReports(out io.Writer, rep *report.Report) error {
	errs := []error{report.WriteText(out, rep)}
	for _, r := range []struct {
		path  string
		write func(io.Writer, *report.Report) error
	}{
		{f.ReportJSON, report.WriteJSON},
		{f.ReportHTML, report.WriteHTML},
		{f.ReportJUnit, report.WriteJUnit},
	} {
		if r.path != "" {
			if err := report.WriteFile(r.path, func(w io.Writer) error { return r.write(w, rep) }); err != nil {
				errs = append(errs, fmt.Errorf("conformance: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// ServerBudget is the longest a grading of a server with cfg may take:
// the budget of 80 scenarios, more than the features hold (69), so that a
// new rule needs no new limits.
func ServerBudget(cfg steps.Config) time.Duration { return steps.Budget(cfg, 80) }

// CheckDeadline returns an error saying which go test -timeout (or
// chatgrade -timeout) a run of cfg needs, if the time left before
// deadline may not be enough.
func CheckDeadline(cfg steps.Config, deadline time.Time) error {
	need := ServerBudget(cfg)
	if left := time.Until(deadline); left < need {
		return fmt.Errorf("this run may take up to %s (-expiry %s, -flood %s), more than the time limit leaves (%s): rerun with -timeout %s",
			need.Round(time.Second), cfg.Expiry, cfg.Flood, left.Round(time.Second), (need + time.Minute).Round(time.Minute))
	}
	return nil
}
