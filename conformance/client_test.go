package conformance

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatspec/chatspec/clientsteps"
	"github.com/chatspec/chatspec/engine"
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
	if !f.Grading() && serverFlags.Addr != "" {
		t.Skip("grading the server at -addr; the client suite grades a client with -client-cmd")
	}
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
			defer func() { f.Heartbeat = clientsteps.DefaultHeartbeat }()
		}
		if !f.Given("client-wait") {
			// Room for a machine busy with other tests.
			f.Wait = selfTestWait
			defer func() { f.Wait = clientsteps.DefaultWait }()
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

// TestClientNeverConnects: a client that never connects gets one
// paragraph that says so, and no rule is graded.
func TestClientNeverConnects(t *testing.T) {
	skipWhenGrading(t)
	t.Parallel()
	cfg := clientsteps.Config{Command: "cat >/dev/null", Start: time.Second, Wait: time.Second}
	rep, err := GradeClient(context.Background(), cfg, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p := rep.CannotGrade; p == nil || !strings.Contains(p.What, "never connected") || !strings.Contains(p.Hint, "-client-listen") {
		t.Errorf("CannotGrade = %+v, want that the client never connected, with hints", p)
	}
	if v := rep.Verdict(); v != report.CannotGrade {
		t.Errorf("verdict %s, want CANNOT GRADE", v)
	}
}

// person plays the person grading in manual mode: it reads the suite's
// instructions and does what they say with the fault client, as a person
// would with a GUI client.
type person struct {
	t     *testing.T
	bin   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// follow acts on every instruction read from r until r ends.
func (p *person) follow(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "   > ")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(line, "Start the client, connect it to "):
			addr, _, _ := strings.Cut(strings.TrimPrefix(line, "Start the client, connect it to "), " ")
			_, name, _ := strings.Cut(line, ", and join as ")
			p.stop()
			p.cmd = exec.Command(p.bin, "-addr", addr, "-heartbeat", localClientHeartbeat.String())
			var err error
			if p.stdin, err = p.cmd.StdinPipe(); err != nil {
				p.t.Error(err)
				return
			}
			if err := p.cmd.Start(); err != nil {
				p.t.Error(err)
				return
			}
			p.typeLine(name)
		case strings.HasPrefix(line, "Now join as "):
			p.typeLine(strings.TrimPrefix(line, "Now join as "))
		case strings.HasPrefix(line, "Send the message: "):
			p.typeLine(strings.TrimPrefix(line, "Send the message: "))
		case strings.HasPrefix(line, "Leave the chat"):
			if p.stdin != nil {
				p.stdin.Close() // the fault client leaves at the end of its input
			}
		case strings.HasPrefix(line, "This scenario is over"):
			p.stop()
		}
	}
}

func (p *person) typeLine(s string) {
	if p.stdin != nil {
		_, _ = io.WriteString(p.stdin, s+"\n")
	}
}

// stop closes the client, if one runs.
func (p *person) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd, p.stdin = nil, nil
}

// TestClientManualMode grades a client in manual mode, with a person
// played by the test who follows the instructions with the fault client:
// every MUST rule is graded and passes, and the rules about what the
// client shows are left out.
func TestClientManualMode(t *testing.T) {
	skipWhenGrading(t)
	t.Parallel()
	p := &person{t: t, bin: buildCommand(t, "github.com/chatspec/chatspec/internal/faultclient/cmd/faultclient")}
	r, w := io.Pipe()
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		p.follow(r)
		p.stop()
	}()
	cfg := clientsteps.Config{Manual: true, Instructions: w, Heartbeat: localClientHeartbeat, Wait: selfTestWait, Step: 10 * time.Second}
	rep, err := GradeClient(context.Background(), cfg, engine.Options{})
	w.Close()
	<-followed
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	_ = report.WriteText(&text, rep)
	var ids []string
	for _, ru := range rep.Rules() {
		ids = append(ids, ru.ID)
		if got := ru.Outcome(); got != report.Passed {
			t.Errorf("manual mode: rule %s is %s, want passed", ru.ID, got)
		}
	}
	// Every MUST rule, and the SHOULD rules the wire can judge; not those
	// about what the client shows.
	want := []string{"client-joining.join-shape", "client-joining.retry", "client-messages.data-shape",
		"client-heartbeat.at-least", "client-heartbeat.not-too-often", "client-quitting.quit",
		"client-robustness.unknown-message", "client-robustness.junk", "client-robustness.long-line"}
	if !slices.Equal(ids, want) {
		t.Errorf("manual mode graded %v, want %v", ids, want)
	}
	if v := rep.Verdict(); v != report.Pass {
		t.Errorf("manual mode: verdict %s, want PASS", v)
	}
	if t.Failed() {
		t.Logf("report:\n%s", text.String())
	}
}
