package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// Failure is the error of a step that saw the server break a rule: what the
// step expected and what actually happened, in words a student reads.
type Failure struct {
	Expected string
	Actual   string
	Err      error // the error behind Actual, if any (a failed write)
}

// Unwrap returns the error behind Actual, if any.
func (f *Failure) Unwrap() error { return f.Err }

// Error returns "expected ...; actual: ...".
func (f *Failure) Error() string {
	return "expected " + f.Expected + "; actual: " + f.Actual
}

// ConnectError is the error of a step that could not open a connection to
// the server under test.
type ConnectError struct {
	Addr string
	Err  error
}

// Error says which address could not be reached and why.
func (e *ConnectError) Error() string {
	return fmt.Sprintf("cannot connect to %s: %v", e.Addr, e.Err)
}

// Unwrap returns the dial error.
func (e *ConnectError) Unwrap() error { return e.Err }

// match is a predicate over a received frame.
type match func(in inbound) bool

// describeEOF says how a connection ended, for "actual".
func describeEOF(err error) string {
	if errors.Is(err, io.EOF) {
		return "connection closed by the server"
	}
	return "connection ended: " + err.Error()
}

// seen lists frames for "actual": the relevant ones quoted, the rest
// counted.
func seen(ins []inbound, relevant func(inbound) bool) string {
	var parts []string
	others := 0
	for _, in := range ins {
		if relevant == nil || relevant(in) {
			parts = append(parts, in.String())
		} else {
			others++
		}
	}
	if len(parts) > 8 {
		parts = append(parts[:8], fmt.Sprintf("and %d more", len(parts)-8))
	}
	if others > 0 {
		parts = append(parts, fmt.Sprintf("%d from other users", others))
	}
	return strings.Join(parts, ", ")
}

// await blocks until check reports done, the connection's state settles it,
// or the timeout passes. check sees everything received so far and whether
// reading stopped; it returns done when it has its answer.
func (c *client) await(ctx context.Context, timeout time.Duration, check func(ins []inbound, eof error) bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		ins, eof := c.snapshot()
		if check(ins, eof) || eof != nil {
			return
		}
		select {
		case <-c.notify:
		case <-timer.C:
			ins, eof := c.snapshot()
			check(ins, eof)
			return
		case <-ctx.Done():
			return
		}
	}
}

// nothingWithin is "actual" for a wait that saw nothing.
func (c *client) nothingWithin(d time.Duration) string {
	return "nothing within " + d.String()
}

// expectReply waits for the next reply to the client's own requests (J_OK,
// J_ER, a malformed J_ER, an over-long frame) and checks it with ok. The
// reply decides: a wrong one fails at once.
func (c *client) expectReply(ctx context.Context, expected string, ok match) error {
	var got *inbound
	var idx int
	var noise []inbound
	var ended error
	c.await(ctx, c.w.cfg.Wait, func(ins []inbound, eof error) bool {
		noise = noise[:0]
		for i := c.cur[classReply]; i < len(ins); i++ {
			switch ins[i].class {
			case classReply:
				got, idx = &ins[i], i
				return true
			case classNoise:
				noise = append(noise, ins[i])
			}
		}
		ended = eof
		return false
	})
	if got != nil {
		c.cur[classReply] = idx + 1
		if ok(*got) {
			return nil
		}
		return &Failure{Expected: expected, Actual: got.String()}
	}
	actual := c.nothingWithin(c.w.cfg.Wait)
	if ended != nil {
		actual = describeEOF(ended)
	}
	if len(noise) > 0 {
		actual += "; received only lines that are no protocol message: " + seen(noise, nil)
	}
	return &Failure{Expected: expected, Actual: actual}
}

// expectBroadcast waits for a later DATA or LIST (cl) that ok accepts,
// skipping the others: other users chat and join on the same server.
// relevant picks the skipped frames worth showing in the report.
func (c *client) expectBroadcast(ctx context.Context, cl class, expected string, ok, relevant match) error {
	return c.expectBroadcastWithin(ctx, c.w.cfg.Wait, cl, expected, ok, relevant)
}

