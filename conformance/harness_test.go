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
	fastPass = timing{timeout: 30 * time.Second, heartbeat: time.Second, expiry: time.Minute, wait: 1500 * time.Millisecond, quiet: 150 * time.Millisecond}
	slowPass = timing{timeout: 2 * time.Second, heartbeat: 250 * time.Millisecond, expiry: 4 * time.Second, wait: 2500 * time.Millisecond, quiet: 150 * time.Millisecond}
)

// timing is the reference server's heartbeat timeout and the suite's
// timings for one pass.
type timing struct {
	timeout                        time.Duration
	heartbeat, expiry, wait, quiet time.Duration
}

// gradeThrough runs the suite against a fresh reference server behind a
// fault proxy built from m, one scenario at a time (so that no other
// scenario's traffic can stand in for a message the mutant withholds; the
// @slow ones, when selected, run side by side), and returns the report and
// its text.
func gradeThrough(t testing.TB, m faultproxy.Mutant, f protocol.Framing, tags string, tm timing) (*steps.Report, string) {
	t.Helper()
	timeout := tm.timeout
	if m.HeartbeatTimeout != 0 {
		timeout = m.HeartbeatTimeout
	}
	upstream := startReference(t, f, timeout)
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
	cfg.Godog.Concurrency = 1
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

// gradeAll grades every mutant concurrently (they wait on sockets, not on
// the CPU) and returns their reports in order.
func gradeAll(t *testing.T, ms []faultproxy.Mutant, f protocol.Framing, tags string, tm timing) []run {
	t.Helper()
	runs := make([]run, len(ms))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			rep, text := gradeThrough(t, m, f, tags, tm)
			runs[i] = run{m: m, rep: rep, text: text}
		}()
	}
	wg.Wait()
	return runs
}
