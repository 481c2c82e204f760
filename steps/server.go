package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/report"
)

// Server is the engine.Target of the server suite: a chat server (or a
// cluster of them) reached over TCP, and the steps that drive it.
//
// Besides the scenarios' own state, it keeps what the whole run shares:
// the framing it found, what the probe learned of the server (its
// profile), and a registry of every user name and unusual line any
// scenario used, so that a frame can be traced to the scenario that
// caused it. Scenarios run concurrently; every field after cfg is
// guarded as its comment says.
type Server struct {
	cfg Config
	reg *registry

	// Set by Prepare, read-only afterwards.
	framing protocol.Framing
	prof    profile

	serial atomic.Int64 // numbers the scenarios

	mu       sync.Mutex
	shapes   map[string]*shapeSeen // guarded by mu: shape departures, by kind of message
	timeouts []time.Duration       // guarded by mu: measured silent-client timeouts
	dropped  []string              // guarded by mu: heartbeating clients the server dropped
	facts    []report.Fact         // guarded by mu: facts learned during the run
}

// shapeSeen counts the frames of one kind that departed from the shape,
// with one example.
type shapeSeen struct {
	shape   protocol.Shape
	example string
	count   int
}

// profile is what Prepare learned of the server.
type profile struct {
	listOnJoin bool // a joiner received a LIST after J_OK
	relay      bool // DATA reached another client
	echo       bool // DATA came back to its sender
	silent     bool // after J_OK nothing at all arrived
}

// New returns the server target for cfg.
func New(cfg Config) *Server {
	cfg.fill()
	return &Server{cfg: cfg, reg: newRegistry(), framing: cfg.Framing, shapes: make(map[string]*shapeSeen)}
}

// Describe returns the server's address, or the nodes', comma-separated.
func (s *Server) Describe() string { return strings.Join(s.cfg.Addrs, ",") }

// Framing returns the framing the run uses: the configured one, or the one
// Prepare detected.
func (s *Server) Framing() protocol.Framing { return s.framing }

// Skip leaves out @lines scenarios unless the server frames in lines.
func (s *Server) Skip(tags []string) string {
	if slices.Contains(tags, "@lines") && s.framing != protocol.FramingLine {
		return "only meaningful for newline framing"
	}
	return ""
}

// Start sets up one scenario's world and registers its steps.
func (s *Server) Start(sc *godog.ScenarioContext, es *engine.Scenario) engine.World {
	w := newWorld(s, es, int(s.serial.Add(1)))
	w.register(sc)
	return w
}

// Alive joins a fresh client on every node and expects J_OK or J_ER.
func (s *Server) Alive(ctx context.Context) error {
	for i, addr := range s.cfg.Addrs {
		if err := s.aliveAt(ctx, addr, fmt.Sprintf("alive%d", i)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) aliveAt(ctx context.Context, addr, alias string) error {
	name := alias + randomSuffix()
	tr := peer.NewTranscript(time.Now())
	c, err := peer.Dial(ctx, addr, s.cfg.Wait, peer.Options{Label: alias, Framing: s.framing, Transcript: tr, WriteTimeout: s.cfg.Wait})
	if err != nil {
		return fmt.Errorf("it refuses connections: %w", err)
	}
	defer c.Close()
	if err := c.SendFrame(s.joinPayload(name, c)); err != nil {
		return fmt.Errorf("it accepted a connection but the JOIN could not be sent: %w", err)
	}
	from := 0
	r := c.Expect(ctx, s.cfg.Wait, &from, func(m peer.Msg) peer.Verdict {
		if m.Kind == protocol.KindOK || m.Kind == protocol.KindError {
			return peer.Match
		}
		return peer.Skip
	})
	if !r.Matched() {
		if r.End != nil {
			return fmt.Errorf("it accepted a connection and closed it without answering JOIN")
		}
		return fmt.Errorf("it accepted a connection but answered no JOIN within %s", s.cfg.Wait)
	}
	_ = c.SendMessage(protocol.Quit())
	return nil
}

// joinPayload is the JOIN line the suite sends for name on c: the
// assignment's "JOIN <name>, <host>:<port>" with the address c is
// connected to, or in bare mode the name alone.
func (s *Server) joinPayload(name string, c *peer.Conn) string {
	if s.cfg.Join == JoinBare {
		return name
	}
	return protocol.Join(name, c.RemoteAddr().String()).String()
}

// sawShape records a shape departure of a message of kind.
func (s *Server) sawShape(kind string, shape protocol.Shape, frame string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.shapes[kind]
	if !ok {
		ss = &shapeSeen{example: frame}
		s.shapes[kind] = ss
	}
	ss.shape |= shape
	ss.count++
}

// sawTimeout records a measured silent-client timeout.
func (s *Server) sawTimeout(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timeouts = append(s.timeouts, d)
}

// sawDrop records that the server dropped a client of the suite that
// kept sending IMAV.
func (s *Server) sawDrop(label string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropped = append(s.dropped, label)
}

// registry knows every user name the run's scenarios use, each one's last
// presence event, and the unusual lines they send, so that a frame can be
// traced to the scenario that caused it. Its methods are safe for
// concurrent use.
type registry struct {
	mu     sync.Mutex
	owner  map[string]int    // guarded by mu: user name -> scenario serial
	events map[string]change // guarded by mu: user name -> its last presence change
	lines  map[string]int    // guarded by mu: payload sent -> scenario serial, or -1 if several
}

// change is a kind of presence event: what a LIST transition may show.
type change uint8

// The presence changes. A server that merges several changes into one
// LIST merges ones of one kind, as a sweep that drops every expired client
// at once does; a merge of different kinds spoils the evidence.
const (
	changeNone  change = iota
	changeJoin         // a JOIN was sent
	changeQuit         // a QUIT was sent
	changeDrop         // the client went silent, for the server to expire it
	changeClose        // the connection was closed or reset without QUIT
)

func newRegistry() *registry {
	return &registry{owner: make(map[string]int), events: make(map[string]change), lines: make(map[string]int)}
}

// claim records that scenario serial uses name.
func (r *registry) claim(name string, serial int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.owner[name] = serial
}

// event records name's latest presence change.
func (r *registry) event(name string, c change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events[name] = c
}

// ownerOf returns the serial of the scenario that uses name, or 0.
func (r *registry) ownerOf(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.owner[name]
}

// lastChange returns name's latest presence change.
func (r *registry) lastChange(name string) change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[name]
}

// sent records a payload scenario serial sent, unless it is one every
// scenario sends (IMAV, QUIT).
func (r *registry) sent(payload string, serial int) {
	if payload == protocol.VerbAlive || payload == protocol.VerbQuit {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.lines[payload]; ok && prev != serial {
		r.lines[payload] = -1
		return
	}
	r.lines[payload] = serial
}

// sender returns the serial of the one scenario that sent payload, -1 if
// several did, or 0 if none did.
func (r *registry) sender(payload string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lines[payload]
}

// namesIn returns the serials of the scenarios whose user names appear in
// frame as words.
func (r *registry) namesIn(frame string) []int {
	words := strings.FieldsFunc(frame, func(c rune) bool {
		return !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_')
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, w := range words {
		if s, ok := r.owner[w]; ok && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
