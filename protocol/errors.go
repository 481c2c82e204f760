package protocol

import (
	"errors"
	"fmt"
	"strconv"
)

// Errors reported by [Parse], [ValidName], [ValidText] and the frame readers.
// Callers compare with errors.Is; [CodeOf] maps them to J_ER codes.
var (
	// ErrUnknownCommand: the line does not start with a known verb.
	ErrUnknownCommand = errors.New("protocol: unknown command")
	// ErrMalformed: a known verb, but the rest of the line has the wrong shape.
	ErrMalformed = errors.New("protocol: malformed message")
	// ErrInvalidName: a user name that is empty, too long or has a character
	// other than A-Z a-z 0-9 '-' '_'.
	ErrInvalidName = errors.New("protocol: invalid user name")
	// ErrTextTooLong: a DATA text of more than MaxTextLen characters.
	ErrTextTooLong = errors.New("protocol: text too long")
	// ErrInvalidText: a DATA text that is not valid UTF-8 or holds a control
	// character.
	ErrInvalidText = errors.New("protocol: invalid text")
	// ErrLineTooLong: a frame longer than the reader's limit. The reader has
	// skipped (or will skip) the rest of that frame.
	ErrLineTooLong = errors.New("protocol: line too long")
	// ErrBadEncoding: a writeUTF frame whose bytes are not modified UTF-8.
	ErrBadEncoding = errors.New("protocol: bad modified UTF-8")
)

// ParseError is the error [Parse] returns: the offending line and why.
type ParseError struct {
	Line string // the line as received, without terminator
	Err  error  // one of the Err values of this package, possibly wrapped
}

// Error quotes the line, so that control characters from a peer never reach
// a log or a terminal unescaped.
func (e *ParseError) Error() string {
	return fmt.Sprintf("parse %s: %v", quoteTrunc(e.Line, 80), e.Err)
}

// Unwrap returns the underlying error, for errors.Is.
func (e *ParseError) Unwrap() error { return e.Err }

// quoteTrunc quotes s, cut to at most n bytes first (on a rune boundary).
func quoteTrunc(s string, n int) string {
	if len(s) <= n {
		return strconv.Quote(s)
	}
	cut := n
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("... (%d bytes)", len(s))
}

// Code is a J_ER error code of this project's reference server. Other
// servers may send any code; readers must not depend on these values.
type Code int

// The J_ER code table. The numbers echo HTTP's where one fits.
const (
	CodeBadCommand     Code = 400 // a known verb with the wrong shape
	CodeUnknownCommand Code = 401 // not a verb of the protocol
	CodeNotJoined      Code = 402 // DATA (or another request) before J_OK
	CodeAlreadyJoined  Code = 403 // JOIN on a connection that has joined
	CodeDuplicateName  Code = 409 // the name is in use by an active user
	CodeInvalidName    Code = 410 // the name breaks the name rules
	CodeTextTooLong    Code = 413 // DATA text over MaxTextLen characters
	CodeNameMismatch   Code = 414 // DATA under a name that is not the sender's
	CodeInvalidText    Code = 415 // DATA text with control characters or bad UTF-8
	CodeLineTooLong    Code = 431 // a frame over the server's line limit
	CodeServerFull     Code = 503 // the server has its maximum of clients
)

// Text returns the default J_ER text for c.
func (c Code) Text() string {
	switch c {
	case CodeBadCommand:
		return "bad command"
	case CodeUnknownCommand:
		return "unknown command"
	case CodeNotJoined:
		return "not joined"
	case CodeAlreadyJoined:
		return "already joined"
	case CodeDuplicateName:
		return "duplicate user name"
	case CodeInvalidName:
		return "invalid user name: 1 to 12 of A-Z a-z 0-9 - _"
	case CodeTextTooLong:
		return "text longer than 250 characters"
	case CodeNameMismatch:
		return "name is not yours"
	case CodeInvalidText:
		return "text has control characters or invalid UTF-8"
	case CodeLineTooLong:
		return "line too long"
	case CodeServerFull:
		return "server full"
	}
	return "error"
}

// Codes returns every code of the table, in ascending order.
func Codes() []Code {
	return []Code{CodeBadCommand, CodeUnknownCommand, CodeNotJoined, CodeAlreadyJoined,
		CodeDuplicateName, CodeInvalidName, CodeTextTooLong, CodeNameMismatch,
		CodeInvalidText, CodeLineTooLong, CodeServerFull}
}

// CodeOf maps an error of this package to its J_ER code; any other error
// maps to CodeBadCommand.
func CodeOf(err error) Code {
	switch {
	case errors.Is(err, ErrUnknownCommand):
		return CodeUnknownCommand
	case errors.Is(err, ErrInvalidName):
		return CodeInvalidName
	case errors.Is(err, ErrTextTooLong):
		return CodeTextTooLong
	case errors.Is(err, ErrInvalidText), errors.Is(err, ErrBadEncoding):
		return CodeInvalidText
	case errors.Is(err, ErrLineTooLong):
		return CodeLineTooLong
	default:
		return CodeBadCommand
	}
}
