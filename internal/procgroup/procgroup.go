// Package procgroup starts a command as the leader of a process group of
// its own and kills that whole group: the command and everything it
// started that stayed in its group (a student's server and what its
// script left running in the background, a client and its shell).
//
// On Linux the command is also killed when the thread that started it
// ends (Pdeathsig), which in a Go program that does not lock its
// goroutines to threads is when the program dies. On Windows it gets a
// console process group of its own, but Kill reaches only the command
// itself. Elsewhere, without process groups, both do what they can: Own
// nothing, Kill the command.
package procgroup

import (
	"errors"
	"os/exec"
	"syscall"
)

// ErrNotStarted is returned by Kill for a command that was not started.
var ErrNotStarted = errors.New("procgroup: the command was not started")

// Own makes cmd, when started, the leader of a new process group (and,
// on Linux, killed with SIGKILL when its parent dies). It sets only
// those fields of cmd.SysProcAttr, creating it if it is nil, so that
// whatever else is set there (namespaces, credentials) is kept. Call it
// before cmd.Start.
func Own(cmd *exec.Cmd) { cmd.SysProcAttr = Attr(cmd.SysProcAttr) }

// Attr returns a with the fields that Own sets set, or, if a is nil, new
// attributes with only those: for code that builds a SysProcAttr before
// it has the command. Its other fields are left as they are.
func Attr(a *syscall.SysProcAttr) *syscall.SysProcAttr {
	if a == nil {
		a = new(syscall.SysProcAttr)
	}
	own(a)
	return a
}

// Kill sends SIGKILL to cmd's whole process group, which Own made; if
// that fails (the group is gone, or cmd was started without Own), it
// kills cmd's process itself. It returns an error only when neither
// could be signalled, ErrNotStarted if cmd has no process; the error of
// a process that had already been waited for wraps os.ErrProcessDone.
// It does not wait: the caller still calls cmd.Wait.
func Kill(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return ErrNotStarted
	}
	return kill(cmd.Process)
}
