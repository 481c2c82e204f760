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
	framing protocol.Framing // what the server writes
	write   protocol.Framing // what the suite writes: framing, but lines to a raw server that takes them
	prof    profile

	serial atomic.Int64 // numbers the scenarios
	joins  sync.Mutex   // held while a JOIN is on its way: joins never overlap (but in the race)

	mu       sync.Mutex
	shapes   map[string]*shapeSeen // guarded by mu: shape departures, by kind of message
	timeouts []time.Duration       // guarded by mu: measured silent-client timeouts
	dropped  []string              // guarded by mu: heartbeating clients the server dropped
	refusals map[string]int        // guarded by mu: answers to valid JOINs that were no J_OK, by frame
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
	listOthers bool // a client received a LIST naming the next joiner
	relay      bool // DATA reached another client
	echo       bool // DATA came back to its sender
	silent     bool // after J_OK nothing at all arrived
}

// New returns the server target for cfg.
func New(cfg Config) *Server {
	cfg.fill()
	return &Server{cfg: cfg, reg: newRegistry(), framing: cfg.Framing, write: cfg.Framing, shapes: make(map[string]*shapeSeen)}
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

// connOptions are the options of every connection the suite opens.
func (s *Server) connOptions(label string, tr *peer.Transcript) peer.Options {
	o := peer.Options{Label: label, Framing: s.framing, Transcript: tr, WriteTimeout: s.cfg.Wait}
	if s.write != s.framing {
		w := s.write
		o.WriteFraming = &w
	}
	return o
}

// lockJoins takes the run's join lock and returns its release.
func (s *Server) lockJoins() (unlock func()) {
	s.joins.Lock()
	return s.joins.Unlock
}

// Alive joins a fresh client on every node and expects J_OK or J_ER.
func (s *Server) Alive(ctx context.Context) error {
	unlock := s.lockJoins()
	defer unlock()
	for i, addr := range s.cfg.Addrs {
		if err := s.aliveAt(ctx, addr, fmt.Sprintf("live%d", i)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) aliveAt(ctx context.Context, addr, alias string) error {
	name := alias + randomSuffix()
	tr := peer.NewTranscript(time.Now())
	c, err := peer.Dial(ctx, addr, s.cfg.Wait, s.connOptions(alias, tr))
	if err != nil {
		return fmt.Errorf("it refuses connections: %w", err)
	}
	// Its coming and going is a presence change like any scenario's.
	s.reg.claim(name, -1)
	s.reg.event(name, changeJoin)
	defer s.leave(c, name)
	if err := c.SendFrame(s.joinPayload(name, c)); err != nil {
		return fmt.Errorf("it accepted a connection but the JOIN could not be sent: %w", err)
	}
	r := s.answerToJoin(ctx, c)
	if !r.Matched() {
		if r.End != nil {
			return fmt.Errorf("it accepted a connection and closed it without answering JOIN")
		}
		return fmt.Errorf("it accepted a connection but answered no JOIN within %s", s.cfg.patient())
	}
	return nil
}

// leave ends a connection of the suite's own (the probe's, a liveness
// check's) as a scenario's client ends: QUIT, and a short wait for the
// server to close, after which its leaving is recorded as settled.
func (s *Server) leave(c *peer.Conn, name string) {
	s.reg.event(name, changeQuit)
	if c.Ended() == nil && c.SendMessage(protocol.Quit()) == nil {
		c.Wait(context.Background(), s.cfg.Quiet, func(_ []peer.Msg, end error) bool { return end != nil })
	}
	c.Close()
	s.reg.settle(name)
}

// answerToJoin waits for the answer to a JOIN (J_OK or J_ER, in any
// shape) of the probe or a liveness check: patiently, since no answer
// means the server cannot be graded, or died.
func (s *Server) answerToJoin(ctx context.Context, c *peer.Conn) peer.Result {
	from := 0
	return c.Expect(ctx, s.cfg.patient(), &from, func(m peer.Msg) peer.Verdict {
		if m.Kind == protocol.KindOK || m.Kind == protocol.KindError {
			return peer.Match
		}
		return peer.Skip
	})
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

// sawRefusal records an answer other than J_OK to a valid JOIN of a
// fresh name: a client limit, or a server that refuses everyone.
func (s *Server) sawRefusal(frame string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refusals == nil {
		s.refusals = make(map[string]int)
	}
	s.refusals[frame]++
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
	owner  map[string]int     // guarded by mu: user name -> scenario serial
	events map[string][]event // guarded by mu: user name -> its presence changes, in order
	lines  map[string][]int   // guarded by mu: payload sent -> the serials of the scenarios that sent it
}

// event is a presence change and when the suite made it.
type event struct {
	change  change
	at      time.Time
	settled bool // the server has acted on it by at (it closed the connection, or had the quiet time)
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
	return &registry{owner: make(map[string]int), events: make(map[string][]event), lines: make(map[string][]int)}
}

// claim records that scenario serial uses name.
func (r *registry) claim(name string, serial int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.owner[name] = serial
}

// event records name's latest presence change, now, and returns when.
func (r *registry) event(name string, c change) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	r.events[name] = append(r.events[name], event{change: c, at: now})
	return now
}

// ownerOf returns the serial of the scenario that uses name, or 0.
func (r *registry) ownerOf(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.owner[name]
}

// settle marks name's latest change as acted on by now, unless it is.
func (r *registry) settle(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	es := r.events[name]
	if len(es) == 0 || es[len(es)-1].settled {
		return
	}
	r.events[name] = append(es, event{change: es[len(es)-1].change, at: time.Now(), settled: true})
}

// lastChange returns name's latest presence change.
func (r *registry) lastChange(name string) change {
	r.mu.Lock()
	defer r.mu.Unlock()
	if es := r.events[name]; len(es) > 0 {
		return es[len(es)-1].change
	}
	return changeNone
}

// leftBetween returns the names with a leaving (quit, close, silence)
// recorded in [from, to].
func (r *registry) leftBetween(from, to time.Time) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for n, es := range r.events {
		for _, e := range es {
			if e.change != changeJoin && !e.settled && !e.at.Before(from) && !e.at.After(to) {
				out = append(out, n)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// mayChangeDuring returns the names other than not with a presence change
// of another kind than c whose effect on the server may fall in [from,
// to]: a join, quit or close takes effect within quiet of the suite's
// step; a silence within expiry and quiet of it (the server's timeout
// decides when); a settled change by the time it was recorded.
func (r *registry) mayChangeDuring(from, to time.Time, quiet, expiry time.Duration, c change, not string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for n, es := range r.events {
		if n == not {
			continue
		}
		for i, e := range es {
			end := e.at.Add(quiet)
			switch {
			case e.settled:
				end = e.at
			case e.change == changeDrop:
				end = e.at.Add(expiry + quiet)
			}
			// A later settled record says the server had acted by then.
			for _, later := range es[i+1:] {
				if later.settled && later.at.Before(end) {
					end = later.at
					break
				}
			}
			if e.change != c && !e.at.After(to) && !end.Before(from) {
				out = append(out, n)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// sent records a payload scenario serial sent, unless it is one every
// scenario sends (IMAV, QUIT).
func (r *registry) sent(payload string, serial int) {
	if payload == protocol.VerbAlive || payload == protocol.VerbQuit {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.lines[payload], serial) {
		r.lines[payload] = append(r.lines[payload], serial)
	}
}

// sentByOthersOnly reports whether payload was sent by some scenario, but
// not by scenario serial.
func (r *registry) sentByOthersOnly(payload string, serial int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	senders := r.lines[payload]
	return len(senders) > 0 && !slices.Contains(senders, serial)
}

// minTracedName is the shortest name namesIn looks for: a name of one
// digit ("7", a row of joining.valid-name) would be found in every text
// that holds a number.
const minTracedName = 6

// namesIn returns the serials of the scenarios whose user names (of at
// least minTracedName characters) appear in frame as words.
func (r *registry) namesIn(frame string) []int {
	words := strings.FieldsFunc(frame, func(c rune) bool {
		return !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_')
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, w := range words {
		if len(w) < minTracedName {
			continue
		}
		if s, ok := r.owner[w]; ok && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
