// Package chatroom holds who is in the chat room and decides who gets what.
//
// A [Room] is a registry of joined [Member]s keyed by user name. Joining,
// leaving and speaking format each outgoing frame once (in the room's
// [protocol.Framing]) and hand the same bytes to every recipient's
// [Outbox]. The room opens no sockets and starts no goroutines: an Outbox
// only queues, so nothing the room does while holding its lock can block on
// the network. The reference server (package chatserver) supplies an Outbox
// per connection; tests supply a fake one.
//
// Because every delivery happens under the room's lock, every member's
// Outbox is handed the room's events (joins, leaves, DATA) in one and the
// same order. An Outbox may still merge LISTs: the server's outbox replaces
// an unwritten LIST by a newer one queued after it, so a client that lags
// gets the newest LIST, possibly after a DATA it would otherwise follow.
package chatroom

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// Errors returned by [Room.Join] and [Room.Say]. Callers compare with
// errors.Is; the server maps them to J_ER codes.
var (
	// ErrNameTaken: an active member already has the name.
	ErrNameTaken = errors.New("chatroom: name taken")
	// ErrFull: the room has its maximum number of members.
	ErrFull = errors.New("chatroom: room full")
	// ErrClosed: the room has been closed.
	ErrClosed = errors.New("chatroom: room closed")
	// ErrNotMember: the member has left the room (or never joined it).
	ErrNotMember = errors.New("chatroom: not a member")
	// ErrAlreadyMember: the member value has joined already.
	ErrAlreadyMember = errors.New("chatroom: already a member")
)

// Outbox receives the frames meant for one member. The room calls it while
// holding its lock, so implementations must not block, must not call back
// into the room, and must not modify or retain-and-modify the frame: the
// same bytes go to every recipient.
//
// An Outbox that cannot keep up may drop its member's connection; it then
// arranges (on its own goroutine) for the member to [Room.Leave].
type Outbox interface {
	// Send queues one framed message (J_OK, J_ER or DATA).
	Send(frame []byte)
	// SendList queues one framed LIST. A LIST not yet written when a newer
	// one arrives may be dropped in favour of the newer one: presence lists
	// conflate, so a member that lags gets the newest list, not every list.
	SendList(frame []byte)
}

// Member is one client in the room. Set Name, Addr, Remote, Out and
// Disconnect before [Room.Join]; they must not change afterwards.
type Member struct {
	Name   string // the user name, unique in the room
	Addr   string // "host:port" from the client's JOIN line, or ""
	Remote string // the connection's remote address, "ip:port"
	Out    Outbox // where this member's frames go
	// Disconnect, if set, ends the member's connection. A Room never calls
	// it; a room shared by several servers (package chatcluster) does, never
	// holding a lock, when the member must go without asking: when the
	// cluster has declared the member's server dead.
	Disconnect func()

	joined        time.Time    // written once by Join under Room.mu; read-only after
	lastHeartbeat atomic.Int64 // unix nanoseconds of the last sign of life
	in            bool         // guarded by Room.mu: in the room now
	room          *Room        // guarded by Room.mu: set once by Join
}

// Joined returns when the member joined: the time given to [Room.Join].
// It may be read after Join returns, or on a member from [Room.Members].
func (m *Member) Joined() time.Time { return m.joined }

// Touch records t as the member's last heartbeat. It is safe to call from
// any goroutine, without the room's lock.
func (m *Member) Touch(t time.Time) { m.lastHeartbeat.Store(t.UnixNano()) }

// LastHeartbeat returns the time last given to [Member.Touch] (or Join).
func (m *Member) LastHeartbeat() time.Time { return time.Unix(0, m.lastHeartbeat.Load()) }

