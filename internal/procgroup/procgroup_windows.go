package procgroup

import (
	"fmt"
	"os"
	"syscall"
)

// own starts the process in a console process group of its own.
func own(a *syscall.SysProcAttr) { a.CreationFlags |= syscall.CREATE_NEW_PROCESS_GROUP }

// kill kills the process; what it started itself may survive it.
func kill(p *os.Process) error {
	if err := p.Kill(); err != nil {
		return fmt.Errorf("procgroup: kill process %d: %w", p.Pid, err)
	}
	return nil
}
