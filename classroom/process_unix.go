//go:build unix

package classroom

import (
	"os/exec"

	"github.com/chatspec/chatspec/internal/procgroup"
)

// shellCommand runs command with /bin/sh; with a cgroup, the shell first
// moves itself into it (so the command and all it starts are in it from
// their first byte of memory) and then runs the command.
func shellCommand(command, cgroup string) *exec.Cmd {
	cmd := exec.Command("/bin/sh", "-c", command)
	if cgroup != "" {
		const enter = `echo $$ > "$1/cgroup.procs" || { echo "chatgrade: cannot enter the memory cgroup $1" >&2; exit 125; }; exec /bin/sh -c "$2"`
		cmd = exec.Command("/bin/sh", "-c", enter, "chatgrade", cgroup, command)
	}
	// A process group of its own, so that procgroup.Kill reaches everything it
	// starts.
	procgroup.Own(cmd)
	return cmd
}
