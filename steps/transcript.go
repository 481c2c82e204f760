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
}

// entry is one line of a transcript.
type entry struct {
	at   time.Duration
	who  string // "alice (alice_k3j9x2)"
	dir  string // "->" sent, "<-" received, "**" an event
	data []byte // the bytes, for "->" and "<-"
	note string // the event, for "**"
	beat bool   // an IMAV of the heartbeat
}

func newTranscript(start time.Time) *transcript { return &transcript{start: start} }

func (t *transcript) since() time.Duration { return time.Since(t.start) }

func (t *transcript) bytes(who, dir string, b []byte) {
	e := entry{at: t.since(), who: who, dir: dir, data: append([]byte(nil), b...)}
	t.mu.Lock()
	t.entries = append(t.entries, e)
	t.mu.Unlock()
}

// heartbeat records an IMAV sent by a client's heartbeat.
func (t *transcript) heartbeat(who string, b []byte) {
	e := entry{at: t.since(), who: who, dir: "->", data: append([]byte(nil), b...), beat: true}
	t.mu.Lock()
	t.entries = append(t.entries, e)
	t.mu.Unlock()
}

func (t *transcript) event(who, format string, args ...any) {
	e := entry{at: t.since(), who: who, dir: "**", note: fmt.Sprintf(format, args...)}
	t.mu.Lock()
	t.entries = append(t.entries, e)
	t.mu.Unlock()
}

// maxEntryBytes caps how much of one read or write the report shows.
const maxEntryBytes = 300

// String renders the transcript, one entry a line, bytes quoted as Go
// strings. A run of heartbeats (of any of the clients) collapses into one
// line that counts them per client.
func (t *transcript) String() string {
	t.mu.Lock()
	entries := append([]entry(nil), t.entries...)
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
			lines = append(lines, line{at, "heartbeat", "->", quoteBytes(e.data) + " from " + strings.Join(parts, ", ")})
			i = j
			continue
		}
		what := e.note
		if e.dir != "**" {
			what = quoteBytes(e.data)
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
	return b.String()
}

func fmtOffset(d time.Duration) string {
	return fmt.Sprintf("+%.3fs", d.Seconds())
}

// quoteBytes quotes b as a Go string literal, cut after maxEntryBytes.
func quoteBytes(b []byte) string {
	if len(b) <= maxEntryBytes {
		return strconv.Quote(string(b))
	}
	return strconv.Quote(string(b[:maxEntryBytes])) + fmt.Sprintf("... (%d bytes in all)", len(b))
}
