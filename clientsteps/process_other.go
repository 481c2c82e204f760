//go:build !unix

package clientsteps

import (
	"os"
	"os/exec"
)

// ownGroup does nothing where there are no process groups.
func ownGroup(*exec.Cmd) {}

// killGroup kills the shell, and with luck the client.
func killGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

// pipeUnread cannot tell.
func pipeUnread(*os.File) int { return -1 }
