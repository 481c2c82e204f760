package chatserver

import (
	"errors"
	"time"

	"github.com/chatspec/chatspec/reference/chatroom"
)

// Room is what the server needs of the chat room: the seam between the
// connections and whoever decides who gets what. [chatroom.Room], a room in
// this process, is the default; a room shared by several servers
// (package chatcluster, over NATS) plugs in through [Config.Room].
//
// A Room formats every frame it sends in the framing of the
// chatroom.Config it was made with, and queues it to the members' Outboxes
// without blocking, like chatroom.Room. Its methods are safe for concurrent
// use; Join, Leave and Say may block briefly (a cluster room waits for its
// cluster), but never on a client's socket.
type Room interface {
	// Join adds m under m.Name and queues J_OK to m, then the new LIST to
	// every member. It fails, sending nothing, with an error wrapping
	// chatroom.ErrNameTaken, ErrFull, ErrClosed, ErrAlreadyMember,
	// protocol.ErrInvalidName, or ErrUnavailable.
	Join(m *chatroom.Member, now time.Time) error
	// Leave removes m and queues the new LIST to the members left. It
	// reports whether m was in the room; the name is free again when it
	// returns.
	Leave(m *chatroom.Member) bool
	// Say queues "DATA <m.Name>: <text>" to every member, m included. It
	// fails, sending nothing, with an error wrapping chatroom.ErrNotMember,
	// protocol.ErrTextTooLong, protocol.ErrInvalidText, or ErrUnavailable.
	// A room may return before the frames are queued (a cluster room queues
	// them when the cluster has ordered the DATA); Reply keeps m's replies
	// behind them.
	Say(m *chatroom.Member, text string) error
	// Reply queues frame, an answer to m's own request (J_ER), to m alone,
	// after every frame m's earlier Join and Say calls queue to m.
	Reply(m *chatroom.Member, frame []byte)
	// Members returns every member, in join order.
	Members() []*chatroom.Member
	// Len returns the number of members.
	Len() int
	// FlushList is called by the server's LIST timer when the time the room
	// gave to chatroom.Config.ScheduleList has come.
	FlushList()
	// Close empties the room without telling anyone and makes every later
	// Join fail with chatroom.ErrClosed. It returns the members that were in
	// the room and joined through this server.
	Close() []*chatroom.Member
}

var _ Room = (*chatroom.Room)(nil)

// ErrUnavailable is returned (wrapped) by a Room that cannot take a JOIN or a
// DATA for now: a cluster room cut off from its cluster. The server answers
// "J_ER 503" with a text that says so, and keeps the connection.
var ErrUnavailable = errors.New("chatserver: room unavailable")

// unavailableText is the J_ER text for ErrUnavailable.
const unavailableText = "chat cluster unavailable, try again later"
