package conformance

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatspec/chatspec/features"
	"github.com/chatspec/chatspec/steps"

	"github.com/chatspec/chatspec/internal/faultproxy"
	"github.com/chatspec/chatspec/protocol"
)

// serverFaults break the reference server itself, for the local mutants
// whose names they are keyed by: the listener the server accepts on is
// wrapped.
var serverFaults = map[string]func(net.Listener) net.Listener{
	"crash-on-empty-connection": func(l net.Listener) net.Listener { return &crashListener{Listener: l} },
}

// crashListener models a server that dies when a connection closes before
// sending a single byte (a null line read and dereferenced): it closes its
// listener, so that every later connection is refused.
type crashListener struct {
	net.Listener
}

func (l *crashListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &crashConn{Conn: c, l: l.Listener}, nil
}

// crashConn is a connection of a crashListener. Only the server's reading
// goroutine calls Read, so read needs no lock.
type crashConn struct {
	net.Conn
	l    net.Listener
	read int // bytes read so far
}

func (c *crashConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read += n
	if err != nil && c.read == 0 {
		c.l.Close()
	}
	return n, err
}

// robustnessMutants are the broken servers for the robustness feature.
func robustnessMutants() []faultproxy.Mutant {
	return []faultproxy.Mutant{
		{
			Name: "oversized-swallowed", Level: faultproxy.Should, LineOnly: true,
			Breaks: "an oversized line gets J_ER or a closed connection (here it is swallowed without a word)",
			Fault:  oversizedSwallowed,
			Note:   "Raw: drops every byte of a line past its first 1024, the newline included",
		},
		{
			Name: "blocking-broadcast", Level: faultproxy.Should,
			Breaks: "a client that stops reading does not stall the others (here every delivery waits for the slowest reader)",
			Fault:  blockingBroadcast,
		},
		{
			Name: "idle-blocks-others", Level: faultproxy.Should,
			Breaks: "a connection that stays silent does not hold up the others (here, as in a single-threaded server, nothing is served while one is silent)",
			Fault:  idleBlocksOthers,
		},
		{
			Name: "crash-on-empty-connection", Level: faultproxy.Should,
			Breaks: "a connection that closes without sending anything disturbs nobody (here the server stops accepting)",
			Fault:  func() faultproxy.Fault { return faultproxy.Fault{} },
			Note:   "the fault is in the server's listener (serverFaults), not in the proxy",
		},
	}
}

func oversizedSwallowed() faultproxy.Fault {
	const key = "conformance.lineBytes"
	return faultproxy.Fault{Raw: func(s *faultproxy.Session, chunk []byte) []byte {
		n := 0
		if v, ok := s.Vars.Load(key); ok {
			n = v.(int)
		}
		var out []byte
		for len(chunk) > 0 {
			i := bytes.IndexByte(chunk, '\n')
			part := chunk
			if i >= 0 {
				part = chunk[:i+1]
			}
			chunk = chunk[len(part):]
			switch {
			case n+len(part) <= 1024:
				out = append(out, part...)
			case n < 1024:
				out = append(out, part[:1024-n]...)
			}
			n += len(part)
			if i >= 0 && n <= 1024 {
				n = 0
			}
			if i >= 0 && n > 1024 {
				n = 0 // the oversized line ends here, swallowed with its newline
			}
		}
		s.Vars.Store(key, n)
		return out
	}}
}

func blockingBroadcast() faultproxy.Fault {
	var mu sync.Mutex // held while delivering a frame to a client, so one slow reader holds up all
	return faultproxy.Fault{Frame: func(s *faultproxy.Session, d faultproxy.Direction, line string) []string {
		if d != faultproxy.ToClient {
			return []string{line}
		}
		mu.Lock()
		defer mu.Unlock()
		if err := s.Inject(faultproxy.ToClient, line); err != nil {
			s.Close()
		}
		return nil
	}}
}

// idleBlocksOthers holds every frame to the server while another client has
// connected and sent nothing yet, for up to 10s, as a single-threaded
// server blocked reading that client would. It polls: the proxy has no
// hook for a new connection.
func idleBlocksOthers() faultproxy.Fault {
	const spoke = "conformance.spoke"
	return faultproxy.Fault{Frame: func(s *faultproxy.Session, d faultproxy.Direction, line string) []string {
		if d != faultproxy.ToServer {
			return []string{line}
		}
		s.Vars.Store(spoke, true)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			silent := false
			for _, o := range s.Proxy().Sessions() {
				if _, ok := o.Vars.Load(spoke); !ok && o != s {
					silent = true
				}
			}
			if !silent {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		return []string{line}
	}}
}

// TestCrashIsReportedOnce grades a server that dies in one robustness
// scenario and checks that the report says after which scenario it stopped
// accepting connections, and grades none of the later ones, instead of
// failing each of them.
func TestCrashIsReportedOnce(t *testing.T) {
	skipWhenGrading(t)
	t.Parallel()
	addr := startReferenceOn(t, protocol.FramingLine, fastPass.timeout, serverFaults["crash-on-empty-connection"])
	var out bytes.Buffer
	cfg := steps.Config{
		Addr: addr, Heartbeat: fastPass.heartbeat, Expiry: fastPass.expiry, Wait: fastPass.wait, Quiet: fastPass.quiet,
		Features: features.FS, Output: &out,
	}
	cfg.Godog.Tags = "@fragile"
	rep, err := steps.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatalf("verdict PASS for a server that crashed:\n%s", out.String())
	}
	st := rep.Stopped
	if st == nil {
		t.Fatalf("the report does not say the server stopped accepting:\n%s", out.String())
	}
	if !strings.Contains(st.After, scEmptyConn) {
		t.Errorf("the report says the last scenario to connect was %q; want %q", st.After, scEmptyConn)
	}
	if !strings.Contains(out.String(), "SERVER STOPPED ACCEPTING CONNECTIONS") {
		t.Errorf("the report has no paragraph about the crash:\n%s", out.String())
	}
	var before, graded bool
	for _, s := range rep.Scenarios {
		if strings.Contains(s.Scenario, scEmptyConn) {
			before = true
			if s.Passed() || s.NotGraded() {
				t.Errorf("scenario %q, during which the server died, passed=%v notGraded=%v; want a failure", s.Scenario, s.Passed(), s.NotGraded())
			}
			continue
		}
		if before && !s.NotGraded() {
			graded = true
			t.Errorf("scenario %q after the crash is graded (err %v); want not graded", s.Scenario, s.Err)
		}
	}
	if t.Failed() || graded {
		t.Logf("report:\n%s", out.String())
	}
}
