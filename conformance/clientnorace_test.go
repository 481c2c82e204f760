//go:build !race

package conformance

// clientGradings bounds the client self-test's gradings under way at once:
// each starts a client process per scenario, up to eight at a time.
const clientGradings = 12
