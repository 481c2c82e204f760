//go:build race

package conformance

import "time"

// The race detector slows every goroutine down several times: the
// self-test grades fewer servers at once, and waits longer for what should
// arrive (and a late failure is confirmed with four times as long).
const (
	maxGradings  = 10
	selfTestWait = 3 * time.Second
)
