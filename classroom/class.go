package classroom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/chatspec/chatspec/grade"
	"github.com/chatspec/chatspec/report"
)

// Options configures a class run. The zero value grades every student of
// the roster, as many at once as there are cores, each started server in
// namespaces of its own where the system allows it, and writes everything
// to the folder "chatgrade-class".
type Options struct {
	// Out is the output folder: one folder per student (result, reports,
	// logs), the JUnit files, the class reports. A later run with the same
	// folder reuses the results of students whose roster entry has not
	// changed. "" means "chatgrade-class".
	Out string
	// Parallel is the most students graded at once. Zero means the number
	// of cores.
	Parallel int
	// Force grades every selected student again, even with an earlier
	// result for the same roster entry.
	Force bool
	// Only selects students by name; empty selects all. The others keep
	// their earlier results, if any.
	Only []string
	// Host runs the started servers on the host, one at a time, even
	// where namespaces are available.
	Host bool
	// HTML, JSON and CSV are the class reports' files; "" means
	// class.html, class.json and class.csv in Out.
	HTML, JSON, CSV string
	// JUnit is the folder of the students' JUnit files; "" means "junit"
	// in Out.
	JUnit string
	// Progress receives what the run is doing; nil discards it.
	Progress io.Writer
	// Live makes progress a status line rewritten in place (Progress is a
	// terminal), with a line for each student as they finish.
	Live bool
	// Color marks verdicts with colour (Progress is a terminal and the
	// user has not asked for none).
	Color bool
	// Width is the terminal's width for the live line; zero means 80.
	Width int
	// Self is the command that runs this program again as a child (see
	// Child); nil means this executable.
	Self []string
}

// Class is the outcome of a class run: every student of the roster, in
// its order. It is the document that -json writes.
type Class struct {
	// Title is the roster's title.
	Title string `json:"title,omitempty"`
	// Roster is the roster file.
	Roster string `json:"roster"`
	// Started and Elapsed are the run's.
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// Isolation says how the started servers ran: in namespaces of their
	// own, or on the host one at a time, and why.
	Isolation string `json:"isolation"`
	// Memory says how the memory limit was enforced, or why it was not.
	Memory string `json:"memory"`
	// Parallel is the most students graded at once.
	Parallel int `json:"parallel"`
	// Students are the results, in roster order.
	Students []*Result `json:"students"`
	// Graded names the students graded in this run.
	Graded []string `json:"graded"`
	// Reused names the students whose results are from an earlier run
	// with the same roster entry.
	Reused []string `json:"reused,omitempty"`
}