// Config configures a Room. The zero value is useful.
type Config struct {
	// Framing frames every message the room sends. Zero is FramingLine.
	Framing protocol.Framing
	// MaxMembers is the most members at once; 0 means unlimited.
	MaxMembers int
	// ListBytesPerSecond paces LIST traffic, which grows with the square of
	// the room's size (every change sends every name to every member).
	// After a LIST round of B bytes in all (frame size times members), the
	// next round waits B/ListBytesPerSecond; membership changes in between
	// are merged into it. A deferred LIST is queued before any later DATA,
	// so no Outbox is handed a DATA before the LIST of the change that
	// preceded it (an Outbox that merges LISTs may reorder them; see the
	// package doc). Zero means no pacing: every change is sent at once. In a room of
	// a few dozen members the wait is microseconds.
	ListBytesPerSecond int64
	// ScheduleList is called, with the room's lock held, when a LIST has
	// been deferred: the caller must call [Room.FlushList] at or after at.
	// It must not block or call the room. Required with ListBytesPerSecond.
	ScheduleList func(at time.Time)
	// Now returns the current time, for pacing. Nil means time.Now.
	Now func() time.Time
}

// Room is the set of joined members. Its methods are safe for concurrent
// use. The zero Room is not usable; call [New].
type Room struct {
	framing  protocol.Framing // read-only after New
	max      int              // read-only after New
	okFrame  []byte           // J_OK framed; read-only after New
	budget   int64            // read-only after New: ListBytesPerSecond
	schedule func(time.Time)  // read-only after New
	now      func() time.Time // read-only after New

	mu       sync.Mutex
	members  map[string]*Member // guarded by mu: by name
	order    []*Member          // guarded by mu: in join order, for LIST and fan-out
	closed   bool               // guarded by mu
	listBuf  []byte             // guarded by mu: scratch for formatting LIST payloads
	nameBuf  []string           // guarded by mu: scratch for the names of a LIST
	listDue  bool               // guarded by mu: a change awaits its LIST (deferred)
	nextList time.Time          // guarded by mu: when pacing allows the next LIST round
}

// New returns an empty room.
func New(cfg Config) *Room {
	r := &Room{
		framing:  cfg.Framing,
		max:      cfg.MaxMembers,
		budget:   cfg.ListBytesPerSecond,
		schedule: cfg.ScheduleList,
		now:      cfg.Now,
		members:  make(map[string]*Member),
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.schedule == nil {
		r.budget = 0
	}
	r.okFrame, _ = r.framing.AppendMessage(nil, protocol.OK())
	return r
}

// Join adds m to the room under m.Name, queues J_OK to m and then the new
// LIST to every member, m included (at once, or paced: see
// Config.ListBytesPerSecond). It fails with ErrNameTaken, ErrFull,
// ErrClosed, ErrAlreadyMember, or an error wrapping protocol.ErrInvalidName;
// on failure nothing is sent.
func (r *Room) Join(m *Member, now time.Time) error {
	if err := protocol.ValidName(m.Name); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return fmt.Errorf("join %q: %w", m.Name, ErrClosed)
	case m.room != nil:
		return fmt.Errorf("join %q: %w", m.Name, ErrAlreadyMember)
	case r.members[m.Name] != nil:
		return fmt.Errorf("join %q: %w", m.Name, ErrNameTaken)
	case r.max > 0 && len(r.order) >= r.max:
		return fmt.Errorf("join %q: %w", m.Name, ErrFull)
	}
	m.room, m.in, m.joined = r, true, now
	m.Touch(now)
	r.members[m.Name] = m
	r.order = append(r.order, m)
	m.Out.Send(r.okFrame)
	r.changedLocked()
	return nil
}

// Leave removes m from the room and queues the new LIST to every member
// left. It reports whether m was in the room; leaving twice is harmless.
// The name is free again as soon as Leave returns.
func (r *Room) Leave(m *Member) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !m.in || m.room != r {
		return false
	}
	m.in = false
	delete(r.members, m.Name)
	if i := slices.Index(r.order, m); i >= 0 {
		r.order = slices.Delete(r.order, i, i+1)
	}
	if !r.closed {
		r.changedLocked()
	}
	return true
}

