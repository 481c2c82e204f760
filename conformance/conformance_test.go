package conformance

import (
	"context"
	"flag"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/cucumber/godog"
	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/reference/chatserver"
	"github.com/chatspec/chatspec/report"
)

// The command line. It is set once, by flag.Parse in TestMain, and only
// read afterwards.
var (
	serverFlags ServerFlags
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
	serverFlags.Register(flag.CommandLine)
	godog.BindFlags("godog.", flag.CommandLine, &godogOpts)
	flag.Parse()
	// Every connection, reader and heartbeat a run opens ends with it.
	goleak.VerifyTestMain(m)
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
	// A copy: the defaults set below for the reference server must not
	// leak into the other tests' flags (the flag set is shared, so Given
	// still answers).
	copied := serverFlags
	f := &copied
	if f.Addr == "" && clientFlags.Grading() {
		t.Skip("grading a client; -addr names a server to grade")
	}
	out, live := io.Writer(os.Stdout), false
	if f.Addr == "" {
		// The project's own test: the reference server, with timings to
		// match its short heartbeat timeout, and every rule binding.
		f.Addr = startReference(t, chatserver.Config{HeartbeatTimeout: localTimeout})
		for name, set := range map[string]func(){
			"heartbeat": func() { f.Heartbeat = localHeartbeat },
			"expiry":    func() { f.Expiry = localExpiry },
			"quiet":     func() { f.Quiet = localQuiet },
			"strict":    func() { f.Strict = true },
		} {
			if !f.Given(name) {
				set()
			}
		}
	} else if !testing.Verbose() {
		// go test shows a passing test's output only with -v: write the
		// report to the terminal, if there is one, so it is seen anyway.
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			defer tty.Close()
			out, live = tty, true
		}
	}
	cfg, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	opts := f.Options()
	if err := ApplyGodog(&opts, godogOpts, f.Given("godog.format")); err != nil {
		t.Fatal(err)
	}
	opts.Progress, opts.Live = out, live
	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		if err := CheckDeadline(cfg, deadline); err != nil {
			t.Fatal(err)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-15*time.Second))
		defer cancel()
	}
	rep, err := engine.Run(ctx, ServerSuite(cfg), opts)
	if rep != nil {
		if werr := f.WriteReports(out, rep); werr != nil {
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
