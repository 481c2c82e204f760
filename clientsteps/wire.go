package clientsteps

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// wire is one connection the client (or a stray process) made to the
// suite's server. The step goroutine owns its fields; its peer.Conn has
// goroutines of its own.
type wire struct {
	label   string
	conn    *peer.Conn
	framing protocol.Framing
	first   []byte // the first bytes it sent, which told the framing

	handled int    // messages the server has acted on
	joined  string // the name it joined as (J_OK sent); "" before
	attempt bool   // it sent a join attempt: it is the client's, not a stray's
}

// msgs returns what the wire has received so far, and why it ended (nil
// while open).
func (wr *wire) msgs() ([]peer.Msg, error) { return wr.conn.Snapshot() }

// framingOf decides a connection's framing from its first bytes: Java's
// writeUTF frames start with a 2-byte big-endian length, and a JOIN is far
// shorter than 2 KiB, so their first byte is below 0x08; a line never
// starts with such a byte.
func framingOf(first []byte) protocol.Framing {
	if len(first) > 0 && first[0] < 0x08 {
		return protocol.FramingUTF
	}
	return protocol.FramingLine
}

// prefixConn is a net.Conn whose first reads return bytes already read
// from it.
type prefixConn struct {
	net.Conn
	prefix []byte // owned by the reader goroutine of the peer.Conn wrapping it
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// attempt is a message that the suite's server takes for an attempt to
// join: a JOIN in any shape, or, on a connection that has not joined, the
// typed name alone (or followed by anything after a space or comma).
type attempt struct {
	wire *wire
	msg  peer.Msg
	name string // the name it meant: a typed name if one matches
}

// meantName returns the name a join attempt m means, if it is one: typed
// holds the names the user typed, and joined says whether m's connection
// has joined already.
func meantName(m peer.Msg, joined bool, typed []string) (string, bool) {
	lead := func(s string) string {
		f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == ':' })
		if len(f) == 0 {
			return ""
		}
		return f[0]
	}
	if m.ReadErr != nil {
		return "", false
	}
	if m.Kind == protocol.KindJoin {
		if slices.Contains(typed, m.Name) {
			return m.Name, true
		}
		if n := lead(m.Name); slices.Contains(typed, n) {
			return n, true
		}
		return m.Name, true
	}
	if joined || m.Kind == protocol.KindData || m.Kind == protocol.KindAlive || m.Kind == protocol.KindQuit {
		return "", false
	}
	frame := strings.TrimSpace(m.Frame)
	if slices.Contains(typed, frame) {
		return frame, true
	}
	if n := lead(frame); slices.Contains(typed, n) {
		return n, true
	}
	return "", false
}

// hostMatches reports whether host, as a client wrote it in JOIN, names
// the address ip it connected to: the same address, a name that resolves
// to it, or a loopback address or name when ip is one too.
func hostMatches(host string, ip net.IP, resolve func(string) []string) bool {
	host = strings.Trim(host, "[]")
	if h := net.ParseIP(host); h != nil {
		return h.Equal(ip) || h.IsLoopback() && ip.IsLoopback()
	}
	for _, a := range resolve(host) {
		if h := net.ParseIP(a); h != nil && (h.Equal(ip) || h.IsLoopback() && ip.IsLoopback()) {
			return true
		}
	}
	return false
}

// joinShape says what is wrong with a first message as the assignment's
// "JOIN <name>, <host>:<port>" for name, sent on a connection to local:
// "" if nothing is.
func joinShape(m peer.Msg, name string, local *net.TCPAddr, resolve func(string) []string) string {
	if m.ReadErr != nil {
		return "a frame the suite could not read"
	}
	pm, err := protocol.Parse(m.Frame)
	switch {
	case pm.Kind != protocol.KindJoin && strings.TrimSpace(m.Frame) == name:
		return "the name alone, without JOIN and the address"
	case pm.Kind != protocol.KindJoin && m.Kind == protocol.KindJoin:
		return "not the shape of JOIN (" + m.Shape.String() + ")"
	case pm.Kind != protocol.KindJoin:
		return "not a JOIN"
	case pm.Name != name && strings.Contains(pm.Name, name):
		return fmt.Sprintf("the name %q holds more than the name typed (is the comma before the address missing?)", pm.Name)
	case pm.Name != name:
		return fmt.Sprintf("the name %q, not the name typed (%q)", pm.Name, name)
	case err != nil:
		return "not the shape of JOIN: " + err.Error()
	case pm.Addr == "":
		return "no address: the assignment's JOIN ends with \", <server_ip>:<server_port>\""
	}
	host, port, _ := net.SplitHostPort(pm.Addr)
	if host == "" {
		i := strings.LastIndexByte(pm.Addr, ':')
		host, port = pm.Addr[:i], pm.Addr[i+1:]
	}
	if port != fmt.Sprint(local.Port) {
		return fmt.Sprintf("the port %s, but the client connected to port %d", port, local.Port)
	}
	if !hostMatches(host, local.IP, resolve) {
		return fmt.Sprintf("the host %q, which is not the address the client connected to (%s)", host, local.IP)
	}
	return ""
}

// resolver returns a function that resolves a host name within timeout.
func resolver(timeout time.Duration) func(string) []string {
	return func(host string) []string {
		r := net.Resolver{}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		addrs, err := r.LookupHost(ctx, host)
		if err != nil {
			return nil
		}
		return addrs
	}
}
