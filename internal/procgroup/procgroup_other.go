//go:build !unix && !windows

package procgroup

import (
	"fmt"
	"os"
	"syscall"
)

// own does nothing where there are no process groups.
func own(*syscall.SysProcAttr) {}

// kill kills the process, and with luck what it started.
func kill(p *os.Process) error {
	if err := p.Kill(); err != nil {
		return fmt.Errorf("procgroup: kill process %d: %w", p.Pid, err)
	}
	return nil
}
