package classroom

import (
	"os/exec"
	"syscall"
)

// shellCommand runs command with cmd.exe; Windows has no memory cgroups.
func shellCommand(command, _ string) *exec.Cmd {
	cmd := exec.Command("cmd.exe")
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: "/C " + command, CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
	return cmd
}

// killGroup kills the process; on Windows the processes it started
// itself may survive it.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
