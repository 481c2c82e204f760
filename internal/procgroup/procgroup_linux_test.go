package procgroup

import (
	"testing"

	"golang.org/x/sys/unix"
)

// adoptOrphans makes this process the reaper of its orphaned
// descendants, so that a test can wait for them, and reports whether it
// could.
func adoptOrphans(t *testing.T) bool {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Logf("cannot become a subreaper (%v): the group's emptiness is not checked", err)
		return false
	}
	return true
}

func TestOwnDeathSignal(t *testing.T) {
	if a := Attr(nil); a.Pdeathsig != unix.SIGKILL {
		t.Errorf("Attr(nil).Pdeathsig = %v, want SIGKILL", a.Pdeathsig)
	}
}
