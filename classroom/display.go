package classroom

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chatspec/chatspec/report"
)

// display shows a class run's progress: on a terminal (live), a line per
// finished student and one status line rewritten in place, saying who is
// being graded and what each is waiting for; elsewhere, plain lines, each
// prefixed with the student's name. Every method is safe for concurrent
// use: mu guards the state and the writes.
type display struct {
	w     io.Writer // nil: discard
	live  bool
	color bool
	width int

	mu      sync.Mutex
	running map[string]*activity // guarded by mu: students being graded
	done    int                  // guarded by mu: students finished in this run
	total   int                  // guarded by mu: students to grade in this run
	shown   bool                 // guarded by mu: a status line is on screen

	quit    chan struct{}
	stopped chan struct{} // closed when the ticker goroutine has returned
}

// activity is what one student's grading last said.
type activity struct {
	since time.Time
	what  string
}

func newDisplay(w io.Writer, live, color bool, width int) *display {
	if width <= 0 {
		width = 80
	}
	d := &display{w: w, live: live && w != nil, color: color, width: width, running: make(map[string]*activity),
		quit: make(chan struct{}), stopped: make(chan struct{})}
	if !d.live {
		close(d.stopped)
		return d
	}
	go d.tick()
	return d
}

// tick refreshes the status line every second (the elapsed times move).
func (d *display) tick() {
	defer close(d.stopped)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-d.quit:
			return
		case <-t.C:
			d.mu.Lock()
			d.statusLocked()
			d.mu.Unlock()
		}
	}
}

// close stops the ticker and clears the status line.
func (d *display) close() {
	select {
	case <-d.quit:
	default:
		close(d.quit)
	}
	<-d.stopped
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clearLocked()
}

// printLocked writes a permanent line (above the status line, if live).
func (d *display) printLocked(line string) {
	if d.w == nil {
		return
	}
	d.clearLocked()
	fmt.Fprintln(d.w, line)
	d.statusLocked()
}

func (d *display) clearLocked() {
	if d.shown {
		fmt.Fprint(d.w, "\r\x1b[K")
		d.shown = false
	}
}

// statusLocked rewrites the status line: how far the run is, and each
// running student with what it does.
func (d *display) statusLocked() {
	if !d.live || len(d.running) == 0 {
		d.clearLocked()
		return
	}
	names := make([]string, 0, len(d.running))
	for n := range d.running {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := []string{fmt.Sprintf("[%d/%d]", d.done, d.total)}
	for _, n := range names {
		a := d.running[n]
		parts = append(parts, fmt.Sprintf("%s %s: %s", n, time.Since(a.since).Round(time.Second), a.what))
	}
	line := strings.Join(parts, " · ")
	if utf8.RuneCountInString(line) > d.width-1 {
		line = string([]rune(line)[:d.width-2]) + "…"
	}
	fmt.Fprint(d.w, "\r\x1b[K"+line)
	d.shown = true
}

// note writes a line about the run.
func (d *display) note(text string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.printLocked("chatgrade: " + text)
}

// plan says how many students this run grades.
func (d *display) plan(todo, reused, all int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.total = todo
	line := fmt.Sprintf("chatgrade: grading %d of %d students", todo, all)
	if reused > 0 {
		line += fmt.Sprintf("; %d keep their results from an earlier run with the same roster entry (-force grades them again)", reused)
	}
	d.printLocked(line)
}

// started marks a student as being graded.
func (d *display) started(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running[name] = &activity{since: time.Now(), what: "starting"}
	if !d.live {
		d.printLocked(name + ": started")
		return
	}
	d.statusLocked()
}

// line shows a progress line of a student's grading.
func (d *display) line(name, text string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a, ok := d.running[name]; ok {
		a.what = stripOffset(text)
	}
	if !d.live {
		d.printLocked(name + ": " + text)
		return
	}
	d.statusLocked()
}

// stripOffset drops the "+12.3s " an engine progress line starts with:
// the status line shows the student's own elapsed time.
func stripOffset(s string) string {
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		if i := strings.IndexByte(rest, ' '); i > 0 && strings.HasSuffix(rest[:i], "s") {
			return rest[i+1:]
		}
	}
	return s
}

// finished writes a student's outcome; reused marks an earlier run's.
func (d *display) finished(r *Result, reused bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.running[r.Name]; ok {
		delete(d.running, r.Name)
		d.done++
	}
	line := fmt.Sprintf("%s %s: %s", d.verdict(r.Verdict()), r.Name, summaryOf(r))
	switch {
	case reused && r.Problem != nil && r.Problem.Stage == "skipped":
		return // not selected: nothing to say
	case reused && r.Problem != nil && r.Problem.Stage == "roster":
	case reused:
		line += " (earlier run)"
	default:
		line += fmt.Sprintf(" in %s", r.Elapsed.Round(100*time.Millisecond))
	}
	d.printLocked(line)
}

// summaryOf is a result's one-line summary: counts, or what went wrong.
func summaryOf(r *Result) string {
	var parts []string
	if r.Report != nil && r.Report.CannotGrade == nil {
		c := r.Counts()
		parts = append(parts, fmt.Sprintf("MUST %d passed, %d failed, %d not graded; SHOULD %d passed, %d warned", c.MustPassed, c.MustFailed, c.MustNotGraded, c.ShouldPassed, c.ShouldFailed))
	}
	if e := r.Errors(); e != "" {
		parts = append(parts, e)
	}
	return strings.Join(parts, "; ")
}

// summary writes the class's counts by verdict.
func (d *display) summary(c *Class) {
	d.mu.Lock()
	defer d.mu.Unlock()
	counts := make(map[report.Verdict]int)
	for _, r := range c.Students {
		counts[r.Verdict()]++
	}
	var parts []string
	for _, v := range []report.Verdict{report.Pass, report.Fail, report.Incomplete, report.CannotGrade} {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v], d.verdict(v)))
		}
	}
	d.printLocked(fmt.Sprintf("chatgrade: %d students: %s (%d graded in this run, in %s)", len(c.Students), strings.Join(parts, ", "), len(c.Graded), c.Elapsed.Round(time.Second)))
}

// verdict writes v, in colour if asked for.
func (d *display) verdict(v report.Verdict) string {
	if !d.color {
		return string(v)
	}
	return Colorize(v)
}

// Colorize returns the verdict in its terminal colour: PASS green, FAIL
// red, INCOMPLETE yellow, CANNOT GRADE magenta.
func Colorize(v report.Verdict) string {
	code := "35"
	switch v {
	case report.Pass:
		code = "32"
	case report.Fail:
		code = "31"
	case report.Incomplete:
		code = "33"
	}
	return "\x1b[1;" + code + "m" + string(v) + "\x1b[0m"
}