// Say queues "DATA <m.Name>: <text>" to every member, m included. It fails
// with ErrNotMember if m is not in the room, or with an error wrapping
// protocol.ErrTextTooLong or protocol.ErrInvalidText; then nothing is sent.
func (r *Room) Say(m *Member, text string) error {
	if err := protocol.ValidText(text); err != nil {
		return fmt.Errorf("say as %q: %w", m.Name, err)
	}
	// "DATA " + name + ": " + text + "\n", or a 2-byte length in front.
	buf := make([]byte, 0, len(protocol.VerbData)+len(m.Name)+len(text)+5)
	frame, err := r.framing.AppendMessage(buf, protocol.Data(m.Name, text))
	if err != nil {
		return fmt.Errorf("say as %q: %w", m.Name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !m.in || m.room != r {
		return fmt.Errorf("say as %q: %w", m.Name, ErrNotMember)
	}
	if r.listDue {
		r.sendListLocked(r.now())
	}
	for _, to := range r.order {
		to.Out.Send(frame)
	}
	return nil
}

// Reply queues frame, an answer to m's own request, to m alone. The room
// queues everything under its lock before its methods return, so a reply
// always follows what m's earlier calls queued.
func (r *Room) Reply(m *Member, frame []byte) { m.Out.Send(frame) }

// changedLocked sends the LIST after a membership change, or defers it if
// pacing asks. r.mu must be held.
func (r *Room) changedLocked() {
	if r.listDue {
		return // already deferred; the deferred round will carry this change
	}
	now := r.now()
	if r.budget == 0 || !now.Before(r.nextList) {
		r.sendListLocked(now)
		return
	}
	r.listDue = true
	r.schedule(r.nextList)
}

// FlushList sends a deferred LIST if pacing allows it now, or asks for
// another call through Config.ScheduleList if not. The server calls it
// when the time given to ScheduleList has come.
func (r *Room) FlushList() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.listDue || r.closed {
		r.listDue = false
		return
	}
	if now := r.now(); !now.Before(r.nextList) {
		r.sendListLocked(now)
	} else {
		r.schedule(r.nextList)
	}
}

// sendListLocked formats the LIST of current names once and queues it to
// every member. r.mu must be held.
func (r *Room) sendListLocked(now time.Time) {
	r.listDue = false
	if len(r.order) == 0 {
		return
	}
	names := r.nameBuf[:0]
	for _, m := range r.order {
		names = append(names, m.Name)
	}
	r.nameBuf = names
	p := protocol.List(names).Append(r.listBuf[:0])
	r.listBuf = p
	frame, err := r.framing.AppendFrame(make([]byte, 0, len(p)+2), p)
	if err != nil {
		// A writeUTF frame holds at most 65535 bytes: about 5,000 names.
		// Send the longest prefix of the list that fits rather than none.
		frame = r.truncatedListFrame(p)
	}
	for _, m := range r.order {
		m.Out.SendList(frame)
	}
	if r.budget > 0 {
		cost := int64(len(frame)) * int64(len(r.order))
		r.nextList = now.Add(time.Duration(float64(cost) / float64(r.budget) * float64(time.Second)))
	}
}

// truncatedListFrame frames the longest prefix of the LIST payload p that
// ends at a name boundary and fits in one frame.
func (r *Room) truncatedListFrame(p []byte) []byte {
	cut := min(len(p), protocol.MaxUTFFrame)
	for cut > 0 && cut < len(p) && p[cut] != ' ' {
		cut--
	}
	frame, _ := r.framing.AppendFrame(nil, p[:cut])
	return frame
}

// Names returns the names of the members in join order.
func (r *Room) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, len(r.order))
	for i, m := range r.order {
		names[i] = m.Name
	}
	return names
}

// Members returns the members in join order. The slice is a copy; the
// members' exported fields must not be modified.
func (r *Room) Members() []*Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.order)
}

// Len returns the number of members.
func (r *Room) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.order)
}

// Close empties the room without sending anything and makes every later
// Join fail with ErrClosed. It returns the members that were in the room.
func (r *Room) Close() []*Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	left := r.order
	for _, m := range left {
		m.in = false
	}
	r.order = nil
	clear(r.members)
	return left
}
