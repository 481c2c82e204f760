package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The JUnit XML document, in the shape Jenkins, GitLab and most CI tools
// read: testsuites > testsuite (one per feature) > testcase (one per
// scenario).
type (
	junitSuites struct {
		XMLName xml.Name `xml:"testsuites"`
		Name    string   `xml:"name,attr"`
		junitTally
		Properties *junitProperties `xml:"properties"`
		Suites     []junitSuite     `xml:"testsuite"`
	}
	junitSuite struct {
		Name string `xml:"name,attr"`
		junitTally
		Timestamp string      `xml:"timestamp,attr,omitempty"`
		Cases     []junitCase `xml:"testcase"`
		elapsed   time.Duration
	}
	// junitTally is what testsuites and testsuite both count; Errors is
	// always 0 (a scenario that could not run is skipped, not an error).
	junitTally struct {
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Time     string `xml:"time,attr"`
	}
	junitCase struct {
		Name       string           `xml:"name,attr"`
		Classname  string           `xml:"classname,attr"`
		File       string           `xml:"file,attr,omitempty"`
		Line       int              `xml:"line,attr,omitempty"`
		Time       string           `xml:"time,attr"`
		Properties *junitProperties `xml:"properties"`
		Failure    *junitResult     `xml:"failure"`
		Skipped    *junitResult     `xml:"skipped"`
		SystemOut  *junitText       `xml:"system-out"`
	}
	junitProperties struct {
		Property []junitProperty `xml:"property"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	// junitResult is a failure or a skip: a one-line message, and the
	// details (step, expected, actual) that the message does not repeat.
	junitResult struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",cdata"`
	}
	junitText struct {
		Text string `xml:",cdata"`
	}
)

// WriteJUnit writes r as one JUnit XML file holding every scenario of the
// run: a testsuite per feature, a testcase per scenario (classname the
// rule ID, name the scenario's name).
//
// A failed scenario has a failure whose message names the rule and whose
// text gives the step, Expected and Actual; its transcript is its
// system-out. A warned SHOULD scenario is not a failure: it is skipped
// with a "WARN [SHOULD] ..." message and the property outcome=warned. A
// scenario that was not graded is skipped with "not graded: <reason>
// (needs: <rule>)". The run's verdict, target, strictness and settings are
// properties of the testsuites element; each testcase has its level and
// outcome as properties.
func WriteJUnit(w io.Writer, r *Report) error {
	doc := junitSuites{
		Name:       xmlSafe(fmt.Sprintf("chatspec %s conformance: %s", r.Suite, r.Target)),
		junitTally: junitTally{Time: seconds(r.Elapsed)},
		Properties: junitRunProperties(r),
	}
	index := make(map[string]int)
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		j, ok := index[s.Feature]
		if !ok {
			j = len(doc.Suites)
			index[s.Feature] = j
			doc.Suites = append(doc.Suites, junitSuite{Name: xmlSafe(s.Feature), Timestamp: junitTimestamp(r.Started)})
		}
		suite := &doc.Suites[j]
		c := junitTestcase(s)
		suite.Cases = append(suite.Cases, c)
		suite.elapsed += s.Elapsed
		suite.Tests++
		switch {
		case c.Failure != nil:
			suite.Failures++
		case c.Skipped != nil:
			suite.Skipped++
		}
	}
	for i := range doc.Suites {
		s := &doc.Suites[i]
		s.Time = seconds(s.elapsed)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
	}

	// Encode to memory first: an encoding error leaves no half file behind.
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: encoding JUnit: %w", err)
	}
	buf.WriteByte('\n')
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: writing JUnit: %w", err)
	}
	return nil
}