// expectBroadcastWithin is expectBroadcast with its own timeout.
func (c *client) expectBroadcastWithin(ctx context.Context, timeout time.Duration, cl class, expected string, ok, relevant match) error {
	var skipped []inbound
	found := -1
	var ended error
	c.await(ctx, timeout, func(ins []inbound, eof error) bool {
		skipped = skipped[:0]
		for i := c.cur[cl]; i < len(ins); i++ {
			if ins[i].class != cl {
				continue
			}
			if ok(ins[i]) {
				found = i
				return true
			}
			skipped = append(skipped, ins[i])
		}
		ended = eof
		return false
	})
	if found >= 0 {
		c.cur[cl] = found + 1
		return nil
	}
	actual := c.nothingWithin(timeout)
	if len(skipped) > 0 {
		actual = fmt.Sprintf("no such message within %s; received %s", timeout, seen(skipped, relevant))
	}
	if ended != nil {
		actual += "; then the " + describeEOF(ended)
	}
	return &Failure{Expected: expected, Actual: actual}
}

// expectNone checks that no later DATA or LIST (cl) that bad accepts
// arrives. If the scenario's last sender and this client have both joined,
// the sender first sends a barrier, a DATA that the client must receive:
// a server handles one connection's requests in order, so whatever the
// earlier request made it send arrives before the barrier, and the check
// needs no timing. Otherwise it listens for the quiet time. expected says
// what should not arrive.
func (c *client) expectNone(ctx context.Context, cl class, expected string, bad match) error {
	w := c.w
	until := fmt.Sprintf(" within %s", w.cfg.Quiet)
	if from := w.clients[w.lastSender]; w.barrier(ctx, from, c) {
		until = fmt.Sprintf(" before %s's next message", from.label)
	} else {
		c.await(ctx, w.cfg.Quiet, func([]inbound, error) bool { return false })
	}
	ins, _ := c.snapshot()
	var hits []inbound
	for i := c.cur[cl]; i < len(ins); i++ {
		if ins[i].class == cl && bad(ins[i]) && !w.barriers[ins[i].msg.Text] {
			hits = append(hits, ins[i])
		}
	}
	if len(hits) > 0 {
		return &Failure{Expected: expected + until, Actual: "received " + seen(hits, nil)}
	}
	return nil
}

// barrier has from send a DATA with a fresh text and waits for to to
// receive it, up to Config.Wait. It reports whether the barrier arrived;
// it sends nothing, and returns false, unless both clients have joined and
// neither has quit or closed.
func (w *world) barrier(ctx context.Context, from, to *client) bool {
	if from == nil || to == nil || !from.usable() || !to.usable() {
		return false
	}
	text := fmt.Sprintf("(barrier %d, anything the server sends for earlier messages comes before this)", len(w.barriers)+1)
	w.barriers[text] = true
	if err := from.sendMessage(protocol.Data(from.name, text)); err != nil {
		return false
	}
	found := false
	to.await(ctx, w.cfg.Wait, func(ins []inbound, _ error) bool {
		for i := to.cur[classData]; i < len(ins); i++ {
			if ins[i].class == classData && ins[i].msg.Name == from.name && ins[i].msg.Text == text {
				found = true
				return true
			}
		}
		return false
	})
	return found
}

// expectClosed waits up to timeout for the server to close the connection.
func (c *client) expectClosed(ctx context.Context, timeout time.Duration, expected string) error {
	var ended error
	c.await(ctx, timeout, func(_ []inbound, eof error) bool {
		ended = eof
		return eof != nil
	})
	if ended != nil {
		return nil
	}
	return &Failure{Expected: expected, Actual: "the connection is still open after " + timeout.String()}
}

// Predicates.

func isOK(in inbound) bool { return in.msg.Kind == protocol.KindOK && in.err == nil }

func isER(in inbound) bool { return in.msg.Kind == protocol.KindError && in.err == nil }

func listHas(in inbound, name string) bool {
	for _, n := range in.msg.Names {
		if n == name {
			return true
		}
	}
	return false
}

func dataFrom(name string) match {
	return func(in inbound) bool { return in.msg.Name == name }
}

// fromScenario picks the frames that name one of the scenario's users.
func (w *world) fromScenario(in inbound) bool {
	if in.class == classData {
		return strings.HasSuffix(in.msg.Name, w.suffix)
	}
	for _, n := range in.msg.Names {
		if strings.HasSuffix(n, w.suffix) {
			return true
		}
	}
	return in.class != classList
}
