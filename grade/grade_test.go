package grade

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/chatspec/chatspec/report"
)

func TestExitCode(t *testing.T) {
	must := func(o report.Outcome) report.Scenario { return report.Scenario{Level: report.Must, Outcome: o} }
	should := func(o report.Outcome) report.Scenario { return report.Scenario{Level: report.Should, Outcome: o} }
	for _, tc := range []struct {
		name string
		rep  *report.Report
		err  error
		want int
	}{
		{"pass", &report.Report{Scenarios: []report.Scenario{must(report.Passed), should(report.Warned)}}, nil, ExitPass},
		{"must failed", &report.Report{Scenarios: []report.Scenario{must(report.Failed), must(report.Passed)}}, nil, ExitFail},
		{"strict", &report.Report{Strict: true, Scenarios: []report.Scenario{must(report.Passed), should(report.Failed)}}, nil, ExitFail},
		{"incomplete", &report.Report{Scenarios: []report.Scenario{must(report.Passed), must(report.NotGraded)}}, nil, ExitCannotGrade},
		{"cannot grade", &report.Report{CannotGrade: &report.Problem{What: "unreachable"}}, nil, ExitCannotGrade},
		{"suite error", &report.Report{Scenarios: []report.Scenario{must(report.Passed)}}, errors.New("boom"), ExitCannotGrade},
		{"no report", nil, nil, ExitCannotGrade},
	} {
		if got := ExitCode(tc.rep, tc.err); got != tc.want {
			t.Errorf("%s: ExitCode = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" for no error
	}{
		{[]string{"-addr", "h:1"}, ""},
		{[]string{"-addr", "h:1", "-godog.concurrency", "1", "-godog.tags", "~@slow"}, ""},
		{nil, "no server address"},
		{[]string{"-addr", "h:1", "-wait", "0s"}, "-wait"},
		{[]string{"-addr", "h:1", "-timeout", "0s"}, "-timeout 0s"},
		{[]string{"-addr", "h:1", "-timeout", "1m"}, "rerun with -timeout"},
	} {
		var f Flags
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.Register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		p, err := f.Plan()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Plan(%q): %v", tc.args, err)
		case tc.want != "" && (!errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Plan(%q) = %v, want a usage error with %q", tc.args, err, tc.want)
		case tc.want == "" && len(tc.args) > 2 && (p.Options.Concurrency != 1 || p.Options.Tags != "~@slow"):
			t.Errorf("Plan(%q): concurrency %d, tags %q: godog's flags not applied", tc.args, p.Options.Concurrency, p.Options.Tags)
		}
	}
}
