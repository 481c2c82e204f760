package conformance

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatspec/chatspec/report"
)

// clientFlags is the client half of the command line, bound to the flag
// set TestMain parses; only read once tests run.
var clientFlags = registerClientFlags(flag.CommandLine)

func registerClientFlags(fs *flag.FlagSet) *ClientFlags {
	f := &ClientFlags{}
	f.Register(fs)
	return f
}

// The reference client's heartbeat in the project's own test, and the
// interval the suite then expects: short, so that the heartbeat rules take
// seconds, and long enough that a busy machine cannot make a ticker's
// IMAV look too frequent.
const localClientHeartbeat = time.Second

// buildCommand builds the main package pkg into a temporary directory of
// t and returns the executable's path.
func buildCommand(t testing.TB, pkg string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to build %s with: %v", pkg, err)
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	if out, err := exec.Command(goTool, "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// TestClient grades the client that -client-cmd (or -client-profile, or
// -client-manual) names, or else the reference client in plain mode, and
// fails when the verdict is not PASS.
func TestClient(t *testing.T) {
	f := clientFlags
	out, live := io.Writer(os.Stdout), false
	strict := serverFlags.Strict
	if !f.Grading() {
		// The project's own test: the reference client, with a short
		// heartbeat, and every rule binding.
		bin := buildCommand(t, "github.com/chatspec/chatspec/cmd/chatclient")
		f.Cmd = fmt.Sprintf("'%s' -plain -addr {addr} -heartbeat %s", bin, localClientHeartbeat)
		defer func() { f.Cmd = "" }()
		if !f.Given("client-heartbeat") {
			f.Heartbeat = localClientHeartbeat
			defer func() { f.Heartbeat = 0 }()
		}
		strict = true
	} else if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil && !testing.Verbose() {
		// go test shows a passing test's output only with -v: write the
		// report (and manual mode's instructions) to the terminal.
		defer tty.Close()
		out, live = tty, true
	}
	cfg, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Instructions = out
	opts := serverFlags.Options()
	opts.Strict = strict
	if err := ApplyGodog(&opts, godogOpts, serverFlags.Given("godog.format")); err != nil {
		t.Fatal(err)
	}
	opts.Progress, opts.Live = out, live
	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		if err := CheckClientDeadline(cfg, deadline); err != nil {
			t.Fatal(err)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-15*time.Second))
		defer cancel()
	}
	rep, err := GradeClient(ctx, cfg, opts)
	if rep != nil {
		if werr := serverFlags.WriteReports(out, rep); werr != nil {
			t.Error(werr)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("graded in %s", rep.Elapsed.Round(time.Millisecond))
	if v := rep.Verdict(); v != report.Pass {
		c := rep.Counts()
		t.Errorf("verdict %s: MUST %d passed, %d failed, %d not graded; SHOULD %d passed, %d failed or warned (the report above has the details)",
			v, c.MustPassed, c.MustFailed, c.MustNotGraded, c.ShouldPassed, c.ShouldFailed)
	}
}
