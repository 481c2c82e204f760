package classroom

import "syscall"

// groupAttr puts a process in a process group of its own, killed when
// chatgrade's process dies.
func groupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
