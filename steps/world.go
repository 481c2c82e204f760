package steps

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
)

// world is the state of one scenario. The engine builds it before the
// first step and ends it after the last; only the scenario's step
// goroutine touches it (its connections have their own goroutines and
// locks).
type world struct {
	srv    *Server
	cfg    *Config
	es     *engine.Scenario
	serial int // the scenario's number in the run, for the registry
	tr     *peer.Transcript
	ctx    context.Context

	suffix     string             // random, shared by the scenario's wire names
	clients    map[string]*client // by alias
	placed     int                // clients connected so far: the next goes to Addrs[placed%len]
	texts      map[string]string  // by alias: the last text the alias sent
	flood      map[string]int     // by alias: how many numbered messages it sent
	barriers   map[string]bool    // texts of the barriers sent, which checks ignore
	lastSender string             // the alias that sent the last DATA or line
	racers     []*client          // the clients of the last race

	// marks holds, per user name, where each client's message list stood
	// when that user's last presence change happened (see markEvent), and
	// eventAt when it happened.
	marks   map[string]map[*client]int
	eventAt map[string]time.Time
}

const suffixChars = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomSuffix returns six random lower-case letters and digits.
func randomSuffix() string {
	var b [6]byte
	for i := range b {
		b[i] = suffixChars[rand.IntN(len(suffixChars))]
	}
	return string(b[:])
}

func newWorld(srv *Server, es *engine.Scenario, serial int) *world {
	// A patient run (confirming a late failure) waits longer for what
	// should arrive; how long it listens for what should not is the same.
	cfg := srv.cfg
	cfg.Wait *= time.Duration(max(es.Patience, 1))
	return &world{
		srv:      srv,
		cfg:      &cfg,
		es:       es,
		serial:   serial,
		tr:       es.Transcript,
		ctx:      es.Context(),
		suffix:   randomSuffix(),
		clients:  make(map[string]*client),
		texts:    make(map[string]string),
		flood:    make(map[string]int),
		barriers: make(map[string]bool),
	}
}

// wireName maps an alias to the name its client joins with: up to five
// characters of the alias and the scenario's random suffix of six, so at
// most 11 characters, all lower-case letters and digits (a server with a
// narrower idea of a valid name, or one that refuses exactly 12
// characters, fails only the scenarios about that), unique to the
// scenario, and the same for every step. The registry learns it, so that
// frames naming it can be traced to this scenario.
func (w *world) wireName(alias string) string {
	a := strings.ToLower(alias)
	if len(a) > 5 {
		a = a[:5]
	}
	name := a + w.suffix
	w.srv.reg.claim(name, w.serial)
	return name
}

// label names an alias in reports: "alice (alicek3j9x2)".
func (w *world) label(alias string) string {
	return fmt.Sprintf("%s (%s)", alias, w.wireName(alias))
}

// freshName replaces each '#' of a name written in a feature by a random
// digit, so that every run joins with fresh names of the written length,
// and registers the result as the scenario's.
func (w *world) freshName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '#' {
			b.WriteByte(byte('0' + rand.IntN(10)))
			continue
		}
		b.WriteRune(r)
	}
	name := b.String()
	if name != "" {
		w.srv.reg.claim(name, w.serial)
	}
	return name
}

// expand replaces {alias} by the alias's wire name and {addr} by the
// address c is connected to, in a line written in a feature.
func (w *world) expand(c *client, line string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(line, '{')
		j := strings.IndexByte(line[max(i, 0):], '}')
		if i < 0 || j < 0 {
			b.WriteString(line)
			return b.String()
		}
		b.WriteString(line[:i])
		switch key := line[i+1 : i+j]; key {
		case "addr":
			b.WriteString(c.conn.RemoteAddr().String())
		default:
			b.WriteString(w.wireName(key))
		}
		line = line[i+j+1:]
	}
}

// client returns the alias's open client, connecting it first if needed.
func (w *world) client(alias string) (*client, error) {
	if c, ok := w.clients[alias]; ok && !c.conn.Closed() {
		return c, nil
	}
	c, err := w.dial(alias)
	if err != nil {
		return nil, err
	}
	w.clients[alias] = c
	return c, nil
}

// existing returns the alias's client, which an earlier step opened.
func (w *world) existing(alias string) (*client, error) {
	c, ok := w.clients[alias]
	if !ok {
		return nil, fmt.Errorf("steps: %s has no connection in this scenario (a step is missing from the feature)", alias)
	}
	return c, nil
}

// dial opens a connection for alias on the next node.
func (w *world) dial(alias string) (*client, error) {
	addrs := w.cfg.Addrs
	addr := addrs[w.placed%len(addrs)]
	w.placed++
	label := w.label(alias)
	conn, err := peer.Dial(w.ctx, addr, w.cfg.Wait, w.srv.connOptions(label, w.tr))
	if err != nil {
		return nil, &engine.NotGraded{Reason: "the suite cannot connect to the server: " + err.Error(), Cause: "refused"}
	}
	return &client{w: w, alias: alias, name: w.wireName(alias), label: label, conn: conn}, nil
}

// End closes the scenario: every client still open sends QUIT, and the
// frames other scenarios caused are set apart in the transcript.
func (w *world) End() {
	for _, c := range w.clients {
		c.close()
	}
	for _, c := range w.racers {
		c.close()
	}
	for _, c := range w.clients {
		w.setApart(c)
		if c.joinSent {
			// Whatever the scenario did to the room, the server has had
			// its chance to act on by now.
			w.srv.reg.settle(c.name)
		}
	}
}

// setApart marks, in the transcript, the frames of c that another
// scenario caused: DATA from other users, replies that name them or
// repeat what they sent, and LISTs whose change concerns none of this
// scenario's users.
func (w *world) setApart(c *client) {
	msgs, _ := c.conn.Snapshot()
	mine := make(map[int]bool) // entries holding a message of this scenario
	var prev []string
	havePrev := false
	for _, m := range msgs {
		ours := true
		if k := w.kindOf(m); k == kindList {
			ours = !havePrev || w.touchesUs(diff(prev, m.Names))
			prev, havePrev = m.Names, true
		} else {
			ours = w.origin(m) != originForeign
		}
		if ours {
			mine[m.Entry] = true
		}
	}
	for _, m := range msgs {
		if !mine[m.Entry] {
			w.tr.SetApart(m.Entry)
		}
	}
}

// touchesUs reports whether a set of changed names holds one of this
// scenario's users.
func (w *world) touchesUs(changed []string) bool {
	for _, n := range changed {
		if w.srv.reg.ownerOf(n) == w.serial {
			return true
		}
	}
	return false
}

// sleep waits d, or until the scenario's context ends.
func (w *world) sleep(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
}

// register binds every step of the server features to this world.
func (w *world) register(sc *godog.ScenarioContext) {
	w.registerJoining(sc)
	w.registerMessages(sc)
	w.registerPresence(sc)
	w.registerHeartbeat(sc)
	w.registerQuitting(sc)
	w.registerErrors(sc)
	w.registerFraming(sc)
	w.registerRobustness(sc)
}

// imav is the heartbeat frame in the run's framing.
func (w *world) imav() []byte { return w.srv.imavFrame() }
