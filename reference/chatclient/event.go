package chatclient

import "strconv"

// EventKind tells which [Event] the server's messages produced.
type EventKind uint8

// The kinds of event. The zero EventKind is not an event.
const (
	_ EventKind = iota
	// EventMessage: a DATA line. Name is the sender, Text the text. The
	// client's own texts come back this way too, once the server has
	// relayed them.
	EventMessage
	// EventOnline: a LIST. Names is who is online, in the server's order.
	// Every LIST produces one, after any EventJoined and EventLeft it
	// implies.
	EventOnline
	// EventJoined: Name is in this LIST and was not in the one before.
	// Not produced by the first LIST the client receives.
	EventJoined
	// EventLeft: Name was in the LIST before and is not in this one.
	EventLeft
	// EventError: a J_ER that answers no Join, such as the server refusing
	// a DATA. Code and Text are the server's.
	EventError
	// EventUnknown: a frame the client could not read as a message the
	// server should send. Text is the frame as received (or, for a frame
	// the reader had to skip, a description).
	EventUnknown
)

var eventNames = [...]string{
	EventMessage: "message",
	EventOnline:  "online",
	EventJoined:  "joined",
	EventLeft:    "left",
	EventError:   "error",
	EventUnknown: "unknown",
}

// String returns a lower-case name for k.
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is something the server told the client. Strings are as the server
// sent them: pass every one through SafeText before display.
type Event struct {
	Kind  EventKind
	Name  string   // EventMessage: the sender; EventJoined, EventLeft: who
	Text  string   // EventMessage: the text; EventError: the J_ER text; EventUnknown: the frame
	Code  string   // EventError: the J_ER code
	Names []string // EventOnline, EventJoined, EventLeft: who is online now (do not modify)
}

// diffNames returns the names in cur and not in prev (in cur's order) and
// those in prev and not in cur (in prev's order). Each name is reported at
// most once, however often a list repeats it.
func diffNames(prev, cur []string) (joined, left []string) {
	inPrev := make(map[string]bool, len(prev))
	for _, n := range prev {
		inPrev[n] = true
	}
	inCur := make(map[string]bool, len(cur))
	for _, n := range cur {
		if !inPrev[n] && !inCur[n] {
			joined = append(joined, n)
		}
		inCur[n] = true
	}
	for _, n := range prev {
		if !inCur[n] {
			left = append(left, n)
			inCur[n] = true // report once
		}
	}
	return joined, left
}
