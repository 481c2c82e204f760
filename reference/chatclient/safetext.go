package chatclient

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// SafeText returns s made safe to print on a terminal: every character that
// a terminal would act on rather than show is replaced by a visible escape,
// so that text from another user can neither clear nor recolour the screen,
// move the cursor, nor reorder what is shown around it.
//
// Escaped are the C0 controls and DEL (ESC becomes `\x1b`, tab `\t`,
// newline `\n`, carriage return `\r`), the C1 controls (`\u009b`, the
// one-byte CSI, among them), the Unicode bidirectional controls (U+061C,
// U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), the line and paragraph
// separators (U+2028, U+2029), and bytes that are not UTF-8 (`\xff`).
// Everything else, including emoji and other scripts, is kept as it is.
// With its ESC escaped, what remains of an escape sequence is plain text.
func SafeText(s string) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unsafeRune(r, size) {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		default:
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(r), 16)
			b.WriteString(strings.Repeat("0", 4-len(h)))
			b.WriteString(h)
		}
		i += size
	}
	return b.String()
}

// unsafeRune reports whether the rune r, decoded from size bytes, must be
// escaped by SafeText.
func unsafeRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1: // a byte that is not UTF-8
		return true
	case r < 0x20, r == 0x7f, 0x80 <= r && r < 0xa0: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, // bidi marks
		0x202a <= r && r <= 0x202e, // bidi embeddings and overrides
		0x2066 <= r && r <= 0x2069, // bidi isolates
		r == 0x2028, r == 0x2029:   // line and paragraph separators
		return true
	}
	return false
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}
