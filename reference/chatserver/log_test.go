package chatserver

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/chatspec/chatspec/protocol"
)

// rawHandler writes "msg k=v ..." lines with values as they are, without
// any quoting: the worst handler a user could plug in. It shows that the
// server itself escapes user input.
type rawHandler struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (h rawHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h rawHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h rawHandler) WithGroup(string) slog.Handler            { return h }
func (h rawHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(h.buf, " %s=%s", a.Key, a.Value.Resolve().String())
		return true
	})
	h.buf.WriteByte('\n')
	return nil
}

// TestLogCannotBeForged: requests and responses are logged at debug level,
// and user input with line breaks or escape sequences comes out escaped,
// even through a handler that quotes nothing.
func TestLogCannotBeForged(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	srv := newServer(t, Config{Logger: slog.New(rawHandler{&mu, &buf})})
	c := connect(t, transports[0], srv, "alice")
	c.join("LIST alice")
	c.sendRaw([]byte("DATA alice: ok\rlevel=ERROR msg=forged\n"))
	c.expect(jer(protocol.CodeInvalidText))
	c.sendRaw([]byte("HELLO \x1b[2J\x1b[31mred\n"))
	c.expect(jer(protocol.CodeUnknownCommand))
	c.send("DATA alice: fine")
	c.expect("DATA alice: fine")
	srv.Close()

	mu.Lock()
	defer mu.Unlock()
	out := buf.String()
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.ContainsFunc(line, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Errorf("log line %d holds a control character: %q", i, line)
		}
	}
	for _, want := range []string{
		`msg=forged`, // present, but escaped inside the request line
		`line=DATA alice: ok\rlevel=ERROR msg=forged`,
		`line=HELLO \x1b[2J\x1b[31mred`,
		`response conn=1 line=J_ER 415`,
		`line=J_OK`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// TestCloseIsNotSlowConsumer: Close while a writer is blocked on a peer
// that does not read interrupts the write with a past deadline; that is
// not logged as dropping a slow consumer.
func TestCloseIsNotSlowConsumer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var buf bytes.Buffer
		srv := New(Config{Logger: slog.New(rawHandler{&mu, &buf})})
		stuck := pipeClient(t, srv, "stuck")
		stuck.send("JOIN stuck") // J_OK is never read: the writer blocks on it
		synctest.Wait()
		srv.Close()

		mu.Lock()
		defer mu.Unlock()
		if out := buf.String(); strings.Contains(out, "slow consumer") {
			t.Errorf("Close logged a slow consumer:\n%s", out)
		}
	})
}