// Run grades the roster's students and writes every report to the
// output folder. It returns an error only when it cannot write there; a
// student that cannot be graded is a result like any other. When ctx
// ends (an interrupt), the students not yet graded have no result and a
// later run grades them.
func Run(ctx context.Context, roster *Roster, opts Options) (*Class, error) {
	if opts.Out == "" {
		opts.Out = "chatgrade-class"
	}
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.NumCPU()
	}
	if opts.Self == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("classroom: find this program to run it per student: %w", err)
		}
		opts.Self = []string{exe}
	}
	if err := os.MkdirAll(filepath.Join(opts.Out, "students"), 0o755); err != nil {
		return nil, fmt.Errorf("classroom: %w", err)
	}
	c := &Class{Title: roster.Title, Roster: roster.Path, Started: time.Now(), Parallel: opts.Parallel}
	disp := newDisplay(opts.Progress, opts.Live, opts.Color, opts.Width)
	defer disp.close()

	sb, isolated := chooseSandbox(opts, c)
	var cg *memcg
	if isolated || hasStarted(roster) {
		var err error
		if cg, err = newMemcg(); err != nil {
			c.Memory = "not enforced: " + err.Error()
			cg = nil
		} else {
			c.Memory = "enforced per student (" + cg.describe() + ")"
			defer cg.close()
		}
	}
	disp.note("isolation: " + c.Isolation)
	if c.Memory != "" {
		disp.note("memory limit: " + c.Memory)
	}

	results := make([]*Result, len(roster.Students))
	var todo []*Student
	for i := range roster.Students {
		s := &roster.Students[i]
		switch prev := loadResult(opts.Out, s); {
		case s.Problem != "":
			results[i] = problemResult(s, "", &Problem{Stage: "roster", What: s.Problem, Hint: "Fix the student's [[student]] table in the roster and run again."})
		case len(opts.Only) > 0 && !slices.Contains(opts.Only, s.Name):
			results[i] = prev
			if prev == nil {
				results[i] = problemResult(s, "", &Problem{Stage: "skipped", What: "not graded yet: not selected with -only"})
			} else {
				c.Reused = append(c.Reused, s.Name)
			}
		case prev != nil && !opts.Force && len(opts.Only) == 0:
			results[i] = prev
			c.Reused = append(c.Reused, s.Name)
		default:
			todo = append(todo, s)
		}
	}
	for _, r := range results {
		if r != nil && r.Problem != nil && r.Problem.Stage == "roster" {
			if err := writeJUnit(opts, r); err != nil {
				return nil, err
			}
		}
	}
	disp.plan(len(todo), len(c.Reused), len(roster.Students))
	for _, r := range results {
		if r != nil {
			disp.finished(r, true)
		}
	}

	// Graded in roster order, Parallel at once; without isolation the
	// started servers take turns on the host.
	var (
		wg        sync.WaitGroup
		sem       = make(chan struct{}, opts.Parallel)
		hostMu    sync.Mutex // held by a started server on the host
		mu        sync.Mutex // guards results, graded and writeErrs
		graded    = make([]bool, len(results))
		writeErrs []error
	)
	for _, s := range todo {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if !isolated && s.Server != "" {
				hostMu.Lock()
				defer hostMu.Unlock()
			}
			res := gradeOne(ctx, s, opts, sb, isolated, cg, disp)
			if ctx.Err() != nil && res.Problem != nil && res.Problem.Stage == "internal" {
				disp.line(s.Name, "interrupted: not graded")
				return // no result: the next run grades this student
			}
			err := writeStudent(opts, res)
			mu.Lock()
			defer mu.Unlock()
			results[s.Index-1], graded[s.Index-1] = res, true
			if err != nil {
				writeErrs = append(writeErrs, err)
			}
			disp.finished(res, false)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if graded[i] {
			c.Graded = append(c.Graded, roster.Students[i].Name) // in roster order
		}
		if r == nil {
			s := &roster.Students[i]
			results[i] = problemResult(s, "", &Problem{Stage: "skipped", What: "not graded yet: the run was interrupted"})
		}
	}
	c.Students = results
	c.Elapsed = time.Since(c.Started)
	if err := c.writeReports(opts); err != nil {
		writeErrs = append(writeErrs, err)
	}
	disp.summary(c)
	return c, errors.Join(writeErrs...)
}

// chooseSandbox finds out whether started servers can run in namespaces
// of their own, and says so in c.Isolation.
func chooseSandbox(opts Options, c *Class) (sandbox, bool) {
	if opts.Host {
		c.Isolation = "none: the started servers ran on the host, one at a time (asked for with -host), and could reach the network"
		return sandbox{}, false
	}
	var why []string
	for _, sb := range sandboxes() {
		err := probe(opts.Self, sb)
		if err == nil {
			c.Isolation = "each student's build, server and grading ran in network and PID namespaces of their own (loopback only: no network; everything killed at the end)"
			if sb.user {
				c.Isolation += ", inside a user namespace (chatgrade does not run as root)"
			}
			return sb, true
		}
		why = append(why, err.Error())
	}
	if len(why) == 0 {
		why = append(why, "network namespaces exist only on Linux")
	}
	c.Isolation = "none: the started servers ran on the host, one at a time, and could reach the network: namespaces are not available here (" + why[0] + ")"
	return sandbox{}, false
}

// hasStarted reports whether any student's server is started by chatgrade.
func hasStarted(r *Roster) bool {
	return slices.ContainsFunc(r.Students, func(s Student) bool { return s.Server != "" && s.Problem == "" })
}

// gradeOne grades one student in a child process and returns the result.
func gradeOne(ctx context.Context, s *Student, opts Options, sb sandbox, isolated bool, cg *memcg, disp *display) *Result {
	j := job{Student: *s, Deadline: time.Now().Add(s.TimeLimit)}
	if opts.Live {
		j.ProgressEvery = time.Second
	}
	switch {
	case s.Addr != "":
		// A server that already runs elsewhere: graded from the host.
		j.Isolation, sb = IsolationRemote, sandbox{}
	case isolated:
		j.Isolation = IsolationNamespace
	default:
		j.Isolation, sb = IsolationHost, sandbox{}
	}
	if cg != nil && s.Server != "" && s.Memory > 0 {
		dir, err := cg.student(s.Slug, s.Memory)
		if err == nil {
			j.Cgroup = dir
			defer cg.remove(dir)
		}
	}
	disp.started(s.Name)
	return spawn(ctx, opts.Self, sb, j, func(line string) { disp.line(s.Name, line) })
}

