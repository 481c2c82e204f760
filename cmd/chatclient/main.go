// Command chatclient is the reference chat client.
//
// When standard input is a terminal it runs a full-screen chat (package
// reference/chatclient/tui); otherwise, or with -plain, it runs line by line
// (package reference/chatclient/plain): it prints "name: ", reads the name,
// then sends each further line as a message and prints one line per event.
//
//	chatclient [-addr host:port] [-name name] [-heartbeat 1m] [-framing line|utf] [-plain]
//
// Exit status: 0 when the user leaves (/quit, Ctrl-C, SIGTERM, end of
// input), 1 when the server cannot be reached or goes away, 2 for bad flags.
// Every way out sends QUIT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatclient"
	"github.com/chatspec/chatspec/reference/chatclient/plain"
	"github.com/chatspec/chatspec/reference/chatclient/tui"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chatclient", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:4242", "the chat server, `host:port`")
	name := fs.String("name", "", "the chat `name` to join with (otherwise asked for)")
	heartbeat := fs.Duration("heartbeat", chatclient.DefaultHeartbeat, "the interval between IMAV heartbeats (0: none)")
	var framing protocol.Framing
	fs.Var(&framing, "framing", "message framing: line (one message per line) or utf (Java writeUTF)")
	plainMode := fs.Bool("plain", false, "line-by-line mode even on a terminal")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "chatclient: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	cfg := chatclient.Config{Heartbeat: *heartbeat, Framing: framing}
	if *heartbeat <= 0 {
		cfg.Heartbeat = -1 // chatclient's zero means the default; the flag's means none
	}

	var err error
	if *plainMode || !term.IsTerminal(int(stdin.Fd())) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = plain.Run(ctx, plain.Options{
			Addr: *addr, Name: *name, Config: cfg,
			In: stdin, Out: stdout, Err: stderr,
			Echoed: term.IsTerminal(int(stdin.Fd())) && isTerminal(stdout),
		})
	} else {
		// Bubble Tea handles SIGINT and SIGTERM itself (and Ctrl-C is a key).
		err = tui.Run(context.Background(), tui.Options{Addr: *addr, Name: *name, Config: cfg})
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, plain.ErrNoName):
		fmt.Fprintln(stderr, "chatclient: no name given")
	default:
		fmt.Fprintf(stderr, "chatclient: %s\n", chatclient.Explain(err))
	}
	return 1
}
