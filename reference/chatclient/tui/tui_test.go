package tui

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/reference/chatclient"
	"github.com/chatspec/chatspec/reference/chatserver"
	"github.com/chatspec/chatspec/reference/chatserver/chatservertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// driver runs a Model the way Bubble Tea does, one message at a time, with
// the test deciding when a command runs.
type driver struct {
	t       *testing.T
	m       Model
	pending []tea.Cmd // commands Update returned, not run yet, oldest first
	last    tea.Cmd   // the command the last Update returned
}

func newDriver(t *testing.T, addr string, width, height int) *driver {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	clock := time.Date(2026, 1, 2, 15, 4, 0, 0, time.UTC)
	d := &driver{t: t, m: New(ctx, Options{Addr: addr, Now: func() time.Time { return clock }})}
	t.Cleanup(func() { cancel(); d.m.Close() })
	d.update(tea.WindowSizeMsg{Width: width, Height: height})
	return d
}

func (d *driver) update(msg tea.Msg) {
	d.t.Helper()
	next, cmd := d.m.Update(msg)
	d.m = next.(Model)
	d.last = cmd
	if cmd != nil {
		d.pending = append(d.pending, cmd)
	}
}

// connect runs Init's command, which must reach the server.
func (d *driver) connect() {
	d.t.Helper()
	d.pending = append(d.pending, d.m.Init())
	if msg, ok := d.runCmd().(connectedMsg); !ok || msg.err != nil {
		d.t.Fatalf("connect: %v, want a connection:\n%s", msg, d.screen())
	}
}

// runCmd runs the pending command and feeds its message back.
func (d *driver) runCmd() tea.Msg {
	d.t.Helper()
	if len(d.pending) == 0 {
		d.t.Fatal("no command to run")
	}
	cmd := d.pending[0]
	d.pending = d.pending[1:]
	msgc := make(chan tea.Msg, 1)
	go func() { msgc <- cmd() }()
	select {
	case msg := <-msgc:
		d.update(msg)
		return msg
	case <-time.After(10 * time.Second): // a failure guard only
		d.t.Fatal("command did not finish")
	}
	return nil
}

// untilEvent runs commands until an event of kind k has been handled.
func (d *driver) untilEvent(k chatclient.EventKind) {
	d.t.Helper()
	for {
		msg := d.runCmd()
		if em, ok := msg.(eventMsg); ok && em.ev.Kind == k {
			return
		}
		if _, ok := msg.(closedMsg); ok {
			d.t.Fatal("connection closed while waiting for an event")
		}
	}
}

func (d *driver) typeText(s string) {
	for _, r := range s {
		d.update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func (d *driver) enter() { d.update(tea.KeyPressMsg{Code: tea.KeyEnter}) }

// screen returns the view as plain text, without styling.
func (d *driver) screen() string { return ansi.Strip(d.m.View().Content) }

func (d *driver) wantScreen(parts ...string) {
	d.t.Helper()
	s := d.screen()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			d.t.Errorf("screen lacks %q:\n%s", p, s)
		}
	}
}

