package classroom

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/internal/faultproxy"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/report"
)

func TestMain(m *testing.M) {
	// The class run starts this test binary again for every student.
	if code, ok := Child(); ok {
		os.Exit(code)
	}
	if code, ok := testHelper(); ok {
		os.Exit(code)
	}
	goleak.VerifyTestMain(m)
}

// The fixed ports of the class test, below 32768: every started server
// of the roster listens on samePort, in its own network namespace, at
// the same time.
const (
	samePort  = 23456
	otherPort = 23457
)

// binaries builds the commands the roster starts, once per test binary.
var binaries = sync.OnceValues(func() (map[string]string, error) {
	dir, err := os.MkdirTemp("", "classroom-bin")
	if err != nil {
		return nil, err
	}
	out := make(map[string]string)
	for name, pkg := range map[string]string{
		"chatserver":  "github.com/chatspec/chatspec/cmd/chatserver",
		"faultserver": "github.com/chatspec/chatspec/internal/faultproxy/faultserver",
	} {
		bin := filepath.Join(dir, name)
		cmd := exec.Command(goTool(), "build", "-o", bin, pkg)
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
		}
		out[name] = bin
	}
	return out, nil
})

// goTool returns the go command that runs the tests.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func buildBinaries(t *testing.T) map[string]string {
	t.Helper()
	bins, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	return bins
}

