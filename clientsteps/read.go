package clientsteps

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// acceptedAt returns when each connection arrived.
func (w *world) acceptedAt() []time.Duration {
	w.rawMu.Lock()
	defer w.rawMu.Unlock()
	return append([]time.Duration(nil), w.accepted...)
}

// sentSince returns what the client sent from offset since on, on each
// of its connections in turn (those that tried to join: a stray's are
// not the client's).
func (w *world) sentSince(since time.Duration) []peer.Msg {
	var out []peer.Msg
	for _, wr := range w.wires {
		if !wr.attempt {
			continue
		}
		msgs, _ := wr.msgs()
		for _, m := range msgs {
			if m.At >= since {
				out = append(out, m)
			}
		}
	}
	return out
}

// find returns the first message the client sent from since on that ok
// accepts, or nil.
func (w *world) find(since time.Duration, ok func(peer.Msg) bool) *peer.Msg {
	for _, m := range w.sentSince(since) {
		if ok(m) {
			return &m
		}
	}
	return nil
}

// holds reports whether m's frame holds text (or its first 40
// characters, for a long one).
func holds(m peer.Msg, text string) bool {
	if r := []rune(text); len(r) > 40 {
		text = string(r[:40])
	}
	return text != "" && strings.Contains(m.Frame, text)
}

// isAlive reports whether m is an IMAV, in any shape.
func isAlive(m peer.Msg) bool { return m.ReadErr == nil && m.Kind == protocol.KindAlive }

// seen lists messages for "actual": quoted, at most six.
func seen(msgs []peer.Msg) string {
	parts := make([]string, 0, min(len(msgs), 7))
	for i, m := range msgs {
		if i == 6 {
			parts = append(parts, fmt.Sprintf("and %d more", len(msgs)-6))
			break
		}
		parts = append(parts, m.String())
	}
	return strings.Join(parts, ", ")
}

// whatHappened says, for "actual", what the client did from offset since
// on: what it sent (IMAV aside), whether it read what was typed, whether
// it exited, and the end of what it printed.
func (w *world) whatHappened(since time.Duration) string {
	var parts []string
	var sent []peer.Msg
	for _, m := range w.sentSince(since) {
		if !isAlive(m) {
			sent = append(sent, m)
		}
	}
	switch {
	case len(w.acceptedAt()) == 0:
		parts = append(parts, "no connection arrived")
	case len(sent) == 0:
		parts = append(parts, "nothing arrived on the wire")
	default:
		parts = append(parts, "it sent "+seen(sent))
	}
	for _, wr := range w.wires {
		if msgs, _ := wr.msgs(); len(msgs) == 0 && !strings.Contains(string(wr.first), "\n") && wr.framing == protocol.FramingLine {
			parts = append(parts, fmt.Sprintf("on %s, bytes without a line end: %q (is a println or a flush missing?)", wr.label, wr.first))
		}
	}
	if w.unread {
		parts = append(parts, "the last line typed was still unread in its standard input")
	}
	if w.proc != nil && !w.proc.running() {
		parts = append(parts, "the client exited ("+w.proc.exitStatus()+")")
	}
	if tail := w.outputTail(); tail != "" {
		parts = append(parts, tail)
	}
	return strings.Join(parts, "; ")
}

// outputTail quotes the end of what the client printed on standard error,
// or else on standard output: where a client says what went wrong.
func (w *world) outputTail() string {
	if w.proc == nil {
		return ""
	}
	out, errb := w.proc.since(output{})
	which, b := "standard error", errb
	if len(strings.TrimSpace(string(errb))) == 0 {
		which, b = "output", out
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = "..." + s[len(s)-200:]
	}
	return fmt.Sprintf("its %s ends: %q", which, s)
}

// printedSince returns what the client printed on standard output and
// standard error since m, and whether it printed anything but its prompt
// and blank space.
func (w *world) printedSince(m output) (stdout, stderr string, something bool) {
	if w.proc == nil {
		return "", "", false
	}
	o, e := w.proc.since(m)
	stdout, stderr = string(o), string(e)
	rest := stdout + stderr
	if w.prompt != "" {
		rest = strings.ReplaceAll(rest, w.prompt, "")
	}
	return stdout, stderr, strings.TrimSpace(rest) != ""
}

// stackTrace matches the lines a crash prints: a Java exception and its
// frames, a Go panic, a Python traceback, a .NET or JavaScript one.
var stackTrace = regexp.MustCompile(`(?m)^Exception in thread |^\s+at [\w$.<>/]+\((?:[\w$]+\.(?:java|kt|scala|groovy):\d+|Native Method|Unknown Source)\)|^panic: |^goroutine \d+ \[|^Traceback \(most recent call last\):|^Unhandled exception|^\s+at .+ \(.+:\d+:\d+\)$`)

// traceIn returns the first lines of a stack trace in s, or "".
func traceIn(s string) string {
	loc := stackTrace.FindStringIndex(s)
	if loc == nil {
		return ""
	}
	start := strings.LastIndexByte(s[:loc[0]], '\n') + 1
	lines := strings.SplitN(s[start:], "\n", 4)
	return strings.Join(lines[:min(len(lines), 3)], "\n")
}

// quoteOut quotes output for "actual", shortened to its first and last
// characters when long.
func quoteOut(s string) string {
	if len(s) > 300 {
		s = s[:150] + " ... " + s[len(s)-150:]
	}
	return fmt.Sprintf("%q", s)
}
