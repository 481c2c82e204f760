package faultproxy

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/chatspec/chatspec/protocol"
)

// This file holds the building blocks of the catalogue: small Frame hooks
// and the state some of them share between sessions.

// errorLine is the J_ER line the reference server sends for code c.
func errorLine(c protocol.Code) string { return protocol.Error(c, c.Text()).String() }

// frameHook adapts a hook that only looks at one direction and at parsed
// messages: the message and the parse error are passed along (Parse fills
// in what it could even on error).
func frameHook(dir Direction, hook func(s *Session, m protocol.Message, err error, line string) []string) func(*Session, Direction, string) []string {
	return func(s *Session, d Direction, line string) []string {
		if d != dir {
			return []string{line}
		}
		m, err := protocol.Parse(line)
		return hook(s, m, err, line)
	}
}

// dropWhere drops the frames in direction dir for which drop reports true,
// and passes every other frame unchanged: the shape of most mutants that
// ignore a kind of message.
func dropWhere(dir Direction, drop func(s *Session, m protocol.Message, err error, line string) bool) func(*Session, Direction, string) []string {
	return frameHook(dir, func(s *Session, m protocol.Message, err error, line string) []string {
		if drop(s, m, err, line) {
			return nil
		}
		return []string{line}
	})
}

// bothHooks runs toServer on frames to the server and toClient on frames to
// the client.
func bothHooks(toServer, toClient func(*Session, Direction, string) []string) func(*Session, Direction, string) []string {
	return func(s *Session, d Direction, line string) []string {
		if d == ToServer {
			return toServer(s, d, line)
		}
		return toClient(s, d, line)
	}
}

// nameSet is a set of user names shared by the sessions of one Fault.
type nameSet struct {
	mu    sync.Mutex
	names map[string]bool // guarded by mu
}

func newNameSet() *nameSet { return &nameSet{names: make(map[string]bool)} }

func (n *nameSet) add(name string) {
	n.mu.Lock()
	n.names[name] = true
	n.mu.Unlock()
}

func (n *nameSet) remove(name string) {
	n.mu.Lock()
	delete(n.names, name)
	n.mu.Unlock()
}

func (n *nameSet) has(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.names[name]
}

// list returns the names, sorted.
func (n *nameSet) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, 0, len(n.names))
	for name := range n.names {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// aliases renames users on their way to the server, so that the server
// accepts names it would refuse, and renames them back in what the server
// sends, so that clients see the names the clients chose. Shared by the
// sessions of one Fault.
type aliases struct {
	mu       sync.Mutex
	toClient map[string]string // server name -> client name; guarded by mu
	next     int               // guarded by mu
}

func newAliases() *aliases { return &aliases{toClient: make(map[string]string)} }

// fresh returns a new valid server name for the client's name.
func (a *aliases) fresh(client string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next++
	server := "fpx" + strconv.Itoa(a.next)
	a.toClient[server] = client
	return server
}

// clientName maps a server name back to the client's name.
func (a *aliases) clientName(server string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.toClient[server]; ok {
		return c
	}
	return server
}

// aliasFault accepts the JOINs that rename selects, whatever the server
// would say: it forwards them under a fresh valid name and keeps the
// client's name everywhere the client looks (its DATA, the DATA and LIST it
// receives). rename sees the JOIN as parsed, with its parse error.
func aliasFault(rename func(s *Session, m protocol.Message, err error) bool) Fault {
	a := newAliases()
	toServer := func(s *Session, _ Direction, line string) []string {
		m, err := protocol.Parse(line)
		switch {
		case m.Kind == protocol.KindJoin && !s.Joined() && rename(s, m, err):
			return []string{protocol.Join(a.fresh(m.Name), m.Addr).String()}
		case m.Kind == protocol.KindData && (err == nil || errors.Is(err, protocol.ErrInvalidName)) && s.Joined():
			if name, server := s.Name(), s.ServerName(); name != server && m.Name == name {
				return []string{protocol.Data(server, m.Text).String()}
			}
		}
		return []string{line}
	}
	toClient := func(s *Session, _ Direction, line string) []string {
		m, err := protocol.Parse(line)
		if err != nil {
			return []string{line}
		}
		switch m.Kind {
		case protocol.KindData:
			return []string{protocol.Data(a.clientName(m.Name), m.Text).String()}
		case protocol.KindList:
			names := make([]string, len(m.Names))
			for i, n := range m.Names {
				names[i] = a.clientName(n)
			}
			return []string{protocol.List(names).String()}
		}
		return []string{line}
	}
	return Fault{Frame: bothHooks(toServer, toClient)}
}

// refuseNames answers J_ER itself to the JOINs of valid names that refuse
// selects, and does not forward them.
func refuseNames(refuse func(name string) bool) Fault {
	return Fault{Frame: frameHook(ToServer, func(s *Session, m protocol.Message, err error, line string) []string {
		if m.Kind == protocol.KindJoin && err == nil && !s.Joined() && refuse(m.Name) {
			_ = s.Inject(ToClient, errorLine(protocol.CodeInvalidName))
			return nil
		}
		return []string{line}
	})}
}

// perSession keeps a value of type T for each session of one Fault, for
// hooks that remember something between frames. Hooks of one session run
// on two goroutines, so the value is only touched inside with, under the
// lock.
type perSession[T any] struct {
	mu sync.Mutex
	m  map[*Session]*T // guarded by mu
}

// with calls f with s's value (the zero T on first use), under the lock.
func (ps *perSession[T]) with(s *Session, f func(v *T)) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.m == nil {
		ps.m = make(map[*Session]*T)
	}
	v, ok := ps.m[s]
	if !ok {
		v = new(T)
		ps.m[s] = v
	}
	f(v)
}

// each calls f with every session's value, under the lock.
func (ps *perSession[T]) each(f func(s *Session, v *T)) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for s, v := range ps.m {
		f(s, v)
	}
}

// lastList keeps, per session, the previous LIST the session received
// from the server.
type lastList struct{ perSession[[]string] }

// swap records names as s's latest LIST and returns the previous one (nil
// if none).
func (l *lastList) swap(s *Session, names []string) (prev []string) {
	l.with(s, func(v *[]string) {
		prev, *v = *v, slices.Clone(names)
	})
	return prev
}

// hasUpper reports whether name has an upper-case ASCII letter.
func hasUpper(name string) bool {
	return strings.ContainsFunc(name, func(r rune) bool { return 'A' <= r && r <= 'Z' })
}
