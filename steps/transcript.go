package steps

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A transcript records, for one scenario, every byte each of its
// connections sent and received, and every open and close, with the time
// offset from the scenario's start. It is safe for concurrent use: reader
// and heartbeat goroutines append to it while steps run.
type transcript struct {
	start time.Time

	mu      sync.Mutex
	entries []entry // guarded by mu
	dropped int     // guarded by mu: entries past maxEntries
}

// entry is one line of a transcript.
type entry struct {
	at   time.Duration
	who  string // "alice (alice_k3j9x2)"
	dir  string // "->" sent, "<-" received, "**" an event
	data []byte // the bytes, for "->" and "<-", cut after maxEntryBytes
	size int    // how many bytes there were
	note string // the event, for "**"
	beat bool   // an IMAV of the heartbeat
}

func newTranscript(start time.Time) *transcript { return &transcript{start: start} }

func (t *transcript) since() time.Duration { return time.Since(t.start) }

// maxEntries caps a transcript's length: a flood of messages should not
// hold megabytes for a report that shows a few hundred lines.
const maxEntries = 500

func (t *transcript) bytes(who, dir string, b []byte) {
	e := entry{at: t.since(), who: who, dir: dir, data: append([]byte(nil), b[:min(len(b), maxEntryBytes)]...), size: len(b)}
	t.add(e)
}

// add appends e, or counts it once the transcript is full; events are
// always kept.
func (t *transcript) add(e entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries) < maxEntries || e.dir == "**" {
		t.entries = append(t.entries, e)
		return
	}
	t.dropped++
}

// heartbeat records an IMAV sent by a client's heartbeat.
func (t *transcript) heartbeat(who string, b []byte) {
	t.add(entry{at: t.since(), who: who, dir: "->", data: append([]byte(nil), b...), size: len(b), beat: true})
}

func (t *transcript) event(who, format string, args ...any) {
	t.add(entry{at: t.since(), who: who, dir: "**", note: fmt.Sprintf(format, args...)})
}

// maxEntryBytes caps how much of one read or write the report shows.
const maxEntryBytes = 300

// String renders the transcript, one entry a line, bytes quoted as Go
// strings. A run of heartbeats (of any of the clients) collapses into one
// line that counts them per client.
func (t *transcript) String() string {
	t.mu.Lock()
	entries := append([]entry(nil), t.entries...)
	dropped := t.dropped
	t.mu.Unlock()

	width := 0
	for _, e := range entries {
		width = max(width, len(e.who))
	}
	type line struct{ at, who, dir, what string }
	var lines []line
	for i := 0; i < len(entries); i++ {
		e := entries[i]
		if e.beat {
			j := i
			var who []string
			count := make(map[string]int)
			for ; j < len(entries) && entries[j].beat; j++ {
				if count[entries[j].who] == 0 {
					who = append(who, entries[j].who)
				}
				count[entries[j].who]++
			}
			j--
			at := fmtOffset(e.at)
			if j > i {
				at += ".." + fmtOffset(entries[j].at)
			}
			var parts []string
			for _, w := range who {
				parts = append(parts, fmt.Sprintf("%s x%d", w, count[w]))
			}
			lines = append(lines, line{at, "heartbeat", "->", quoteBytes(e.data, e.size) + " from " + strings.Join(parts, ", ")})
			i = j
			continue
		}
		what := e.note
		if e.dir != "**" {
			what = quoteBytes(e.data, e.size)
		}
		lines = append(lines, line{fmtOffset(e.at), e.who, e.dir, what})
	}
	atWidth := 0
	for _, l := range lines {
		atWidth = max(atWidth, len(l.at))
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "  %-*s %-*s %s %s\n", atWidth, l.at, width, l.who, l.dir, l.what)
	}
	if dropped > 0 {
		fmt.Fprintf(&b, "  ... and %d more entries, not kept\n", dropped)
	}
	return b.String()
}

func fmtOffset(d time.Duration) string {
	return fmt.Sprintf("+%.3fs", d.Seconds())
}

// quoteBytes quotes b, the first bytes of size, as a Go string literal,
// cut after maxEntryBytes.
func quoteBytes(b []byte, size int) string {
	if len(b) > maxEntryBytes {
		b = b[:maxEntryBytes]
	}
	if size <= len(b) {
		return strconv.Quote(string(b))
	}
	return strconv.Quote(string(b)) + fmt.Sprintf("... (%d bytes in all)", size)
}
