package classroom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chatspec/chatspec/internal/procgroup"
)

// proc is a started command of a student (the build, the server): a
// shell running it in its own process group, its output captured. Its
// owner calls stop (or waits on done) before it forgets it.
type proc struct {
	cmd  *exec.Cmd
	out  *output
	done chan struct{} // closed when the process has ended and been waited for
	err  error         // how it ended; set before done is closed
}

// waitDelay bounds how long a process's output pipes are drained after
// it ended: a background child that holds them open cannot block us.
const waitDelay = 2 * time.Second

// startProc runs command with the shell in dir, in its own process group,
// with its standard output and error going to out; if cgroup is not "",
// the shell first moves itself into that cgroup, so that everything the
// command starts is in it too. env replaces the environment when not
// nil.
func startProc(dir, command, cgroup string, env []string, out *output) (*proc, error) {
	cmd := shellCommand(command, cgroup)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin = nil // reads from the null device
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("classroom: start %q: %w", command, err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop kills the process's whole group (what it left running in the
// background too, even when it has ended itself) and waits until it has
// ended.
func (p *proc) stop() {
	_ = procgroup.Kill(p.cmd) // not started: nothing to kill
	<-p.done
}

// exitText says how the process ended, once done is closed.
func (p *proc) exitText() string {
	if p.err == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ProcessState.String()
	}
	return p.err.Error()
}

// run runs command to its end, or kills it when ctx ends; it returns how
// it ended (nil for exit status 0).
func runProc(ctx context.Context, dir, command, cgroup string, env []string, out *output) error {
	p, err := startProc(dir, command, cgroup, env, out)
	if err != nil {
		return err
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		p.stop()
		return ctx.Err()
	}
}

// childEnv returns the environment for a student's commands: ours,
// without chatgrade's own variables.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, childVar+"=") {
			env = append(env, kv)
		}
	}
	return env
}

// output keeps what a process writes: the first headMax bytes and the
// last tailMax, and how many there were in all. It is safe for
// concurrent use (guarded by mu).
type output struct {
	mu      sync.Mutex
	head    []byte // guarded by mu
	tail    []byte // guarded by mu: a window of the last bytes
	total   int64  // guarded by mu
	headMax int
	tailMax int
}

// Default bounds of an output.
const (
	outputHead = 16 << 10
	outputTail = 240 << 10
)

func newOutput() *output { return &output{headMax: outputHead, tailMax: outputTail} }

// Write keeps b.
func (o *output) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.total += int64(len(b))
	rest := b
	if room := o.headMax - len(o.head); room > 0 {
		n := min(room, len(rest))
		o.head = append(o.head, rest[:n]...)
		rest = rest[n:]
	}
	if len(rest) == 0 {
		return len(b), nil
	}
	o.tail = append(o.tail, rest...)
	if over := len(o.tail) - o.tailMax; over > 0 {
		// Keep the window from growing: move what stays to the front.
		o.tail = o.tail[:copy(o.tail, o.tail[over:])]
	}
	return len(b), nil
}

// Text returns what was kept, with a line saying how much was left out
// between the head and the tail.
func (o *output) Text() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b bytes.Buffer
	b.Write(o.head)
	if cut := o.total - int64(len(o.head)) - int64(len(o.tail)); cut > 0 {
		fmt.Fprintf(&b, "\n[... %d bytes left out ...]\n", cut)
	}
	b.Write(o.tail)
	return b.String()
}

// Last returns the last n lines written (fewer if there are fewer).
func (o *output) Last(n int) string {
	text := strings.TrimRight(o.Text(), "\n")
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Len returns how many bytes were written in all.
func (o *output) Len() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.total
}
