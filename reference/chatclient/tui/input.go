package tui

import (
	"strings"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// inputLine is a one-line text editor: the runes typed and a cursor
// between them, scrolled sideways when the text is wider than the line.
// (bubbles' textinput would do, but it pulls in a clipboard module this
// project's go.sum does not carry; the editing a chat line needs is small.)
type inputLine struct {
	value   []rune
	pos     int      // cursor: index into value, 0..len(value)
	history []string // texts submitted, oldest first
	hpos    int      // index into history while recalling; len(history) when not
}

// Value returns the text typed.
func (in *inputLine) Value() string { return string(in.value) }

// Reset empties the line.
func (in *inputLine) Reset() { in.value, in.pos, in.hpos = nil, 0, len(in.history) }

// Set replaces the text and puts the cursor at its end.
func (in *inputLine) Set(s string) { in.value = []rune(s); in.pos = len(in.value) }

// Remember adds s to the history that up and down recall.
func (in *inputLine) Remember(s string) {
	if s != "" && (len(in.history) == 0 || in.history[len(in.history)-1] != s) {
		in.history = append(in.history, s)
		if len(in.history) > 100 {
			in.history = in.history[1:]
		}
	}
	in.hpos = len(in.history)
}

// Insert inserts s at the cursor. Line breaks and tabs become spaces and
// other control characters are dropped: a chat text is one line.
func (in *inputLine) Insert(s string) {
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			rs = append(rs, ' ')
		case unicode.IsControl(r):
		default:
			rs = append(rs, r)
		}
	}
	in.value = append(in.value[:in.pos], append(rs, in.value[in.pos:]...)...)
	in.pos += len(rs)
}

// Key applies an editing key and reports whether it was one.
func (in *inputLine) Key(k tea.KeyPressMsg) bool {
	switch k.String() {
	case "left", "ctrl+b":
		in.pos = max(in.pos-1, 0)
	case "right", "ctrl+f":
		in.pos = min(in.pos+1, len(in.value))
	case "home", "ctrl+a":
		in.pos = 0
	case "end", "ctrl+e":
		in.pos = len(in.value)
	case "alt+left", "ctrl+left", "alt+b":
		in.pos = in.wordStart()
	case "alt+right", "ctrl+right", "alt+f":
		in.pos = in.wordEnd()
	case "backspace", "ctrl+h":
		if in.pos > 0 {
			in.value = append(in.value[:in.pos-1], in.value[in.pos:]...)
			in.pos--
		}
	case "delete", "ctrl+d":
		if in.pos < len(in.value) {
			in.value = append(in.value[:in.pos], in.value[in.pos+1:]...)
		}
	case "ctrl+u":
		in.value = append([]rune(nil), in.value[in.pos:]...)
		in.pos = 0
	case "ctrl+k":
		in.value = in.value[:in.pos]
	case "ctrl+w", "alt+backspace":
		start := in.wordStart()
		in.value = append(in.value[:start], in.value[in.pos:]...)
		in.pos = start
	case "up":
		if in.hpos > 0 {
			in.hpos--
			in.Set(in.history[in.hpos])
		}
	case "down":
		if in.hpos < len(in.history)-1 {
			in.hpos++
			in.Set(in.history[in.hpos])
		} else if in.hpos == len(in.history)-1 {
			in.hpos++
			in.Set("")
		}
	default:
		if k.Text == "" || k.Mod.Contains(tea.ModCtrl) || k.Mod.Contains(tea.ModAlt) {
			return false
		}
		in.Insert(k.Text)
	}
	return true
}

func (in *inputLine) wordStart() int {
	i := in.pos
	for i > 0 && unicode.IsSpace(in.value[i-1]) {
		i--
	}
	for i > 0 && !unicode.IsSpace(in.value[i-1]) {
		i--
	}
	return i
}

func (in *inputLine) wordEnd() int {
	i := in.pos
	for i < len(in.value) && unicode.IsSpace(in.value[i]) {
		i++
	}
	for i < len(in.value) && !unicode.IsSpace(in.value[i]) {
		i++
	}
	return i
}

// View renders the text in width columns, scrolled so that the cursor is
// visible, and returns the cursor's column.
func (in *inputLine) View(width int) (string, int) {
	if width < 1 {
		return "", 0
	}
	// The first rune shown: as far left as leaves the cursor (one column
	// for itself) inside the width.
	start, w := in.pos, 1
	for start > 0 {
		rw := ansi.StringWidth(string(in.value[start-1]))
		if w+rw > width {
			break
		}
		w += rw
		start--
	}
	var b strings.Builder
	col, cursor := 0, 0
	for i := start; i < len(in.value); i++ {
		if i == in.pos {
			cursor = col
		}
		rw := ansi.StringWidth(string(in.value[i]))
		if col+rw > width {
			break
		}
		b.WriteRune(in.value[i])
		col += rw
	}
	if in.pos == len(in.value) {
		cursor = col
	}
	return b.String(), min(cursor, width-1)
}