// junitRunProperties are the run's own facts, once for the whole file.
func junitRunProperties(r *Report) *junitProperties {
	p := &junitProperties{}
	add := func(name, value string) {
		p.Property = append(p.Property, junitProperty{Name: name, Value: xmlSafe(value)})
	}
	add("suite", r.Suite)
	add("target", r.Target)
	add("verdict", string(r.Verdict()))
	add("strict", strconv.FormatBool(r.Strict))
	add("concurrency", strconv.Itoa(r.Concurrency))
	if !r.Started.IsZero() {
		add("started", r.Started.Format(time.RFC3339))
	}
	if r.CannotGrade != nil {
		add("cannot_grade", r.CannotGrade.sentence())
	}
	if r.Stopped != nil {
		add("stopped", r.Stopped.sentence())
	}
	for _, s := range r.Settings {
		add("setting."+s.Name, s.Value)
	}
	return p
}

// junitTestcase renders one scenario.
func junitTestcase(s *Scenario) junitCase {
	c := junitCase{
		Name:      xmlSafe(s.Name),
		Classname: xmlSafe(s.RuleID),
		File:      xmlSafe(s.File),
		Line:      s.Line,
		Time:      seconds(s.Elapsed),
		Properties: &junitProperties{Property: []junitProperty{
			{Name: "level", Value: xmlSafe(string(s.Level))},
			{Name: "outcome", Value: xmlSafe(string(s.Outcome))},
		}},
	}
	if s.Retried > 0 {
		c.Properties.Property = append(c.Properties.Property, junitProperty{Name: "retried", Value: strconv.Itoa(s.Retried)})
	}
	details := xmlSafe(scenarioDetails(s))
	switch s.Outcome {
	case Passed:
		return c
	case Failed:
		c.Failure = &junitResult{Message: xmlSafe(fmt.Sprintf("FAIL [%s] %s", s.Level, s.Rule)), Text: details}
	case Warned:
		c.Skipped = &junitResult{Message: xmlSafe(fmt.Sprintf("WARN [%s] %s", s.Level, s.Rule)), Text: details}
	default:
		c.Skipped = &junitResult{Message: xmlSafe(notGradedMessage(s)), Text: details}
	}
	if t := transcriptText(s); t != "" {
		c.SystemOut = &junitText{Text: xmlSafe(t)}
	}
	return c
}

// scenarioDetails gives the step, Expected and Actual of a scenario that
// did not pass, one a line, leaving out those it does not have.
func scenarioDetails(s *Scenario) string {
	var b strings.Builder
	for _, f := range [...]struct{ name, value string }{
		{"Step", s.Step}, {"Expected", s.Expected}, {"Actual", s.Actual},
	} {
		if f.value != "" {
			fmt.Fprintf(&b, "%-9s %s\n", f.name+":", f.value)
		}
	}
	return b.String()
}

// notGradedMessage says why a scenario was not graded, and which rule's
// failure explains it.
func notGradedMessage(s *Scenario) string {
	m := "not graded"
	if s.Reason != "" {
		m += ": " + s.Reason
	}
	if s.Needs != "" {
		m += " (needs: " + s.Needs + ")"
	}
	return m
}

// sentence renders a Problem on one line: what, when, during what, and
// the hint.
func (p *Problem) sentence() string {
	m := p.What
	if p.At > 0 {
		m += " (at " + offset(p.At) + ")"
	}
	if p.During != "" {
		m += " During: " + p.During + "."
	}
	if len(p.Sample) > 0 {
		m += " First bytes: " + QuoteBytes(p.Sample, len(p.Sample)) + "."
	}
	if p.Hint != "" {
		m += " " + p.Hint
	}
	return m
}

// transcriptText is a scenario's transcript for <system-out>, with a
// legend; "" for a scenario without one.
func transcriptText(s *Scenario) string {
	t := TranscriptText(s, "")
	if t == "" {
		return ""
	}
	return "Transcript (-> sent by the suite, <- received from the target, ** events):\n" + t
}

// junitTimestamp formats t as JUnit's schema wants it: ISO 8601 in UTC,
// without a zone.
func junitTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

// xmlSafe replaces what XML 1.0 cannot hold (invalid UTF-8, NUL and most
// other control characters) with U+FFFD, so that a target's bytes that
// reach a message cannot make the file unreadable.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' ||
			r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
			return r
		}
		return '\uFFFD'
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
