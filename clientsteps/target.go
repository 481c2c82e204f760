package clientsteps

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/report"
)

// Client is the engine.Target of the client suite: a chat client
// program, started afresh for every scenario (or, in manual mode, run by
// a person), and the steps that drive it. The suite plays its server and
// its user.
//
// Scenarios run side by side when each can have a listener of its own
// (Config.Listen with port 0); otherwise they share one (see
// Config.Shared) and must run one at a time: a scenario waits for the
// shared listener in Start.
type Client struct {
	cfg   Config
	board *board // the shared listener, or nil; set by Prepare

	mu    sync.Mutex
	facts []report.Fact   // guarded by mu: learned during the run, for the profile
	beats []time.Duration // guarded by mu: IMAV intervals seen
}

// New returns the client target for cfg.
func New(cfg Config) *Client {
	cfg.fill()
	return &Client{cfg: cfg}
}

// Describe returns the command, or what manual mode grades.
func (c *Client) Describe() string {
	if c.cfg.Manual {
		return "a client run by hand (manual mode)"
	}
	return c.cfg.Command
}

// Skip leaves out @quit-word scenarios unless the profile leaves by a
// typed word, and in manual mode the @screen ones, which need to see what
// the client shows: a person's time goes to what can be graded.
func (c *Client) Skip(tags []string) string {
	switch {
	case slices.Contains(tags, "@screen") && c.cfg.Manual:
		return "manual mode: the suite cannot see the client's window"
	case slices.Contains(tags, "@quit-word") && (c.cfg.Profile.Quit == "" || c.cfg.Manual):
		return "the profile leaves by the end of input: client-quitting.quit tests it"
	}
	return ""
}

// Start sets up one scenario's world and registers its steps. With a
// shared listener it waits until no other scenario holds it.
func (c *Client) Start(sc *godog.ScenarioContext, es *engine.Scenario) engine.World {
	w := newWorld(es.Context(), c, es, es.Transcript)
	w.listen()
	w.register(sc)
	return w
}

// Alive reports nil: every scenario starts a fresh client.
func (c *Client) Alive(context.Context) error { return nil }

// Close closes the shared listener, if there is one, and waits for its
// goroutine. Finish calls it; it is safe to call more than once.
func (c *Client) Close() error {
	if c.board != nil {
		c.board.close()
	}
	return nil
}

// addFact records something learned of the client, for the profile.
func (c *Client) addFact(f report.Fact) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, g := range c.facts {
		if g.Name == f.Name {
			c.facts[i] = f
			return
		}
	}
	c.facts = append(c.facts, f)
}

// sawBeat records an interval between two IMAV.
func (c *Client) sawBeat(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.beats = append(c.beats, d)
}

// board is the listener every scenario shares when the port is fixed or
// a person connects the client: it hands each connection to the scenario
// that holds it, and refuses connections between scenarios.
type board struct {
	ln   net.Listener
	turn sync.Mutex    // held by the attached scenario, from attach to detach
	done chan struct{} // closed when the accept goroutine ends
	once sync.Once

	mu     sync.Mutex
	cur    *world // guarded by mu
	strays int    // guarded by mu: connections that came between scenarios
}

func openBoard(addr string) (*board, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	b := &board{ln: ln, done: make(chan struct{})}
	go b.accept()
	return b, nil
}

func (b *board) accept() {
	defer close(b.done)
	for {
		conn, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		w := b.cur
		if w == nil {
			b.strays++
		}
		b.mu.Unlock()
		if w == nil {
			conn.Close()
			continue
		}
		w.adopt(conn)
	}
}

// attach makes w the scenario that gets the connections, once the one
// before has detached, and returns the address.
func (b *board) attach(w *world) string {
	b.turn.Lock()
	b.mu.Lock()
	b.cur = w
	b.mu.Unlock()
	return b.ln.Addr().String()
}

// detach ends w's turn.
func (b *board) detach(w *world) {
	b.mu.Lock()
	mine := b.cur == w
	if mine {
		b.cur = nil
	}
	b.mu.Unlock()
	if mine {
		b.turn.Unlock()
	}
}

func (b *board) close() {
	b.once.Do(func() {
		b.ln.Close()
		<-b.done
	})
}

