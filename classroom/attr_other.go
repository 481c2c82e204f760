//go:build unix && !linux

package classroom

import "syscall"

// groupAttr puts a process in a process group of its own.
func groupAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
