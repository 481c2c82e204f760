package chatserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/chatspec/chatspec/protocol"
)

// scene is the state of one scripted test: a server and named clients.
type scene struct {
	t       *testing.T
	tr      transport
	srv     *testServer
	clients map[string]*client
	joined  []string // names joined, in order: the expected LIST
}

// act is one step of a script.
type act func(s *scene)

func (s *scene) client(who string) *client {
	s.t.Helper()
	c, ok := s.clients[who]
	if !ok {
		c = connect(s.t, s.tr, s.srv, who)
		s.clients[who] = c
	}
	return c
}

func (s *scene) list() string { return strings.TrimSpace("LIST " + strings.Join(s.joined, " ")) }

// joined connects who and joins under that name; everyone sees the LIST.
func joined(who string) act {
	return func(s *scene) {
		s.t.Helper()
		c := s.client(who)
		s.joined = append(s.joined, who)
		c.join(s.list())
		for _, other := range s.joined[:len(s.joined)-1] {
			s.clients[other].expect(s.list())
		}
	}
}

// left says who is gone: everyone left sees the new LIST.
func left(who string) act {
	return func(s *scene) {
		s.t.Helper()
		for i, n := range s.joined {
			if n == who {
				s.joined = append(s.joined[:i:i], s.joined[i+1:]...)
				break
			}
		}
		for _, other := range s.joined {
			s.clients[other].expect(s.list())
		}
	}
}

func send(who, line string) act {
	return func(s *scene) { s.t.Helper(); s.client(who).send(line) }
}

func sendRaw(who, raw string) act {
	return func(s *scene) { s.t.Helper(); s.client(who).sendRaw([]byte(raw)) }
}

func expect(who string, lines ...string) act {
	return func(s *scene) { s.t.Helper(); s.client(who).expect(lines...) }
}

func nothing(whos ...string) act {
	return func(s *scene) {
		s.t.Helper()
		for _, who := range whos {
			s.client(who).expectNothing()
		}
	}
}

func closed(who string) act {
	return func(s *scene) { s.t.Helper(); s.client(who).expectClosed() }
}

func hangUp(who string) act {
	return func(s *scene) { s.t.Helper(); s.client(who).c.Close() }
}

func jer(c protocol.Code) string { return protocol.Error(c, c.Text()).String() }