// mutant returns the catalogue's server of that name.
func mutant(t *testing.T, name string) faultproxy.Mutant {
	t.Helper()
	for _, m := range faultproxy.Catalogue() {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no mutant %q in the catalogue", name)
	return faultproxy.Mutant{}
}

// quickTimings are the grading keys for servers with a 2s heartbeat
// timeout, with room for a loaded machine. (The class test leaves out the
// flood (@heavy), and the timing rules (@slow) of the broken servers:
// the self-test grades them; here they would only load a machine that
// other packages' tests share.)
const quickTimings = `heartbeat = "250ms"
expiry = "4s"
wait = "2500ms"
quiet = "300ms"
`

// TestClass grades a class of twelve in one run: the reference server in
// both framings, a broken server of the self-test's catalogue, one that
// crashes and one that hangs (another of the catalogue), all on the same
// port; a broken server of the catalogue already running (addr); one that never listens, one that listens on
// another port, one that exits at once, one whose build fails; and two
// entries with roster errors. The class report, JSON and CSV must say
// the right thing for each.
func TestClass(t *testing.T) {
	bins := buildBinaries(t)
	remote, err := mutant(t, "list-commas").Start(protocol.FramingLine, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remote.Close() })

	root := t.TempDir()
	for _, d := range []string{"ref-line", "ref-utf", "no-echo", "crasher", "hangs", "silent", "elsewhere", "exits", "no-build"} {
		if err := os.MkdirAll(filepath.Join(root, "hand-ins", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	srv, fault := bins["chatserver"], bins["faultserver"]
	roster := fmt.Sprintf(`title = "Networking, test class"

[defaults]
dir = "hand-ins/{name}"
port = %[1]d
start_timeout = "10s"
%[4]s
[[student]]
name = "ref-line"
server = "%[2]s -addr 127.0.0.1:{port} -heartbeat-timeout 2s"
tags = "~@heavy"

[[student]]
name = "ref-utf"
server = "%[2]s -addr :{port} -heartbeat-timeout 2s -framing utf"
tags = "~@heavy"

[[student]]
name = "no-echo"
server = "%[3]s -mutant no-echo -addr 127.0.0.1:{port}"
tags = "~@slow&&~@heavy"

[[student]]
name = "crasher"
server = "%[3]s -addr 127.0.0.1:{port} -crash-on ' junk '"
rules = ["joining.valid-name", "messages.echo", "robustness.junk", "robustness.silent-connection", "robustness.join-race"]

[[student]]
name = "hangs"
server = "%[3]s -mutant accept-thread-dies -addr 127.0.0.1:{port}"
rules = ["joining.valid-name", "robustness.junk", "robustness.silent-connection", "robustness.join-race"]

[[student]]
name = "remote"
addr = "%[5]s"
tags = "~@slow&&~@heavy"

[[student]]
name = "silent"
server = "sleep 600"
port = %[6]d
start_timeout = "1s"

[[student]]
name = "elsewhere"
server = "%[3]s -addr 127.0.0.1:%[6]d"
start_timeout = "1s"

[[student]]
name = "exits"
server = "echo 'Error: Could not find or load main class Server' >&2; exit 3"

[[student]]
name = "no-build"
build = "echo 'Server.java:3: error: ';' expected' >&2; exit 1"
server = "java -cp out Server"

[[student]]
name = "typo"
sever = "java Server"

[[student]]
name = "no-dir"
dir = "hand-ins/nobody"
server = "java Server"
`, samePort, srv, fault, quickTimings, remote.Addr(), otherPort)
	rosterPath := filepath.Join(root, "roster.toml")
	if err := os.WriteFile(rosterPath, []byte(roster), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := LoadRoster(rosterPath)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "out")
	var progress bytes.Buffer
	// Three at once: the first three servers share a port. (More would
	// only load the machine, which other packages' tests share.)
	opts := Options{Out: out, Parallel: 3, Progress: &syncWriter{w: &progress}}
	c, err := Run(context.Background(), r, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("progress:\n%s", progress.String())
	isolated := strings.HasPrefix(c.Isolation, "each student")
	if !isolated {
		t.Logf("no namespaces here (%s): the started servers ran one at a time", c.Isolation)
	}

	byName := make(map[string]*Result)
	for _, res := range c.Students {
		byName[res.Name] = res
	}
	want := map[string]report.Verdict{
		"ref-line": report.Pass, "ref-utf": report.Pass, "no-echo": report.Fail, "crasher": report.Pass, "hangs": report.Pass, "remote": report.Fail,
		"silent": report.CannotGrade, "elsewhere": report.CannotGrade, "exits": report.CannotGrade, "no-build": report.CannotGrade,
		"typo": report.CannotGrade, "no-dir": report.CannotGrade,
	}
	for name, v := range want {
		res := byName[name]
		if res == nil {
			t.Fatalf("no result for %s", name)
		}
		if got := res.Verdict(); got != v {
			t.Errorf("%s: verdict %s, want %s (%s)", name, got, v, res.Errors())
			if res.Report != nil {
				var b bytes.Buffer
				_ = report.WriteText(&b, res.Report)
				t.Logf("%s's report:\n%s", name, b.String())
			}
		}
	}

	// What each says beside the rules.
	problem := func(name, stage, what string) {
		t.Helper()
		p := byName[name].Problem
		if p == nil || p.Stage != stage || !strings.Contains(p.What+" "+p.Hint+" "+p.Output, what) {
			t.Errorf("%s: problem %+v, want stage %s mentioning %q", name, p, stage, what)
		}
	}
	problem("silent", "start", fmt.Sprintf("did not listen on port %d", otherPort))
	problem("exits", "start", "exited (exit status 3) before it listened")
	problem("exits", "start", "Could not find or load main class")
	problem("no-build", "build", "the build failed (exit status 1)")
	problem("no-build", "build", "Server.java:3: error:")
	problem("typo", "roster", `unknown key "sever" (did you mean "server"?)`)
	problem("no-dir", "roster", "hand-ins/nobody")
	if isolated {
		// In its own namespace every listener is the hand-in's.
		problem("elsewhere", "start", fmt.Sprintf("It listens on %d", otherPort))
	}
	for _, name := range []string{"ref-line", "ref-utf", "no-echo", "crasher", "hangs", "remote"} {
		if p := byName[name].Problem; p != nil {
			t.Errorf("%s: problem %+v", name, p)
		}
	}

	// Framing, isolation and rules.
	for name, f := range map[string]string{"ref-line": "line", "ref-utf": "utf", "remote": "line"} {
		if got := shortFraming(byName[name].Framing()); got != f {
			t.Errorf("%s: framing %q, want %q", name, got, f)
		}
	}
	if got := byName["remote"].Isolation; got != IsolationRemote {
		t.Errorf("remote: isolation %q, want %q", got, IsolationRemote)
	}
	for _, name := range []string{"no-echo", "remote"} {
		m := mutant(t, map[string]string{"no-echo": "no-echo", "remote": "list-commas"}[name])
		checkMutant(t, name, byName[name].Report, m)
	}
	if isolated {
		// The first three servers on one port ran at the same time.
		var spans [][2]time.Time
		for _, name := range []string{"ref-line", "ref-utf", "no-echo", "crasher"} {
			res := byName[name]
			if res.Isolation != IsolationNamespace {
				t.Errorf("%s: isolation %q, want %q", name, res.Isolation, IsolationNamespace)
			}
			if name != "crasher" {
				spans = append(spans, [2]time.Time{res.Started, res.Started.Add(res.Elapsed)})
			}
		}
		for i := 1; i < len(spans); i++ {
			if !spans[i][0].Before(spans[0][1]) || !spans[0][0].Before(spans[i][1]) {
				t.Errorf("the servers on port %d did not run at the same time: %v", samePort, spans)
			}
		}
	}

	// The crash: the scenario, the last lines, the restart, in the report.
	cr := byName["crasher"]
	if len(cr.Crashes) != 1 {
		t.Fatalf("crasher: %d crashes, want 1: %+v", len(cr.Crashes), cr.Crashes)
	}
	crash := cr.Crashes[0]
	if crash.Exit != "exit status 1" || !crash.Restarted || !strings.Contains(crash.Output, "IllegalStateException") ||
		!slices.ContainsFunc(crash.During, func(s string) bool { return strings.Contains(s, "NUL bytes") }) {
		t.Errorf("crasher: crash %+v, want exit status 1 during the junk scenario, restarted, with the exception", crash)
	}
	if o := ruleOutcome(cr.Report, "robustness.junk"); o != report.Warned {
		t.Errorf("crasher: robustness.junk %s, want warned (it killed the server)", o)
	}
	if o := ruleOutcome(cr.Report, "robustness.silent-connection"); o != report.Passed {
		t.Errorf("crasher: robustness.silent-connection %s, want passed (graded after the restart)", o)
	}
	if !slices.ContainsFunc(cr.Report.Findings, func(f report.Finding) bool {
		return strings.Contains(f.Detail, "exit status 1") && strings.Contains(f.Detail, "IllegalStateException")
	}) {
		t.Errorf("crasher: no finding with the exit and the output: %+v", cr.Report.Findings)
	}

	// A server that still runs but answers no more is killed and
	// restarted the same way.
	hg := byName["hangs"]
	if len(hg.Crashes) != 1 || !hg.Crashes[0].Restarted || !strings.Contains(hg.Crashes[0].Exit, "stopped answering") {
		t.Errorf("hangs: crashes %+v, want one, a hang, restarted", hg.Crashes)
	}
	if o := ruleOutcome(hg.Report, "robustness.silent-connection"); o != report.Passed {
		t.Errorf("hangs: robustness.silent-connection %s, want passed (graded after the restart)", o)
	}

	checkJSON(t, filepath.Join(out, "class.json"), want)
	checkCSV(t, filepath.Join(out, "class.csv"), c)
	checkHTML(t, filepath.Join(out, "class.html"), c)
	checkFiles(t, out, c)
	if code := c.ExitCode(); code != 2 {
		t.Errorf("exit code %d, want 2 (some students could not be graded)", code)
	}

	// A second run with the same folder grades nobody again; changing one
	// entry grades that student alone.
	c2, err := Run(context.Background(), r, Options{Out: out, Parallel: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(c2.Graded) != 0 || len(c2.Reused) != 10 {
		t.Errorf("rerun: graded %v, reused %v; want none graded, the 10 without roster errors reused", c2.Graded, c2.Reused)
	}
	for _, res := range c2.Students {
		if got, want := res.Verdict(), want[res.Name]; got != want {
			t.Errorf("rerun: %s: %s, want %s", res.Name, got, want)
		}
	}
	changed := strings.Replace(roster, `start_timeout = "1s"`, `start_timeout = "2s"`, 1)
	if err := os.WriteFile(rosterPath, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	r3, err := LoadRoster(rosterPath)
	if err != nil {
		t.Fatal(err)
	}
	c3, err := Run(context.Background(), r3, Options{Out: out, Parallel: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c3.Graded, []string{"silent"}) {
		t.Errorf("after changing silent's entry: graded %v, want [silent]", c3.Graded)
	}
}

// checkMutant checks a catalogue server's report: its verdict fails, each
// of its rules failed or warned, and no other rule did (but for the ones
// its outcome is a race).
func checkMutant(t *testing.T, name string, rep *report.Report, m faultproxy.Mutant) {
	t.Helper()
	if rep == nil {
		t.Fatalf("%s: no report", name)
	}
	for _, ru := range rep.Rules() {
		o := ru.Outcome()
		bad := o == report.Failed || o == report.Warned
		switch {
		case slices.Contains(m.Fails, ru.ID) && !bad:
			t.Errorf("%s (%s): %s %s, want failed or warned", name, m.Name, ru.ID, o)
		case !slices.Contains(m.Fails, ru.ID) && !slices.Contains(m.Maybe, ru.ID) && bad:
			t.Errorf("%s (%s): %s %s, want it to pass", name, m.Name, ru.ID, o)
		}
	}
}

// ruleOutcome returns the outcome of rule id in rep.
func ruleOutcome(rep *report.Report, id string) report.Outcome {
	if rep == nil {
		return ""
	}
	for _, ru := range rep.Rules() {
		if ru.ID == id {
			return ru.Outcome()
		}
	}
	return ""
}

// checkJSON reads the class JSON back: every student, with the verdict
// their report gives.
func checkJSON(t *testing.T, path string, want map[string]report.Verdict) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c Class
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(c.Students) != len(want) {
		t.Errorf("%s: %d students, want %d", path, len(c.Students), len(want))
	}
	for _, r := range c.Students {
		if got := r.Verdict(); got != want[r.Name] {
			t.Errorf("%s: %s: %s, want %s", path, r.Name, got, want[r.Name])
		}
	}
}

// checkCSV reads the CSV back: one row per student, in roster order, with
// the counts of their report.
func checkCSV(t *testing.T, path string, c *Class) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !slices.Equal(rows[0], csvHeader) {
		t.Errorf("%s: header %v, want %v", path, rows[0], csvHeader)
	}
	if len(rows) != len(c.Students)+1 {
		t.Fatalf("%s: %d rows, want %d", path, len(rows), len(c.Students)+1)
	}
	for i, res := range c.Students {
		n := res.Counts()
		want := []string{res.Name, string(res.Verdict()), fmt.Sprint(n.MustPassed), fmt.Sprint(n.MustFailed), fmt.Sprint(n.MustNotGraded),
			fmt.Sprint(n.ShouldPassed), fmt.Sprint(n.ShouldFailed), fmt.Sprint(n.ShouldNotGraded), shortFraming(res.Framing()), res.Errors()}
		if !slices.Equal(rows[i+1], want) {
			t.Errorf("%s: row %d = %q, want %q", path, i+1, rows[i+1], want)
		}
	}
	byName := make(map[string][]string)
	for _, row := range rows[1:] {
		byName[row[0]] = row
	}
	if row := byName["ref-utf"]; row[1] != "PASS" || row[3] != "0" || row[8] != "utf" {
		t.Errorf("%s: ref-utf's row %q: want PASS, no MUST failure, framing utf", path, row)
	}
	if row := byName["no-build"]; !strings.Contains(row[9], "build: the build failed") {
		t.Errorf("%s: no-build's row %q: want the build failure in errors", path, row)
	}
	if row := byName["crasher"]; !strings.Contains(row[9], "died 1 time(s) and was restarted") {
		t.Errorf("%s: crasher's row %q: want the crash in errors", path, row)
	}
}

// checkHTML checks the class page: self-contained, one matrix row per
// student with their verdict, a cell per rule linking to the failure,
// every failure's detail with its Expected and Actual, and each
// student's problem with its output.
func checkHTML(t *testing.T, path string, c *Class) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, bad := range []string{"http://", "https://", "<link", "src="} {
		if strings.Contains(page, bad) {
			t.Errorf("%s: %q: the page must load nothing", path, bad)
		}
	}
	// The page parses as XML-ish well enough to count its rows: look for
	// each row's opening tag and verdict cell.
	for _, r := range c.Students {
		row := between(page, `<tr id="row-`+r.Slug+`"`, "</tr>")
		if row == "" {
			t.Errorf("%s: no matrix row for %s", path, r.Name)
			continue
		}
		if !strings.Contains(row, ">"+string(r.Verdict())+"</td>") {
			t.Errorf("%s: %s's row does not show %s", path, r.Name, r.Verdict())
		}
		if !strings.Contains(page, `id="student-`+r.Slug+`"`) {
			t.Errorf("%s: no section for %s", path, r.Name)
		}
		if r.Report == nil || r.Report.CannotGrade != nil {
			if !strings.Contains(row, `class="why"`) {
				t.Errorf("%s: %s's row does not say why there are no rules", path, r.Name)
			}
			continue
		}
		for _, ru := range r.Report.Rules() {
			o := ru.Outcome()
			cls := `c c-` + outcomeClass(o)
			if !strings.Contains(row, cls) {
				t.Errorf("%s: %s's row has no %s cell for %s", path, r.Name, cls, ru.ID)
			}
			if o == report.Passed {
				continue
			}
			anchor := r.Slug + "--" + ru.ID
			if !strings.Contains(row, `href="#`+anchor+`"`) {
				t.Errorf("%s: %s's %s cell does not link to its detail", path, r.Name, ru.ID)
			}
			detail := between(page, `id="`+anchor+`"`, "</section>")
			if detail == "" {
				t.Errorf("%s: no detail for %s's %s", path, r.Name, ru.ID)
				continue
			}
			for _, s := range ru.Scenarios {
				if s.Outcome == report.Failed || s.Outcome == report.Warned {
					if !strings.Contains(detail, "<dt>Expected</dt>") || !strings.Contains(detail, "<dt>Actual</dt>") || !strings.Contains(detail, "Transcript") {
						t.Errorf("%s: %s's %s detail lacks Expected, Actual or the transcript", path, r.Name, ru.ID)
					}
				}
			}
		}
	}
	for _, want := range []string{"Server.java:3: error:", "IllegalStateException", `unknown key &#34;sever&#34;`, "Networking, test class"} {
		if !strings.Contains(page, want) {
			t.Errorf("%s: no %q", path, want)
		}
	}
}

// between returns the text of s from start to the first end after it
// ("" if there is no start).
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		return s[i:]
	}
	return s[i : i+j]
}

// checkFiles checks each student's files: a result, the reports of a
// graded one, the logs, a JUnit file that parses.
func checkFiles(t *testing.T, out string, c *Class) {
	t.Helper()
	for _, r := range c.Students {
		dir := studentDir(out, r.Slug)
		files := []string{"result.json"}
		if r.Problem != nil && r.Problem.Stage == "roster" {
			files = nil // never graded: a JUnit file only
		}
		if r.Report != nil {
			files = append(files, "report.html", "report.txt", "report.json")
		}
		if r.Build != nil {
			files = append(files, "build.log")
		}
		if r.Server != nil {
			files = append(files, "server.log")
		}
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: %v", r.Name, err)
			}
		}
		b, err := os.ReadFile(filepath.Join(out, "junit", r.Slug+".xml"))
		if err != nil {
			t.Errorf("%s: %v", r.Name, err)
			continue
		}
		var doc struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Errors   int `xml:"errors,attr"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Errorf("%s: junit: %v", r.Name, err)
		}
		switch {
		case r.Report == nil && doc.Errors != 1:
			t.Errorf("%s: junit has %d errors, want 1 (could not be graded)", r.Name, doc.Errors)
		case r.Verdict() == report.Fail && doc.Failures == 0:
			t.Errorf("%s: junit has no failure", r.Name)
		}
	}
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// TestHost grades, without namespaces, two servers on one port one after
// the other, and a student whose port is already taken on the host.
func TestHost(t *testing.T) {
	bins := buildBinaries(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, takenPort, _ := net.SplitHostPort(taken.Addr().String())
	root := t.TempDir()
	roster := fmt.Sprintf(`[defaults]
dir = "."
port = 23458
rules = ["joining.valid-name", "messages.echo"]
%[3]s
[[student]]
name = "one"
server = "%[1]s -addr 127.0.0.1:{port} -heartbeat-timeout 2s"

[[student]]
name = "two"
server = "%[1]s -addr 127.0.0.1:{port} -heartbeat-timeout 2s -framing utf"

[[student]]
name = "taken"
server = "%[1]s -addr 127.0.0.1:{port}"
port = %[2]s
`, bins["chatserver"], takenPort, quickTimings)
	r, err := ParseRoster(roster, root)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Run(context.Background(), r, Options{Out: filepath.Join(root, "out"), Host: true, Parallel: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Isolation, "none") {
		t.Errorf("isolation %q, want none", c.Isolation)
	}
	one, two, tk := c.Students[0], c.Students[1], c.Students[2]
	for _, res := range []*Result{one, two} {
		if res.Verdict() != report.Pass || res.Isolation != IsolationHost {
			t.Errorf("%s: %s on %s (%s), want PASS on the host", res.Name, res.Verdict(), res.Isolation, res.Errors())
		}
	}
	// One at a time: one's server had stopped before two's started, or
	// the other way round.
	if !one.Started.Add(one.Elapsed).Before(two.Started) && !two.Started.Add(two.Elapsed).Before(one.Started) {
		t.Errorf("one (%v for %v) and two (%v for %v) ran at the same time on the host", one.Started, one.Elapsed, two.Started, two.Elapsed)
	}
	if p := tk.Problem; p == nil || p.Stage != "start" || !strings.Contains(p.What, "port "+takenPort+" is already taken") {
		t.Errorf("taken: problem %+v, want the port taken", p)
	}
}

// testHelper runs the test binary as a helper when a test asks for one.
func testHelper() (int, bool) {
	switch {
	case os.Getenv("CLASSROOM_TEST_DIAL") != "":
		// In a sandbox: the loopback works, the host is out of reach.
		if err := probeLoopback(); err != nil {
			fmt.Fprintln(os.Stderr, "loopback:", err)
			return 2, true
		}
		c, err := net.DialTimeout("tcp", os.Getenv("CLASSROOM_TEST_DIAL"), 2*time.Second)
		if err == nil {
			c.Close()
			fmt.Fprintln(os.Stderr, "reached the host")
			return 1, true
		}
		return 0, true
	case os.Getenv("CLASSROOM_TEST_HOG") != "":
		// Take memory, page by page, until killed.
		var hog [][]byte
		for {
			b := make([]byte, 1<<20)
			for i := range b {
				b[i] = 1
			}
			hog = append(hog, b)
			if len(hog) > 4096 {
				return 0, true
			}
		}
	}
	return 0, false
}

// TestSandboxHasNoNetwork starts a process the way a class run starts a
// student's: in its namespace the loopback works and a listener of the
// host cannot be reached.
func TestSandboxHasNoNetwork(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sbs := sandboxes()
	if len(sbs) == 0 || probe([]string{self}, sbs[0]) != nil {
		t.Skip("no namespaces here")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), "CLASSROOM_TEST_DIAL="+l.Addr().String())
	cmd.SysProcAttr = sbs[0].attr()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("in the sandbox: %v: %s", err, out)
	}
	// The same process outside the sandbox does reach it.
	cmd = exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), "CLASSROOM_TEST_DIAL="+l.Addr().String())
	if err := cmd.Run(); err == nil {
		t.Errorf("outside the sandbox the helper did not reach the host: the test proves nothing")
	}
}

// TestMemoryLimit runs a command that takes ever more memory in a
// student's cgroup: the kernel kills it, and the cgroup says so.
func TestMemoryLimit(t *testing.T) {
	cg, err := newMemcg()
	if err != nil {
		t.Skipf("no memory cgroup here: %v", err)
	}
	defer cg.close()
	dir, err := cg.student("hog", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer cg.remove(dir)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := newOutput()
	err = runProc(context.Background(), t.TempDir(), "CLASSROOM_TEST_HOG=1 exec '"+self+"' '-test.run=^$'", dir, os.Environ(), out)
	if err == nil {
		t.Fatalf("the hog was not stopped by a 64 MiB limit: %s", out.Text())
	}
	if oomKills(dir) == 0 {
		t.Errorf("the hog ended (%v) but the cgroup counts no OOM kill", err)
	}
}
