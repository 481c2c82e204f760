//go:build unix

package procgroup

import (
	"fmt"
	"os"
	"syscall"
)

// kill kills p's process group (its ID is p's PID, p leading it), or p
// if that fails.
func kill(p *os.Process) error {
	gerr := syscall.Kill(-p.Pid, syscall.SIGKILL)
	if gerr == nil {
		return nil
	}
	if perr := p.Kill(); perr != nil {
		return fmt.Errorf("procgroup: kill process group %d: %v; kill process: %w", p.Pid, gerr, perr)
	}
	return nil
}
