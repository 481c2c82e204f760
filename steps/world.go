package steps

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// world is the state of one scenario. It is built by the Before hook,
// carried in the context.Context that godog passes from step to step, and
// used only by the scenario's step goroutine (its transcript and clients
// have their own locks for their own goroutines).
type world struct {
	cfg  *Config
	run  *runState
	name string // the scenario's name, for the run's connection log
	log  *transcript

	suffix     string             // random, shared by the scenario's wire names
	clients    map[string]*client // by alias
	texts      map[string]string  // by alias: the last text the alias sent
	sent       map[string]int     // by alias: how many numbered messages it sent
	barriers   map[string]bool    // texts of the barriers sent, which checks ignore
	lastSender string             // the alias that sent the last DATA or line
	silent     time.Time          // when a client went silent, for the expiry steps

	racers     []*client // the clients of the last raceJoin
	failedStep string    // the text of the first step that failed
}

type worldKey struct{}

func withWorld(ctx context.Context, w *world) context.Context {
	return context.WithValue(ctx, worldKey{}, w)
}

func worldFrom(ctx context.Context) *world {
	w, _ := ctx.Value(worldKey{}).(*world)
	return w
}

const suffixChars = "abcdefghijklmnopqrstuvwxyz0123456789"

func newWorld(cfg *Config, run *runState, name string) *world {
	var b [6]byte
	for i := range b {
		b[i] = suffixChars[rand.IntN(len(suffixChars))]
	}
	return &world{
		cfg:      cfg,
		run:      run,
		name:     name,
		log:      newTranscript(time.Now()),
		suffix:   string(b[:]),
		clients:  make(map[string]*client),
		texts:    make(map[string]string),
		sent:     make(map[string]int),
		barriers: make(map[string]bool),
	}
}

// wireName maps an alias to the name its client joins with: up to five
// characters of the alias and the scenario's random suffix of six, so at
// most 11 characters, all lower-case letters and digits (a server with a
// narrower idea of a valid name, or one that refuses exactly 12
// characters, fails only the scenarios about that), unique to the
// scenario, and the same for every step.
func (w *world) wireName(alias string) string {
	a := strings.ToLower(alias)
	if len(a) > 5 {
		a = a[:5]
	}
	return a + w.suffix
}

// label names an alias in reports: "alice (alice_k3j9x2)".
func (w *world) label(alias string) string {
	return fmt.Sprintf("%s (%s)", alias, w.wireName(alias))
}

// freshName replaces each '#' of a name written in a feature by a random
// digit, so that every run joins with fresh names of the written length.
func freshName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '#' {
			b.WriteByte(byte('0' + rand.IntN(10)))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// expand replaces {alias} by the alias's wire name and {addr} by the
// server's address in a line written in a feature.
func (w *world) expand(c *client, line string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(line, '{')
		if i < 0 {
			b.WriteString(line)
			return b.String()
		}
		j := strings.IndexByte(line[i:], '}')
		if j < 0 {
			b.WriteString(line)
			return b.String()
		}
		b.WriteString(line[:i])
		switch key := line[i+1 : i+j]; key {
		case "addr":
			b.WriteString(w.joinAddr(c))
		default:
			b.WriteString(w.wireName(key))
		}
		line = line[i+j+1:]
	}
}

// joinAddr is the "<server_ip>:<server_port>" part of a JOIN: the address
// the client is connected to.
func (w *world) joinAddr(c *client) string {
	if c != nil {
		return c.conn.RemoteAddr().String()
	}
	return w.cfg.Addr
}

// client returns the alias's open client, connecting it first if needed.
func (w *world) client(ctx context.Context, alias string) (*client, error) {
	if c, ok := w.clients[alias]; ok && !c.closed {
		return c, nil
	}
	c, err := w.dial(ctx, alias)
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

// closeAll ends the scenario: every client still open sends QUIT and
// closes.
func (w *world) closeAll() {
	for _, c := range w.clients {
		c.close()
	}
}
