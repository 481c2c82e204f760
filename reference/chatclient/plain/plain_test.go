package plain_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/reference/chatclient"
	"github.com/chatspec/chatspec/reference/chatclient/plain"
	"github.com/chatspec/chatspec/reference/chatserver"
	"github.com/chatspec/chatspec/reference/chatserver/chatservertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lockedBuffer is a strings.Builder safe for Run's goroutine and the test's.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder // guarded by mu
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// session runs plain.Run on pipes: the test writes its input and reads its
// output line by line.
type session struct {
	t      *testing.T
	in     *io.PipeWriter
	out    chan string // the lines of output; closed when Run's output ends
	errOut *lockedBuffer
	done   chan error
}

func runPlain(t *testing.T, addr string) *session {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &session{t: t, in: inW, out: make(chan string, 100), errOut: &lockedBuffer{}, done: make(chan error, 1)}
	go func() {
		defer close(s.out)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			s.out <- sc.Text()
		}
	}()
	go func() {
		s.done <- plain.Run(context.Background(), plain.Options{Addr: addr, In: inR, Out: outW, Err: s.errOut})
		outW.Close()
	}()
	t.Cleanup(func() { inW.Close() })
	return s
}

func (s *session) write(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.in, line+"\n"); err != nil {
		s.t.Fatalf("write %q: %v", line, err)
	}
}

// expect reads the next line of output and compares it with want.
func (s *session) expect(want string) {
	s.t.Helper()
	select {
	case got, ok := <-s.out:
		if !ok {
			s.t.Fatalf("output ended, want %q; stderr: %s", want, s.errOut)
		}
		if got != want {
			s.t.Fatalf("output %q, want %q; stderr: %s", got, want, s.errOut)
		}
	case <-time.After(10 * time.Second): // a failure guard only
		s.t.Fatalf("no output, want %q; stderr: %s", want, s.errOut)
	}
}

// expectOnline reads the next line and checks that it is prefix followed
// by "* online: " and the given names in any order (LIST order is the
// server's choice).
func (s *session) expectOnline(prefix string, names ...string) {
	s.t.Helper()
	select {
	case got, ok := <-s.out:
		if !ok {
			s.t.Fatalf("output ended, want the online list; stderr: %s", s.errOut)
		}
		rest, found := strings.CutPrefix(got, prefix+"* online: ")
		gotNames := strings.Fields(rest)
		slices.Sort(gotNames)
		if !found || !slices.Equal(gotNames, slices.Sorted(slices.Values(names))) {
			s.t.Fatalf("output %q, want %q and %q in any order", got, prefix+"* online: ", names)
		}
	case <-time.After(10 * time.Second): // a failure guard only
		s.t.Fatalf("no output, want the online list; stderr: %s", s.errOut)
	}
}

func (s *session) wait() error {
	s.t.Helper()
	go func() { // let Run print what it has left
		for range s.out {
		}
	}()
	select {
	case err := <-s.done:
		return err
	case <-time.After(10 * time.Second): // a failure guard only
		s.t.Fatal("Run did not return")
	}
	return nil
}

func joined(t *testing.T, addr, name string) *chatclient.Client {
	t.Helper()
	c, err := chatclient.Dial(context.Background(), addr, chatclient.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Join(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// nextMessage returns the next message from someone else, or who left.
func nextMessage(t *testing.T, c *chatclient.Client) chatclient.Event {
	t.Helper()
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("Events closed: %v", c.Err())
			}
			if ev.Kind == chatclient.EventMessage && ev.Name != c.Name() || ev.Kind == chatclient.EventLeft {
				return ev
			}
		case <-time.After(10 * time.Second): // a failure guard only
			t.Fatal("no event")
		}
	}
}

func TestPlainSession(t *testing.T) {
	addr, _ := chatservertest.Start(t, chatserver.Config{})
	bob := joined(t, addr, "bob")

	alice := runPlain(t, addr)
	alice.write("not valid!")
	alice.write("bob") // taken
	alice.write("alice")
	// Input is not echoed: Run ends each prompt's line itself.
	alice.expect("name: ")
	alice.expect("name: ")
	alice.expect("name: ")
	alice.expectOnline("", "alice", "bob")
	if got := alice.errOut.String(); !strings.Contains(got, `the name "not valid!" has ' '`) ||
		!strings.Contains(got, `the server refused the name "bob": 409 duplicate user name`) {
		t.Errorf("stderr = %q, want the local and the server's refusal", got)
	}

	if err := bob.Send("hi alice"); err != nil {
		t.Fatal(err)
	}
	alice.expect("bob: hi alice")

	alice.write("hello bob: ærø 😀")
	alice.expect("alice: hello bob: ærø 😀")
	if ev := nextMessage(t, bob); ev.Name != "alice" || ev.Text != "hello bob: ærø 😀" {
		t.Errorf("bob got %+v", ev)
	}

	alice.write(strings.Repeat("x", 251))
	alice.write("") // an empty line sends nothing
	alice.write("after the long one")
	alice.expect("alice: after the long one")
	if got := alice.errOut.String(); !strings.Contains(got, "not sent: text is 251 characters, the limit is 250") {
		t.Errorf("stderr = %q, want the refusal of 251 characters", got)
	}

	carol := joined(t, addr, "carol")
	alice.expect("* carol joined")
	carol.Close()
	alice.expect("* carol left")

	alice.in.Close() // end of input: QUIT, and Run returns nil
	if err := alice.wait(); err != nil {
		t.Errorf("Run = %v, want nil at end of input", err)
	}
	if ev := nextMessage(t, bob); ev.Text != "after the long one" {
		t.Errorf("bob got %+v, want alice's message after the long one, and nothing between", ev)
	}
	// The server may fold LISTs into one (carol may come and go unseen),
	// so wait for alice's departure, whatever comes first.
	for {
		ev := nextMessage(t, bob)
		if ev.Kind != chatclient.EventLeft {
			t.Fatalf("bob got %+v, want only departures", ev)
		}
		if ev.Name == "alice" {
			break
		}
	}
}

func TestPlainServerGone(t *testing.T) {
	addr, srv := chatservertest.Start(t, chatserver.Config{})
	alice := runPlain(t, addr)
	alice.write("alice")
	alice.expect("name: ")
	alice.expectOnline("", "alice")
	srv.Close()
	if err := alice.wait(); !errors.Is(err, chatclient.ErrConnLost) {
		t.Errorf("Run = %v, want ErrConnLost", err)
	}
}

func TestPlainNoName(t *testing.T) {
	addr, _ := chatservertest.Start(t, chatserver.Config{})
	alice := runPlain(t, addr)
	alice.in.Close()
	if err := alice.wait(); !errors.Is(err, plain.ErrNoName) {
		t.Errorf("Run = %v, want ErrNoName", err)
	}
}

func TestPlainUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	alice := runPlain(t, addr)
	alice.write("alice")
	if err := alice.wait(); !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("Run = %v, want cannot reach: connection refused", err)
	}
}