// scripts are the request/response rules of the server, one per message and
// error path. Each runs over net.Pipe and loopback TCP, in both framings.
var scripts = []struct {
	name string
	cfg  Config
	acts []act
	line bool // only with FramingLine (raw bytes that only make sense there)
}{
	{name: "join ok: J_OK then LIST to all", acts: []act{
		joined("alice"), joined("bob"), joined("carol"), nothing("alice", "bob", "carol"),
	}},
	{name: "join without address", acts: []act{
		send("alice", "JOIN alice"), expect("alice", "J_OK", "LIST alice"),
	}},
	{name: "join with odd spacing", acts: []act{
		send("alice", "JOIN alice ,127.0.0.1:4242"), expect("alice", "J_OK", "LIST alice"),
	}},
	{name: "duplicate name, then another name", acts: []act{
		joined("alice"),
		send("x", "JOIN alice, 127.0.0.1:4242"), expect("x", jer(protocol.CodeDuplicateName)),
		nothing("alice", "x"),
		send("x", "JOIN bob, 127.0.0.1:4242"), expect("x", "J_OK", "LIST alice bob"), expect("alice", "LIST alice bob"),
	}},
	{name: "invalid names", acts: []act{
		send("x", "JOIN al!ce, 127.0.0.1:4242"), expect("x", jer(protocol.CodeInvalidName)),
		send("x", "JOIN abcdefghijklm, 127.0.0.1:4242"), expect("x", jer(protocol.CodeInvalidName)),
		send("x", "JOIN ø, 127.0.0.1:4242"), expect("x", jer(protocol.CodeInvalidName)),
		send("x", "JOIN abcdefghijkl, 127.0.0.1:4242"), expect("x", "J_OK", "LIST abcdefghijkl"),
	}},
	{name: "malformed join", acts: []act{
		send("x", "JOIN"), expect("x", jer(protocol.CodeBadCommand)),
		send("x", "JOIN alice, nowhere"), expect("x", jer(protocol.CodeBadCommand)),
		send("x", "JOIN alice,"), expect("x", jer(protocol.CodeBadCommand)),
		send("x", "JOIN alice, 127.0.0.1:4242"), expect("x", "J_OK", "LIST alice"),
	}},
	{name: "join when joined", acts: []act{
		joined("alice"),
		send("alice", "JOIN alice, 127.0.0.1:4242"), expect("alice", jer(protocol.CodeAlreadyJoined)),
		send("alice", "JOIN other, 127.0.0.1:4242"), expect("alice", jer(protocol.CodeAlreadyJoined)),
		nothing("alice"),
	}},
	{name: "server full", cfg: Config{MaxClients: 2}, acts: []act{
		joined("alice"), joined("bob"),
		send("carol", "JOIN carol, 127.0.0.1:4242"), expect("carol", jer(protocol.CodeServerFull)), closed("carol"),
		nothing("alice", "bob"),
		send("bob", "QUIT"), closed("bob"), left("bob"),
		joined("dave"),
	}},
	{name: "data to everyone, sender included", acts: []act{
		joined("alice"), joined("bob"),
		send("alice", "DATA alice: hello: world"),
		expect("alice", "DATA alice: hello: world"), expect("bob", "DATA alice: hello: world"),
		send("bob", "DATA bob:no space"),
		expect("alice", "DATA bob: no space"), expect("bob", "DATA bob: no space"),
		send("bob", "DATA bob: "),
		expect("alice", "DATA bob: "), expect("bob", "DATA bob: "),
		send("bob", "DATA bob: "+strings.Repeat("ø", 250)),
		expect("alice", "DATA bob: "+strings.Repeat("ø", 250)), expect("bob", "DATA bob: "+strings.Repeat("ø", 250)),
	}},
	{name: "data before join", acts: []act{
		joined("alice"),
		send("x", "DATA x: hello"), expect("x", jer(protocol.CodeNotJoined)),
		send("x", "DATA alice: hello"), expect("x", jer(protocol.CodeNotJoined)),
		nothing("alice"),
	}},
	{name: "data under another name", acts: []act{
		joined("alice"), joined("bob"),
		send("bob", "DATA alice: it is me"), expect("bob", jer(protocol.CodeNameMismatch)),
		send("bob", "DATA n0b0dy: hi"), expect("bob", jer(protocol.CodeNameMismatch)),
		send("bob", "DATA b!b: hi"), expect("bob", jer(protocol.CodeNameMismatch)),
		nothing("alice", "bob"),
	}},
	{name: "data too long", acts: []act{
		joined("alice"), joined("bob"),
		send("alice", "DATA alice: "+strings.Repeat("x", 251)), expect("alice", jer(protocol.CodeTextTooLong)),
		send("alice", "DATA alice: "+strings.Repeat("ø", 251)), expect("alice", jer(protocol.CodeTextTooLong)),
		nothing("alice", "bob"),
	}},
	{name: "data with control characters", acts: []act{
		joined("alice"), joined("bob"),
		send("alice", "DATA alice: \x1b[2J\x1b[Hpwned"), expect("alice", jer(protocol.CodeInvalidText)),
		send("alice", "DATA alice: bell\a"), expect("alice", jer(protocol.CodeInvalidText)),
		send("alice", "DATA alice: nul\x00byte"), expect("alice", jer(protocol.CodeInvalidText)),
		send("alice", "DATA alice: c1\u009b31m"), expect("alice", jer(protocol.CodeInvalidText)),
		send("alice", "DATA alice: del\x7f"), expect("alice", jer(protocol.CodeInvalidText)),
		nothing("alice", "bob"),
	}},
	{name: "data with invalid UTF-8", line: true, acts: []act{
		joined("alice"), joined("bob"),
		sendRaw("alice", "DATA alice: \xff\xfe\n"), expect("alice", jer(protocol.CodeInvalidText)),
		sendRaw("alice", "DATA alice: \xc3\n"), expect("alice", jer(protocol.CodeInvalidText)),
		nothing("alice", "bob"),
	}},
	{name: "malformed data", acts: []act{
		joined("alice"),
		send("alice", "DATA alice hello"), expect("alice", jer(protocol.CodeBadCommand)),
		send("alice", "DATA"), expect("alice", jer(protocol.CodeBadCommand)),
		send("x", "DATA"), expect("x", jer(protocol.CodeBadCommand)),
		nothing("alice"),
	}},
	{name: "imav: no reply", acts: []act{
		send("x", "IMAV"), nothing("x"),
		joined("alice"), send("alice", "IMAV"), nothing("alice"),
		send("alice", "IMAV now"), expect("alice", jer(protocol.CodeBadCommand)),
	}},
	{name: "unknown commands", acts: []act{
		joined("alice"),
		send("alice", "HELLO"), expect("alice", jer(protocol.CodeUnknownCommand)),
		send("alice", "join alice, 127.0.0.1:4242"), expect("alice", jer(protocol.CodeUnknownCommand)),
		send("alice", "OUIT"), expect("alice", jer(protocol.CodeUnknownCommand)),
		send("alice", ""), expect("alice", jer(protocol.CodeUnknownCommand)),
		send("alice", "J_OK"), expect("alice", "J_ER 400: J_OK is sent by the server, not by a client"),
		send("alice", "LIST alice"), expect("alice", "J_ER 400: LIST is sent by the server, not by a client"),
		send("alice", "J_ER 1: x"), expect("alice", "J_ER 400: J_ER is sent by the server, not by a client"),
		send("alice", "DATA alice: still here"), expect("alice", "DATA alice: still here"),
	}},
	{name: "quit: closed, LIST to the rest, name free", acts: []act{
		joined("alice"), joined("bob"),
		send("alice", "QUIT"), closed("alice"), left("alice"),
		send("alice2", "JOIN alice, 127.0.0.1:4242"), expect("alice2", "J_OK", "LIST bob alice"), expect("bob", "LIST bob alice"),
	}},
	{name: "quit before join", acts: []act{
		send("x", "QUIT"), closed("x"),
	}},
	{name: "malformed quit", acts: []act{
		joined("alice"), send("alice", "QUIT now"), expect("alice", jer(protocol.CodeBadCommand)), nothing("alice"),
	}},
	{name: "hang up without quit: LIST to the rest at once", acts: []act{
		joined("alice"), joined("bob"), joined("carol"),
		hangUp("bob"), left("bob"),
		send("x", "JOIN bob, 127.0.0.1:4242"), expect("x", "J_OK", "LIST alice carol bob"),
	}},
	{name: "crlf line endings", line: true, acts: []act{
		sendRaw("alice", "JOIN alice, 127.0.0.1:4242\r\n"), expect("alice", "J_OK", "LIST alice"),
		sendRaw("alice", "DATA alice: hi\r\n"), expect("alice", "DATA alice: hi"),
	}},
	{name: "several requests in one write", line: true, acts: []act{
		sendRaw("alice", "JOIN alice, 127.0.0.1:4242\nDATA alice: one\nIMAV\nDATA alice: two\n"),
		expect("alice", "J_OK", "LIST alice", "DATA alice: one", "DATA alice: two"),
	}},
	{name: "line too long: J_ER, then the next line works", cfg: Config{MaxLineBytes: 100}, acts: []act{
		joined("alice"), joined("bob"),
		send("alice", "DATA alice: "+strings.Repeat("x", 200)), expect("alice", jer(protocol.CodeLineTooLong)),
		send("alice", "DATA alice: ok"), expect("alice", "DATA alice: ok"), expect("bob", "DATA alice: ok"),
	}},
}

