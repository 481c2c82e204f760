package peer

import (
	"fmt"
	"sync"
	"time"

	"github.com/chatspec/chatspec/report"
)

// Transcript records, for one scenario, every byte its connections send and
// every frame they receive, with the events between (connects, closes,
// waits), each with its offset from the scenario's start. It is safe for
// concurrent use: reader and heartbeat goroutines add to it while steps run.
type Transcript struct {
	start time.Time

	mu      sync.Mutex
	entries []entry // guarded by mu
	dropped int     // guarded by mu: entries past MaxEntries, not kept
}

// entry is a report.Entry and whether it is set apart.
type entry struct {
	report.Entry
	apart bool // caused by another scenario: left out of the report
}

// MaxEntries caps what a transcript keeps: a flood should not hold
// megabytes for a report that shows a few hundred lines. Events are always
// kept.
const MaxEntries = 1000

// NewTranscript returns an empty transcript whose offsets count from start.
func NewTranscript(start time.Time) *Transcript { return &Transcript{start: start} }

// Since returns the offset of now.
func (t *Transcript) Since() time.Duration { return time.Since(t.start) }

// Start returns the time offsets count from.
func (t *Transcript) Start() time.Time { return t.start }

// add appends e and returns its index, or -1 if the transcript is full.
func (t *Transcript) add(e report.Entry) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addLocked(e)
}

// addLocked is add, with t.mu held.
func (t *Transcript) addLocked(e report.Entry) int {
	if len(t.entries) >= MaxEntries && e.Dir != report.Event {
		t.dropped++
		return -1
	}
	t.entries = append(t.entries, entry{Entry: e})
	return len(t.entries) - 1
}

// bytes records b, sent or received on conn at offset at, and returns its
// index, or -1 if the transcript is full. It copies b only to keep it: a
// flood past MaxEntries costs no copies.
func (t *Transcript) bytes(at time.Duration, conn string, dir report.Direction, b []byte, beat bool) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries) >= MaxEntries {
		t.dropped++
		return -1
	}
	keep := b[:min(len(b), report.MaxEntryBytes)]
	e := report.Entry{At: at, Conn: conn, Dir: dir, Data: append([]byte(nil), keep...), Heartbeat: beat}
	if len(b) > len(keep) {
		e.Size = len(b)
	}
	return t.addLocked(e)
}

// Record records b, sent or received on conn, as bytes that crossed
// something other than a Conn (a process's standard input or output), and
// returns the entry's index, or -1 if the transcript is full.
func (t *Transcript) Record(conn string, dir report.Direction, b []byte) int {
	return t.bytes(t.Since(), conn, dir, b, false)
}

// Event records something that happened on conn ("suite" for the
// scenario as a whole).
func (t *Transcript) Event(conn, format string, args ...any) {
	t.add(report.Entry{At: t.Since(), Conn: conn, Dir: report.Event, Note: fmt.Sprintf(format, args...)})
}

// SetApart marks entry i as caused by something outside the scenario: it
// is left out of Entries. A negative i is ignored.
func (t *Transcript) SetApart(i int) {
	if i < 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if i < len(t.entries) {
		t.entries[i].apart = true
	}
}

// Apart returns how many entries were set apart.
func (t *Transcript) Apart() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, e := range t.entries {
		if e.apart {
			n++
		}
	}
	return n
}

// Entries returns the entries not set apart, how many were set apart, and
// how many were not kept at all.
func (t *Transcript) Entries() (kept []report.Entry, apart, dropped int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept = make([]report.Entry, 0, len(t.entries))
	for _, e := range t.entries {
		if e.apart {
			apart++
			continue
		}
		kept = append(kept, e.Entry)
	}
	return kept, apart, t.dropped
}
