package clientsteps

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chatspec/chatspec/peer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitFor waits, with a failure guard only, until cond holds; notify is
// signalled on every change.
func waitFor(t *testing.T, notify <-chan struct{}, cond func() bool) {
	t.Helper()
	guard := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-notify:
		case <-guard:
			t.Fatal("condition never held")
		}
	}
}

func TestProcessTypedAndPrinted(t *testing.T) {
	tr := peer.NewTranscript(time.Now())
	notify := make(chan struct{}, 1)
	signal := func() {
		select {
		case notify <- struct{}{}:
		default:
		}
	}
	p, err := startProcess(`read name; echo "hello $name"; echo oops >&2; read rest`, "", tr, signal)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.write([]byte("alice\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, notify, func() bool {
		out, errb := p.since(output{})
		return string(out) == "hello alice\n" && string(errb) == "oops\n"
	})
	p.closeStdin()
	waitFor(t, notify, p.over)
	p.stop()
	kept, _, _ := tr.Entries()
	var conns []string
	for _, e := range kept {
		conns = append(conns, e.Conn)
	}
	for _, want := range []string{connProcess, connStdin, connStdout, connStderr} {
		if !strings.Contains(strings.Join(conns, " "), want) {
			t.Errorf("transcript entries of %v, want some of %s", conns, want)
		}
	}
}

// TestProcessGroupKilled: stop kills what the command started too, and
// a client that does not read its input is seen not to.
func TestProcessGroupKilled(t *testing.T) {
	tr := peer.NewTranscript(time.Now())
	p, err := startProcess("sleep 60 & sleep 60", "", tr, func() {})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.write([]byte("unread\n")); err != nil {
		t.Fatal(err)
	}
	if got := p.unread(); runtime.GOOS == "linux" && got != len("unread\n") {
		t.Errorf("unread() = %d, want %d: nobody reads", got, len("unread\n"))
	}
	p.stop()
	if p.running() {
		t.Error("the process runs after stop")
	}
	// Both sleeps hold its output open: stop reads it to its end only if
	// both were killed.
	kept, _, _ := tr.Entries()
	for _, e := range kept {
		if strings.Contains(e.Note, "still open") {
			t.Errorf("stop had to cut the output off: %s", e.Note)
		}
	}
}
