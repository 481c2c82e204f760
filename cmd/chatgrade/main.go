// Command chatgrade grades servers and clients of the chat protocol of the
// networking assignment (JOIN, J_OK, J_ER, DATA, IMAV, QUIT, LIST): one
// running server, one client, or a whole class of servers from a roster.
// It carries the rules (the features) inside it, so it needs no checkout
// and no Go.
//
// Usage:
//
//	chatgrade server HOST:PORT [flags]   grade a running server
//	chatgrade class ROSTER [flags]       build, start and grade every student of a roster
//	chatgrade client [flags] -- COMMAND  grade a client: the suite plays the server
//	chatgrade help [command]             this help, or a command's
//	chatgrade version                    print the version
//
// Exit codes: 0 pass; 1 a MUST rule failed (or any rule, with -strict);
// 2 cannot grade (unreachable, no answer, a framing the suite cannot
// read, or INCOMPLETE: some MUST rules could not be graded); 3 bad usage.
// For class: 0 every student passed, 1 every student was graded and some
// failed, 2 some student could not be graded (completely), 3 bad usage or
// a roster that cannot be read.
//
// Progress goes to standard error: one line rewritten in place on a
// terminal, plain lines otherwise. Colour only on a terminal, and never
// with NO_COLOR set.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/chatspec/chatspec/classroom"
	"github.com/chatspec/chatspec/grade"
)

func main() {
	// A class run starts chatgrade again for each student.
	if code, ok := classroom.Child(); ok {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], terminal())
	stop()
	os.Exit(code)
}

// env is where a command writes, and what it knows of the terminal.
type env struct {
	stdout, stderr io.Writer
	// outTTY and errTTY: standard output or error is a terminal.
	outTTY, errTTY bool
	// color: colour is allowed (NO_COLOR is not set, TERM is not dumb).
	color bool
	// width is the terminal's width (0 if unknown).
	width int
}

// terminal returns the process's env.
func terminal() env {
	e := env{stdout: os.Stdout, stderr: os.Stderr,
		outTTY: term.IsTerminal(int(os.Stdout.Fd())), errTTY: term.IsTerminal(int(os.Stderr.Fd()))}
	_, noColor := os.LookupEnv("NO_COLOR")
	e.color = !noColor && os.Getenv("TERM") != "dumb"
	if e.errTTY {
		e.width, _, _ = term.GetSize(int(os.Stderr.Fd()))
	}
	return e
}

// run runs the command of args and returns the exit code.
func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return grade.ExitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(e.stdout, usage)
			return 0
		}
		if help, ok := helps[rest[0]]; ok {
			help(e.stdout)
			return 0
		}
		fmt.Fprintf(e.stderr, "chatgrade help %s: unknown command; the commands are server, class, client and version\n", rest[0])
		return grade.ExitUsage
	case "server":
		return serverCommand(ctx, rest, e)
	case "class":
		return classCommand(ctx, rest, e)
	case "client":
		return clientCommand(ctx, rest, e)
	case "version":
		fmt.Fprintln(e.stdout, version())
		return 0
	}
	fmt.Fprintf(e.stderr, "chatgrade: unknown command %q\n\n%s", cmd, usage)
	return grade.ExitUsage
}

const usage = `chatgrade grades servers and clients of the chat protocol of the networking
assignment (JOIN, J_OK, J_ER, DATA, IMAV, QUIT, LIST), rule by rule: one
running server, one client, or a whole class from a roster. The rules are
inside the binary.

Usage:

	chatgrade <command> [arguments]

The commands are:

	server    grade a running server:  chatgrade server HOST:PORT [flags]
	class     build, start and grade every student of a roster:
	          chatgrade class ROSTER [flags]
	client    grade a client, the suite playing the server:
	          chatgrade client [flags] -- COMMAND [ARG...]
	version   print chatgrade's version

Use "chatgrade help <command>" for more about a command.

Exit codes: 0 pass; 1 a MUST rule failed (or any, with -strict); 2 cannot
grade (unreachable, no answer, a framing the suite cannot read, or
INCOMPLETE: some MUST rules could not be graded); 3 bad usage.
`

// helps are the commands' long help texts with their flags.
var helps = map[string]func(io.Writer){
	"server": func(w io.Writer) { printHelp(w, serverHelp, registerServer) },
	"class":  func(w io.Writer) { printHelp(w, classHelp, func(fs *flag.FlagSet) { (&classFlags{}).register(fs) }) },
	"client": func(w io.Writer) { printHelp(w, clientHelp, registerClient) },
	"version": func(w io.Writer) {
		fmt.Fprint(w, "usage: chatgrade version\n\nPrints chatgrade's version, the commit it was built from and the Go version.\n")
	},
}

// printHelp writes text and the defaults of the flags register binds,
// but for godog's own: those that matter are in godogHelp.
func printHelp(w io.Writer, text string, register func(*flag.FlagSet)) {
	all := flag.NewFlagSet("", flag.ContinueOnError)
	register(all)
	shown := flag.NewFlagSet("", flag.ContinueOnError)
	godogFlags := false
	all.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "godog.") {
			godogFlags = true
			return
		}
		shown.Var(f.Value, f.Name, f.Usage)
	})
	shown.SetOutput(w)
	fmt.Fprint(w, text)
	fmt.Fprint(w, "\nFlags:\n")
	shown.PrintDefaults()
	if godogFlags {
		fmt.Fprint(w, godogHelp)
	}
}

// godogHelp describes godog's flags that a grading uses. godog defines
// more (every -godog.* flag of go test ./conformance is accepted), which
// a grading ignores.
const godogHelp = `
godog's flags, as go test ./conformance takes them:
  -godog.tags EXPR
    	run only the scenarios whose tags match: @must, ~@slow, @must&&~@slow, @a,@b
    	(godog's syntax; "not @a" selects nothing, and the run then says so)
  -godog.paths PATHS
    	run only these feature files or scenarios: joining.feature, joining.feature:12
  -godog.concurrency N
    	scenarios at once (default 8); 1 for a server that allows only a few clients
  -godog.format pretty|progress
    	godog's own step-by-step output as well
`

// wantsHelp reports whether args ask for help.
func wantsHelp(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" })
}

// parseCommand shows the help of cmd if args ask for it, or parses them:
// the flags register binds, and the positional arguments it returns.
// done says the command is over (help shown, or a usage error written),
// with the exit code.
func parseCommand(cmd string, args []string, e env, register func(*flag.FlagSet)) (pos []string, code int, done bool) {
	if wantsHelp(args) {
		helps[cmd](e.stdout)
		return nil, 0, true
	}
	fs := flag.NewFlagSet("chatgrade "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	register(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, usageError(e, cmd, err), true
	}
	return pos, 0, false
}

// parseArgs parses flags and positional arguments in any order ("HOST:PORT
// -strict" and "-strict HOST:PORT"); after "--" every argument is
// positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError writes a usage error and returns ExitUsage.
func usageError(e env, cmd string, err error) int {
	fmt.Fprintf(e.stderr, "chatgrade %s: %s\nRun 'chatgrade help %s' for usage.\n", cmd, err, cmd)
	return grade.ExitUsage
}

// release is the version a release build sets (scripts/release, with
// -ldflags -X main.release=...); "" for other builds.
var release string

// version returns the version and commit chatgrade was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "chatgrade " + release
	}
	v := "chatgrade " + bi.Main.Version
	if release != "" {
		v = "chatgrade " + release
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		v += " (" + rev + dirty + ")"
	}
	return v + " " + bi.GoVersion
}

var errNoAddr = errors.New("no server address: give HOST:PORT")
