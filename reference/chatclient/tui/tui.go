// Package tui is the terminal face of the reference client, built on
// Bubble Tea: a scrolling message pane, a side panel with who is online, an
// input line that incoming messages never break, and a status line with the
// server, the user's name and the connection state.
//
// The Model is an ordinary Bubble Tea model; Run drives it on a terminal,
// and tests drive it through Update and View. Everything that comes from
// the server is shown through chatclient.SafeText.
package tui

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatclient"
)

// Options configures a Model.
type Options struct {
	Addr   string            // the server, "host:port"
	Name   string            // if not "", joined at start without asking
	Config chatclient.Config // for the connection
	// Now is the clock for message times. Nil means time.Now.
	Now func() time.Time
}

// Commands typed in the input line. Any other text that starts with "/" is
// refused as an unknown command, so that a typo is not sent to everyone;
// "//" at the start sends a text that starts with "/".
const (
	QuitCommand = "/quit" // leave the chat
	HelpCommand = "/help" // list the commands and keys
)

// maxEntries bounds the scrollback.
const maxEntries = 2000

// sideWidth is the width of the who's-online panel, border included: a
// 12-character name, a marker and some air.
const sideWidth = 18

type phase uint8

const (
	phaseConnecting phase = iota // checking that the server can be reached
	phaseOffline                 // it cannot: Enter tries again
	phaseName                    // asking for a name
	phaseJoining                 // a join is in flight
	phaseChat                    // joined
	phaseGone                    // the connection ended; any key exits
)

// entry is one line of the message pane, kept unrendered so that a resize
// re-wraps it.
type entry struct {
	at   time.Time
	kind entryKind
	name string // entryMessage: the sender
	text string // already safe for display
}

type entryKind uint8

const (
	entryMessage entryKind = iota
	entryPresence
	entryInfo
	entryProblem
)

// Messages the Model's commands produce.
type (
	connectedMsg  struct{ err error }
	joinedMsg     struct{ c *chatclient.Client }
	joinFailedMsg struct{ err error }
	eventMsg      struct{ ev chatclient.Event }
	closedMsg     struct{ err error }
)

// Model is the Bubble Tea model of the chat. It is a value; Update returns
// the next one, and every value shares one session.
type Model struct {
	opts   Options
	ctx    context.Context // ends the join commands
	sess   *session
	client *chatclient.Client // nil until joined

	phase  phase
	name   string   // the joined name
	online []string // the last LIST, safe for display
	err    error    // why the connection ended, in phaseGone
	quit   bool     // the user asked to leave

	entries []entry
	input   inputLine
	vp      viewport.Model
	width   int
	height  int
	st      styles
}

// session is what every value of a Model shares: the connection, which
// must be closed once, whichever value the program ends with.
type session struct {
	// dialer is used by the connect or join command in flight (phases
	// phaseConnecting and phaseJoining: Update starts no other), and by
	// Close after the program has ended and joins has been waited for.
	dialer *chatclient.Dialer
	joins  sync.WaitGroup // connect and join commands in flight

	mu     sync.Mutex
	client *chatclient.Client // guarded by mu: the joined client, or nil
}

// New returns the Model for a chat with the server at opts.Addr. Its
// commands end when ctx does.
func New(ctx context.Context, opts Options) Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	vp := viewport.New()
	vp.SoftWrap = true
	vp.MouseWheelEnabled = true
	m := Model{
		opts:   opts,
		ctx:    ctx,
		sess:   &session{dialer: &chatclient.Dialer{Addr: opts.Addr, Config: opts.Config}},
		vp:     vp,
		width:  80,
		height: 24,
		st:     newStyles(),
	}
	m.addInfo(fmt.Sprintf("Chat server %s: connecting…", opts.Addr))
	m.layout()
	return m
}

// Init checks that the server can be reached, before anyone is asked for
// a name; the join starts then, when a name was given.
func (m Model) Init() tea.Cmd { return m.connect() }

