package main_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatserver"
	"github.com/chatspec/chatspec/reference/chatserver/chatservertest"
)

// buildClient builds this command into t.TempDir() and returns its path.
func buildClient(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to build the client with: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "chatclient")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a running chatclient with piped standard streams.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // standard output, line by line; closed at its end
	stderr *bytes.Buffer
	exited chan struct{} // closed once Wait has returned; then err is set
	err    error
}

func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 100), stderr: new(bytes.Buffer), exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	go func() {
		<-scanned // Wait closes stdout: read it all first
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

func (p *proc) write(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("write %q: %v", line, err)
	}
}

// expect reads the next line of output and compares it with want.
func (p *proc) expect(want string) {
	p.t.Helper()
	select {
	case got, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("output ended, want %q", want)
		}
		if got != want {
			p.t.Fatalf("output %q, want %q", got, want)
		}
	case <-time.After(20 * time.Second): // a failure guard only
		p.t.Fatalf("no output, want %q", want)
	}
}

// expectOnline reads the next line and checks that it is prefix followed
// by "* online: " and the given names in any order (LIST order is the
// server's choice).
func (p *proc) expectOnline(prefix string, names ...string) {
	p.t.Helper()
	select {
	case got, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("output ended, want the online list")
		}
		if !onlineLine(got, prefix, names) {
			p.t.Fatalf("output %q, want %q and %q in any order", got, prefix+"* online: ", names)
		}
	case <-time.After(20 * time.Second): // a failure guard only
		p.t.Fatalf("no output, want the online list")
	}
}

func onlineLine(line, prefix string, names []string) bool {
	rest, ok := strings.CutPrefix(line, prefix+"* online: ")
	if !ok {
		return false
	}
	got := strings.Fields(rest)
	slices.Sort(got)
	want := slices.Sorted(slices.Values(names))
	return slices.Equal(got, want)
}

// wait waits for the process to exit and returns its exit code and the
// rest of its output.
func (p *proc) wait() (int, []string) {
	p.t.Helper()
	var rest []string
	for l := range p.lines {
		rest = append(rest, l)
	}
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second): // a failure guard only
		p.t.Fatal("the client did not exit")
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode(), rest
	}
	if p.err != nil {
		p.t.Fatal(p.err)
	}
	return 0, rest
}

func TestPlainModeEndToEnd(t *testing.T) {
	bin := buildClient(t)
	addr, srv := chatservertest.Start(t, chatserver.Config{})

	bob := start(t, bin, "-addr", addr)
	bob.write("bob")
	bob.expect("name: ") // its own line, though input is not echoed
	bob.expectOnline("", "bob")

	alice := start(t, bin, "-addr", addr, "-name", "alice") // no prompt with -name
	alice.expectOnline("", "alice", "bob")
	bob.expect("* alice joined")

	alice.write("hi bob")
	alice.expect("alice: hi bob")
	bob.expect("alice: hi bob")

	alice.stdin.Close() // end of input: QUIT, exit 0
	if code, rest := alice.wait(); code != 0 {
		t.Errorf("alice exited %d at end of input (output %q, stderr %q), want 0", code, rest, alice.stderr)
	}
	bob.expect("* alice left")

	srv.Close() // the server goes away: say so, exit non-zero
	code, rest := bob.wait()
	if code == 0 || len(rest) != 0 {
		t.Errorf("bob exited %d with output %q when the server went away, want non-zero and nothing", code, rest)
	}
	if got := bob.stderr.String(); !strings.Contains(got, "connection lost: the server closed the connection") {
		t.Errorf("bob's stderr = %q, want it to say the connection was lost", got)
	}
}

func TestFramingUTFEndToEnd(t *testing.T) {
	bin := buildClient(t)
	addr, _ := chatservertest.Start(t, chatserver.Config{Framing: protocol.FramingUTF})
	alice := start(t, bin, "-addr", addr, "-name", "alice", "-framing", "utf")
	alice.expectOnline("", "alice")
	alice.write("hej 😀")
	alice.expect("alice: hej 😀")
	alice.stdin.Close()
	if code, _ := alice.wait(); code != 0 {
		t.Errorf("exit %d, want 0; stderr %q", code, alice.stderr)
	}
}

// scripted accepts one connection, answers JOIN with J_OK and a LIST, and
// sends every later message the client writes on the returned channel.
func scripted(t *testing.T) (string, <-chan protocol.Message) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan protocol.Message, 16)
	go func() {
		defer close(got)
		defer l.Close()
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := protocol.FramingLine.NewReader(conn, 0)
		for {
			line, err := r.ReadFrame()
			if err != nil {
				return
			}
			m, err := protocol.Parse(line)
			if err != nil {
				t.Errorf("client sent %q: %v", line, err)
			}
			if m.Kind == protocol.KindJoin {
				io.WriteString(conn, "J_OK\nLIST "+m.Name+"\n")
			}
			got <- m
			if m.Kind == protocol.KindQuit {
				return
			}
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l.Addr().String(), got
}

func nextMsg(t *testing.T, got <-chan protocol.Message) protocol.Message {
	t.Helper()
	select {
	case m, ok := <-got:
		if !ok {
			t.Fatal("connection ended, want a message")
		}
		return m
	case <-time.After(20 * time.Second): // a failure guard only
		t.Fatal("no message from the client")
	}
	return protocol.Message{}
}

func TestQuitOnEveryWayOut(t *testing.T) {
	bin := buildClient(t)
	ways := map[string]func(p *proc){
		"end of input": func(p *proc) { p.stdin.Close() },
		"/quit":        func(p *proc) { p.write("/quit") },
		"SIGTERM":      func(p *proc) { p.cmd.Process.Signal(syscall.SIGTERM) },
		"SIGINT":       func(p *proc) { p.cmd.Process.Signal(syscall.SIGINT) },
	}
	for name, leave := range ways {
		t.Run(name, func(t *testing.T) {
			addr, got := scripted(t)
			p := start(t, bin, "-addr", addr, "-name", "alice")
			if m := nextMsg(t, got); m.Kind != protocol.KindJoin || m.Name != "alice" || m.Addr != addr {
				t.Fatalf("client sent %q, want JOIN alice, %s", m, addr)
			}
			p.expectOnline("", "alice")
			p.write("bye")
			if m := nextMsg(t, got); m.Kind != protocol.KindData || m.Text != "bye" {
				t.Fatalf("client sent %q, want DATA alice: bye", m)
			}
			leave(p)
			if m := nextMsg(t, got); m.Kind != protocol.KindQuit {
				t.Errorf("client sent %q, want QUIT", m)
			}
			if code, _ := p.wait(); code != 0 {
				t.Errorf("exit %d, want 0; stderr %q", code, p.stderr)
			}
		})
	}
}

func TestBadFlags(t *testing.T) {
	p := start(t, buildClient(t), "-framing", "xml")
	if code, _ := p.wait(); code != 2 {
		t.Errorf("exit %d for -framing xml, want 2", code)
	}
	if !strings.Contains(p.stderr.String(), "want line or utf") {
		t.Errorf("stderr %q, want the framing choices", p.stderr)
	}
}
