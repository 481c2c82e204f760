package protocol

import (
	"strconv"
	"strings"
)

// Limits of the protocol.
const (
	// MaxNameLen is the longest user name, in characters.
	MaxNameLen = 12
	// MaxTextLen is the longest DATA text, in Unicode characters.
	MaxTextLen = 250
	// DefaultMaxLineBytes is the longest frame a reader accepts unless told
	// otherwise. The longest legal message, a DATA line with 250 four-byte
	// characters, is about 1 KiB; the rest is headroom for J_ER and LIST.
	DefaultMaxLineBytes = 4096
)

// The verbs, as they appear on the wire.
const (
	VerbJoin  = "JOIN"
	VerbOK    = "J_OK"
	VerbError = "J_ER"
	VerbData  = "DATA"
	VerbAlive = "IMAV"
	VerbQuit  = "QUIT"
	VerbList  = "LIST"
)

// Kind tells which message a [Message] is.
type Kind uint8

// The kinds of message. The zero Kind is not a message.
const (
	KindInvalid Kind = iota
	KindJoin         // JOIN <name>, <host>:<port>
	KindOK           // J_OK
	KindError        // J_ER <code>: <text>
	KindData         // DATA <name>: <text>
	KindAlive        // IMAV
	KindQuit         // QUIT
	KindList         // LIST <name> ...
)

var kindVerbs = [...]string{
	KindInvalid: "",
	KindJoin:    VerbJoin,
	KindOK:      VerbOK,
	KindError:   VerbError,
	KindData:    VerbData,
	KindAlive:   VerbAlive,
	KindQuit:    VerbQuit,
	KindList:    VerbList,
}

// String returns the wire verb of k, or "Kind(n)" for an unknown kind.
func (k Kind) String() string {
	if int(k) < len(kindVerbs) && k != KindInvalid {
		return kindVerbs[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Message is one protocol message. Which fields are used depends on Kind:
//
//	KindJoin:  Name, Addr (Addr may be empty)
//	KindError: Code, Text
//	KindData:  Name, Text
//	KindList:  Names
//
// The zero Message is not valid.
type Message struct {
	Kind  Kind
	Name  string   // JOIN, DATA: the user name
	Addr  string   // JOIN: "host:port" as the client wrote it, or ""
	Code  string   // J_ER: the error code as sent (any token; see Code)
	Text  string   // J_ER: the error text; DATA: the user's text
	Names []string // LIST: the active user names, in the server's order
}

// Join returns a JOIN message. addr may be empty.
func Join(name, addr string) Message { return Message{Kind: KindJoin, Name: name, Addr: addr} }

// OK returns a J_OK message.
func OK() Message { return Message{Kind: KindOK} }

// Error returns a J_ER message with code c and the given text.
func Error(c Code, text string) Message {
	return Message{Kind: KindError, Code: strconv.Itoa(int(c)), Text: text}
}

// Data returns a DATA message.
func Data(name, text string) Message { return Message{Kind: KindData, Name: name, Text: text} }

// Alive returns an IMAV heartbeat.
func Alive() Message { return Message{Kind: KindAlive} }

// Quit returns a QUIT message.
func Quit() Message { return Message{Kind: KindQuit} }

// List returns a LIST message. The slice is not copied.
func List(names []string) Message { return Message{Kind: KindList, Names: names} }

// String formats m as it appears on the wire, without a line terminator.
func (m Message) String() string { return string(m.Append(nil)) }

// Append appends the wire form of m, without a line terminator, to dst and
// returns the extended slice. It does not validate m; see [Message.Validate].
func (m Message) Append(dst []byte) []byte {
	switch m.Kind {
	case KindJoin:
		dst = append(dst, VerbJoin...)
		dst = append(dst, ' ')
		dst = append(dst, m.Name...)
		if m.Addr != "" {
			dst = append(dst, ", "...)
			dst = append(dst, m.Addr...)
		}
	case KindError:
		dst = append(dst, VerbError...)
		dst = append(dst, ' ')
		dst = append(dst, m.Code...)
		dst = append(dst, ": "...)
		dst = append(dst, m.Text...)
	case KindData:
		dst = append(dst, VerbData...)
		dst = append(dst, ' ')
		dst = append(dst, m.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, m.Text...)
	case KindList:
		dst = append(dst, VerbList...)
		for _, n := range m.Names {
			dst = append(dst, ' ')
			dst = append(dst, n...)
		}
	default:
		dst = append(dst, m.Kind.String()...)
	}
	return dst
}

// Validate reports whether m is a message a well-behaved peer may send: a
// known kind, valid names, a valid DATA text, a J_ER code without spaces.
// The error wraps one of the Err values of this package.
func (m Message) Validate() error {
	switch m.Kind {
	case KindJoin:
		if err := ValidName(m.Name); err != nil {
			return err
		}
		if m.Addr != "" {
			if err := validAddr(m.Addr); err != nil {
				return err
			}
		}
	case KindError:
		if m.Code == "" || strings.ContainsAny(m.Code, " \t:") || !validLineText(m.Code) || !validLineText(m.Text) {
			return ErrMalformed
		}
	case KindData:
		if err := ValidName(m.Name); err != nil {
			return err
		}
		return ValidText(m.Text)
	case KindList:
		for _, n := range m.Names {
			if err := ValidName(n); err != nil {
				return err
			}
		}
	case KindOK, KindAlive, KindQuit:
	default:
		return ErrUnknownCommand
	}
	return nil
}

// validLineText reports whether s can stand inside one line: no line breaks.
func validLineText(s string) bool { return !strings.ContainsAny(s, "\r\n") }
