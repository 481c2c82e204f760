package classroom

import (
	"os/exec"
	"syscall"

	"github.com/chatspec/chatspec/internal/procgroup"
)

// shellCommand runs command with cmd.exe, in a process group of its own;
// Windows has no memory cgroups. procgroup.Kill kills only cmd.exe: the
// processes it started itself may survive it.
func shellCommand(command, _ string) *exec.Cmd {
	cmd := exec.Command("cmd.exe")
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: "/C " + command}
	procgroup.Own(cmd)
	return cmd
}