func TestJoinChatAndPresence(t *testing.T) {
	addr, _ := chatservertest.Start(t, chatserver.Config{})
	d := newDriver(t, addr, 100, 20)
	d.wantScreen("name:", "connecting…")
	d.connect()
	d.wantScreen("name:", "not joined", "Connected. Type your chat name")

	d.typeText("alice")
	d.enter()
	d.wantScreen("joining")
	if _, ok := d.runCmd().(joinedMsg); !ok {
		t.Fatalf("join did not succeed:\n%s", d.screen())
	}
	d.untilEvent(chatclient.EventOnline)
	d.wantScreen("Joined as alice", "Online (1)", "joined as alice · 1 online")

	bob, err := chatclient.Dial(context.Background(), addr, chatclient.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if err := bob.Join(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
	d.untilEvent(chatclient.EventOnline)
	d.wantScreen("15:04 * bob joined", "Online (2)", "│ bob")

	d.typeText("hello bob")
	d.enter()
	if got := d.m.input.Value(); got != "" {
		t.Errorf("input after Enter = %q, want empty", got)
	}
	d.untilEvent(chatclient.EventMessage)
	d.wantScreen("15:04 alice: hello bob")

	bob.Send("hi alice")
	d.untilEvent(chatclient.EventMessage)
	d.wantScreen("15:04 bob: hi alice")

	// The whole screen keeps its size: incoming lines never push the
	// input line or the status line away.
	lines := strings.Split(d.screen(), "\n")
	if len(lines) != 20 || !strings.HasPrefix(lines[18], ">") || !strings.Contains(lines[19], addr) {
		t.Errorf("screen has %d lines, input %q, status %q; want 20, the input line, then the status line", len(lines), lines[18], lines[19])
	}

	bob.Close()
	d.untilEvent(chatclient.EventOnline)
	d.wantScreen("* bob left", "Online (1)")

	// A mistyped command is not sent; "//" sends a leading "/".
	d.typeText("/qiut")
	d.enter()
	d.wantScreen("! unknown command /qiut")
	d.update(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl})
	d.typeText("//shrug")
	d.enter()
	d.untilEvent(chatclient.EventMessage)
	d.wantScreen("15:04 alice: /shrug")

	// /quit leaves; Close (as Run does) sends QUIT.
	d.typeText(QuitCommand)
	d.enter()
	if d.last == nil || d.last() != tea.Quit() {
		t.Error("/quit did not quit")
	}
}

func TestNameRefusedThenAccepted(t *testing.T) {
	addr, _ := chatservertest.Start(t, chatserver.Config{})
	taken, err := chatclient.Dial(context.Background(), addr, chatclient.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if err := taken.Join(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}

	d := newDriver(t, addr, 120, 12)
	d.connect()
	d.typeText("no spaces")
	d.enter()
	if d.last != nil {
		t.Error("an invalid name started a join")
	}
	d.wantScreen(`! the name "no spaces" has ' '; only A-Z a-z 0-9 - _ are allowed`)
	if got := d.m.input.Value(); got != "" {
		t.Errorf("input after a name refused by the client = %q, want empty", got)
	}

	d.typeText("bob")
	d.enter()
	if _, ok := d.runCmd().(joinFailedMsg); !ok {
		t.Fatal("a taken name was accepted")
	}
	d.wantScreen(`the server refused the name "bob": 409 duplicate user name`, "Choose another name", "not joined")
	if got := d.m.input.Value(); got != "" {
		t.Errorf("input after a name refused by the server = %q, want empty (the next name must not be typed onto it)", got)
	}

	// Up recalls the refused name, to be edited.
	d.update(tea.KeyPressMsg{Code: tea.KeyUp})
	d.typeText("2")
	d.enter()
	if _, ok := d.runCmd().(joinedMsg); !ok {
		t.Fatalf("bob2 was not accepted:\n%s", d.screen())
	}
	d.wantScreen("joined as bob2")
}

// TestServerCheckedBeforeName: the TUI says that the server cannot be
// reached before it asks for a name, and Enter tries again.
func TestServerCheckedBeforeName(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	d := newDriver(t, addr, 100, 12)
	d.pending = append(d.pending, d.m.Init())
	if msg, ok := d.runCmd().(connectedMsg); !ok || msg.err == nil {
		t.Fatalf("connect = %v, want an error", msg)
	}
	d.wantScreen("cannot reach "+addr, "Press Enter to try again", "cannot reach the server")

	// The server comes up on that port.
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	srv := chatserver.New(chatserver.Config{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	defer func() { srv.Close(); <-served }()
	d.enter()
	if msg, ok := d.runCmd().(connectedMsg); !ok || msg.err != nil {
		t.Fatalf("connect after Enter = %v, want a connection", msg)
	}
	d.wantScreen("Connected. Type your chat name", "not joined")
}

func TestTextRefusedLocally(t *testing.T) {
	addr, _ := chatservertest.Start(t, chatserver.Config{})
	d := newDriver(t, addr, 80, 12)
	d.connect()
	d.typeText("alice")
	d.enter()
	d.runCmd()
	long := strings.Repeat("x", 251)
	d.update(tea.PasteMsg{Content: long})
	d.wantScreen("251/250 characters")
	d.enter()
	d.wantScreen("! not sent: text is 251 characters, the limit is 250")
	if got := d.m.input.Value(); got != long {
		t.Errorf("input after a refused text has %d characters, want the 251 kept for editing", len(got))
	}
}

func TestIncomingTextCannotDrive(t *testing.T) {
	d := newDriver(t, "127.0.0.1:1", 100, 12)
	d.update(eventMsg{chatclient.Event{Kind: chatclient.EventMessage, Name: "eve", Text: "\x1b[2J\x1b[31mgotcha\u202e\a"}})
	raw := d.m.View().Content
	for _, bad := range []string{"\x1b[2J", "\x1b[31mgotcha", "\u202e", "\a"} {
		if strings.Contains(raw, bad) {
			t.Errorf("view holds %q from a message", bad)
		}
	}
	d.wantScreen(`eve: \x1b[2J\x1b[31mgotcha\u202e\x07`)
}

func TestResize(t *testing.T) {
	d := newDriver(t, "127.0.0.1:1", 100, 30)
	d.update(eventMsg{chatclient.Event{Kind: chatclient.EventOnline, Names: []string{"alice", "bob"}}})
	d.update(eventMsg{chatclient.Event{Kind: chatclient.EventMessage, Name: "bob", Text: strings.Repeat("word ", 60)}})
	for _, size := range [][2]int{{100, 30}, {60, 15}, {40, 8}, {120, 40}} {
		d.update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		lines := strings.Split(d.screen(), "\n")
		if len(lines) != size[1] {
			t.Errorf("%dx%d: view has %d lines, want %d", size[0], size[1], len(lines), size[1])
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > size[0] {
				t.Errorf("%dx%d: line %d is %d wide: %q", size[0], size[1], i, w, l)
			}
		}
		if hasPanel := strings.Contains(d.screen(), "Online (2)"); hasPanel != (size[0] >= 50) {
			t.Errorf("%dx%d: online panel shown = %v", size[0], size[1], hasPanel)
		}
	}
}

func TestConnectionLost(t *testing.T) {
	addr, srv := chatservertest.Start(t, chatserver.Config{})
	d := newDriver(t, addr, 80, 12)
	d.connect()
	d.typeText("alice")
	d.enter()
	d.runCmd()
	srv.Close()
	for {
		if _, ok := d.runCmd().(closedMsg); ok {
			break
		}
	}
	d.wantScreen("connection lost: the server closed the connection", "disconnected")
	if d.m.Err() == nil {
		t.Error("Err() = nil after the connection was lost")
	}
	d.update(tea.KeyPressMsg{Code: 'x', Text: "x"})
	if d.last == nil || d.last() != tea.Quit() {
		t.Error("a key after the connection was lost did not quit")
	}
}

func TestCtrlCQuits(t *testing.T) {
	d := newDriver(t, "127.0.0.1:1", 80, 12)
	d.update(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	if d.last == nil || d.last() != tea.Quit() {
		t.Error("Ctrl-C did not quit")
	}
}

func TestInputLine(t *testing.T) {
	var in inputLine
	in.Insert("hello world")
	in.Key(tea.KeyPressMsg{Code: 'w', Mod: tea.ModCtrl})
	if got := in.Value(); got != "hello " {
		t.Errorf("after ctrl+w: %q, want %q", got, "hello ")
	}
	in.Insert("a\tb\nc\x1bd")
	if got := in.Value(); got != "hello a b cd" {
		t.Errorf("after inserting controls: %q, want %q", got, "hello a b cd")
	}
	in.Key(tea.KeyPressMsg{Code: tea.KeyHome})
	in.Key(tea.KeyPressMsg{Code: tea.KeyDelete})
	if got := in.Value(); got != "ello a b cd" {
		t.Errorf("after home, delete: %q", got)
	}
	// Scrolled sideways, the cursor stays in view.
	in.Set(strings.Repeat("abcdefghij", 5))
	text, cur := in.View(20)
	if ansi.StringWidth(text) > 20 || cur != 19 || !strings.HasSuffix(text, "hij") {
		t.Errorf("View(20) = %q, %d; want the end of the text and the cursor in the last column", text, cur)
	}
	in.Remember("first")
	in.Remember("second")
	in.Reset()
	in.Key(tea.KeyPressMsg{Code: tea.KeyUp})
	in.Key(tea.KeyPressMsg{Code: tea.KeyUp})
	if got := in.Value(); got != "first" {
		t.Errorf("up, up: %q, want first", got)
	}
}
