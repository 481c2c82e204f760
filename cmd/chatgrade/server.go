package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/chatspec/chatspec/conformance"
	"github.com/chatspec/chatspec/grade"
	"github.com/chatspec/chatspec/report"
)

const serverHelp = `usage: chatgrade server HOST:PORT [flags]

Grades the chat server at HOST:PORT, as go test ./conformance -addr does,
with the same flags: every rule of the features (built into chatgrade), the
text report on standard output, and JSON, HTML and JUnit reports where the
-report-* flags say. Progress goes to standard error.

The timing rules wait for the server's heartbeat timeout: with the default
-expiry 3m a run takes about 3 minutes. For a first look, skip them:
-godog.tags '~@slow'. A server with a longer timeout needs a longer
-expiry, and perhaps a longer -timeout (chatgrade says which).

Examples:

	chatgrade server 127.0.0.1:5000
	chatgrade server 127.0.0.1:5000 -framing utf -report-html report.html
	chatgrade server 10.0.0.7:4242 -heartbeat 20s -expiry 40s -strict
	chatgrade server 127.0.0.1:5000 -rule presence.list-on-join

Exit codes: 0 pass; 1 a MUST rule failed (or any, with -strict); 2 cannot
grade (unreachable, no answer, a framing the suite cannot read, or
INCOMPLETE: some MUST rules could not be graded); 3 bad usage.
`

// registerServer binds the server command's flags.
func registerServer(fs *flag.FlagSet) { (&grade.Flags{}).Register(fs) }

// watchdogGrace is how long past -timeout a run that has not ended is
// given before chatgrade exits anyway.
const watchdogGrace = 10 * time.Second

// serverCommand grades one server.
func serverCommand(ctx context.Context, args []string, e env) int {
	var g grade.Flags
	pos, code, done := parseCommand("server", args, e, g.Register)
	if done {
		return code
	}
	switch {
	case len(pos) > 1:
		return usageError(e, "server", fmt.Errorf("one server address, not %q", pos))
	case len(pos) == 1 && g.Server.Addr != "" && g.Server.Addr != pos[0]:
		return usageError(e, "server", fmt.Errorf("two addresses: %s and -addr %s", pos[0], g.Server.Addr))
	case len(pos) == 1:
		g.Server.Addr = pos[0]
	case g.Server.Addr == "":
		return usageError(e, "server", errNoAddr)
	}
	plan, err := g.Plan()
	if err != nil {
		return usageError(e, "server", err)
	}
	plan.Options.Progress, plan.Options.Live = e.stderr, e.errTTY
	defer watchdog(e, "server", plan.Timeout)()
	rep, err := plan.Run(ctx)
	return deliver(ctx, e, "server", &g.Server.RunFlags, rep, err)
}

// watchdog ends chatgrade should a run hang past its timeout (the engine
// keeps inside it; this is for what does not); call the returned func
// when the run is over.
func watchdog(e env, cmd string, timeout time.Duration) (stop func()) {
	t := time.AfterFunc(timeout+watchdogGrace, func() {
		fmt.Fprintf(e.stderr, "chatgrade %s: the run did not end within -timeout %s; giving up\n", cmd, timeout)
		os.Exit(grade.ExitCannotGrade)
	})
	return func() { t.Stop() }
}

// deliver writes a run's report (text on standard output, coloured on a
// terminal; the files the flags name) and returns the exit code.
func deliver(ctx context.Context, e env, cmd string, run *conformance.RunFlags, rep *report.Report, err error) int {
	if rep != nil {
		var text bytes.Buffer
		werr := run.WriteReports(&text, rep)
		out := text.String()
		if e.outTTY && e.color {
			out = colorReport(out)
		}
		fmt.Fprint(e.stdout, out)
		if werr != nil {
			fmt.Fprintf(e.stderr, "chatgrade %s: %v\n", cmd, werr)
			err = errors.Join(err, werr)
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "chatgrade %s: %v\n", cmd, err)
		return grade.ExitCannotGrade
	}
	if ctx.Err() != nil {
		fmt.Fprintf(e.stderr, "chatgrade %s: interrupted\n", cmd)
	}
	return grade.ExitCode(rep, nil)
}
