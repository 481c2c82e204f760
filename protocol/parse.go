package protocol

import (
	"net"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parse parses one message, given without its frame (no line terminator).
// On failure it returns a *[ParseError] wrapping ErrUnknownCommand,
// ErrMalformed, ErrInvalidName, ErrTextTooLong or ErrInvalidText, and the
// Message's Kind tells, where the verb was known, which command it was.
// The other fields are filled as far as parsing got: on ErrInvalidName,
// ErrTextTooLong or ErrInvalidText a JOIN, DATA or LIST carries the name,
// text or names that broke the rule, so a reader can still tell what the
// peer meant (the conformance steps report a bad DATA from a server as a
// DATA with a bad text, not as garbage).
//
// Parse is as lenient as the package doc says and no more: it is used by the
// server on requests and by the client and the conformance steps on replies.
func Parse(line string) (Message, error) {
	m, err := parse(line)
	if err != nil {
		return m, &ParseError{Line: line, Err: err}
	}
	return m, nil
}

func parse(line string) (Message, error) {
	verb, rest, hasRest := line, "", false
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		verb, rest, hasRest = line[:i], line[i+1:], true
	}
	switch verb {
	case VerbJoin:
		return parseJoin(rest, hasRest)
	case VerbData:
		return parseData(rest, hasRest)
	case VerbError:
		return parseError(rest, hasRest)
	case VerbList:
		return parseList(rest)
	case VerbOK, VerbAlive, VerbQuit:
		k := kindOf(verb)
		if strings.TrimRight(rest, " \t") != "" {
			return Message{Kind: k}, ErrMalformed
		}
		return Message{Kind: k}, nil
	}
	return Message{}, ErrUnknownCommand
}

func kindOf(verb string) Kind {
	switch verb {
	case VerbJoin:
		return KindJoin
	case VerbOK:
		return KindOK
	case VerbError:
		return KindError
	case VerbData:
		return KindData
	case VerbAlive:
		return KindAlive
	case VerbQuit:
		return KindQuit
	case VerbList:
		return KindList
	}
	return KindInvalid
}

// parseJoin parses "<name>[ , <host>:<port>]" with any spacing.
func parseJoin(rest string, hasRest bool) (Message, error) {
	m := Message{Kind: KindJoin}
	if !hasRest {
		return m, ErrMalformed
	}
	name, addr, hasAddr := strings.Cut(rest, ",")
	m.Name = strings.Trim(name, " \t")
	if hasAddr {
		m.Addr = strings.Trim(addr, " \t")
	}
	if err := ValidName(m.Name); err != nil {
		return m, err
	}
	if hasAddr {
		if err := validAddr(m.Addr); err != nil {
			return m, err
		}
	}
	return m, nil
}

// validAddr checks the shape host:port with a numeric port. The host is not
// resolved or compared with anything. Besides what net.SplitHostPort takes
// ("h:1", "[::1]:1"), an IPv6 host without brackets is accepted by its last
// colon ("0:0:0:0:0:0:0:1:4242"), as Java's InetAddress.getHostAddress()
// writes it.
func validAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		i := strings.LastIndexByte(addr, ':')
		if i < 0 || strings.ContainsAny(addr, "[]") {
			return ErrMalformed
		}
		host, port = addr[:i], addr[i+1:]
	}
	if host == "" || strings.ContainsAny(host, " \t,") {
		return ErrMalformed
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return ErrMalformed
	}
	return nil
}

// parseData parses "<name>: <text>".
func parseData(rest string, hasRest bool) (Message, error) {
	name, text, ok := strings.Cut(rest, ":")
	if !hasRest || !ok {
		return Message{Kind: KindData}, ErrMalformed
	}
	return dataMessage(strings.Trim(name, " \t"), text)
}

// dataMessage is the DATA from name with the text after the colon (one
// space after it dropped), and whether name and text are legal.
func dataMessage(name, afterColon string) (Message, error) {
	m := Message{Kind: KindData, Name: name, Text: strings.TrimPrefix(afterColon, " ")}
	if err := ValidName(m.Name); err != nil {
		return m, err
	}
	return m, ValidText(m.Text)
}

// parseError parses "<code>: <text>".
func parseError(rest string, hasRest bool) (Message, error) {
	m := Message{Kind: KindError}
	code, text, ok := strings.Cut(rest, ":")
	if !hasRest || !ok {
		return m, ErrMalformed
	}
	m.Code = strings.Trim(code, " \t")
	m.Text = strings.TrimPrefix(text, " ")
	if m.Code == "" || strings.ContainsAny(m.Code, " \t") {
		return m, ErrMalformed
	}
	return m, nil
}

// parseList parses "<name> <name> ...": any run of spaces or tabs
// separates names, and an empty list is legal. Commas are malformed (a
// client that splits on spaces would take "a,b" for one name), but the
// names are still split at them, for a reader that wants to know who was
// meant (see Recognize).
func parseList(rest string) (Message, error) {
	m := Message{Kind: KindList, Names: listNames(rest)}
	if strings.ContainsRune(rest, ',') {
		return m, ErrMalformed
	}
	return m, validNames(m.Names)
}

// listNames splits a LIST's names at runs of spaces, tabs and commas.
func listNames(rest string) []string {
	return strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' })
}

// validNames returns the error of the first name that is not legal.
func validNames(names []string) error {
	for _, n := range names {
		if err := ValidName(n); err != nil {
			return err
		}
	}
	return nil
}

// ValidName reports whether name is a legal user name: 1 to MaxNameLen
// characters, each one of A-Z a-z 0-9 '-' '_'. The error wraps
// ErrInvalidName and says what is wrong.
func ValidName(name string) error {
	switch {
	case name == "":
		return &NameError{Name: name, Reason: "is empty"}
	case len(name) > MaxNameLen && utf8.RuneCountInString(name) > MaxNameLen:
		return &NameError{Name: name, Reason: "is longer than 12 characters"}
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			r, _ := utf8.DecodeRuneInString(name[i:])
			return &NameError{Name: name, Reason: "has " + strconv.QuoteRune(r) + "; only A-Z a-z 0-9 - _ are allowed"}
		}
	}
	return nil
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// NameError says why a user name is invalid. It unwraps to ErrInvalidName.
type NameError struct {
	Name   string // the name as given
	Reason string // what is wrong with it, e.g. "is longer than 12 characters"
}

// Error quotes the name, so that it cannot carry control characters into a
// log or a terminal.
func (e *NameError) Error() string {
	return "protocol: invalid user name " + quoteTrunc(e.Name, 40) + ": " + e.Reason
}

// Unwrap returns ErrInvalidName.
func (e *NameError) Unwrap() error { return ErrInvalidName }

// ValidText reports whether text is a legal DATA text: valid UTF-8, at most
// MaxTextLen characters (runes, so 250 x 'ø' is legal), no control
// characters (C0, DEL, C1). The error wraps ErrTextTooLong or ErrInvalidText.
func ValidText(text string) error {
	// Most texts are ASCII: count and check them a byte at a time, and decode
	// runes only from the first non-ASCII byte on.
	n, i := 0, 0
	for ; i < len(text) && text[i] < utf8.RuneSelf; i++ {
		if c := text[i]; c < 0x20 || c == 0x7f {
			return ErrInvalidText
		}
		n++
	}
	for j, r := range text[i:] {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(text[i+j:]); size == 1 {
				return ErrInvalidText
			}
		}
		if r < 0x20 || 0x7f <= r && r < 0xa0 {
			return ErrInvalidText
		}
		n++
	}
	if n > MaxTextLen {
		return ErrTextTooLong
	}
	return nil
}
