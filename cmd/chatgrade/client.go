package main

import (
	"context"
	"flag"
	"fmt"
	"regexp"
	"strings"

	"github.com/chatspec/chatspec/grade"
)

const clientHelp = `usage: chatgrade client [flags] -- COMMAND [ARG...]
       chatgrade client -client-profile FILE [flags]
       chatgrade client -client-manual [flags]

Grades a chat client, as go test ./conformance -client-cmd does, with the
same flags: the suite plays the server, starts the client with COMMAND
(a fresh process for every scenario), types into it one line at a time,
and checks what it sends and prints. {host}, {port} and {addr} in the
command, and in every line typed, stand for the suite's server. The text
report goes to standard output, progress to standard error.

A client that asks for more than a name first (the host, the port) is
given those lines with -client-first; one that leaves with a word, with
-client-quit. A GUI client is graded by hand: -client-manual prints what
to do, one step at a time.

Examples:

	chatgrade client -- java -cp out ChatClient {host} {port}
	chatgrade client -client-first '{host}' -client-first '{port}' -client-quit QUIT -- java -cp out ChatClient
	chatgrade client -client-profile alice.toml -report-html alice.html
	chatgrade client -client-manual -client-listen 127.0.0.1:5000

Exit codes: 0 pass; 1 a MUST rule failed (or any, with -strict); 2 cannot
grade (the client never connects, or INCOMPLETE); 3 bad usage.
`

// registerClient binds the client command's flags.
func registerClient(fs *flag.FlagSet) { (&grade.ClientFlags{}).Register(fs) }

// clientCommand grades one client.
func clientCommand(ctx context.Context, args []string, e env) int {
	var g grade.ClientFlags
	pos, code, done := parseCommand("client", args, e, g.Register)
	if done {
		return code
	}
	if len(pos) > 0 {
		if g.Client.Cmd != "" {
			return usageError(e, "client", fmt.Errorf("two commands: -client-cmd %q and %q", g.Client.Cmd, shellJoin(pos)))
		}
		g.Client.Cmd = shellJoin(pos)
	}
	plan, err := g.Plan()
	if err != nil {
		return usageError(e, "client", err)
	}
	plan.Config.Instructions = e.stdout
	plan.Options.Progress, plan.Options.Live = e.stderr, e.errTTY
	defer watchdog(e, "client", plan.Timeout)()
	rep, err := plan.Run(ctx)
	return deliver(ctx, e, "client", &g.Run, rep, err)
}

// plainWord is an argument the shell takes as it is.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./{}-]+$`)

// shellJoin turns arguments into one sh command line that gives them back
// as they are: an argument with anything the shell would read is quoted.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if plainWord.MatchString(a) {
			quoted[i] = a
			continue
		}
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}