func TestRequests(t *testing.T) {
	for _, framing := range []protocol.Framing{protocol.FramingLine, protocol.FramingUTF} {
		for _, tr := range transports {
			for _, sc := range scripts {
				if sc.line && framing != protocol.FramingLine {
					continue
				}
				t.Run(fmt.Sprintf("%s/%s/%s", framing, tr.name, sc.name), func(t *testing.T) {
					t.Parallel()
					cfg := sc.cfg
					cfg.Framing = framing
					s := &scene{t: t, tr: tr, srv: newServer(t, cfg), clients: map[string]*client{}}
					for _, a := range sc.acts {
						a(s)
					}
				})
			}
		}
	}
}

// TestUTFBadEncoding: a writeUTF frame that is not modified UTF-8 gets
// J_ER 415 and the connection stays usable.
func TestUTFBadEncoding(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			srv := newServer(t, Config{Framing: protocol.FramingUTF})
			c := connect(t, tr, srv, "alice")
			c.sendRaw([]byte("\x00\x02\xff\xff"))
			c.expect(jer(protocol.CodeInvalidText))
			c.join("LIST alice")
		})
	}
}

// TestJoinRecordsMember: the room knows name, addresses and heartbeat.
func TestJoinRecordsMember(t *testing.T) {
	srv := newServer(t, Config{})
	c := connect(t, transports[1], srv, "alice")
	c.send("JOIN alice, 10.0.0.1:1234")
	c.expect("J_OK", "LIST alice")
	ms := srv.Room().Members()
	if len(ms) != 1 {
		t.Fatalf("room has %d members, want 1", len(ms))
	}
	m := ms[0]
	if m.Name != "alice" || m.Addr != "10.0.0.1:1234" || m.Remote != c.c.LocalAddr().String() {
		t.Errorf("member = {%q %q %q}, want {alice 10.0.0.1:1234 %s}", m.Name, m.Addr, m.Remote, c.c.LocalAddr())
	}
	if m.LastHeartbeat().IsZero() || m.Joined().IsZero() {
		t.Errorf("member times not set: joined %v, heartbeat %v", m.Joined(), m.LastHeartbeat())
	}
}

