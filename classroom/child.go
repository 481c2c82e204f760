package classroom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chatspec/chatspec/internal/procgroup"
)

// A class run grades each student in a process of its own: chatgrade
// started again (or, in tests, the test binary), with childVar set to
// the mode. On Linux that process is started in namespaces of its own, so
// the build, the server and the grading all run there. It reads its job
// as JSON on standard input, writes progress lines on standard error and
// its Result as JSON on standard output.
const childVar = "CHATGRADE_CHILD"

// The modes of a child process.
const (
	modeStudent = "student" // grade the student of the job
	modeProbe   = "probe"   // check the namespace works, and exit
)

// Child runs this process as a class run's child, if it was started as
// one: a main calls it first, and exits with the code it returns when ok.
//
//	if code, ok := classroom.Child(); ok {
//		os.Exit(code)
//	}
func Child() (code int, ok bool) {
	switch os.Getenv(childVar) {
	case "":
		return 0, false
	case modeProbe:
		if err := probeLoopback(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1, true
		}
		return 0, true
	case modeStudent:
		return runChild(os.Stdin, os.Stdout, os.Stderr), true
	}
	fmt.Fprintf(os.Stderr, "classroom: unknown %s %q\n", childVar, os.Getenv(childVar))
	return 2, true
}

// runChild grades the job read from in, and writes the result to out.
func runChild(in io.Reader, out, progress io.Writer) int {
	var j job
	if err := json.NewDecoder(in).Decode(&j); err != nil {
		fmt.Fprintln(progress, "classroom: read the job:", err)
		return 2
	}
	// The parent kills us when it is interrupted; a signal ends the
	// grading early but still with a result.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res := gradeStudent(ctx, j, progress)
	if err := json.NewEncoder(out).Encode(res); err != nil {
		fmt.Fprintln(progress, "classroom: write the result:", err)
		return 2
	}
	return 0
}

// childGrace is how long after a student's deadline its process is given
// to hand in its result before it is killed.
const childGrace = 30 * time.Second

// spawn runs job j in a child process started as self under sb, sending
// each progress line to line, and returns its result. A child that ends
// without a result, or overruns its deadline, gets a result with an
// internal problem.
func spawn(ctx context.Context, self []string, sb sandbox, j job, line func(string)) *Result {
	in, err := json.Marshal(j)
	if err != nil {
		return problemResult(&j.Student, j.Isolation, &Problem{Stage: "internal", What: err.Error()})
	}
	ctx, cancel := context.WithDeadline(ctx, j.Deadline.Add(childGrace))
	defer cancel()
	cmd := exec.Command(self[0], self[1:]...)
	cmd.Env = append(os.Environ(), childVar+"="+modeStudent)
	cmd.Stdin = bytes.NewReader(in)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	lines := &lineWriter{line: line}
	cmd.Stderr = lines
	cmd.SysProcAttr = sb.attr()
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		return problemResult(&j.Student, j.Isolation, &Problem{Stage: "internal", What: "start the grading process: " + err.Error()})
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		// In its own PID namespace, killing it ends everything it started.
		_ = procgroup.Kill(cmd)
		werr = <-done
	}
	lines.flush()
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err == nil && res.Name != "" {
		return &res
	}
	what := "the grading process ended without a result"
	if werr != nil {
		what += " (" + exitText(werr) + ")"
	}
	if ctx.Err() != nil {
		what = fmt.Sprintf("the grading process did not end by the student's time limit (%s) and was killed", j.Student.TimeLimit)
		if errors.Is(ctx.Err(), context.Canceled) {
			what = "the class run was interrupted"
		}
	}
	return problemResult(&j.Student, j.Isolation, &Problem{Stage: "internal", What: what, Output: lines.tail()})
}

// lineWriter splits what is written into lines and hands each to line;
// it keeps the last ones. Only the child's stderr copier writes to it,
// but tail may be called after: mu guards the state.
type lineWriter struct {
	line func(string)

	mu      sync.Mutex
	partial []byte   // guarded by mu
	last    []string // guarded by mu
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.emitLocked(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(b), nil
}

func (w *lineWriter) emitLocked(s string) {
	s = strings.TrimRight(s, "\r")
	w.last = append(w.last, s)
	if len(w.last) > outputLines {
		w.last = w.last[1:]
	}
	if w.line != nil {
		w.line(s)
	}
}

// flush hands on a last line without a newline.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.emitLocked(string(w.partial))
		w.partial = nil
	}
}

// tail returns the last lines.
func (w *lineWriter) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.last, "\n")
}

// probe starts a child in sb and checks that the namespace works.
func probe(self []string, sb sandbox) error {
	cmd := exec.Command(self[0], self[1:]...)
	cmd.Env = append(os.Environ(), childVar+"="+modeProbe)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = sb.attr()
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}
