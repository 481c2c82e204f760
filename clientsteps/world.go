package clientsteps

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// world is the state of one scenario: the client's process, the suite's
// server for it, and what the steps know. The scenario's step goroutine
// owns every field but those marked otherwise; the goroutines that feed it
// (the listener's, each connection's, the process's) hand over what they
// get through incoming and the process's buffers, and signal notify.
type world struct {
	tgt *Client
	cfg *Config
	es  *engine.Scenario // nil for the probe
	tr  *peer.Transcript
	ctx context.Context // ends with End, or with the run

	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine of the world
	notify chan struct{}  // cap 1: something changed
	// incoming hands accepted connections, framed, to the step goroutine.
	incoming chan *wire
	nconns   atomic.Int32 // connections accepted, for their labels

	rawMu    sync.Mutex
	raws     map[net.Conn]bool // guarded by rawMu: accepted, framing not yet known
	accepted []time.Duration   // guarded by rawMu: when each connection arrived

	ln      net.Listener // the scenario's own listener; nil when shared
	addr    string       // the address the client is told: host:port
	failure error        // why the scenario cannot run (no listener), for its first step

	suffix  string
	proc    *process // nil in manual mode, and before the client starts
	started bool
	wires   []*wire
	cur     *wire // the client's connection: the last that sent a join attempt

	typed    []string // names the user typed, in order
	attempts []attempt
	hold     bool // join attempts of valid names wait for a step to answer them
	joinedAt time.Duration
	joinedAs string

	lines     int           // lines typed so far
	lastTyped string        // the last line typed ("" after the end of input)
	lastText  string        // the last text the user said
	saidTexts []string      // every text the user said, in order
	unread    bool          // the last line typed was still unread when the suite stopped waiting
	typedAt   time.Duration // when the user last typed (or left, or was asked to)
	readAt    time.Duration // when the client had read it, as far as the suite can tell
	readMark  output        // the client's output then
	lastAt    time.Duration // when the user or the server last did something
	lastWhat  string        // what that was: "the user typed \"alice\""
	refused   int           // join attempts when the server last answered J_ER
	quitAt    time.Duration // when QUIT arrived
	watchedTo time.Duration // when the suite stopped watching for IMAV
	lastMark  output        // the client's output at lastAt
	eventMark output        // the client's output when the server last did something
	eventOff  time.Duration // when that was
	ctlMark   output        // the client's output when the control characters were sent
	prompt    string        // what the client printed before it read the first name: its prompt
	told      bool          // manual mode: the scenario's heading is written
	texts     int           // fresh texts used so far
}

func newWorld(ctx context.Context, tgt *Client, es *engine.Scenario, tr *peer.Transcript) *world {
	ctx, cancel := context.WithCancel(ctx)
	// A patient run (confirming a late failure) waits longer for what
	// the client should send or print; the probe (es nil) is no run.
	cfg := tgt.cfg
	if es != nil {
		cfg.Wait *= time.Duration(max(es.Patience, 1))
	}
	return &world{
		tgt:      tgt,
		cfg:      &cfg,
		es:       es,
		tr:       tr,
		ctx:      ctx,
		cancel:   cancel,
		notify:   make(chan struct{}, 1),
		incoming: make(chan *wire, 16),
		raws:     make(map[net.Conn]bool),
		suffix:   randomSuffix(),
	}
}

// late says whether a wait for the client that ran out is one the
// engine should confirm (engine.Failure.Late): the client still runs, so
// it may only have been slow on a busy machine. Manual mode never is: a
// person's time is not spent twice.
func (w *world) late() bool {
	return !w.cfg.Manual && (w.proc == nil || w.proc.running())
}

const suffixChars = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomSuffix returns four random lower-case letters and digits.
func randomSuffix() string {
	var b [4]byte
	for i := range b {
		b[i] = suffixChars[rand.IntN(len(suffixChars))]
	}
	return string(b[:])
}

// wireName maps an alias to the name the user types for it: up to five
// characters of the alias and the scenario's suffix of four, unique
// enough to be found in the client's output.
func (w *world) wireName(alias string) string {
	a := strings.ToLower(alias)
	if len(a) > 5 {
		a = a[:5]
	}
	return a + w.suffix
}

