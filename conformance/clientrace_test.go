//go:build race

package conformance

// clientGradings bounds the client self-test's gradings under way at once:
// each starts a client process per scenario, and the race detector slows
// every one of them down.
const clientGradings = 6
