package conformance

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chatspec/chatspec/features"
	"github.com/chatspec/chatspec/internal/faultproxy"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/steps"
)

// Timings of the broken-server tests. These run many suites at once on a
// machine that may be busy with other tests (and the race detector), so
// they leave room for scheduling delays: a fast pass (no @slow scenario)
// against a server that drops nobody while a scenario runs, and a slow
// pass with a heartbeat timeout well above the clients' IMAV interval.
var (
	fastPass = timing{timeout: 30 * time.Second, heartbeat: time.Second, expiry: time.Minute, wait: 2500 * time.Millisecond, quiet: 300 * time.Millisecond, conc: 1}
	slowPass = timing{timeout: 2 * time.Second, heartbeat: 250 * time.Millisecond, expiry: 4 * time.Second, wait: 2500 * time.Millisecond, quiet: 300 * time.Millisecond, conc: 1}
)

// The passes' tag filters: every scenario is in exactly one.
const (
	fastTags  = "~@slow&&~@heavy"
	slowTags  = "@slow"
	heavyTags = "@heavy"
)

// timing is the reference server's heartbeat timeout and the suite's
// timings for one pass.
type timing struct {
	timeout                        time.Duration
	heartbeat, expiry, wait, quiet time.Duration
	conc                           int // scenarios at once (the @slow ones run side by side anyway)
}

// gradeThrough runs the suite against a fresh reference server behind a
// fault proxy built from m, tm.conc scenarios at a time (one, unless the
// mutant is known to allow more: then no other scenario's traffic can
// stand in for a message the mutant withholds; the @slow ones, when
// selected, run side by side), and returns the report and its text.
func gradeThrough(t testing.TB, m faultproxy.Mutant, f protocol.Framing, tags string, tm timing) (*steps.Report, string) {
	t.Helper()
	timeout := tm.timeout
	if m.HeartbeatTimeout != 0 {
		timeout = m.HeartbeatTimeout
	}
	upstream := startReferenceOn(t, f, timeout, serverFaults[m.Name])
	p, err := faultproxy.Start(upstream, f, m.Fault())
	if err != nil {
		t.Fatalf("%s: start proxy: %v", m.Name, err)
	}
	t.Cleanup(func() { p.Close() })
	var out bytes.Buffer
	cfg := steps.Config{
		Addr:      p.Addr(),
		Framing:   f,
		Heartbeat: tm.heartbeat,
		Expiry:    tm.expiry,
		Wait:      tm.wait,
		Quiet:     tm.quiet,
		Features:  features.FS,
		Output:    &out,
	}
	cfg.Godog.Tags = tags
	cfg.Godog.Concurrency = max(1, tm.conc)
	rep, err := steps.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("%s: %v", m.Name, err)
	}
	return rep, out.String()
}

// failedNames lists the scenarios a report failed.
func failedNames(rep *steps.Report) []string {
	var out []string
	for _, s := range rep.Scenarios {
		if !s.Passed() {
			out = append(out, s.Scenario)
		}
	}
	return out
}

// run is one graded mutant, for the tests that run many at once.
type run struct {
	m    faultproxy.Mutant
	rep  *steps.Report
	text string
}

// job is one suite run to grade: a mutant, a pass's tags and timings.
type job struct {
	m    faultproxy.Mutant
	tags string
	tm   timing
}

// gradeJobs grades every job concurrently (they wait on sockets more than
// on the CPU) and returns their reports in order.
func gradeJobs(t *testing.T, f protocol.Framing, jobs []job) []run {
	t.Helper()
	runs := make([]run, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, text := gradeThrough(t, j.m, f, j.tags, j.tm)
			runs[i] = run{m: j.m, rep: rep, text: text}
		}()
	}
	wg.Wait()
	return runs
}

// skipWhenGrading skips the project's own tests of the suite when -addr
// names a server to grade: a student grading a server wants its report,
// not the suite's self-test.
func skipWhenGrading(t *testing.T) {
	t.Helper()
	if *addr != "" {
		t.Skip("grading the server at -addr; the suite's self-tests run without -addr")
	}
}
