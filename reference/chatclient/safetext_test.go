package chatclient

import (
	"slices"
	"testing"
	"unicode/utf8"
)

func TestSafeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"hello, world", "hello, world"},
		{"ærø 😀 日本語 a\\b", "ærø 😀 日本語 a\\b"},
		{"\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},           // clear screen, cursor home
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`}, // recolour
		{"\x1b]0;title\x07", `\x1b]0;title\x07`},     // OSC: window title
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{"\x00\x7f", `\x00\x7f`},
		{"\u009b2J", `\u009b2J`}, // one-byte CSI
		{"abc\u202edcba", `abc\u202edcba`},
		{"\u2066x\u2069", `\u2066x\u2069`},
		{"line\u2028break", `line\u2028break`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"\xe2\x82", `\xe2\x82`}, // a truncated rune
		{"a\u200db", "a\u200db"}, // zero-width joiner stays: emoji sequences need it
	}
	for _, tt := range tests {
		if got := SafeText(tt.in); got != tt.want {
			t.Errorf("SafeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzSafeText checks that no output of SafeText holds a byte a terminal
// acts on, and that safe text passes unchanged.
func FuzzSafeText(f *testing.F) {
	for _, s := range []string{"hi", "\x1b[2J", "\u009b", "\xff", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := SafeText(s)
		if !utf8.ValidString(got) {
			t.Fatalf("SafeText(%q) = %q: not UTF-8", s, got)
		}
		for i, r := range got {
			if unsafeRune(r, utf8.RuneLen(r)) {
				t.Fatalf("SafeText(%q) = %q: unsafe rune %U at %d", s, got, r, i)
			}
		}
		if again := SafeText(got); again != got {
			t.Fatalf("SafeText(SafeText(%q)) = %q, want %q unchanged", s, again, got)
		}
	})
}

func TestDiffNames(t *testing.T) {
	tests := []struct {
		prev, cur    []string
		joined, left []string
	}{
		{nil, []string{"alice"}, []string{"alice"}, nil},
		{[]string{"alice"}, []string{"alice", "bob"}, []string{"bob"}, nil},
		{[]string{"alice", "bob", "carol"}, []string{"carol", "alice"}, nil, []string{"bob"}},
		{[]string{"a", "b"}, []string{"c", "d"}, []string{"c", "d"}, []string{"a", "b"}},
		{[]string{"a", "a"}, []string{"b", "b"}, []string{"b"}, []string{"a"}},
		{[]string{"a"}, []string{}, nil, []string{"a"}},
	}
	for _, tt := range tests {
		joined, left := diffNames(tt.prev, tt.cur)
		if !slices.Equal(joined, tt.joined) || !slices.Equal(left, tt.left) {
			t.Errorf("diffNames(%q, %q) = %q, %q, want %q, %q", tt.prev, tt.cur, joined, left, tt.joined, tt.left)
		}
	}
}
