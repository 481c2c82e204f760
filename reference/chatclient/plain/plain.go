// Package plain is the line-oriented face of the reference client, for
// pipes and scripts: it asks for a name on its output, reads the name and
// then one text per line from its input, and prints each thing the server
// says as one line.
//
//	name: alice
//	* online: alice bob
//	bob: hi alice
//	* carol joined
//	* bob left
//
// What the server says goes to Options.Out: "<name>: <text>" for a message,
// "* ..." for presence, "! <code> <text>" for a J_ER, "? <frame>" for a
// frame the client could not read. What the client itself has to say (a
// name or text refused before sending, the connection lost) goes to
// Options.Err, prefixed "chatclient: ". Everything from the server passes
// through chatclient.SafeText.
package plain

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatclient"
)

// Options configures Run.
type Options struct {
	Addr   string            // the server, "host:port"
	Name   string            // the first name to try; "" asks on Out
	Config chatclient.Config // for the connection
	In     io.Reader         // the name (unless Name is set), then one text per line
	Out    io.Writer         // the prompt and what the server says
	Err    io.Writer         // what the client says: refusals, the connection lost
	// Echoed says that what is typed into In appears on Out (both are one
	// terminal), so that the user's Enter ends the prompt's line. Without
	// it, Run ends that line itself once it has read the name, so that
	// what comes next starts a line of its own.
	Echoed bool
}

// QuitCommand, alone on an input line, leaves the chat like end of input.
const QuitCommand = "/quit"

// maxInputLine bounds one line of input. A longer line is an error: no
// chat text comes near it (250 characters are at most 1000 bytes).
const maxInputLine = 64 << 10

// ErrNoName is returned when the input ends before a name was accepted.
var ErrNoName = errors.New("plain: input ended before a name was accepted")

// Run joins the server at o.Addr and relays between o.In/o.Out and the
// server until the input ends (or holds QuitCommand), ctx is done, or the
// server goes away. Every way out sends QUIT. It returns nil when the input
// ends or ctx is done, ErrNoName if the input ended before a name was
// accepted, and otherwise the error that ended it (wrapping
// chatclient.ErrConnLost when the server went away).
//
// Run reads o.In in a goroutine of its own; if Run returns for any other
// reason than the end of input, that goroutine stays blocked in o.In.Read
// until the reader returns.
func Run(ctx context.Context, o Options) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go readLines(o.In, lines, readErr)

	c, err := join(ctx, o, lines, readErr)
	if err != nil {
		if ctx.Err() != nil {
			return nil // interrupted: the Dialer has sent QUIT
		}
		return err
	}
	defer c.Close()

	first := true
	for {
		select {
		case line, ok := <-lines:
			if !ok || line == QuitCommand {
				c.Close()
				for ev := range c.Events() { // what arrived before QUIT
					printEvent(o.Out, ev, &first)
				}
				if !ok {
					return <-readErr
				}
				return nil
			}
			if line == "" {
				continue
			}
			if err := c.Send(line); err != nil {
				if errors.Is(err, chatclient.ErrConnLost) {
					continue // Events is closing: reported there
				}
				fmt.Fprintf(o.Err, "chatclient: not sent: %s\n", chatclient.Explain(err))
			}
		case ev, ok := <-c.Events():
			if !ok {
				return c.Err()
			}
			printEvent(o.Out, ev, &first)
		case <-ctx.Done():
			return nil // the deferred Close sends QUIT
		}
	}
}

// join asks for names until the server accepts one.
func join(ctx context.Context, o Options, lines <-chan string, readErr <-chan error) (*chatclient.Client, error) {
	d := &chatclient.Dialer{Addr: o.Addr, Config: o.Config}
	defer d.Close() // sends QUIT on a connection kept but never joined
	name := o.Name
	for {
		if name == "" {
			fmt.Fprint(o.Out, "name: ")
			select {
			case line, ok := <-lines:
				if !ok {
					fmt.Fprintln(o.Out)
					if err := <-readErr; err != nil {
						return nil, err
					}
					return nil, ErrNoName
				}
				name = strings.TrimSpace(line)
				if !o.Echoed {
					fmt.Fprintln(o.Out)
				}
			case <-ctx.Done():
				fmt.Fprintln(o.Out)
				return nil, ctx.Err()
			}
			if name == "" {
				continue
			}
		}
		c, err := d.Join(ctx, name)
		var je *chatclient.JoinError
		switch {
		case err == nil:
			return c, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &je), errors.Is(err, protocol.ErrInvalidName):
			// Refused by the server or by the local check: ask again.
			fmt.Fprintf(o.Err, "chatclient: %s\n", chatclient.Explain(err))
		default:
			return nil, err
		}
		name = ""
	}
}

// printEvent prints ev as one line. Only the first LIST is printed whole;
// later ones print as who joined and who left.
func printEvent(w io.Writer, ev chatclient.Event, first *bool) {
	s := chatclient.SafeText
	switch ev.Kind {
	case chatclient.EventMessage:
		fmt.Fprintf(w, "%s: %s\n", s(ev.Name), s(ev.Text))
	case chatclient.EventOnline:
		if *first {
			*first = false
			fmt.Fprintf(w, "* online: %s\n", s(strings.Join(ev.Names, " ")))
		}
	case chatclient.EventJoined:
		fmt.Fprintf(w, "* %s joined\n", s(ev.Name))
	case chatclient.EventLeft:
		fmt.Fprintf(w, "* %s left\n", s(ev.Name))
	case chatclient.EventError:
		fmt.Fprintf(w, "! %s %s\n", s(ev.Code), s(ev.Text))
	case chatclient.EventUnknown:
		fmt.Fprintf(w, "? %s\n", s(ev.Text))
	}
}

// readLines sends each line of r, without its line ending, on lines, then
// closes lines and sends the read error (nil at end of input) on errc.
func readLines(r io.Reader, lines chan<- string, errc chan<- error) {
	defer close(lines)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxInputLine)
	for sc.Scan() {
		lines <- strings.TrimSuffix(sc.Text(), "\r")
	}
	if err := sc.Err(); err != nil {
		errc <- fmt.Errorf("plain: read input: %w", err)
		return
	}
	errc <- nil
}
