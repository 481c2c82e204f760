package report

import (
	"fmt"
	"strconv"
	"time"
)

// QuoteBytes returns b as a Go string literal, as strconv.Quote writes it:
// control characters, NUL and invalid UTF-8 are escaped, so they are seen,
// never interpreted. When b is the first bytes of size, it ends in
// "... (size bytes in all)".
func QuoteBytes(b []byte, size int) string {
	q := strconv.Quote(string(b))
	if size > len(b) {
		q += fmt.Sprintf("... (%d bytes in all)", size)
	}
	return q
}

// Text returns what the entry shows: the note of an event, or the bytes
// sent or received, quoted by [QuoteBytes].
func (e *Entry) Text() string {
	if e.Dir == Event {
		return e.Note
	}
	return QuoteBytes(e.Data, e.Size)
}

// offset formats a transcript offset: "+0.123s".
func offset(d time.Duration) string {
	return fmt.Sprintf("+%.3fs", d.Seconds())
}

// seconds formats a duration for JUnit and HTML: "1.234".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
