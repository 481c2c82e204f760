package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// Unreachable is the Report's explanation of a server that could not be
// graded at all: it could not be reached, or it did not answer a JOIN.
type Unreachable struct {
	Addr   string
	What   string // what went wrong, one sentence
	Hint   string // what to try
	Err    error  // the underlying error, if any
	Sample []byte // the first bytes the server sent, if any
}

// Error is the report's paragraph: what went wrong, the bytes the server
// sent if any, and a hint.
func (u *Unreachable) Error() string {
	what := u.What
	if u.Err != nil {
		what = strings.TrimSuffix(what, ".") + fmt.Sprintf(" (%v).", u.Err)
	}
	s := fmt.Sprintf("CANNOT GRADE %s: %s", u.Addr, what)
	if len(u.Sample) > 0 {
		s += fmt.Sprintf(" The server sent: %s.", quoteBytes(u.Sample, len(u.Sample)))
	}
	return s + " " + u.Hint + " No scenario was run, so no rule is reported as failed."
}

// Unwrap returns the underlying error.
func (u *Unreachable) Unwrap() error { return u.Err }

// recorder keeps the bytes a probe received. It is written by the reading
// goroutine and read after it ends, or under mu.
type recorder struct {
	r  io.Reader
	mu sync.Mutex
	b  bytes.Buffer // guarded by mu
}

func (rc *recorder) Read(p []byte) (int, error) {
	n, err := rc.r.Read(p)
	rc.mu.Lock()
	if rc.b.Len() < 512 {
		rc.b.Write(p[:n])
	}
	rc.mu.Unlock()
	return n, err
}

func (rc *recorder) bytes() []byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]byte(nil), rc.b.Bytes()...)
}

// probe checks, before any scenario, that the server accepts a connection
// and answers a JOIN with J_OK or J_ER in the configured framing. It talks
// the protocol properly: a valid JOIN, then QUIT.
func probe(ctx context.Context, cfg *Config) error {
	u := &Unreachable{Addr: cfg.Addr}
	d := net.Dialer{Timeout: cfg.Wait}
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		u.Err = err
		u.What = "the suite cannot open a TCP connection to it."
		u.Hint = "Is the server running, and listening on this host and port? A server that listens on " +
			"localhost only is not reachable through another address; a firewall may also block the port."
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Timeout() {
			u.Hint += fmt.Sprintf(" The connection attempt timed out after %s: the host may be wrong or unreachable.", cfg.Wait)
		}
		return u
	}
	defer conn.Close()

	var suffix [6]byte
	for i := range suffix {
		suffix[i] = suffixChars[rand.IntN(len(suffixChars))]
	}
	name := "probe" + string(suffix[:])
	join, err := cfg.Framing.AppendMessage(nil, protocol.Join(name, conn.RemoteAddr().String()))
	if err != nil {
		return fmt.Errorf("steps: frame probe JOIN: %w", err)
	}
	if err := conn.SetDeadline(time.Now().Add(cfg.Wait)); err != nil {
		return fmt.Errorf("steps: probe: %w", err)
	}
	if _, err := conn.Write(join); err != nil {
		u.Err = err
		u.What = "it accepted a connection but the suite could not send JOIN."
		u.Hint = "The server may close connections at once; check its log."
		return u
	}
	rec := &recorder{r: conn}
	r := cfg.Framing.NewReader(rec, readLimit)
	for {
		raw, err := r.ReadFrame()
		if err != nil {
			return probeFailed(u, cfg, err, rec.bytes())
		}
		m, perr := protocol.Parse(raw)
		if perr == nil && (m.Kind == protocol.KindOK || m.Kind == protocol.KindError) || m.Kind == protocol.KindError {
			quit, _ := cfg.Framing.AppendMessage(nil, protocol.Quit())
			_, _ = conn.Write(quit)
			return nil
		}
	}
}

// probeFailed explains a JOIN that got no usable answer, with a hint about
// the framing where the bytes suggest one.
func probeFailed(u *Unreachable, cfg *Config, err error, got []byte) error {
	u.Sample = got
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout() && len(got) == 0:
		u.What = fmt.Sprintf("it accepted a connection but sent nothing in reply to JOIN within %s.", cfg.Wait)
	case errors.As(err, &ne) && ne.Timeout():
		u.What = fmt.Sprintf("it answered JOIN, but with no J_OK or J_ER within %s.", cfg.Wait)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		u.What = "it closed the connection without answering JOIN."
	default:
		u.What = "reading its reply to JOIN failed."
		u.Err = err
	}
	switch {
	case cfg.Framing == protocol.FramingLine && looksUTF(got):
		u.Hint = "Its reply looks like Java writeUTF frames (a 2-byte length, then the text): run the suite with -framing utf."
	case cfg.Framing == protocol.FramingUTF && looksLines(got):
		u.Hint = "Its reply looks like lines of text, not writeUTF frames: run the suite without -framing utf."
	case cfg.Framing == protocol.FramingLine:
		u.Hint = "If the server uses Java's DataOutputStream.writeUTF/readUTF, try -framing utf. " +
			"If it needs longer to answer, raise -wait. A server that expects \"\\r\\n\" or no line end at all " +
			"cannot be graded with line framing."
	default:
		u.Hint = "If the server reads lines (readLine, println), run the suite without -framing utf. " +
			"If it needs longer to answer, raise -wait."
	}
	return u
}

// looksUTF reports whether b starts like a writeUTF frame of text: a
// 2-byte big-endian length, then printable bytes.
func looksUTF(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	n := int(b[0])<<8 | int(b[1])
	return n > 0 && n < 1024 && b[2] >= 'A' && b[2] <= 'Z'
}

// looksLines reports whether b starts with an upper-case verb, as a line
// of text would.
func looksLines(b []byte) bool {
	return len(b) >= 4 && bytes.Equal(bytes.ToUpper(b[:4]), b[:4]) && b[0] >= 'A' && b[0] <= 'Z'
}
