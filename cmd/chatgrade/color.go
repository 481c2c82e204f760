package main

import (
	"regexp"
	"strings"

	"github.com/chatspec/chatspec/classroom"
	"github.com/chatspec/chatspec/report"
)

// The marks of the text report that get a colour: the verdict, and an
// outcome at the start of a rule's or a failure's line.
var (
	verdictLine = regexp.MustCompile(`(Verdict: )(PASS|FAIL|INCOMPLETE|CANNOT GRADE)`)
	outcomeMark = regexp.MustCompile(`^(\s*)(FAIL|WARN|ok|--)(\s)`)
)

// colorReport colours the text report for a terminal: verdicts, and the
// outcome marks of rules and failures.
func colorReport(text string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		l = verdictLine.ReplaceAllStringFunc(l, func(m string) string {
			sub := verdictLine.FindStringSubmatch(m)
			return sub[1] + classroom.Colorize(report.Verdict(sub[2]))
		})
		l = outcomeMark.ReplaceAllStringFunc(l, func(m string) string {
			sub := outcomeMark.FindStringSubmatch(m)
			code := map[string]string{"FAIL": "31", "WARN": "33", "ok": "32", "--": "2"}[sub[2]]
			return sub[1] + "\x1b[" + code + "m" + sub[2] + "\x1b[0m" + sub[3]
		})
		lines[i] = l
	}
	return strings.Join(lines, "")
}
