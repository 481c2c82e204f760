package chatclient_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// Client must end its reader and writer on Close or when the server leaves.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
