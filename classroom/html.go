package classroom

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chatspec/chatspec/report"
)

//go:embed class.tmpl class.css class.js
var assets embed.FS

// classTemplate is the class page, parsed once; html/template escapes
// every value for where it lands, so a student's bytes never become
// markup.
var classTemplate = template.Must(template.New("class.tmpl").Funcs(template.FuncMap{
	"offset":  func(d time.Duration) string { return fmt.Sprintf("+%.3fs", d.Seconds()) },
	"seconds": func(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) },
	"label":   outcomeLabel,
	"class":   outcomeClass,
	"vclass":  verdictClass,
	"size":    sizeText,
	"mark":    outcomeMark,
	"rank":    outcomeRank,
	"add":     func(a, b int) int { return a + b },
}).ParseFS(assets, "class.tmpl"))

var (
	classCSS = template.CSS(report.Palette() + mustRead("class.css")) // the report's colours, so that the pages look alike
	classJS  = template.JS(mustRead("class.js"))
)

func mustRead(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err) // embedded: only a broken build gets here
	}
	return string(b)
}

// maxEntries bounds a transcript on the class page; the student's own
// report has it whole.
const maxEntries = 120

// page is what the class template shows.
type page struct {
	*Class
	CSS       template.CSS
	JS        template.JS
	Verdicts  []verdictCount
	Features  []column // the matrix's columns, grouped by feature
	Rules     int      // how many rule columns there are
	Rows      []row
	Generated string
}

// verdictCount is how many students got a verdict.
type verdictCount struct {
	Verdict report.Verdict
	N       int
}

// column is one feature's rules, in the matrix's header.
type column struct {
	Feature string
	Rules   []ruleColumn
}

// ruleColumn is one rule of the matrix, with how the class did on it.
type ruleColumn struct {
	ID, Name, Short string
	Level           report.Level
	Failed, Warned  int // students that failed or were warned on it
	NotGraded       int
}

// row is one student: the matrix's row and the student's section.
type row struct {
	*Result
	Verdict report.Verdict
	Rank    int // the verdict's order, for sorting: worst first
	Counts  report.Counts
	Framing string
	Errors  string
	Cells   []cell
	Links   []link
	Details []detail
}

// cell is one student's outcome on one rule.
type cell struct {
	Outcome report.Outcome // "" when the rule was not run for the student
	Href    string         // the detail on the page, for an outcome that is not a pass
	Title   string
}

// link names one of the student's files, relative to the page.
type link struct{ Name, Href string }

// detail is one rule the student did not pass: its scenarios in full.
type detail struct {
	Anchor    string
	Rule      report.Rule
	Outcome   report.Outcome
	Scenarios []scenarioDetail
}

// scenarioDetail is a scenario with its transcript cut to maxEntries.
type scenarioDetail struct {
	*report.Scenario
	Entries []transcriptLine
	Cut     int // entries left out
}

// transcriptLine is one transcript entry as the page shows it.
type transcriptLine struct {
	At         time.Duration
	Conn, Text string
	Dir        report.Direction
	Event      bool
	Beat       bool
}

