package protocol

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		line string
		want Message
	}{
		{"JOIN alice_92, 172.168.168.12:4578", Join("alice_92", "172.168.168.12:4578")},
		{"JOIN alice,127.0.0.1:4242", Join("alice", "127.0.0.1:4242")},
		{"JOIN alice ,  127.0.0.1:4242", Join("alice", "127.0.0.1:4242")},
		{"JOIN  alice , localhost:1", Join("alice", "localhost:1")},
		{"JOIN alice, [::1]:4242", Join("alice", "[::1]:4242")},
		{"JOIN alice, 0:0:0:0:0:0:0:1:4242", Join("alice", "0:0:0:0:0:0:0:1:4242")},
		{"JOIN alice, fe80::1%eth0:4242", Join("alice", "fe80::1%eth0:4242")},
		{"JOIN alice", Join("alice", "")},
		{"JOIN\talice", Join("alice", "")},
		{"JOIN abcdefghijkl, h:1", Join("abcdefghijkl", "h:1")},
		{"JOIN A-Z_a-z0-9, h:1", Join("A-Z_a-z0-9", "h:1")},
		{"J_OK", OK()},
		{"J_OK ", OK()},
		{"J_ER 409: duplicate user name", Message{Kind: KindError, Code: "409", Text: "duplicate user name"}},
		{"J_ER E42:nope", Message{Kind: KindError, Code: "E42", Text: "nope"}},
		{"J_ER 1: a: b", Message{Kind: KindError, Code: "1", Text: "a: b"}},
		{"J_ER 1:", Message{Kind: KindError, Code: "1", Text: ""}},
		{"DATA alice: hello", Data("alice", "hello")},
		{"DATA alice:hello", Data("alice", "hello")},
		{"DATA alice:  two spaces", Data("alice", " two spaces")},
		{"DATA alice: a: b: c", Data("alice", "a: b: c")},
		{"DATA alice: ", Data("alice", "")},
		{"DATA alice: trailing ", Data("alice", "trailing ")},
		{"DATA alice: " + strings.Repeat("ø", 250), Data("alice", strings.Repeat("ø", 250))},
		{"DATA bob: 🙂 emoji", Data("bob", "🙂 emoji")},
		{"IMAV", Alive()},
		{"IMAV  ", Alive()},
		{"QUIT", Quit()},
		{"LIST alice bob", List([]string{"alice", "bob"})},
		{"LIST  alice   bob ", List([]string{"alice", "bob"})},
		{"LIST", List([]string{})},
	}
	for _, tt := range tests {
		got, err := Parse(tt.line)
		if err != nil {
			t.Errorf("Parse(%q) error = %v, want %v", tt.line, err, tt.want)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.line, got, tt.want)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		line string
		kind Kind
		want error
	}{
		{"", KindInvalid, ErrUnknownCommand},
		{"HELLO", KindInvalid, ErrUnknownCommand},
		{"join alice, h:1", KindInvalid, ErrUnknownCommand},
		{"OUIT", KindInvalid, ErrUnknownCommand},
		{" JOIN alice", KindInvalid, ErrUnknownCommand},
		{"JOIN", KindJoin, ErrMalformed},
		{"JOIN ", KindJoin, ErrInvalidName},
		{"JOIN , h:1", KindJoin, ErrInvalidName},
		{"JOIN abcdefghijklm, h:1", KindJoin, ErrInvalidName},
		{"JOIN al ice, h:1", KindJoin, ErrInvalidName},
		{"JOIN alice!, h:1", KindJoin, ErrInvalidName},
		{"JOIN søren, h:1", KindJoin, ErrInvalidName},
		{"JOIN alice, ", KindJoin, ErrMalformed},
		{"JOIN alice, nohostport", KindJoin, ErrMalformed},
		{"JOIN alice, h:port", KindJoin, ErrMalformed},
		{"JOIN alice, h:70000", KindJoin, ErrMalformed},
		{"JOIN alice, :4242", KindJoin, ErrMalformed},
		{"JOIN alice, [::1:4242", KindJoin, ErrMalformed},
		{"JOIN alice, ::1:", KindJoin, ErrMalformed},
		{"JOIN alice, h:1, h:2", KindJoin, ErrMalformed},
		{"J_OK now", KindOK, ErrMalformed},
		{"J_ER", KindError, ErrMalformed},
		{"J_ER 400 no colon", KindError, ErrMalformed},
		{"J_ER : no code", KindError, ErrMalformed},
		{"J_ER a b: spaced code", KindError, ErrMalformed},
		{"DATA", KindData, ErrMalformed},
		{"DATA alice hello", KindData, ErrMalformed},
		{"LIST a,b", KindList, ErrMalformed},
		{"LIST a, b", KindList, ErrMalformed},
		{"DATA : hello", KindData, ErrInvalidName},
		{"DATA al ice: hello", KindData, ErrInvalidName},
		{"DATA alice: " + strings.Repeat("x", 251), KindData, ErrTextTooLong},
		{"DATA alice: " + strings.Repeat("ø", 251), KindData, ErrTextTooLong},
		{"DATA alice: bell\a", KindData, ErrInvalidText},
		{"DATA alice: \x1b[2J", KindData, ErrInvalidText},
		{"DATA alice: tab\there", KindData, ErrInvalidText},
		{"DATA alice: nul\x00", KindData, ErrInvalidText},
		{"DATA alice: del\x7f", KindData, ErrInvalidText},
		{"DATA alice: c1\u009b", KindData, ErrInvalidText},
		{"DATA alice: bad\xff", KindData, ErrInvalidText},
		{"IMAV now", KindAlive, ErrMalformed},
		{"QUIT please", KindQuit, ErrMalformed},
		{"LIST alice b!b", KindList, ErrInvalidName},
	}
	for _, tt := range tests {
		got, err := Parse(tt.line)
		if !errors.Is(err, tt.want) {
			t.Errorf("Parse(%q) error = %v, want %v", tt.line, err, tt.want)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != tt.line {
			t.Errorf("Parse(%q) error = %#v, want a *ParseError with the line", tt.line, err)
		}
		if got.Kind != tt.kind {
			t.Errorf("Parse(%q) kind = %v, want %v", tt.line, got.Kind, tt.kind)
		}
	}
}