// studentDir is the student's folder in the output folder.
func studentDir(out, slug string) string { return filepath.Join(out, "students", slug) }

// loadResult returns the student's earlier result from the output
// folder, if there is one for the same roster entry.
func loadResult(out string, s *Student) *Result {
	if s.Problem != "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(studentDir(out, s.Slug), "result.json"))
	if err != nil {
		return nil
	}
	var r Result
	if json.Unmarshal(b, &r) != nil || r.Fingerprint != s.Fingerprint() || r.Name != s.Name {
		return nil
	}
	r.Index = s.Index
	return &r
}

// writeStudent writes the student's files: the reports, the logs, the
// JUnit file, and last the result, which marks the student as graded.
func writeStudent(opts Options, r *Result) error {
	dir := studentDir(opts.Out, r.Slug)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("classroom: %w", err)
	}
	var errs []error
	write := func(name string, render func(io.Writer) error) {
		errs = append(errs, writeFile(name, render))
	}
	// Leftovers of an earlier run must not pass for this one's.
	for _, name := range []string{"report.html", "report.txt", "report.json", "build.log", "server.log"} {
		_ = os.Remove(filepath.Join(dir, name))
	}
	if rep := r.Report; rep != nil {
		write(filepath.Join(dir, "report.html"), func(w io.Writer) error { return report.WriteHTML(w, rep) })
		write(filepath.Join(dir, "report.txt"), func(w io.Writer) error { return report.WriteText(w, rep) })
		write(filepath.Join(dir, "report.json"), func(w io.Writer) error { return report.WriteJSON(w, rep) })
	}
	for name, run := range map[string]*Command{"build.log": r.Build, "server.log": r.Server} {
		if run != nil {
			write(filepath.Join(dir, name), func(w io.Writer) error { _, err := io.WriteString(w, run.Output); return err })
		}
	}
	errs = append(errs, writeJUnit(opts, r))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if r.Problem != nil && r.Problem.Stage == "internal" {
		// chatgrade's own failure: the next run grades the student again.
		return nil
	}
	tmp := filepath.Join(dir, "result.json.tmp")
	if err := writeFile(tmp, func(w io.Writer) error { return writeJSON(w, r) }); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "result.json")); err != nil {
		return fmt.Errorf("classroom: %w", err)
	}
	return nil
}

// writeJUnit writes the student's JUnit file.
func writeJUnit(opts Options, r *Result) error {
	dir := opts.JUnit
	if dir == "" {
		dir = filepath.Join(opts.Out, "junit")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("classroom: %w", err)
	}
	return writeFile(filepath.Join(dir, r.Slug+".xml"), func(w io.Writer) error { return writeStudentJUnit(w, r) })
}

// writeFile writes the file at path with render (see report.WriteFile).
func writeFile(path string, render func(io.Writer) error) error {
	if err := report.WriteFile(path, render); err != nil {
		return fmt.Errorf("classroom: %w", err)
	}
	return nil
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeReports writes the class's HTML, JSON and CSV reports.
func (c *Class) writeReports(opts Options) error {
	path := func(p, name string) string {
		if p != "" {
			return p
		}
		return filepath.Join(opts.Out, name)
	}
	html := path(opts.HTML, "class.html")
	return errors.Join(
		writeFile(html, func(w io.Writer) error { return c.WriteHTML(w, linkBase(html, opts.Out)) }),
		writeFile(path(opts.JSON, "class.json"), func(w io.Writer) error { return writeJSON(w, c) }),
		writeFile(path(opts.CSV, "class.csv"), c.WriteCSV),
	)
}

// Has reports whether the roster has a student of that name.
func (r *Roster) Has(name string) bool {
	return slices.ContainsFunc(r.Students, func(s Student) bool { return s.Name == name })
}

// ExitCode is the class run's exit code for a script: 0 every student
// passed; 1 every student was graded and some failed; 2 some student
// could not be graded, or not completely.
func (c *Class) ExitCode() int {
	code := grade.ExitPass
	for _, r := range c.Students {
		switch r.Verdict() {
		case report.Fail:
			code = max(code, grade.ExitFail)
		case report.Pass:
		default:
			code = grade.ExitCannotGrade
		}
	}
	return code
}
