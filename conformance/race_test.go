//go:build race

package conformance

import "time"

// The race detector slows every goroutine down several times: the
// self-test grades fewer servers at once, and waits longer for what should
// arrive.
const (
	maxGradings  = 10
	selfTestWait = 6 * time.Second
)
