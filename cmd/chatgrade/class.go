package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/chatspec/chatspec/classroom"
	"github.com/chatspec/chatspec/grade"
)

const classHelp = `usage: chatgrade class ROSTER [flags]

Grades every student of the roster (a TOML file: class-wide [defaults] and
one [[student]] table each; the README documents every key): builds each
hand-in, starts its server, grades it with every rule, stops it, and writes
one class report. A student whose entry, build or server goes wrong is
reported with the output that shows it; the rest of the class is still
graded.

On Linux each student's build, server and grading run in network and PID
namespaces of their own: only a loopback interface, so thirty servers on
port 5000 run at once and no hand-in reaches the network, and everything a
hand-in starts dies with it. Memory is limited per student with a cgroup
where one can be made. Where namespaces are not available (not Linux, not
root and no user namespaces), the started servers run on the host one at a
time, and chatgrade says so.

The output folder (-out) holds class.html (one self-contained page: the
students-by-rules matrix and every failure), class.json, class.csv, a
junit/ folder with one file per student, and a folder per student with
their reports and logs. Running again with the same folder skips the
students already graded with the same roster entry: fix one entry and run
again. -force grades everyone again; -only grades the students named.

Examples:

	chatgrade class roster.toml
	chatgrade class roster.toml -out grades -parallel 4
	chatgrade class roster.toml -only alice,bob

Exit codes: 0 every student passed; 1 every student was graded, and some
failed; 2 some student could not be graded, or not completely; 3 bad usage
or a roster that cannot be read.
`

// classFlags is the class command's command line.
type classFlags struct {
	opts classroom.Options
	only string
}

func (f *classFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.opts.Out, "out", "chatgrade-class", "the output `folder`: reports, logs, and the results a later run reuses")
	fs.IntVar(&f.opts.Parallel, "parallel", 0, "grade at most `N` students at once (default: the number of cores)")
	fs.BoolVar(&f.opts.Force, "force", false, "grade every student again, even those graded before with the same roster entry")
	fs.StringVar(&f.only, "only", "", "grade only these students: `NAME[,NAME...]` (again, even if graded before)")
	fs.BoolVar(&f.opts.Host, "host", false, "run started servers on the host, one at a time, even where namespaces are available")
	fs.StringVar(&f.opts.HTML, "html", "", "write the class page to `FILE` (default: class.html in the output folder)")
	fs.StringVar(&f.opts.JSON, "json", "", "write every student's report, in one JSON document, to `FILE` (default: class.json in the output folder)")
	fs.StringVar(&f.opts.CSV, "csv", "", "write one row per student to `FILE` (default: class.csv in the output folder)")
	fs.StringVar(&f.opts.JUnit, "junit", "", "write one JUnit file per student into `FOLDER` (default: junit in the output folder)")
}

// classCommand grades a class.
func classCommand(ctx context.Context, args []string, e env) int {
	var f classFlags
	pos, code, done := parseCommand("class", args, e, f.register)
	if done {
		return code
	}
	if len(pos) != 1 {
		return usageError(e, "class", errors.New("give one roster file: chatgrade class ROSTER"))
	}
	if f.opts.Parallel < 0 {
		return usageError(e, "class", fmt.Errorf("-parallel %d: must be 1 or more", f.opts.Parallel))
	}
	roster, err := classroom.LoadRoster(pos[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "chatgrade class: %s\n", err)
		return grade.ExitUsage
	}
	if f.only != "" {
		for _, name := range strings.Split(f.only, ",") {
			name = strings.TrimSpace(name)
			if !roster.Has(name) {
				return usageError(e, "class", fmt.Errorf("-only %s: no such student in %s", name, pos[0]))
			}
			f.opts.Only = append(f.opts.Only, name)
		}
	}
	f.opts.Progress, f.opts.Live, f.opts.Width = e.stderr, e.errTTY, e.width
	f.opts.Color = e.errTTY && e.color
	c, err := classroom.Run(ctx, roster, f.opts)
	if err != nil {
		fmt.Fprintln(e.stderr, "chatgrade class:", err)
		if c == nil {
			return grade.ExitCannotGrade
		}
	}
	html := f.opts.HTML
	if html == "" {
		html = filepath.Join(f.opts.Out, "class.html")
	}
	fmt.Fprintf(e.stdout, "class report: %s\n", html)
	if ctx.Err() != nil {
		fmt.Fprintln(e.stderr, "chatgrade class: interrupted: run it again to grade the students not graded yet")
	}
	return c.ExitCode()
}