// signal notes that something changed; it never blocks.
func (w *world) signal() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// listen gives the scenario its server: its own listener, or the run's
// shared one.
func (w *world) listen() {
	if w.tgt.board != nil {
		w.addr = w.tgt.board.attach(w)
		return
	}
	ln, err := net.Listen("tcp", w.cfg.Listen)
	if err != nil {
		w.failure = &engine.NotGraded{Reason: fmt.Sprintf("the suite cannot listen on %s: %v", w.cfg.Listen, err)}
		return
	}
	w.ln, w.addr = ln, ln.Addr().String()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			w.adopt(c)
		}
	}()
}

// adopt takes an accepted connection: a goroutine of the world finds its
// framing from its first bytes and hands it over.
func (w *world) adopt(raw net.Conn) {
	n := w.nconns.Add(1)
	label := "client"
	if n > 1 {
		label = fmt.Sprintf("client#%d", n)
	}
	w.rawMu.Lock()
	if w.ctx.Err() != nil {
		w.rawMu.Unlock()
		raw.Close()
		return
	}
	w.raws[raw] = true
	at := w.tr.Since()
	w.accepted = append(w.accepted, at)
	w.wg.Add(1)
	w.rawMu.Unlock()
	go w.serve(raw, label, at)
}

// serve runs on a goroutine of its own for one connection: it reads the
// first bytes, frames the connection by them, hands it to the step
// goroutine, and then signals every change until it ends.
func (w *world) serve(raw net.Conn, label string, accepted time.Duration) {
	defer w.wg.Done()
	buf := make([]byte, 512)
	n, _ := raw.Read(buf)
	if wait := w.tr.Since() - accepted; n > 0 && wait >= 100*time.Millisecond {
		// peer.New records the connection now, with its first bytes.
		w.tr.Event(label, "(it connected %s before it sent anything)", wait.Round(time.Millisecond))
	}
	w.rawMu.Lock()
	delete(w.raws, raw)
	w.rawMu.Unlock()
	if n == 0 {
		w.tr.Event(label, "a connection from %s that sent nothing: not the client's, so not graded", raw.RemoteAddr())
		raw.Close()
		w.signal()
		return
	}
	f := framingOf(buf[:n])
	first := append([]byte(nil), buf[:n]...)
	pc := peer.New(&prefixConn{Conn: raw, prefix: first}, peer.Options{Label: label, Framing: f, Transcript: w.tr, WriteTimeout: w.cfg.Wait, ReadLimit: 1 << 20})
	if f == protocol.FramingUTF {
		w.tr.Event(label, "writeUTF framing: its first bytes are a 2-byte length")
	}
	wr := &wire{label: label, conn: pc, framing: f, first: first}
	select {
	case w.incoming <- wr:
	case <-w.ctx.Done():
		pc.Close()
		return
	}
	w.signal()
	seen := 0
	for {
		pc.Wait(w.ctx, time.Hour, func(msgs []peer.Msg, end error) bool { return len(msgs) > seen || end != nil })
		if w.ctx.Err() != nil {
			return
		}
		msgs, end := pc.Snapshot()
		seen = len(msgs)
		w.signal()
		if end != nil {
			return
		}
	}
}

// await serves the scenario (takes new connections, answers what the
// client sends) until cond holds or d passes, and reports whether cond
// held. It gives up early when the client can send nothing more: its
// process has exited and every connection has ended.
func (w *world) await(d time.Duration, cond func() bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		w.service()
		if cond() {
			return true
		}
		if w.gone() {
			// Everything the client sent and printed is in by now.
			w.service()
			return cond()
		}
		select {
		case <-w.notify:
		case <-timer.C:
			w.service()
			return cond()
		case <-w.ctx.Done():
			return false
		}
	}
}

// gone reports whether the client can send and print nothing more: its
// process has exited, its output is read, and its connections have ended.
func (w *world) gone() bool {
	if w.proc == nil || !w.proc.over() {
		return false
	}
	for _, wr := range w.wires {
		if wr.conn.Ended() == nil {
			return false
		}
	}
	return len(w.incoming) == 0
}

// service takes the connections handed over and acts, as the suite's
// server, on every message not yet acted on.
func (w *world) service() {
	w.takeIncoming()
	for _, wr := range w.wires {
		msgs, _ := wr.msgs()
		for ; wr.handled < len(msgs); wr.handled++ {
			w.respond(wr, msgs[wr.handled])
		}
	}
}