// connect dials the server (keeping the connection for the join) in a
// command.
func (m Model) connect() tea.Cmd {
	m.sess.joins.Add(1)
	ctx, sess := m.ctx, m.sess
	return func() tea.Msg {
		defer sess.joins.Done()
		return connectedMsg{sess.dialer.Connect(ctx)}
	}
}

// submitNameMsg asks the Model to join with a name given on the command line.
type submitNameMsg struct{ name string }

// Client returns the joined client, or nil.
func (m Model) Client() *chatclient.Client { return m.client }

// Err returns why the connection ended, or nil while it lasts and after
// the user left.
func (m Model) Err() error { return m.err }

// Close waits for a join in flight (cancel the Model's context first), then
// closes the client, sending QUIT, and any connection kept between tries.
// Any value of the Model closes the same session.
func (m Model) Close() {
	m.sess.joins.Wait()
	m.sess.mu.Lock()
	c := m.sess.client
	m.sess.mu.Unlock()
	if c != nil {
		c.Close()
	}
	m.sess.dialer.Close()
}

// Update handles one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil

	case tea.KeyPressMsg:
		return m.key(msg)

	case tea.PasteMsg:
		if m.phase != phaseGone {
			m.input.Insert(msg.Content)
		}
		return m, nil

	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return m, cmd

	case submitNameMsg:
		return m.submitName(msg.name)

	case connectedMsg:
		if msg.err != nil {
			m.phase = phaseOffline
			m.addProblem(chatclient.Explain(msg.err))
			m.addInfo("Press Enter to try again, Ctrl-C to leave.")
			return m, nil
		}
		m.phase = phaseName
		if m.opts.Name != "" {
			m.addInfo(fmt.Sprintf("Connected. Joining as %s…", m.opts.Name))
			return m.submitName(m.opts.Name)
		}
		m.addInfo("Connected. Type your chat name and press Enter.")
		return m, nil

	case joinedMsg:
		m.client = msg.c
		m.name = msg.c.Name()
		m.phase = phaseChat
		m.input.Reset()
		m.addInfo(fmt.Sprintf("Joined as %s. Type a message and press Enter; %s leaves, %s helps.", m.name, QuitCommand, HelpCommand))
		return m, waitEvent(msg.c)

	case joinFailedMsg:
		m.addProblem(chatclient.Explain(msg.err))
		m.phase = phaseName
		var je *chatclient.JoinError
		if errors.As(msg.err, &je) || errors.Is(msg.err, protocol.ErrInvalidName) {
			// The refused name leaves the input line (Up recalls it), so
			// that the next one is not typed onto its end.
			m.input.Remember(m.input.Value())
			m.input.Reset()
			m.addInfo("Choose another name.")
		} else {
			// The name stays: Enter tries it again (dialing again if the
			// connection is gone).
			m.addInfo("Press Enter to try again, Ctrl-C to leave.")
		}
		return m, nil

	case eventMsg:
		m.event(msg.ev)
		if m.client == nil {
			return m, nil
		}
		return m, waitEvent(m.client)

	case closedMsg:
		if m.quit {
			return m, nil
		}
		m.phase = phaseGone
		m.err = msg.err
		m.addProblem(chatclient.Explain(msg.err))
		m.addInfo("Press any key to exit.")
		return m, nil
	}
	return m, nil
}

func (m Model) key(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch k.String() {
	case "ctrl+c":
		m.quit = true
		return m, tea.Quit
	case "pgup":
		m.vp.PageUp()
		return m, nil
	case "pgdown":
		m.vp.PageDown()
		return m, nil
	case "ctrl+home":
		m.vp.GotoTop()
		return m, nil
	case "ctrl+end":
		m.vp.GotoBottom()
		return m, nil
	}
	if m.phase == phaseGone {
		return m, tea.Quit
	}
	if k.String() == "enter" {
		text := m.input.Value()
		switch m.phase {
		case phaseOffline:
			m.phase = phaseConnecting
			m.addInfo("Connecting…")
			return m, m.connect()
		case phaseName:
			return m.submitName(strings.TrimSpace(text))
		case phaseChat:
			return m.submitText(text)
		}
		return m, nil
	}
	m.input.Key(k)
	return m, nil
}

