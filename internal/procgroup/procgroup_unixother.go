//go:build unix && !linux

package procgroup

import "syscall"

// own makes the process lead a group of its own.
func own(a *syscall.SysProcAttr) {
	a.Setpgid = true
	a.Pgid = 0
}