// respond is the suite's server: it answers a join attempt (J_OK and a
// LIST, J_ER for an invalid name, nothing while a step holds joins),
// echoes a DATA to its sender as the reference server does, refuses what
// a server refuses, and answers IMAV and QUIT with nothing. After QUIT it
// leaves the connection open: closing it is the client's business.
func (w *world) respond(wr *wire, m peer.Msg) {
	if name, ok := meantName(m, wr.joined != "", w.typed); ok {
		wr.attempt = true
		a := attempt{wire: wr, msg: m, name: name}
		w.attempts = append(w.attempts, a)
		if slices.Contains(w.typed, name) || w.cur == nil {
			w.cur = wr
		}
		switch {
		case wr.joined != "":
			w.send(wr, protocol.Error(protocol.CodeAlreadyJoined, "already joined"))
		case protocol.ValidName(name) != nil:
			w.send(wr, protocol.Error(protocol.CodeInvalidName, "invalid user name"))
		case w.hold:
		default:
			w.accept(wr, name)
		}
		return
	}
	switch {
	case m.ReadErr != nil:
		w.send(wr, protocol.Error(protocol.CodeLineTooLong, "line too long"))
	case m.Kind == protocol.KindAlive, m.Kind == protocol.KindQuit:
	case m.Kind == protocol.KindData && wr.joined != "":
		if err := protocol.ValidText(m.Text); err != nil {
			w.send(wr, protocol.Error(protocol.CodeOf(err), protocol.CodeOf(err).Text()))
			return
		}
		w.send(wr, protocol.Data(wr.joined, m.Text))
	case m.Kind == protocol.KindData:
		w.send(wr, protocol.Error(protocol.CodeNotJoined, protocol.CodeNotJoined.Text()))
	case m.Kind == protocol.KindInvalid:
		w.send(wr, protocol.Error(protocol.CodeUnknownCommand, protocol.CodeUnknownCommand.Text()))
	default:
		w.send(wr, protocol.Error(protocol.CodeBadCommand, protocol.CodeBadCommand.Text()))
	}
}

// takeIncoming adds the connections handed over to the scenario's.
func (w *world) takeIncoming() {
	for {
		select {
		case wr := <-w.incoming:
			w.wires = append(w.wires, wr)
		default:
			return
		}
	}
}

// accept answers a join attempt with J_OK and the LIST of the room: the
// joiner alone.
func (w *world) accept(wr *wire, name string) {
	if w.send(wr, protocol.OK()) != nil {
		return
	}
	wr.joined, w.joinedAs, w.joinedAt, w.cur = name, name, w.tr.Since(), wr
	w.send(wr, protocol.List([]string{name}))
	if w.es != nil {
		w.es.State().Alive()
	}
}

// send writes m to the client on wr; a failed write is in the transcript.
func (w *world) send(wr *wire, m protocol.Message) error {
	return wr.conn.SendMessage(m)
}

// End ends the scenario: it kills the client's process group, closes
// every connection and the scenario's listener, and waits for every
// goroutine of the world.
func (w *world) End() {
	if w.cfg.Manual && w.told {
		w.instructf("This scenario is over: close the client now, if it is still open.")
	}
	w.cancel()
	if w.proc != nil {
		w.proc.stop()
	}
	if w.ln != nil {
		w.ln.Close()
	}
	if w.tgt.board != nil {
		w.tgt.board.detach(w)
	}
	w.rawMu.Lock()
	for raw := range w.raws {
		raw.Close()
	}
	w.rawMu.Unlock()
	w.wg.Wait()
	w.takeIncoming()
	for _, wr := range w.wires {
		wr.conn.Close()
		if !wr.attempt {
			w.tr.Event(wr.label, "it never tried to join: not the client's connection, so not graded")
		}
	}
}

// register binds every step of the client features to this world.
func (w *world) register(sc *godog.ScenarioContext) {
	w.registerJoining(sc)
	w.registerMessages(sc)
	w.registerHeartbeat(sc)
	w.registerQuitting(sc)
	w.registerDisplay(sc)
	w.registerRobustness(sc)
}
