package clientsteps

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/chatspec/chatspec/engine"
)

// This file is the suite's user: it starts the client and types into it,
// one line at a time, each once the client has read the one before. In
// manual mode it asks the person grading to do the same by hand.

// start starts the client, once: its process, then the profile's first
// lines.
func (w *world) start() error {
	if w.failure != nil {
		return w.failure
	}
	if w.started {
		return nil
	}
	w.started = true
	if w.cfg.Manual {
		return nil
	}
	p, err := startProcess(expand(w.cfg.Command, w.addr), w.cfg.Dir, w.tr, w.signal)
	if err != nil {
		return &engine.NotGraded{Reason: "the suite cannot start the client: " + err.Error(), Cause: causeNoStart}
	}
	w.proc = p
	for _, l := range w.cfg.Profile.First {
		w.typeLine(expand(l, w.addr))
	}
	return nil
}

// did notes that the user, or the suite's server, just did what says:
// what the client prints or sends from now on answers it.
func (w *world) did(what string) {
	w.lastWhat = what
	w.lastAt = w.tr.Since()
	if w.proc != nil {
		w.lastMark = w.proc.mark()
	}
}

// event notes that the suite's server just did what says to the client.
func (w *world) event(what string) {
	w.did(what)
	w.eventMark, w.eventOff = w.lastMark, w.lastAt
}

// typeLine types one line into the client's standard input and waits
// until the client has read it (where the system can tell, and up to
// Config.Start for the first line, Config.Wait for the others). A line
// the client cannot take (it exited) is noted in the transcript: the step
// that waits for its effect says what went wrong.
func (w *world) typeLine(line string) {
	if w.proc == nil {
		return
	}
	w.did(fmt.Sprintf("the user typed %q", line))
	w.typedAt = w.lastAt
	w.lastTyped = line
	if w.proc.write([]byte(line+"\n")) != nil {
		return
	}
	within := w.cfg.Wait
	if w.lines == 0 {
		within = w.cfg.Start
	}
	w.lines++
	w.unread = w.drain(within)
	w.readAt, w.readMark = w.tr.Since(), w.proc.mark()
}

// drain waits until the client has read everything typed, its process
// exits, or within passes, serving the scenario meanwhile. It reports
// whether typed bytes are still unread. The pipe says nothing when it is
// read, so the wait polls it.
func (w *world) drain(within time.Duration) bool {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(within)
	for {
		w.service()
		n := w.proc.unread()
		if n <= 0 || !w.proc.running() {
			return false
		}
		if time.Now().After(deadline) {
			w.tr.Event(connStdin, "the client has not read this line within %s", within)
			return true
		}
		select {
		case <-tick.C:
		case <-w.notify:
		case <-w.ctx.Done():
			return true
		}
	}
}

// typeJoin types the profile's join line for name.
func (w *world) typeJoin(name string) error {
	if err := w.start(); err != nil {
		return err
	}
	if !slices.Contains(w.typed, name) {
		w.typed = append(w.typed, name)
	}
	if w.cfg.Manual {
		w.did("the person grading was asked to join as " + name)
		w.typedAt = w.lastAt
		if len(w.typed) == 1 {
			w.instructf("Start the client, connect it to %s (host %s, port %s), and join as %s", w.addr, hostOf(w.addr), portOf(w.addr), name)
		} else {
			w.instructf("Now join as %s", name)
		}
		return nil
	}
	first, before := w.lines == len(w.cfg.Profile.First), w.readMark
	w.typeLine(expand(strings.ReplaceAll(w.cfg.Profile.Join, "{name}", name), w.addr))
	if first && w.proc != nil {
		// What it printed between reading the line before and reading the
		// name is its prompt: printed again after a refusal, it is no
		// message.
		lines := strings.Split(strings.TrimRight(w.proc.between(before, w.readMark), " \r\n"), "\n")
		w.prompt = strings.TrimSpace(lines[len(lines)-1])
	}
	return nil
}

// say types the profile's line for saying text.
func (w *world) say(text string) {
	w.lastText = text
	w.saidTexts = append(w.saidTexts, text)
	if w.cfg.Manual {
		w.did(fmt.Sprintf("the person grading was asked to send %q", text))
		w.typedAt = w.lastAt
		w.instructf("Send the message: %s", text)
		return
	}
	w.typeLine(expand(strings.ReplaceAll(w.cfg.Profile.Say, "{text}", text), w.addr))
}

// leave leaves the way the profile says: a typed word, or the end of
// standard input.
func (w *world) leave() {
	switch {
	case w.cfg.Manual:
		w.did("the person grading was asked to leave")
		w.typedAt = w.lastAt
		w.instructf("Leave the chat: close the client the way a user does (its quit command, or its window's close button)")
	case w.cfg.Profile.Quit != "":
		w.typeLine(expand(w.cfg.Profile.Quit, w.addr))
	default:
		w.endInput()
	}
}

// endInput closes the client's standard input.
func (w *world) endInput() {
	w.did("the user closed standard input")
	w.typedAt = w.lastAt
	w.lastTyped = ""
	if w.proc != nil {
		w.proc.closeStdin()
	}
}

// instructf tells the person grading what to do next (manual mode), and
// records it in the transcript.
func (w *world) instructf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !w.told && w.es != nil {
		w.told = true
		fmt.Fprintf(w.cfg.Instructions, "\n== %s (%s)\n", w.es.Result.Name, w.es.Result.RuleID)
	}
	fmt.Fprintf(w.cfg.Instructions, "   > %s\n", msg)
	w.tr.Event("suite", "asks the person grading: %s", msg)
}

// react is how long the client has to react to what the user or the
// server did: a person needs longer in manual mode.
func (w *world) react() time.Duration {
	if w.cfg.Manual {
		return w.cfg.Step
	}
	return w.cfg.Wait
}

// startWait is how long a client just started has to join.
func (w *world) startWait() time.Duration {
	if w.cfg.Manual {
		return w.cfg.Step
	}
	return w.cfg.Start + w.cfg.Wait
}

func hostOf(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