// WriteHTML writes the class report: one self-contained page (inline
// style and a little script for sorting, nothing fetched). A matrix of
// students by rules, grouped by feature, with each student's verdict and
// MUST and SHOULD counts, sortable; then a section per student: what went
// wrong beside the rules (the build, the start, crashes, with their
// output), the first findings of their report, and every rule they did
// not pass with its scenarios, Expected, Actual and transcript: each cell
// of the matrix links there. The page reads without script; links to the
// students' own files are relative to out, the output folder, as seen
// from the page's folder (linkBase; "" for no links).
func (c *Class) WriteHTML(w io.Writer, linkBase string) error {
	p := page{Class: c, CSS: classCSS, JS: classJS, Generated: c.Started.Format(time.RFC3339)}
	p.Features, p.Rules = columns(c)
	counts := make(map[report.Verdict]int)
	for _, r := range c.Students {
		counts[r.Verdict()]++
	}
	for _, v := range []report.Verdict{report.Pass, report.Fail, report.Incomplete, report.CannotGrade} {
		if counts[v] > 0 {
			p.Verdicts = append(p.Verdicts, verdictCount{v, counts[v]})
		}
	}
	for _, r := range c.Students {
		p.Rows = append(p.Rows, makeRow(r, p.Features, linkBase))
	}
	var buf bytes.Buffer
	if err := classTemplate.Execute(&buf, &p); err != nil {
		return fmt.Errorf("classroom: render the class page: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// columns returns the rules of every report, grouped by feature in the
// order the reports give them, each with how many students failed it.
func columns(c *Class) ([]column, int) {
	var cols []column
	index := make(map[string]int)   // feature -> its column
	seen := make(map[string][2]int) // rule ID -> column, rule
	for _, r := range c.Students {
		if r.Report == nil || r.Report.CannotGrade != nil {
			continue
		}
		for _, ru := range r.Report.Rules() {
			at, ok := seen[ru.ID]
			if !ok {
				ci, ok := index[ru.Feature]
				if !ok {
					ci = len(cols)
					index[ru.Feature] = ci
					cols = append(cols, column{Feature: ru.Feature})
				}
				_, short, _ := strings.Cut(ru.ID, ".")
				cols[ci].Rules = append(cols[ci].Rules, ruleColumn{ID: ru.ID, Name: ru.Name, Short: short, Level: ru.Level})
				at = [2]int{ci, len(cols[ci].Rules) - 1}
				seen[ru.ID] = at
			}
			rc := &cols[at[0]].Rules[at[1]]
			switch ru.Outcome() {
			case report.Failed:
				rc.Failed++
			case report.Warned:
				rc.Warned++
			case report.NotGraded:
				rc.NotGraded++
			}
		}
	}
	return cols, len(seen)
}

// makeRow builds a student's row and section.
func makeRow(r *Result, cols []column, linkBase string) row {
	rw := row{Result: r, Verdict: r.Verdict(), Counts: r.Counts(), Framing: shortFraming(r.Framing()), Errors: r.Errors()}
	rw.Rank = verdictRank(rw.Verdict)
	rules := make(map[string]report.Rule)
	if r.Report != nil && r.Report.CannotGrade == nil {
		for _, ru := range r.Report.Rules() {
			rules[ru.ID] = ru
		}
	}
	for _, col := range cols {
		if len(rules) == 0 {
			break // no graded report: the row says why instead
		}
		for _, rc := range col.Rules {
			ru, ok := rules[rc.ID]
			if !ok {
				rw.Cells = append(rw.Cells, cell{Title: rc.ID + ": not run"})
				continue
			}
			o := ru.Outcome()
			c := cell{Outcome: o, Title: fmt.Sprintf("%s: %s %s", r.Name, outcomeLabel(o), rc.ID)}
			if o != report.Passed {
				d := detail{Anchor: r.Slug + "--" + rc.ID, Rule: ru, Outcome: o}
				for _, s := range ru.Scenarios {
					if s.Outcome == report.Passed {
						continue
					}
					sd := scenarioDetail{Scenario: s}
					for i := range s.Transcript {
						if i == maxEntries {
							sd.Cut = len(s.Transcript) - maxEntries
							break
						}
						e := &s.Transcript[i]
						sd.Entries = append(sd.Entries, transcriptLine{At: e.At, Conn: e.Conn, Text: e.Text(), Dir: e.Dir, Event: e.Dir == report.Event, Beat: e.Heartbeat})
					}
					d.Scenarios = append(d.Scenarios, sd)
				}
				c.Href = "#" + d.Anchor
				rw.Details = append(rw.Details, d)
			}
			rw.Cells = append(rw.Cells, c)
		}
	}
	if linkBase != "" {
		dir := filepath.Join(linkBase, "students", r.Slug)
		for _, f := range []struct{ name, file string }{
			{"full report", "report.html"}, {"text", "report.txt"}, {"JSON", "report.json"},
			{"build log", "build.log"}, {"server log", "server.log"},
		} {
			if exists(r, f.file) {
				rw.Links = append(rw.Links, link{f.name, filepath.ToSlash(filepath.Join(dir, f.file))})
			}
		}
		rw.Links = append(rw.Links, link{"JUnit", filepath.ToSlash(filepath.Join(linkBase, "junit", r.Slug+".xml"))})
	}
	return rw
}

// exists reports whether the student's folder has file, from the result
// (the files are written from it).
func exists(r *Result, file string) bool {
	switch file {
	case "build.log":
		return r.Build != nil
	case "server.log":
		return r.Server != nil
	}
	return r.Report != nil
}

// shortFraming names a framing in a word: "line", "utf", "raw", from the
// framing fact of a report (its value starts with what was found).
func shortFraming(f string) string {
	switch {
	case strings.HasPrefix(f, "lines"):
		return "line"
	case strings.HasPrefix(f, "writeUTF"):
		return "utf"
	case strings.HasPrefix(f, "raw"):
		return "raw"
	}
	return f
}

// verdictLooks are how the page shows each verdict: its CSS class, and
// its rank when sorting (worst first).
var verdictLooks = map[report.Verdict]struct {
	class string
	rank  int
}{
	report.CannotGrade: {"ng", 0}, report.Fail: {"fail", 1}, report.Incomplete: {"warn", 2}, report.Pass: {"pass", 3},
}

func verdictRank(v report.Verdict) int     { return verdictLooks[v].rank }
func verdictClass(v report.Verdict) string { return verdictLooks[v].class }

// outcomeLook is how the page shows an outcome: its label (so that colour
// is never the only signal), its mark in the matrix, its CSS class, and
// its rank when sorting (failed first).
type outcomeLook struct {
	label, mark, class string
	rank               int
}

// outcomeLooks has every outcome's look; "" is a rule that was not run.
var outcomeLooks = map[report.Outcome]outcomeLook{
	report.Failed:    {"FAIL", "✗", "fail", 0},
	report.Warned:    {"WARN", "!", "warn", 1},
	report.NotGraded: {"NOT GRADED", "–", "ng", 2},
	report.Passed:    {"PASS", "✓", "pass", 3},
	"":               {"NOT RUN", "", "none", 4},
}

func outcomeLabel(o report.Outcome) string { return outcomeLooks[o].label }
func outcomeMark(o report.Outcome) string  { return outcomeLooks[o].mark }
func outcomeClass(o report.Outcome) string { return outcomeLooks[o].class }
func outcomeRank(o report.Outcome) int     { return outcomeLooks[o].rank }

// sizeText writes a byte count as "1 GiB", "512 MiB".
func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// linkBase returns the output folder as seen from the folder of the page
// at htmlPath, for relative links ("" if there is no such path).
func linkBase(htmlPath, out string) string {
	from, err1 := filepath.Abs(filepath.Dir(htmlPath))
	to, err2 := filepath.Abs(out)
	if err1 != nil || err2 != nil {
		return ""
	}
	rel, err := filepath.Rel(from, to)
	if err != nil {
		return ""
	}
	if _, err := os.Stat(to); err != nil {
		return ""
	}
	return rel
}