// Prepare checks the configuration, opens the shared listener if the run
// needs one, and, unless in manual mode, probes the client: it starts it
// once, types a name, and expects it to connect and join. A client that
// never connects gets one paragraph that says why, with a hint, instead of
// a report full of failures.
func (c *Client) Prepare(ctx context.Context, run *engine.State) error {
	if err := c.cfg.Check(); err != nil {
		return err
	}
	where := "a fresh port on " + hostOf(c.cfg.Listen) + " for every scenario, so that scenarios can run side by side"
	if c.cfg.Shared() {
		b, err := openBoard(c.cfg.Listen)
		if err != nil {
			return &report.Problem{
				What: fmt.Sprintf("the suite cannot listen on %s: %v.", c.cfg.Listen, err),
				Hint: "Is another program (a server of yours, an earlier client) using the port? Stop it, or give another -client-listen.",
			}
		}
		c.board = b
		where = b.ln.Addr().String() + ", one scenario at a time"
	}
	run.AddFact(report.Fact{Name: "server", Value: where, Detail: "the suite plays the chat server here; {host}, {port} and {addr} in the command and the typed lines stand for it"})
	if c.cfg.Manual {
		fmt.Fprintf(c.cfg.Instructions, "\nManual mode: the suite plays the chat server at %s.\n"+
			"For every scenario it says what to do, one step at a time (lines that start with \">\");\n"+
			"each step has %s. Start the client afresh when a scenario asks for it, and close it\n"+
			"when one ends.\n", c.board.ln.Addr(), c.cfg.Step)
		run.AddFact(report.Fact{Name: "mode", Value: "manual", Detail: "a person drove the client; the rules about what it shows (the display rules, name-checked, text-checked, server-closes) were left out: the suite cannot see its window"})
		return nil
	}
	return c.probe(ctx, run)
}

// probe starts the client once and has it join.
func (c *Client) probe(ctx context.Context, run *engine.State) error {
	tr := peer.NewTranscript(time.Now())
	w := newWorld(ctx, c, nil, tr)
	w.listen()
	defer w.End()
	if w.failure != nil {
		return &report.Problem{What: w.failure.Error()}
	}
	name := w.wireName("probe")
	if err := w.typeJoin(name); err != nil {
		return &report.Problem{What: err.Error(), Hint: "Check the command: it runs with sh -c."}
	}
	w.await(w.startWait(), func() bool { return w.joinedAs != "" || len(w.attempts) > 0 })
	accepted := w.acceptedAt()
	if len(accepted) == 0 {
		return c.neverConnected(w)
	}
	var facts []report.Fact
	if len(w.wires) == 0 {
		facts = append(facts, report.Fact{Name: "first message", Value: "none", Detail: fmt.Sprintf("it connected, but sent nothing within %s after the user typed %q", w.startWait(), w.lastTyped)})
	} else {
		wr := w.wires[0]
		if w.cur != nil {
			wr = w.cur
		}
		framing := "lines (\\n)"
		switch {
		case wr.framing != 0:
			framing = "writeUTF frames (a 2-byte length, then modified UTF-8)"
		case strings.Contains(string(wr.first), "\r\n"):
			framing = "lines (\\r\\n)"
		}
		facts = append(facts, report.Fact{Name: "framing", Value: framing, Detail: "found from the first bytes the client sent: " + report.QuoteBytes(wr.first[:min(len(wr.first), 40)], len(wr.first))})
		first := report.Fact{Name: "first message", Value: "none", Detail: "it sent bytes, but no whole message within " + w.startWait().String()}
		if msgs, _ := wr.msgs(); len(msgs) > 0 {
			first = report.Fact{Name: "first message", Value: msgs[0].String(), Detail: fmt.Sprintf("after the user typed %q", w.lastTyped)}
		}
		facts = append(facts, first)
	}
	when := "after it read the name"
	if accepted[0] < w.readAt {
		when = "before it read the name"
	}
	prompt := "none"
	if w.prompt != "" {
		prompt = fmt.Sprintf("%q", w.prompt)
	}
	facts = append(facts, report.Fact{Name: "connects", Value: when},
		report.Fact{Name: "prompt", Value: prompt, Detail: "what it printed just before it read the name; the suite never waits for it"})
	for _, f := range facts {
		run.AddFact(f)
	}
	return nil
}

// neverConnected explains a client that did not connect in the probe.
func (c *Client) neverConnected(w *world) error {
	p := &report.Problem{
		What: fmt.Sprintf("the client never connected to the suite's server (%s): %s.", w.addr, w.whatHappened(0)),
	}
	var hints []string
	switch {
	case w.proc != nil && !w.proc.running() && w.proc.state != nil && w.proc.state.ExitCode() == 127:
		hints = append(hints, "The shell did not find the command (exit status 127): is the path right? go test runs in ./conformance: give an absolute path, or -client-dir.")
	case w.proc != nil && !w.proc.running():
		hints = append(hints, "It exited: check the command (it runs with sh -c, in the directory -client-dir names, or the current one) and what it printed.")
	case w.unread:
		hints = append(hints, "It did not read what was typed: does it read standard input? A GUI client is graded in manual mode (-client-manual).")
	}
	hints = append(hints,
		"Does it take the server's address from its command line? Then put {host} and {port} (or {addr}) in -client-cmd.",
		"Does it ask for the host and port? Then -client-first types them first (-client-first {host} -client-first {port}).",
		"Is the port hard-coded? Then have the suite listen there: -client-listen 127.0.0.1:PORT.")
	p.Hint = strings.Join(hints, " ")
	return p
}
