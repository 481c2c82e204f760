package chatclient

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chatspec/chatspec/protocol"
)

// Errors returned by a Client. Compare with errors.Is.
var (
	// ErrClosed: the Client was closed by its user (Close was called).
	ErrClosed = errors.New("chatclient: client closed")
	// ErrConnLost: the connection ended without Close being called: the
	// server closed it, or a read or write failed. The error that wraps it
	// says which.
	ErrConnLost = errors.New("chatclient: connection lost")
	// ErrNotJoined: Send before a successful Join.
	ErrNotJoined = errors.New("chatclient: not joined")
	// ErrAlreadyJoined: Join on a client that has joined.
	ErrAlreadyJoined = errors.New("chatclient: already joined")
	// ErrNoAnswer: the server answered a JOIN with neither J_OK nor J_ER
	// within Config.JoinTimeout.
	ErrNoAnswer = errors.New("chatclient: the server did not answer JOIN")
	// ErrJoinPending: Join while another Join on the same client waits for
	// the server's answer.
	ErrJoinPending = errors.New("chatclient: a join is already waiting for the server")
)

// JoinError is the server's refusal of a JOIN: its J_ER code and text, as
// sent. The code is the server's own (any token); this project's server
// uses the protocol.Code table.
type JoinError struct {
	Name string // the name that was refused
	Code string // the J_ER code, as sent
	Text string // the J_ER text, as sent: pass it through SafeText before display
}

// Error quotes the server's text, so that printing the error is safe.
func (e *JoinError) Error() string {
	return fmt.Sprintf("chatclient: join %q refused: %s %s", e.Name, SafeText(e.Code), SafeText(e.Text))
}

// NoAnswerError is Join's error when the server answers a JOIN with
// neither J_OK nor J_ER in time. It unwraps to ErrNoAnswer. The usual
// cause is a server that frames messages another way: it is still waiting
// for the rest of what it takes for a frame.
type NoAnswerError struct {
	Timeout time.Duration    // how long Join waited
	Framing protocol.Framing // the framing the client spoke
}

// Error says how long Join waited.
func (e *NoAnswerError) Error() string {
	return fmt.Sprintf("%v within %v", ErrNoAnswer, e.Timeout)
}

// Unwrap returns ErrNoAnswer.
func (e *NoAnswerError) Unwrap() error { return ErrNoAnswer }

// hint suggests the other framing.
func (e *NoAnswerError) hint() string {
	if e.Framing == protocol.FramingUTF {
		return "if the server reads lines (most do), start the client without -framing utf"
	}
	return "if the server frames messages with Java's writeUTF, start the client with -framing utf"
}

// TextError is Send's refusal of a text that breaks protocol.ValidText;
// nothing was sent. It unwraps to protocol.ErrTextTooLong or
// protocol.ErrInvalidText.
type TextError struct {
	Chars int   // the text's length in characters
	Err   error // protocol.ErrTextTooLong or protocol.ErrInvalidText
}

// Error says what is wrong in words a user can act on.
func (e *TextError) Error() string { return "chatclient: " + e.reason() }

// Unwrap returns the protocol error.
func (e *TextError) Unwrap() error { return e.Err }

func (e *TextError) reason() string {
	if errors.Is(e.Err, protocol.ErrTextTooLong) {
		return fmt.Sprintf("text is %d characters, the limit is %d", e.Chars, protocol.MaxTextLen)
	}
	return "text has a control character (such as a tab or an escape) or is not UTF-8"
}

// textError explains why a text may not be sent.
func textError(text string, err error) error {
	return &TextError{Chars: utf8.RuneCountInString(text), Err: err}
}

// Explain returns a one-line explanation of an error from this package,
// for a person: why a name or text was refused (locally or by the server),
// or why the connection ended. Text from the server in it is made safe
// with SafeText.
func Explain(err error) string {
	var (
		je *JoinError
		ne *protocol.NameError
		te *TextError
		na *NoAnswerError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &na):
		return fmt.Sprintf("the server did not answer JOIN within %v: %s", na.Timeout, na.hint())
	case errors.As(err, &je):
		return fmt.Sprintf("the server refused the name %q: %s %s", je.Name, SafeText(je.Code), SafeText(je.Text))
	case errors.As(err, &ne):
		return fmt.Sprintf("the name %s %s", SafeText(strconv.Quote(ne.Name)), ne.Reason)
	case errors.As(err, &te):
		return te.reason()
	case errors.Is(err, ErrConnLost):
		msg := err.Error()
		if i := strings.Index(msg, ErrConnLost.Error()); i >= 0 {
			msg = msg[i:]
		}
		return strings.TrimPrefix(msg, "chatclient: ")
	}
	return SafeText(strings.TrimPrefix(err.Error(), "chatclient: "))
}
