package clientsteps

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatspec/chatspec/internal/procgroup"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/report"
)

// The transcript's names for the client process's streams and events.
const (
	connStdin   = "stdin"
	connStdout  = "stdout"
	connStderr  = "stderr"
	connProcess = "process"
)

// maxOutput bounds what the suite keeps of each of a client's output
// streams: a client that prints a 60,000-character line now and then fits
// many times over.
const maxOutput = 4 << 20

// process is one run of the client's command, in a process group of its
// own, with its standard input written by the suite and its output read
// into buffers and the transcript. The step goroutine owns stdin; the
// readers and the waiter are goroutines of the process, which stop waits
// for.
type process struct {
	cmd   *exec.Cmd
	tr    *peer.Transcript
	stdin *os.File // the write end of the client's standard input; nil once closed (step goroutine only)

	outR, errR *os.File       // the read ends of its output
	readers    sync.WaitGroup // the stdout and stderr readers
	reading    atomic.Int32   // readers not yet at the end of their stream
	exited     chan struct{}  // closed when the process has been waited for
	state      *os.ProcessState
	killed     atomic.Bool // the suite ended it

	mu     sync.Mutex
	stdout []byte // guarded by mu
	stderr []byte // guarded by mu
}

// output is a position in a process's output, or what it printed since
// one.
type output struct{ stdout, stderr int }

// startProcess runs command with "sh -c" in dir, in a process group of its
// own. notify is called whenever the process prints or exits.
func startProcess(command, dir string, tr *peer.Transcript, notify func()) (*process, error) {
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			files = append(files, r, w)
		}
		return r, w, err
	}
	inR, inW, err := pipe()
	if err != nil {
		return nil, fmt.Errorf("clientsteps: %w", err)
	}
	outR, outW, err := pipe()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("clientsteps: %w", err)
	}
	errR, errW, err := pipe()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("clientsteps: %w", err)
	}
	cmd := exec.Command("sh", "-c", command)
	cmd.Dir = dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	procgroup.Own(cmd)
	if err := cmd.Start(); err != nil {
		closeAll()
		tr.Event(connProcess, "could not start sh -c %s: %v", strconv.Quote(command), err)
		return nil, fmt.Errorf("clientsteps: start %q: %w", command, err)
	}
	// The client holds its ends now.
	inR.Close()
	outW.Close()
	errW.Close()
	p := &process{cmd: cmd, tr: tr, stdin: inW, outR: outR, errR: errR, exited: make(chan struct{})}
	tr.Event(connProcess, "started: sh -c %s (pid %d)", strconv.Quote(command), cmd.Process.Pid)
	p.readers.Add(2)
	p.reading.Store(2)
	go p.read(outR, connStdout, &p.stdout, notify)
	go p.read(errR, connStderr, &p.stderr, notify)
	go func() {
		err := cmd.Wait()
		p.state = cmd.ProcessState
		if !p.killed.Load() {
			tr.Event(connProcess, "exited: %s", describeExit(p.state, err))
		}
		close(p.exited)
		notify()
	}()
	return p, nil
}

// describeExit says how a process ended.
func describeExit(st *os.ProcessState, err error) string {
	if st == nil {
		return err.Error()
	}
	return st.String()
}

// read copies one output stream into its buffer and the transcript.
func (p *process) read(f *os.File, label string, buf *[]byte, notify func()) {
	defer p.readers.Done()
	defer notify()
	defer p.reading.Add(-1)
	b := make([]byte, 8192)
	for {
		n, err := f.Read(b)
		if n > 0 {
			p.tr.Record(label, report.Received, b[:n])
			p.mu.Lock()
			if len(*buf) < maxOutput {
				*buf = append(*buf, b[:min(n, maxOutput-len(*buf))]...)
			}
			p.mu.Unlock()
			notify()
		}
		if err != nil {
			return
		}
	}
}

// mark returns the present position in the output.
func (p *process) mark() output {
	p.mu.Lock()
	defer p.mu.Unlock()
	return output{len(p.stdout), len(p.stderr)}
}

// since returns what the process printed on each stream since m.
func (p *process) since(m output) (stdout, stderr []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout[min(m.stdout, len(p.stdout)):len(p.stdout):len(p.stdout)], p.stderr[min(m.stderr, len(p.stderr)):len(p.stderr):len(p.stderr)]
}

// over reports whether the process has exited and everything it printed
// has been read.
func (p *process) over() bool { return !p.running() && p.reading.Load() == 0 }

// between returns what the process printed on standard output from a
// to b.
func (p *process) between(a, b output) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.stdout[min(a.stdout, len(p.stdout)):min(b.stdout, len(p.stdout))])
}

// running reports whether the process has not exited.
func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// errStdinClosed is returned by a write after standard input was closed.
var errStdinClosed = errors.New("clientsteps: standard input is closed")

// write types b into the client's standard input and records it.
func (p *process) write(b []byte) error {
	if p.stdin == nil {
		return errStdinClosed
	}
	p.tr.Record(connStdin, report.Sent, b)
	if _, err := p.stdin.Write(b); err != nil {
		p.tr.Event(connStdin, "write failed: %v", err)
		return fmt.Errorf("clientsteps: type into the client: %w", err)
	}
	return nil
}

// closeStdin ends the client's standard input, as Ctrl-D at a terminal
// does.
func (p *process) closeStdin() {
	if p.stdin == nil {
		return
	}
	p.tr.Event(connStdin, "closed: the end of input")
	p.stdin.Close()
	p.stdin = nil
}

// unread returns how many bytes typed the client has not read yet, or -1
// where the system cannot tell.
func (p *process) unread() int {
	if p.stdin == nil {
		return -1
	}
	return pipeUnread(p.stdin)
}

// outputGrace is how long stop reads a killed client's output before it
// gives up: long enough for a busy machine to deliver what was printed.
const outputGrace = 5 * time.Second

// stop kills the process group, and waits for the process and its
// readers. A reader kept busy by a grandchild that left the group is
// given outputGrace, then cut off.
func (p *process) stop() {
	if p.running() {
		p.killed.Store(true)
		_ = procgroup.Kill(p.cmd)
		p.tr.Event(connProcess, "killed by the suite at the end of the scenario")
	}
	if p.stdin != nil {
		p.stdin.Close()
		p.stdin = nil
	}
	<-p.exited
	done := make(chan struct{})
	go func() {
		p.readers.Wait()
		close(done)
	}()
	t := time.NewTimer(outputGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		p.tr.Event(connProcess, "its output is still open %s after the kill (did something it started leave its process group?): the suite stops reading it", outputGrace)
		p.outR.Close()
		p.errR.Close()
		<-done
	}
	p.outR.Close()
	p.errR.Close()
}

// exitStatus says how the process ended, for a report: "" while it runs.
func (p *process) exitStatus() string {
	if p.running() {
		return ""
	}
	return describeExit(p.state, nil)
}
