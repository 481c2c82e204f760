package procgroup

import "syscall"

// own makes the process lead a group of its own and die with the thread
// that started it.
func own(a *syscall.SysProcAttr) {
	a.Setpgid = true
	a.Pgid = 0
	a.Pdeathsig = syscall.SIGKILL
}