func (m Model) submitName(name string) (tea.Model, tea.Cmd) {
	if name == "" || m.phase != phaseName {
		return m, nil
	}
	if err := protocol.ValidName(name); err != nil {
		m.addProblem(chatclient.Explain(err))
		m.input.Remember(name)
		m.input.Reset()
		return m, nil
	}
	m.phase = phaseJoining
	m.input.Set(name)
	m.sess.joins.Add(1)
	ctx, sess := m.ctx, m.sess
	return m, func() tea.Msg {
		defer sess.joins.Done()
		d := sess.dialer
		c, err := d.Join(ctx, name)
		if err != nil {
			return joinFailedMsg{err}
		}
		// Recorded here, not in Update: if the program has ended, no one
		// sees joinedMsg, and Close must still send QUIT.
		sess.mu.Lock()
		sess.client = c
		sess.mu.Unlock()
		return joinedMsg{c}
	}
}

func (m Model) submitText(text string) (tea.Model, tea.Cmd) {
	if strings.TrimSpace(text) == "" {
		return m, nil
	}
	switch cmd := strings.TrimSpace(text); {
	case cmd == QuitCommand:
		m.quit = true
		return m, tea.Quit
	case cmd == HelpCommand:
		m.addInfo(helpText)
		m.input.Reset()
		return m, nil
	case strings.HasPrefix(text, "//"):
		text = text[1:]
	case strings.HasPrefix(text, "/"):
		m.addProblem(fmt.Sprintf("unknown command %s (%s lists the commands; start with // to send a text that starts with /)",
			strings.Fields(cmd)[0], HelpCommand))
		return m, nil
	}
	if err := m.client.Send(text); err != nil {
		m.addProblem("not sent: " + chatclient.Explain(err))
		return m, nil // the text stays in the input line, to be edited
	}
	m.input.Remember(text)
	m.input.Reset()
	m.vp.GotoBottom()
	return m, nil
}

const helpText = QuitCommand + " or Ctrl-C leaves. " + HelpCommand + " shows this. //text sends /text. " +
	"Keys: PgUp/PgDn scroll, Ctrl-Home/Ctrl-End jump, Up/Down recall sent texts, " +
	"Ctrl-A/Ctrl-E line start/end, Ctrl-U/Ctrl-K delete before/after the cursor, Ctrl-W deletes a word. " +
	"Hold Shift (Option in iTerm2) to select text with the mouse."

// waitEvent waits for the client's next event.
func waitEvent(c *chatclient.Client) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-c.Events()
		if !ok {
			return closedMsg{c.Err()}
		}
		return eventMsg{ev}
	}
}

func (m *Model) event(ev chatclient.Event) {
	safe := chatclient.SafeText
	switch ev.Kind {
	case chatclient.EventMessage:
		m.add(entry{kind: entryMessage, name: safe(ev.Name), text: safe(ev.Text)})
	case chatclient.EventOnline:
		m.online = make([]string, len(ev.Names))
		for i, n := range ev.Names {
			m.online[i] = safe(n)
		}
	case chatclient.EventJoined:
		m.add(entry{kind: entryPresence, text: safe(ev.Name) + " joined"})
	case chatclient.EventLeft:
		m.add(entry{kind: entryPresence, text: safe(ev.Name) + " left"})
	case chatclient.EventError:
		m.addProblem("the server says: " + safe(ev.Code) + " " + safe(ev.Text))
	case chatclient.EventUnknown:
		m.addProblem("the server sent something unexpected: " + safe(ev.Text))
	}
}

