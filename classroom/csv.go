package classroom

import (
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"github.com/chatspec/chatspec/report"
)

// csvHeader names the columns of the class CSV.
var csvHeader = []string{"name", "verdict", "must_passed", "must_failed", "must_not_graded",
	"should_passed", "should_warned", "should_not_graded", "framing", "errors"}

// WriteCSV writes one row per student, in roster order, ready to paste
// into a gradebook: name, verdict, the MUST and SHOULD counts, the
// framing found ("line", "utf", "raw"; "" if none) and what went wrong
// beside the rules.
func (c *Class) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, r := range c.Students {
		n := r.Counts()
		row := []string{r.Name, string(r.Verdict())}
		for _, v := range []int{n.MustPassed, n.MustFailed, n.MustNotGraded, n.ShouldPassed, n.ShouldFailed, n.ShouldNotGraded} {
			row = append(row, strconv.Itoa(v))
		}
		row = append(row, shortFraming(r.Framing()), r.Errors())
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeStudentJUnit writes the student's JUnit file: their report's, or,
// for a student who could not be graded, one test case that is an error
// with what went wrong and the output that shows it.
func writeStudentJUnit(w io.Writer, r *Result) error {
	if r.Report != nil && r.Report.CannotGrade == nil {
		return report.WriteJUnit(w, r.Report)
	}
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",cdata"`
	}
	type testcase struct {
		Name      string  `xml:"name,attr"`
		Classname string  `xml:"classname,attr"`
		Time      string  `xml:"time,attr"`
		Error     failure `xml:"error"`
	}
	type testsuite struct {
		Name     string   `xml:"name,attr"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Time     string   `xml:"time,attr"`
		Case     testcase `xml:"testcase"`
	}
	type testsuites struct {
		XMLName xml.Name  `xml:"testsuites"`
		Name    string    `xml:"name,attr"`
		Tests   int       `xml:"tests,attr"`
		Errors  int       `xml:"errors,attr"`
		Suite   testsuite `xml:"testsuite"`
	}
	stage, what, text := "grade", r.Errors(), ""
	if p := r.Problem; p != nil {
		stage, text = p.Stage, p.Hint
		if p.Output != "" {
			text += "\n\n" + p.Output
		}
	}
	secs := fmt.Sprintf("%.3f", r.Elapsed.Seconds())
	doc := testsuites{Name: "chatgrade " + r.Name, Tests: 1, Errors: 1, Suite: testsuite{
		Name: "chatgrade", Tests: 1, Errors: 1, Time: secs,
		Case: testcase{Name: stage, Classname: "chatgrade." + stage, Time: secs, Error: failure{Message: "CANNOT GRADE: " + what, Text: text}},
	}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
