package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// startGhost joins name on the upstream server on a connection of its own
// and keeps it there until the proxy closes: one goroutine reads and
// discards everything the server sends (so the server never sees a slow
// consumer), one sends IMAV every KeepAlive.
func (p *Proxy) startGhost(name string) error {
	c, err := net.DialTimeout("tcp", p.upstream, dialTimeout)
	if err != nil {
		return fmt.Errorf("faultproxy: ghost %q: %w", name, err)
	}
	r := p.framing.NewReader(c, maxFrame)
	if err := p.joinGhost(c, r, name); err != nil {
		c.Close()
		return fmt.Errorf("faultproxy: ghost %q: %w", name, err)
	}
	p.mu.Lock()
	p.ghosts = append(p.ghosts, c)
	p.mu.Unlock()

	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		for {
			if _, err := r.ReadFrame(); err != nil && !errors.Is(err, protocol.ErrLineTooLong) && !errors.Is(err, protocol.ErrBadEncoding) {
				return
			}
		}
	}()
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(p.fault.keepAlive())
		defer t.Stop()
		frame, _ := p.framing.AppendMessage(nil, protocol.Alive())
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				if _, err := c.Write(frame); err != nil {
					return
				}
			}
		}
	}()
	return nil
}

// errGhostRefused: the server answered a ghost's JOIN with J_ER.
var errGhostRefused = errors.New("join refused")

// joinGhost sends JOIN name on c and waits for J_OK, bounded by dialTimeout.
// r is the connection's one reader, kept for the rest of the ghost's life.
func (p *Proxy) joinGhost(c net.Conn, r protocol.Reader, name string) error {
	if err := c.SetDeadline(time.Now().Add(dialTimeout)); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	frame, err := p.framing.AppendMessage(nil, protocol.Join(name, p.upstream))
	if err != nil {
		return fmt.Errorf("frame JOIN: %w", err)
	}
	if _, err := c.Write(frame); err != nil {
		return fmt.Errorf("send JOIN: %w", err)
	}
	for {
		line, err := r.ReadFrame()
		if err != nil {
			return fmt.Errorf("await J_OK: %w", err)
		}
		m, err := protocol.Parse(line)
		if err != nil {
			continue
		}
		switch m.Kind {
		case protocol.KindOK:
			return c.SetDeadline(time.Time{})
		case protocol.KindError:
			return fmt.Errorf("%w: %s", errGhostRefused, line)
		}
	}
}