func (m *Model) addInfo(text string)    { m.add(entry{kind: entryInfo, text: text}) }
func (m *Model) addProblem(text string) { m.add(entry{kind: entryProblem, text: text}) }

// add appends e to the pane, following the bottom if the pane was there.
func (m *Model) add(e entry) {
	e.at = m.opts.Now()
	follow := m.vp.AtBottom()
	m.entries = append(m.entries, e)
	if len(m.entries) > maxEntries {
		m.entries = m.entries[len(m.entries)-maxEntries:]
	}
	m.vp.SetContent(m.renderEntries())
	if follow {
		m.vp.GotoBottom()
	}
}

// layout sizes the parts to the window.
func (m *Model) layout() {
	follow := m.vp.AtBottom()
	m.vp.SetWidth(m.paneWidth())
	m.vp.SetHeight(max(m.height-3, 1))
	m.vp.SetContent(m.renderEntries())
	if follow {
		m.vp.GotoBottom()
	}
}

// side reports whether the window is wide enough for the online panel.
func (m Model) side() bool { return m.width >= 50 }

func (m Model) paneWidth() int {
	if m.side() {
		return m.width - sideWidth
	}
	return m.width
}

func (m Model) renderEntries() string {
	lines := make([]string, len(m.entries))
	for i, e := range m.entries {
		lines[i] = m.renderEntry(e, m.paneWidth())
	}
	return strings.Join(lines, "\n")
}

// timeWidth is the width of an entry's "15:04 " prefix; wrapped lines are
// indented by as much, so that the times stand in a column of their own.
const timeWidth = 6

// renderEntry renders e word-wrapped to width columns.
func (m Model) renderEntry(e entry, width int) string {
	var body string
	switch e.kind {
	case entryMessage:
		nameStyle := m.st.nameStyle(e.name)
		if e.name == m.name {
			nameStyle = m.st.self
		}
		body = nameStyle.Render(e.name) + ": " + e.text
	case entryPresence:
		body = m.st.presence.Render("* " + e.text)
	case entryProblem:
		body = m.st.problem.Render("! " + e.text)
	default:
		body = m.st.info.Render(e.text)
	}
	if width > timeWidth+10 {
		body = ansi.Wrap(body, width-timeWidth-1, "") // a column of air before the panel
		body = strings.ReplaceAll(body, "\n", "\n"+strings.Repeat(" ", timeWidth))
	}
	return m.st.time.Render(e.at.Format("15:04")) + " " + body
}

// View renders the window: the pane and the panel, a rule, the input
// line, the status line.
func (m Model) View() tea.View {
	pane := m.vp.View()
	if m.side() {
		pane = lipgloss.JoinHorizontal(lipgloss.Top, pane, m.sidePanel())
	}
	rule := m.st.rule.Render(strings.Repeat("─", max(m.width, 0)))

	prompt := "> "
	switch m.phase {
	case phaseConnecting, phaseOffline, phaseName, phaseJoining:
		prompt = "name: "
	case phaseGone:
		prompt = ""
	}
	text, cur := m.input.View(max(m.width-len(prompt), 1))
	input := m.st.prompt.Render(prompt) + text
	if m.phase == phaseGone {
		input = m.st.problem.Render("disconnected: press any key to exit")
	}

	content := lipgloss.JoinVertical(lipgloss.Left, pane, rule, input, m.statusLine())
	v := tea.NewView(content)
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "chat " + m.opts.Addr
	if m.phase != phaseJoining && m.phase != phaseGone {
		v.Cursor = tea.NewCursor(len(prompt)+cur, m.vp.Height()+1)
	}
	return v
}

