package conformance

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/features"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatserver"
	"github.com/chatspec/chatspec/steps"
)

// The command line. These are set once, by flag.Parse in TestMain, and
// only read afterwards.
var (
	addr      = flag.String("addr", "", "`host:port` of the server to grade; empty: the in-process reference server")
	heartbeat = flag.Duration("heartbeat", 60*time.Second, "every joined client sends IMAV at this interval")
	expiry    = flag.Duration("expiry", 3*time.Minute, "how long to wait for a silent client to be dropped (a little above the server's heartbeat timeout)")
	wait      = flag.Duration("wait", 2*time.Second, "how long to wait for an expected reply")
	quiet     = flag.Duration("quiet", 300*time.Millisecond, "how long to listen before concluding that nothing arrives")
	strict    = flag.Bool("strict", false, "fail the run on SHOULD-level failures too")
	framing   protocol.Framing
	godogOpts = godog.Options{Concurrency: steps.DefaultConcurrency}
)

// In-process defaults: the reference server's heartbeat timeout, and the
// suite's timings that match it.
const (
	localTimeout   = 1500 * time.Millisecond
	localHeartbeat = 250 * time.Millisecond
	localExpiry    = 3 * time.Second
	localQuiet     = 200 * time.Millisecond
)

func TestMain(m *testing.M) {
	flag.Var(&framing, "framing", "`line` (newline-terminated) or utf (Java writeUTF frames)")
	godog.BindFlags("godog.", flag.CommandLine, &godogOpts)
	flag.Parse()
	os.Exit(m.Run())
}

// config builds the suite's configuration from the command line; without
// -addr, the flags not given take the in-process defaults.
func config() steps.Config {
	cfg := steps.Config{
		Addr:      *addr,
		Framing:   framing,
		Heartbeat: *heartbeat,
		Expiry:    *expiry,
		Wait:      *wait,
		Quiet:     *quiet,
		Strict:    *strict,
		Features:  features.FS,
		Godog:     godogOpts,
		Output:    os.Stdout,
	}
	set := make(map[string]bool)
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["godog.format"] {
		cfg.Godog.Format = ""
	}
	if cfg.Addr == "" {
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
			cfg.Strict = true // the reference server passes every rule
		}
	}
	return cfg
}

// startReference runs the reference server on 127.0.0.1:0 until the test
// ends and returns its address.
func startReference(t testing.TB, f protocol.Framing, timeout time.Duration) string {
	t.Helper()
	return startReferenceOn(t, f, timeout, nil)
}

// startReferenceOn is startReference with the server's listener wrapped by
// wrap (if not nil): the broken-server tests' way to break the server
// itself, not its traffic.
func startReferenceOn(t testing.TB, f protocol.Framing, timeout time.Duration, wrap func(net.Listener) net.Listener) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if wrap != nil {
		l = wrap(l)
	}
	srv := chatserver.New(chatserver.Config{HeartbeatTimeout: timeout, Framing: f})
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
// server, and fails when the report's verdict is FAIL.
func TestConformance(t *testing.T) {
	cfg := config()
	if cfg.Addr == "" {
		cfg.Addr = startReference(t, cfg.Framing, localTimeout)
	}
	rep, err := steps.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case rep.Unreachable != nil:
		t.Error("the server could not be graded (the paragraph above says why)")
	case rep.NoScenarios:
		t.Error("no scenario ran (the paragraph above says why)")
	case !rep.OK():
		c := rep.Counts()
		t.Errorf("verdict FAIL: MUST %d passed, %d failed; SHOULD %d passed, %d failed; %d not graded (the report above has the details)",
			c.MustPassed, c.MustFailed, c.ShouldPassed, c.ShouldFailed, c.NotGraded)
	}
	fmt.Fprintf(os.Stdout, "wall time %s\n", rep.Elapsed.Round(time.Millisecond))
}