func TestValidName(t *testing.T) {
	valid := []string{"a", "Z", "0", "-", "_", "abcdefghijkl", "A-b_9", "123456789012"}
	for _, n := range valid {
		if err := ValidName(n); err != nil {
			t.Errorf("ValidName(%q) = %v, want nil", n, err)
		}
	}
	invalid := []string{"", "abcdefghijklm", "a b", "a!", "ø", "a.b", "a,b", "a:b", "\x00", "ab\t", "ééééééééééééé"}
	for _, n := range invalid {
		err := ValidName(n)
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidName(%q) = %v, want ErrInvalidName", n, err)
		}
	}
}

func TestValidTextCountsCharacters(t *testing.T) {
	for _, s := range []string{"", strings.Repeat("a", 250), strings.Repeat("ø", 250), strings.Repeat("🙂", 250), "a: b"} {
		if err := ValidText(s); err != nil {
			t.Errorf("ValidText(%d runes) = %v, want nil", len([]rune(s)), err)
		}
	}
	for _, s := range []string{strings.Repeat("a", 251), strings.Repeat("ø", 251)} {
		if err := ValidText(s); !errors.Is(err, ErrTextTooLong) {
			t.Errorf("ValidText(%d runes) = %v, want ErrTextTooLong", len([]rune(s)), err)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		m    Message
		want string
	}{
		{Join("alice", "127.0.0.1:4242"), "JOIN alice, 127.0.0.1:4242"},
		{Join("alice", ""), "JOIN alice"},
		{OK(), "J_OK"},
		{Error(CodeDuplicateName, "duplicate user name"), "J_ER 409: duplicate user name"},
		{Data("bob", "hi: there"), "DATA bob: hi: there"},
		{Alive(), "IMAV"},
		{Quit(), "QUIT"},
		{List([]string{"alice", "bob"}), "LIST alice bob"},
		{List(nil), "LIST"},
		{Message{}, "Kind(0)"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.m, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	good := []Message{Join("a", "h:1"), Join("a", ""), OK(), Error(CodeBadCommand, "x"), Data("a", "t"), Alive(), Quit(), List([]string{"a"})}
	for _, m := range good {
		if err := m.Validate(); err != nil {
			t.Errorf("%v.Validate() = %v, want nil", m, err)
		}
	}
	bad := []Message{{}, Join("", "h:1"), Join("a", "bad"), Data("a", "\x1b"), Data("a b", "t"), List([]string{"a b"}),
		{Kind: KindError, Code: "", Text: "x"}, {Kind: KindError, Code: "1", Text: "a\nb"}}
	for _, m := range bad {
		if err := m.Validate(); err == nil {
			t.Errorf("%#v.Validate() = nil, want an error", m)
		}
	}
}

func TestCodeOf(t *testing.T) {
	tests := []struct {
		line string
		want Code
	}{
		{"HELLO", CodeUnknownCommand},
		{"JOIN", CodeBadCommand},
		{"JOIN a b", CodeInvalidName},
		{"DATA a: " + strings.Repeat("x", 251), CodeTextTooLong},
		{"DATA a: \x1b", CodeInvalidText},
	}
	for _, tt := range tests {
		_, err := Parse(tt.line)
		if got := CodeOf(err); got != tt.want {
			t.Errorf("CodeOf(Parse(%q)) = %d, want %d", tt.line, got, tt.want)
		}
	}
	if got := CodeOf(ErrLineTooLong); got != CodeLineTooLong {
		t.Errorf("CodeOf(ErrLineTooLong) = %d, want %d", got, CodeLineTooLong)
	}
	for _, c := range Codes() {
		if c.Text() == "error" {
			t.Errorf("Code %d has no text", c)
		}
	}
}

func TestParseErrorQuotesInput(t *testing.T) {
	_, err := Parse("HELLO\x1b[2J\r" + strings.Repeat("x", 200))
	msg := err.Error()
	if strings.ContainsAny(msg, "\x1b\r\n") {
		t.Errorf("error %q carries raw control characters", msg)
	}
	if !strings.Contains(msg, "bytes)") {
		t.Errorf("error %q does not say the line was cut", msg)
	}
}

// FuzzParse checks that whatever parses formats back to a line that parses to
// the same message, and that Parse never panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"JOIN alice_92, 172.168.168.12:4578", "JOIN a ,x:1", "JOIN a", "J_OK", "J_ER 409: taken",
		"J_ER E1:x: y", "DATA bob: hi: there", "DATA bob:x", "DATA bob:  y ", "IMAV", "QUIT ",
		"LIST a b  c", "LIST", "LIST a,b", "HELLO", "DATA a: \x1b[2J", "DATA a: ø",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := Parse(line)
		if err != nil {
			return
		}
		if err := m.Validate(); err != nil && m.Kind != KindError {
			t.Fatalf("Parse(%q) = %#v, which does not validate: %v", line, m, err)
		}
		again, err := Parse(m.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %#v; Parse(%q) error = %v", line, m, m.String(), err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("Parse(%q) = %#v; Parse(%q) = %#v", line, m, m.String(), again)
		}
	})
}