// TestConcurrentJoinSameName: fifty clients join one name at once over
// TCP; exactly one gets J_OK, the others J_ER 409.
func TestConcurrentJoinSameName(t *testing.T) {
	srv := newServer(t, Config{})
	const n = 50
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = connect(t, transports[1], srv, fmt.Sprintf("c%d", i))
	}
	start := make(chan struct{})
	results := make([]string, n)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			<-start
			if _, err := c.c.Write([]byte("JOIN same, 127.0.0.1:4242\n")); err != nil {
				results[i] = err.Error()
				return
			}
			results[i], _ = c.read()
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, r := range results {
		switch r {
		case "J_OK":
			ok++
		case jer(protocol.CodeDuplicateName):
		default:
			t.Errorf("client %d got %q", i, r)
		}
	}
	if ok != 1 {
		t.Errorf("%d clients got J_OK for one name, want exactly 1", ok)
	}
}

// TestCloseLeavesNoGoroutine: Close with joined clients on both
// transports returns once every goroutine has ended (TestMain's goleak
// check fails otherwise), and Serve returns ErrServerClosed.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	srv := New(Config{})
	ts := &testServer{Server: srv, t: t}
	a := connect(t, transports[0], ts, "alice")
	a.join("LIST alice")
	b := connect(t, transports[1], ts, "bob")
	b.join("LIST alice bob")
	if err := srv.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if n := srv.numConns(); n != 0 {
		t.Errorf("%d connections still being served when Close returned", n)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(l); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Close = %v, want ErrServerClosed", err)
	}
	if n := srv.Room().Len(); n != 0 {
		t.Errorf("room has %d members after Close", n)
	}
}

// TestShutdownFlushes: Shutdown writes what is queued before it closes.
func TestShutdownFlushes(t *testing.T) {
	srv := newServer(t, Config{})
	a := connect(t, transports[1], srv, "alice")
	a.join("LIST alice")
	a.send("DATA alice: last words")
	a.expect("DATA alice: last words")
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	a.expectClosed()
}