func (m Model) sidePanel() string {
	var b strings.Builder
	b.WriteString(m.st.heading.Render(fmt.Sprintf("Online (%d)", len(m.online))))
	for i, n := range m.online {
		if i+2 > m.vp.Height() && len(m.online) > i+1 {
			fmt.Fprintf(&b, "\n… %d more", len(m.online)-i)
			break
		}
		b.WriteString("\n")
		if n == m.name {
			b.WriteString(m.st.self.Render(n))
		} else {
			b.WriteString(m.st.nameStyle(n).Render(n))
		}
	}
	return m.st.side.Width(sideWidth).Height(m.vp.Height()).MaxHeight(m.vp.Height()).Render(b.String())
}

func (m Model) statusLine() string {
	var state string
	switch m.phase {
	case phaseConnecting:
		state = "connecting…"
	case phaseOffline:
		state = "cannot reach the server"
	case phaseName:
		state = "not joined"
	case phaseJoining:
		state = "joining…"
	case phaseChat:
		state = fmt.Sprintf("joined as %s · %d online", m.name, len(m.online))
	case phaseGone:
		state = "disconnected"
	}
	s := fmt.Sprintf(" %s · %s", m.opts.Addr, state)
	if n := len([]rune(m.input.Value())); m.phase == phaseChat && n > protocol.MaxTextLen-50 {
		s += fmt.Sprintf(" · %d/%d characters", n, protocol.MaxTextLen)
	}
	if !m.vp.AtBottom() {
		s += " · scrolled (PgDn)"
	}
	style := m.st.status
	if m.phase == phaseGone {
		style = m.st.statusBad
	}
	return style.Width(max(m.width, 1)).MaxWidth(max(m.width, 1)).Render(s)
}

// styles are the Lip Gloss styles of the window.
type styles struct {
	time, info, presence, problem lipgloss.Style
	self, heading, prompt, rule   lipgloss.Style
	side, status, statusBad       lipgloss.Style
	names                         []lipgloss.Style
}

func newStyles() styles {
	s := styles{
		time:      lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
		info:      lipgloss.NewStyle().Foreground(lipgloss.Color("6")),
		presence:  lipgloss.NewStyle().Foreground(lipgloss.Color("8")).Italic(true),
		problem:   lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		self:      lipgloss.NewStyle().Bold(true).Underline(true),
		heading:   lipgloss.NewStyle().Bold(true),
		prompt:    lipgloss.NewStyle().Foreground(lipgloss.Color("4")).Bold(true),
		rule:      lipgloss.NewStyle().Foreground(lipgloss.Color("8")),
		side:      lipgloss.NewStyle().Border(lipgloss.NormalBorder(), false, false, false, true).BorderForeground(lipgloss.Color("8")).PaddingLeft(1),
		status:    lipgloss.NewStyle().Reverse(true),
		statusBad: lipgloss.NewStyle().Background(lipgloss.Color("1")).Foreground(lipgloss.Color("15")),
	}
	for _, c := range []string{"2", "3", "4", "5", "6", "9", "10", "11", "12", "13", "14"} {
		s.names = append(s.names, lipgloss.NewStyle().Foreground(lipgloss.Color(c)).Bold(true))
	}
	return s
}

// nameStyle gives each name a colour of its own, the same in every client.
func (s styles) nameStyle(name string) lipgloss.Style {
	h := fnv.New32a()
	h.Write([]byte(name))
	return s.names[h.Sum32()%uint32(len(s.names))]
}

// Run runs the chat on the terminal until the user leaves (nil) or the
// connection ends (an error wrapping chatclient.ErrConnLost). Every way out
// sends QUIT: Ctrl-C, /quit, SIGTERM, and the end of ctx.
func Run(ctx context.Context, opts Options, progOpts ...tea.ProgramOption) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := New(ctx, opts)
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithContext(ctx)}, progOpts...)...)
	final, err := p.Run()
	cancel()
	if fm, ok := final.(Model); ok {
		m = fm
	}
	m.Close()
	if err != nil && !errors.Is(err, tea.ErrInterrupted) && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("tui: %w", err)
	}
	return m.Err()
}
