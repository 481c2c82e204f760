//go:build unix

package procgroup

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// guard bounds how long a test waits for what must happen: a failure
// guard only, never a stand-in for synchronisation.
const guard = 10 * time.Second

// TestKillGroup: a shell started with Own leads its own group, with the
// child it left in the background; Kill ends both.
func TestKillGroup(t *testing.T) {
	reaping := adoptOrphans(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The background sleep holds the pipe's write end: the pipe reaches
	// its end only once it has exited.
	cmd := exec.Command("/bin/sh", "-c", `sleep 60 & echo $!; wait`)
	cmd.Stdout = w
	Own(cmd)
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	// Should the test fail, leave nothing running.
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	if err := r.SetReadDeadline(time.Now().Add(guard)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(r)
	line, err := br.ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("read the background child's PID: %v", err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("the shell printed %q, not a PID", line)
	}
	if got, err := syscall.Getpgid(pgid); err != nil || got != pgid {
		t.Errorf("the shell's process group is %d (%v), want its own, %d", got, err, pgid)
	}
	if got, err := syscall.Getpgid(child); err != nil || got != pgid {
		t.Errorf("the child's process group is %d (%v), want the shell's, %d", got, err, pgid)
	}

	if err := Kill(cmd); err != nil {
		t.Errorf("Kill: %v", err)
	}
	werr := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("the shell ended with %v, want killed by SIGKILL", werr)
	}
	if rest, err := io.ReadAll(br); err != nil {
		// The deadline passed: the child still holds the pipe.
		t.Fatalf("the background child lives on after Kill (the pipe it holds is still open: %v)", err)
	} else if len(rest) > 0 {
		t.Errorf("unexpected output %q", rest)
	}
	if !reaping {
		return // the child has exited; whoever adopted it reaps it
	}
	// The child was adopted by this process: reap it; then nothing is
	// left in the group.
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(child, &ws, 0, nil); err != nil {
		t.Fatalf("reap the background child %d: %v", child, err)
	}
	if ws.Signal() != syscall.SIGKILL {
		t.Errorf("the background child ended with %v, want killed by SIGKILL", ws)
	}
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("signal 0 to the group after Kill: %v, want ESRCH (the group is gone)", err)
	}
}

// TestKillFallsBack: a command that does not lead a group is killed
// itself.
func TestKillFallsBack(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := Kill(cmd); err != nil {
		t.Errorf("Kill: %v", err)
	}
	werr := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("sleep ended with %v, want killed by SIGKILL", werr)
	}
	if err := Kill(cmd); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("Kill after Wait: %v, want os.ErrProcessDone", err)
	}
}

func TestKillNotStarted(t *testing.T) {
	if err := Kill(exec.Command("true")); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Kill of a command not started: %v, want ErrNotStarted", err)
	}
}

// TestOwnKeepsAttr: Own sets its fields on what is there and leaves the
// rest.
func TestOwnKeepsAttr(t *testing.T) {
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: false, Noctty: true, Pgid: 7}
	keep := cmd.SysProcAttr
	Own(cmd)
	if cmd.SysProcAttr != keep {
		t.Error("Own replaced the SysProcAttr that was set")
	}
	if !cmd.SysProcAttr.Setpgid || cmd.SysProcAttr.Pgid != 0 || !cmd.SysProcAttr.Noctty {
		t.Errorf("after Own: %+v, want Setpgid, Pgid 0 and Noctty kept", *cmd.SysProcAttr)
	}
	if a := Attr(nil); a == nil || !a.Setpgid {
		t.Errorf("Attr(nil) = %+v, want Setpgid", a)
	}
}
