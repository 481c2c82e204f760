package conformance

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/features"
	"github.com/chatspec/chatspec/reference/chatserver"
	"github.com/chatspec/chatspec/report"
	"github.com/chatspec/chatspec/steps"
)

// The command line. These are set once, by flag.Parse in TestMain, and
// only read afterwards.
var (
	addr        = flag.String("addr", "", "`host:port` of the server to grade, or several, comma-separated, for the nodes of a cluster; empty: the in-process reference server")
	framingFlag = flag.String("framing", "auto", "`line` (newline-terminated), utf (Java writeUTF), raw (no delimiter: one read is one message) or auto (find out)")
	joinMode    steps.JoinMode
	heartbeat   = flag.Duration("heartbeat", steps.DefaultHeartbeat, "every joined client sends IMAV at this interval")
	expiry      = flag.Duration("expiry", steps.DefaultExpiry, "how long to wait for a silent client to be dropped (a little above the server's heartbeat timeout)")
	wait        = flag.Duration("wait", steps.DefaultWait, "how long to wait for an expected message")
	quiet       = flag.Duration("quiet", steps.DefaultQuiet, "how long to listen before concluding that nothing arrives")
	flood       = flag.Duration("flood", steps.DefaultFlood, "the longest the flood scenario floods")
	strict      = flag.Bool("strict", false, "fail the run on SHOULD-level failures too")
	rules       = flag.String("rule", "", "run only these rules: `ID[,ID...]` (e.g. presence.list-on-join)")
	reportJSON  = flag.String("report-json", "", "write the report as JSON to `FILE`")
	reportHTML  = flag.String("report-html", "", "write the report as one self-contained HTML page to `FILE`")
	reportJUnit = flag.String("report-junit", "", "write the report as JUnit XML to `FILE`")
	godogOpts   = godog.Options{Concurrency: engine.DefaultConcurrency}
)

// In-process defaults: the reference server's heartbeat timeout, and the
// suite's timings that match it.
const (
	localTimeout   = time.Second
	localHeartbeat = 200 * time.Millisecond
	localExpiry    = 1500 * time.Millisecond
	localQuiet     = 200 * time.Millisecond
)

func TestMain(m *testing.M) {
	flag.Var(&joinMode, "join", "how to join: `full` (JOIN <name>, <host>:<port>) or bare (the name alone)")
	godog.BindFlags("godog.", flag.CommandLine, &godogOpts)
	flag.Parse()
	os.Exit(m.Run())
}

// options builds the suite's configuration from the command line; without
// -addr, the flags not given take the in-process defaults.
func options() (steps.Config, engine.Options, error) {
	set := make(map[string]bool)
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg := steps.Config{
		Addrs:     steps.ParseAddrs(*addr),
		Join:      joinMode,
		Heartbeat: *heartbeat,
		Expiry:    *expiry,
		Wait:      *wait,
		Quiet:     *quiet,
		Flood:     *flood,
	}
	switch *framingFlag {
	case "auto":
		cfg.Detect = true
	default:
		if err := cfg.Framing.Set(*framingFlag); err != nil {
			return cfg, engine.Options{}, fmt.Errorf("-framing: %w (or auto)", err)
		}
	}
	opts := engine.Options{
		Concurrency: godogOpts.Concurrency,
		Strict:      *strict,
		Tags:        godogOpts.Tags,
		Paths:       godogOpts.Paths,
	}
	if *rules != "" {
		opts.Rules = strings.Split(*rules, ",")
	}
	if godogOpts.Format != "" && set["godog.format"] {
		if strings.Contains(godogOpts.Format, ":") {
			return cfg, opts, errors.New("-godog.format: the suite writes its own files: use -report-json, -report-junit or -report-html")
		}
		opts.Godog = &godog.Options{Format: godogOpts.Format, Output: os.Stdout, NoColors: godogOpts.NoColors}
	}
	if *addr == "" {
		if !set["heartbeat"] {
			cfg.Heartbeat = localHeartbeat
		}
		if !set["expiry"] {
			cfg.Expiry = localExpiry
		}
		if !set["quiet"] {
			cfg.Quiet = localQuiet
		}
		if !set["strict"] {
			opts.Strict = true // the reference server passes every rule
		}
	}
	flag.VisitAll(func(f *flag.Flag) {
		if set[f.Name] && f.Name != "test.v" && !strings.HasPrefix(f.Name, "test.") {
			opts.Settings = append(opts.Settings, report.Setting{Name: f.Name, Value: f.Value.String()})
		}
	})
	return cfg, opts, nil
}

// startReference runs the reference server on 127.0.0.1:0 until the test
// ends and returns its address.
func startReference(t testing.TB, cfg chatserver.Config) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := chatserver.New(cfg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return l.Addr().String()
}

// TestConformance grades the server at -addr, or the in-process reference
// server, and fails when the verdict is not PASS.
func TestConformance(t *testing.T) {
	cfg, opts, err := options()
	if err != nil {
		t.Fatal(err)
	}
	out, live := io.Writer(os.Stdout), false
	if *addr == "" {
		cfg.Addrs = []string{startReference(t, chatserver.Config{HeartbeatTimeout: localTimeout})}
	} else if !testing.Verbose() {
		// go test shows a passing test's output only with -v: write the
		// report to the terminal, if there is one, so it is seen anyway.
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			defer tty.Close()
			out, live = tty, true
		}
	}
	opts.Progress, opts.Live = out, live
	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		need := steps.Budget(cfg, 80)
		if left := time.Until(deadline); left < need {
			t.Fatalf("this run may take up to %s (-expiry %s, -flood %s), more than go test's -timeout leaves (%s): rerun with -timeout %s",
				need.Round(time.Second), cfg.Expiry, cfg.Flood, left.Round(time.Second), (need + time.Minute).Round(time.Minute))
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-15*time.Second))
		defer cancel()
	}
	rep, err := engine.Run(ctx, engine.Suite{Name: "server", Features: features.FS, Order: features.Order(), Target: steps.New(cfg)}, opts)
	if rep != nil {
		if werr := writeReports(out, rep); werr != nil {
			t.Error(werr)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if v := rep.Verdict(); v != report.Pass {
		c := rep.Counts()
		t.Errorf("verdict %s: MUST %d passed, %d failed, %d not graded; SHOULD %d passed, %d failed or warned (the report above has the details)",
			v, c.MustPassed, c.MustFailed, c.MustNotGraded, c.ShouldPassed, c.ShouldFailed)
	}
}

// writeReports writes the text report to out and the report files the
// flags ask for.
func writeReports(out io.Writer, rep *report.Report) error {
	errs := []error{report.WriteText(out, rep)}
	for _, f := range []struct {
		path  string
		write func(io.Writer, *report.Report) error
	}{
		{*reportJSON, report.WriteJSON},
		{*reportHTML, report.WriteHTML},
		{*reportJUnit, report.WriteJUnit},
	} {
		if f.path == "" {
			continue
		}
		errs = append(errs, writeFile(f.path, func(w io.Writer) error { return f.write(w, rep) }))
	}
	return errors.Join(errs...)
}

// writeFile creates path and writes it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
