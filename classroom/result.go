package classroom

import (
	"fmt"
	"strings"
	"time"

	"github.com/chatspec/chatspec/report"
)

// Result is what became of one student: their report, or why there is
// none, and what happened to their server on the way. It survives a JSON
// round trip; the output folder keeps one per student (result.json), and
// a later run with the same roster entry reuses it.
type Result struct {
	// Name and Slug are the student's (see Student).
	Name string `json:"name"`
	Slug string `json:"slug"`
	// Index is the student's place in the roster, from 1.
	Index int `json:"index"`
	// Fingerprint is the roster entry's (Student.Fingerprint).
	Fingerprint string `json:"fingerprint"`
	// Dir is the student's folder, if any.
	Dir string `json:"dir,omitempty"`
	// Addr is what was graded: the roster's addr, or where the started
	// server listened.
	Addr string `json:"addr,omitempty"`
	// Isolation says where the student's processes ran: "namespace",
	// "host", or "remote" (a server given by addr).
	Isolation string `json:"isolation"`
	// Memory is the memory limit that was enforced, in bytes (0: none).
	Memory int64 `json:"memory_limit,omitempty"`
	// Started and Elapsed are when the student's grading began and how
	// long it took, build and start included.
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// Problem is why nothing, or not everything, could be graded: the
	// roster entry, the build, the start, the time limit.
	Problem *Problem `json:"problem,omitempty"`
	// Build is the build command's run, if there was one.
	Build *Command `json:"build,omitempty"`
	// Server is the started server's command and the end of its output.
	Server *Command `json:"server,omitempty"`
	// Crashes are the times the started server died (or stopped
	// answering) and was restarted, in order.
	Crashes []Crash `json:"crashes,omitempty"`
	// Report is the grading's report; nil when the student could not be
	// graded at all (Problem says why).
	Report *report.Report `json:"report,omitempty"`
}

// The values of Result.Isolation.
const (
	IsolationNamespace = "namespace"
	IsolationHost      = "host"
	IsolationRemote    = "remote"
)

// Problem says why a student could not be graded, or not completely.
type Problem struct {
	// Stage is where it went wrong: "roster", "build", "start", "time",
	// "grade" or "internal".
	Stage string `json:"stage"`
	// What went wrong, in a sentence.
	What string `json:"what"`
	// Hint says what to try.
	Hint string `json:"hint,omitempty"`
	// Output is the end of the output that shows it (the build's, the
	// server's).
	Output string `json:"output,omitempty"`
}

// Command is one command of a student's, as it ran.
type Command struct {
	// Command is the shell command.
	Command string `json:"command"`
	// Exit says how it ended ("exit status 1"), if it did.
	Exit string `json:"exit,omitempty"`
	// Elapsed is how long it ran.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Output is what it printed: its first and last bytes, with a line
	// saying how much was left out between.
	Output string `json:"output,omitempty"`
	// Bytes is how many bytes it printed in all.
	Bytes int64 `json:"bytes"`
}

// Crash is one death of a started server during its grading.
type Crash struct {
	// At is when, from the start of the grading.
	At time.Duration `json:"at_ns"`
	// During names the scenarios that ran when it died (or, if none was
	// running, the one that had just ended).
	During []string `json:"during,omitempty"`
	// Exit says how it ended: "exit status 1", "signal: killed", or that
	// it still ran but had stopped answering (it was then killed).
	Exit string `json:"exit"`
	// OOM: the kernel killed it for going over the memory limit.
	OOM bool `json:"oom,omitempty"`
	// Output is the last lines it printed before it died.
	Output string `json:"output,omitempty"`
	// Restarted: it was started again and the grading went on.
	Restarted bool `json:"restarted"`
}

// Verdict is the student's verdict: the report's, or CANNOT GRADE when
// there is none.
func (r *Result) Verdict() report.Verdict {
	if r.Report == nil {
		return report.CannotGrade
	}
	return r.Report.Verdict()
}

// Counts tallies the report's scenarios (all zero without a report).
func (r *Result) Counts() report.Counts {
	if r.Report == nil {
		return report.Counts{}
	}
	return r.Report.Counts()
}

// Framing returns the framing the suite found or was told, as the report's
// profile says it ("" if unknown).
func (r *Result) Framing() string {
	if r.Report == nil {
		return ""
	}
	for _, f := range r.Report.Profile {
		if f.Name == "framing" {
			return f.Value
		}
	}
	return r.Report.Setting("framing")
}

// Errors sums up, in one line, what went wrong beside the rules: the
// problem, the crashes, a run that stopped early.
func (r *Result) Errors() string {
	var parts []string
	if p := r.Problem; p != nil {
		parts = append(parts, p.Stage+": "+p.What)
	}
	if r.Report != nil && r.Report.CannotGrade != nil && (r.Problem == nil || r.Problem.Stage != "grade") {
		parts = append(parts, "cannot grade: "+r.Report.CannotGrade.What)
	}
	if n := len(r.Crashes); n > 0 {
		oom := 0
		for _, c := range r.Crashes {
			if c.OOM {
				oom++
			}
		}
		s := fmt.Sprintf("the server died %d time(s) and was restarted", n)
		if oom > 0 {
			s += fmt.Sprintf(" (%d over the memory limit)", oom)
		}
		parts = append(parts, s)
	}
	if r.Report != nil && r.Report.Stopped != nil {
		parts = append(parts, "stopped early: "+r.Report.Stopped.What)
	}
	return strings.Join(parts, "; ")
}

// problemResult is a result with only a problem.
func problemResult(s *Student, isolation string, p *Problem) *Result {
	return &Result{
		Name: s.Name, Slug: s.Slug, Index: s.Index, Fingerprint: s.Fingerprint(),
		Dir: s.Dir, Addr: s.Addr, Isolation: isolation, Started: time.Now(), Problem: p,
	}
}
