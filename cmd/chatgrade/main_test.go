package main

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/internal/faultclient"
	"github.com/chatspec/chatspec/internal/faultproxy"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatserver"
	"github.com/chatspec/chatspec/reference/chatserver/chatservertest"
	"github.com/chatspec/chatspec/report"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// chatgrade runs the command line args and returns the exit code and
// what it wrote.
func chatgrade(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, env{stdout: &out, stderr: &errOut})
	return code, out.String(), errOut.String()
}

// startReference runs the reference server, with a 1s heartbeat
// timeout, until the test ends, and returns its address.
func startReference(t *testing.T) string {
	t.Helper()
	addr, _ := chatservertest.Start(t, chatserver.Config{HeartbeatTimeout: time.Second})
	return addr
}

// quick are timings for the reference server's 1s heartbeat timeout.
var quick = []string{"-heartbeat", "200ms", "-expiry", "1500ms", "-quiet", "200ms"}

func TestServerPass(t *testing.T) {
	addr := startReference(t)
	dir := t.TempDir()
	jsonFile := filepath.Join(dir, "r.json")
	// Flags after the address, as the usage line has them.
	args := append([]string{"server", addr}, quick...)
	args = append(args, "-strict", "-report-json", jsonFile, "-report-html", filepath.Join(dir, "r.html"), "-report-junit", filepath.Join(dir, "r.xml"))
	code, out, errOut := chatgrade(t, args...)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Verdict: PASS") || strings.Contains(out, "\x1b[") {
		t.Errorf("the report on stdout has no verdict, or colour off a terminal:\n%s", out)
	}
	if !strings.Contains(errOut, "grading "+addr) {
		t.Errorf("no progress on stderr: %q", errOut)
	}
	f, err := os.Open(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := report.ReadJSON(f)
	if err != nil || rep.Verdict() != report.Pass || !rep.Strict {
		t.Errorf("the JSON report: %v, verdict %v", err, rep.Verdict())
	}
	for _, name := range []string{"r.html", "r.xml"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}

func TestServerFail(t *testing.T) {
	var m faultproxy.Mutant
	for _, c := range faultproxy.Catalogue() {
		if c.Name == "no-echo" {
			m = c
		}
	}
	srv, err := m.Start(protocol.FramingLine, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	// -addr instead of the positional address, and flags first.
	args := append([]string{"server", "-rule", "messages.echo,messages.to-others"}, quick...)
	code, out, _ := chatgrade(t, append(args, "-addr", srv.Addr())...)
	if code != 1 || !strings.Contains(out, "FAIL [MUST] messages.echo") {
		t.Errorf("exit %d, want 1 with messages.echo failed:\n%s", code, out)
	}
}

func TestServerCannotGrade(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nobody listens there now
	code, out, _ := chatgrade(t, append([]string{"server", addr}, quick...)...)
	if code != 2 || !strings.Contains(out, "CANNOT GRADE") {
		t.Errorf("exit %d, want 2 with CANNOT GRADE:\n%s", code, out)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout or stderr
	}{
		{nil, 3, "Usage:"},
		{[]string{"help"}, 0, "The commands are:"},
		{[]string{"-h"}, 0, "The commands are:"},
		{[]string{"help", "server"}, 0, "-godog.concurrency"},
		{[]string{"help", "class"}, 0, "-parallel"},
		{[]string{"help", "nope"}, 3, "unknown command"},
		{[]string{"server", "-h"}, 0, "-timeout"},
		{[]string{"server"}, 3, "no server address"},
		{[]string{"server", "a:1", "b:2"}, 3, "one server address"},
		{[]string{"server", "a:1", "-addr", "b:2"}, 3, "two addresses"},
		{[]string{"server", "a:1", "-framing", "xml"}, 3, "-framing"},
		{[]string{"server", "a:1", "-nope"}, 3, "flag provided but not defined: -nope"},
		{[]string{"server", "a:1", "-expiry", "40m"}, 3, "rerun with -timeout"},
		{[]string{"server", "a:1", "-godog.format", "junit:x.xml"}, 3, "-report-junit"},
		{[]string{"class"}, 3, "one roster file"},
		{[]string{"class", "missing.toml"}, 3, "missing.toml"},
		{[]string{"class", "-parallel", "-1", "r.toml"}, 3, "-parallel -1"},
		{[]string{"client"}, 3, "no client"},
		{[]string{"client", "-h"}, 0, "-client-first"},
		{[]string{"help", "client"}, 0, "-client-quit"},
		{[]string{"client", "-client-cmd", "a", "--", "b"}, 3, "two commands"},
		{[]string{"client", "-client-profile", "missing.toml"}, 3, "missing.toml"},
		{[]string{"client", "-client-wait", "0s", "--", "a"}, 3, "-client-wait"},
		{[]string{"version"}, 0, "chatgrade"},
		{[]string{"grade"}, 3, `unknown command "grade"`},
	} {
		code, out, errOut := chatgrade(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("chatgrade %q: exit %d, want %d with %q\nstdout: %s\nstderr: %s", tc.args, code, tc.code, tc.want, out, errOut)
		}
	}
}

// TestClient grades the reference client (PASS, exit 0) and a client that
// sends the quit word as DATA (a MUST failure, exit 1), each command given
// after "--".
func TestClient(t *testing.T) {
	dir := t.TempDir()
	build := func(pkg, name string) string {
		bin := filepath.Join(dir, name)
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
		return bin
	}
	ref := build("github.com/chatspec/chatspec/cmd/chatclient", "chatclient")
	faulty := build("github.com/chatspec/chatspec/internal/faultclient/cmd/faultclient", "faultclient")
	code, out, errOut := chatgrade(t, "client", "-client-heartbeat", "1s", "-rule", "client-joining.join-shape,client-messages.data-shape",
		"--", ref, "-plain", "-addr", "{addr}", "-heartbeat", "1s")
	if code != 0 || !strings.Contains(out, "Verdict: PASS") || !strings.Contains(errOut, "grading") {
		t.Errorf("the reference client: exit %d, want 0 with PASS and progress\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = chatgrade(t, "client", "-client-heartbeat", "1s", "-client-quit", "QUIT", "-rule", "client-quitting.quit",
		"--", faulty, "-addr", "{addr}", "-heartbeat", "1s", "-quit", "QUIT", "-faults", faultclient.QuitAsData)
	if code != 1 || !strings.Contains(out, "FAIL [MUST] client-quitting.quit") {
		t.Errorf("a client that sends QUIT as DATA: exit %d, want 1 with client-quitting.quit failed\n%s\n%s", code, out, errOut)
	}
}

func TestShellJoin(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"java", "-cp", "out", "Client", "{host}", "{port}"}, "java -cp out Client {host} {port}"},
		{[]string{"/my dir/client", "it's"}, `'/my dir/client' 'it'\''s'`},
		{[]string{"a;b", "$HOME", ""}, `'a;b' '$HOME' ''`},
	} {
		if got := shellJoin(tc.args); got != tc.want {
			t.Errorf("shellJoin(%q) = %s, want %s", tc.args, got, tc.want)
		}
	}
}

func TestClassBadRoster(t *testing.T) {
	dir := t.TempDir()
	roster := filepath.Join(dir, "r.toml")
	if err := os.WriteFile(roster, []byte("[defaults]\nprot = 5000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := chatgrade(t, "class", roster, "-out", filepath.Join(dir, "out"))
	if want := "chatgrade class: " + roster + `: [defaults]: unknown key "prot" (did you mean "port"?)`; code != 3 || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, want 3 with %s: %s", code, want, errOut)
	}
	if err := os.WriteFile(roster, []byte("[[student]]\nname = \"a\"\naddr = \"h:1\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = chatgrade(t, "class", roster, "-only", "b")
	if code != 3 || !strings.Contains(errOut, "-only b: no such student") {
		t.Errorf("exit %d, want 3 naming the student: %s", code, errOut)
	}
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		v    bool
	}{
		{[]string{"a:1", "-v"}, []string{"a:1"}, true},
		{[]string{"-v", "a:1"}, []string{"a:1"}, true},
		{[]string{"a:1", "b:2"}, []string{"a:1", "b:2"}, false},
		{[]string{"--", "-v"}, []string{"-v"}, false},
		{[]string{"a:1", "--", "-v", "x"}, []string{"a:1", "-v", "x"}, false},
	} {
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		v := fs.Bool("v", false, "")
		pos, err := parseArgs(fs, tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || *v != tc.v {
			t.Errorf("parseArgs(%q) = %q, -v %v, %v; want %q, -v %v", tc.args, pos, *v, err, tc.pos, tc.v)
		}
	}
}

func TestColorReport(t *testing.T) {
	in := "  ok    MUST  a.b  x\n  FAIL  MUST  c.d  y\nFAIL [MUST] c.d: y\n  Verdict: FAIL\n"
	out := colorReport(in)
	for _, want := range []string{"\x1b[32mok\x1b[0m", "\x1b[31mFAIL\x1b[0m  MUST", "Verdict: \x1b[1;31mFAIL\x1b[0m"} {
		if !strings.Contains(out, want) {
			t.Errorf("colorReport: no %q in %q", want, out)
		}
	}
}

// TestColor: colour on a terminal, none when it is not one or NO_COLOR
// is set (terminal() turns NO_COLOR into color false).
func TestColor(t *testing.T) {
	addr := startReference(t)
	args := append([]string{"server", addr, "-rule", "joining.valid-name"}, quick...)
	for _, tc := range []struct {
		tty, color, want bool
	}{{true, true, true}, {true, false, false}, {false, true, false}} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, env{stdout: &out, stderr: &errOut, outTTY: tc.tty, color: tc.color})
		if code != 0 {
			t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
		}
		if got := strings.Contains(out.String(), "\x1b["); got != tc.want {
			t.Errorf("terminal %v, colour allowed %v: colour %v, want %v", tc.tty, tc.color, got, tc.want)
		}
	}
}
