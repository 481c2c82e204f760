//go:build !race

package conformance

import "time"

// maxGradings bounds the self-test's gradings under way at once: they wait
// on sockets more than on the CPU, but hundreds at once overload two
// cores. selfTestWait bounds every wait for what should arrive.
const (
	maxGradings  = 40
	selfTestWait = 2500 * time.Millisecond
)
