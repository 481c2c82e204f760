package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/report"
)

// Prepare finds the server's framing (with Config.Detect), then probes it
// with two clients: it checks that the server answers a JOIN at all (or
// returns a *report.Problem that says why not, with a hint), and learns
// what later steps adapt to: whether a joiner gets a LIST, whether DATA
// is relayed and echoed, and in what shapes. The probe speaks the
// protocol properly: JOIN, one DATA, QUIT.
func (s *Server) Prepare(ctx context.Context, run *engine.State) error {
	if len(s.cfg.Addrs) == 0 {
		return errors.New("steps: no server address")
	}
	why := "as configured (-framing " + s.framing.String() + ")"
	if s.cfg.Detect {
		f, reason, err := s.detect(ctx)
		if err != nil {
			return err
		}
		s.framing, why = f, reason
	}
	s.write = s.framing
	if s.framing == protocol.FramingRaw {
		// It took the detection's JOIN line; the probe finds out whether
		// it takes messages without "\n" better.
		s.write = protocol.FramingLine
	}
	run.AddFact(report.Fact{Name: "framing", Value: framingName(s.framing), Detail: why})
	if s.cfg.Join == JoinBare {
		run.AddFact(report.Fact{Name: "JOIN", Value: "the bare name (-join bare)", Detail: "the suite sends the name alone where the assignment has \"JOIN <name>, <host>:<port>\""})
	}
	if len(s.cfg.Addrs) > 1 {
		run.AddFact(report.Fact{Name: "cluster", Value: fmt.Sprintf("%d nodes", len(s.cfg.Addrs)), Detail: "a scenario's clients are placed on the nodes in turn: " + strings.Join(s.cfg.Addrs, ", ")})
	}
	return s.probe(ctx, run)
}

// framingName says what a framing is, for the profile.
func framingName(f protocol.Framing) string {
	switch f {
	case protocol.FramingUTF:
		return "writeUTF frames (a 2-byte length, then modified UTF-8)"
	case protocol.FramingRaw:
		return "raw: no delimiter, one read() is one message"
	}
	return "lines (\\n)"
}

// detect finds the server's framing from its answer to a JOIN: first sent
// as a line (most servers read lines; a server that takes each read() for
// a message reads it too), then, if nothing came back, as a writeUTF
// frame on a new connection.
func (s *Server) detect(ctx context.Context) (protocol.Framing, string, error) {
	addr := s.cfg.Addrs[0]
	name := "probe" + randomSuffix()
	line := []byte(protocol.Join(name, addr).String() + "\n")
	if s.cfg.Join == JoinBare {
		line = []byte(name + "\n")
	}
	got, err := s.rawExchange(ctx, addr, line)
	if err != nil {
		return 0, "", err
	}
	switch {
	case looksUTF(got):
		return protocol.FramingUTF, "its first bytes are a writeUTF frame: " + report.QuoteBytes(got[:min(len(got), 40)], len(got)), nil
	case bytes.IndexByte(got, '\n') >= 0:
		return protocol.FramingLine, "it answered a JOIN line with lines: " + report.QuoteBytes(got[:min(len(got), 40)], len(got)), nil
	case len(got) > 0:
		return protocol.FramingRaw, "its answer to a JOIN line had no line end and no length header: " + report.QuoteBytes(got[:min(len(got), 40)], len(got)), nil
	}
	frame, _ := protocol.FramingUTF.AppendFrame(nil, bytes.TrimSuffix(line, []byte("\n")))
	got, err = s.rawExchange(ctx, addr, frame)
	if err != nil {
		return 0, "", err
	}
	if looksUTF(got) {
		return protocol.FramingUTF, "it did not answer a JOIN line, but answered a writeUTF JOIN with writeUTF frames: " + report.QuoteBytes(got[:min(len(got), 40)], len(got)), nil
	}
	p := &report.Problem{
		What: fmt.Sprintf("%s accepts connections but answered a JOIN neither as a line nor as a writeUTF frame within %s.", addr, s.cfg.patient()),
		Hint: "Check that it is the chat server and that it is not busy with another client (a server that serves one client at a time answers nobody else). If it needs longer, raise -wait. If it takes the name alone as its first message, try -join bare.",
	}
	if len(got) > 0 {
		p.Sample = got
		p.What = fmt.Sprintf("%s answered a writeUTF JOIN with bytes the suite cannot read as messages.", addr)
	}
	return 0, "", p
}

// rawExchange connects, writes b, and returns what the server sends within
// the patient wait (stopping early at the quiet time after the first
// bytes).
func (s *Server) rawExchange(ctx context.Context, addr string, b []byte) ([]byte, error) {
	d := net.Dialer{Timeout: s.cfg.Wait}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, unreachable(addr, s.cfg.Wait, err)
	}
	defer conn.Close()
	if err := conn.SetWriteDeadline(time.Now().Add(s.cfg.Wait)); err != nil {
		return nil, err
	}
	if _, err := conn.Write(b); err != nil {
		return nil, &report.Problem{What: addr + " accepted a connection but the suite could not send JOIN: " + err.Error(), Hint: "The server may close connections at once; check its log."}
	}
	var got []byte
	buf := make([]byte, 4096)
	deadline := time.Now().Add(s.cfg.patient())
	for len(got) < 4096 {
		if err := conn.SetReadDeadline(deadline); err != nil {
			return nil, err
		}
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
		deadline = time.Now().Add(s.cfg.Quiet) // more may follow (a LIST after J_OK)
	}
	// Leave as the protocol asks, in the framing the bytes came in.
	if looksUTF(got) {
		q, _ := protocol.FramingUTF.AppendMessage(nil, protocol.Quit())
		_, _ = conn.Write(q)
	} else if len(got) > 0 {
		_, _ = conn.Write([]byte("QUIT\n"))
	}
	return got, nil
}

// unreachable explains a failed connect.
func unreachable(addr string, wait time.Duration, err error) *report.Problem {
	p := &report.Problem{
		What: fmt.Sprintf("the suite cannot open a TCP connection to %s (%v).", addr, err),
		Hint: "Is the server running, and listening on this host and port? A server that listens on localhost only is not reachable through another address; a firewall may also block the port.",
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Timeout() {
		p.Hint += fmt.Sprintf(" The connection attempt timed out after %s: the host may be wrong or unreachable.", wait)
	}
	return p
}

// looksUTF reports whether b starts with a writeUTF frame of text: a
// 2-byte big-endian length, then that many printable bytes starting with
// an upper-case letter.
func looksUTF(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	n := int(b[0])<<8 | int(b[1])
	if n == 0 || n > len(b)-2 || b[2] < 'A' || b[2] > 'Z' {
		return false
	}
	return !bytes.ContainsAny(b[2:2+n], "\n\x00")
}

// probe joins two clients, has one send a DATA, and learns what the
// server does.
func (s *Server) probe(ctx context.Context, run *engine.State) error {
	tr := peer.NewTranscript(time.Now())
	open := func(i int, alias string) (*peer.Conn, string, error) {
		addr := s.cfg.Addrs[i%len(s.cfg.Addrs)]
		c, err := peer.Dial(ctx, addr, s.cfg.Wait, s.connOptions(alias, tr))
		if err != nil {
			return nil, "", unreachable(addr, s.cfg.Wait, err)
		}
		name := alias + randomSuffix()
		s.reg.claim(name, -1)
		s.reg.event(name, changeJoin)
		if err := c.SendFrame(s.joinPayload(name, c)); err != nil {
			c.Close()
			return nil, "", &report.Problem{What: addr + " accepted a connection but the suite could not send JOIN: " + err.Error()}
		}
		return c, name, nil
	}
	a, aName, err := open(0, "prob1")
	if err != nil {
		return err
	}
	defer func() {
		if a != nil { // nil once it left before a retry
			s.leave(a, aName)
		}
	}()
	r := s.answerToJoin(ctx, a)
	if !r.Matched() {
		return s.noAnswer(a, r)
	}
	if r.Msg.Kind == protocol.KindError && s.framing == protocol.FramingRaw && s.write == protocol.FramingLine {
		// A raw server may take the "\n" for part of the name: try
		// without.
		s.leave(a, aName)
		a = nil
		s.write = protocol.FramingRaw
		return s.probe(ctx, run)
	}
	if r.Msg.Kind == protocol.KindError {
		return &report.Problem{
			What:   fmt.Sprintf("it refuses a valid JOIN: it answered %s.", r.Msg.String()),
			Hint:   "Is it full (a client limit), or does it expect another JOIN? If it wants the name alone as the first line, try -join bare.",
			Sample: []byte(r.Msg.Frame),
		}
	}
	run.Alive()
	a.SetBeating(true)
	a.StartHeartbeat(s.cfg.Heartbeat, s.imavFrame())
	okShape := "\"J_OK\""
	if shape := s.shapeOf(*r.Msg); shape != 0 {
		okShape = fmt.Sprintf("%q (%s)", r.Msg.Raw, shape)
	}
	run.AddFact(report.Fact{Name: "J_OK", Value: okShape})

	// A LIST for the joiner?
	if a.Wait(ctx, s.cfg.Wait, func(msgs []peer.Msg, _ error) bool { return listNaming(msgs, aName) != nil }) {
		s.prof.listOnJoin = true
		msgs, _ := a.Snapshot()
		l := listNaming(msgs, aName)
		if joinAsName(l.Names) {
			return &report.Problem{
				What:   fmt.Sprintf("it takes the whole JOIN line for the user name: its LIST is %s.", l.String()),
				Hint:   "Run the suite with -join bare: it then joins with the name alone and grades everything else.",
				Sample: []byte(l.Frame),
			}
		}
	}
	b, bName, err := open(1, "prob2")
	if err != nil {
		return err
	}
	defer s.leave(b, bName)
	if rb := s.answerToJoin(ctx, b); !rb.Matched() || rb.Msg.Kind != protocol.KindOK {
		run.AddFact(report.Fact{Name: "second client", Value: "refused", Detail: "a second client's JOIN got no J_OK: the server may serve one client at a time, or allow only one"})
		return nil
	}
	b.SetBeating(true)
	b.StartHeartbeat(s.cfg.Heartbeat, s.imavFrame())
	text := "probe " + randomSuffix()
	aFrom := a.Len()
	if err := b.SendMessage(protocol.Data(bName, text)); err != nil {
		return nil
	}
	// The LIST that names b and the relayed DATA are waited for together,
	// and patiently: a scenario's precondition waits only briefly for
	// what the probe did not see, so a probe misled by a busy machine
	// would leave scenarios not graded that a slow server passes.
	isProbe := func(m peer.Msg) bool { return m.Kind == protocol.KindData && m.Name == bName && m.Text == text }
	var relayed *peer.Msg
	a.Wait(ctx, s.cfg.patient(), func(msgs []peer.Msg, _ error) bool {
		s.prof.listOthers = listNaming(msgs, bName) != nil
		for i := aFrom; i < len(msgs) && relayed == nil; i++ {
			if isProbe(msgs[i]) {
				relayed = &msgs[i]
			}
		}
		return s.prof.listOthers && relayed != nil
	})
	s.prof.relay = relayed != nil
	echoWait := s.cfg.Wait
	if s.prof.relay {
		echoWait = 2 * s.cfg.Quiet
	}
	s.prof.echo = b.Wait(ctx, echoWait, func(msgs []peer.Msg, _ error) bool {
		for _, m := range msgs {
			if isProbe(m) {
				return true
			}
		}
		return false
	})
	switch {
	case relayed != nil && s.shapeOf(*relayed) != 0:
		run.AddFact(report.Fact{Name: "DATA", Value: fmt.Sprintf("relayed as %q (%s)", relayed.Raw, s.shapeOf(*relayed)), Detail: "read as DATA for every rule but messages.data-shape"})
	case relayed != nil:
		run.AddFact(report.Fact{Name: "DATA", Value: "relayed as \"DATA <name>: <text>\""})
	default:
		run.AddFact(report.Fact{Name: "DATA", Value: "not relayed", Detail: fmt.Sprintf("a DATA from a second client did not reach the first within %s", s.cfg.patient())})
	}
	echo := "the sender receives its own DATA"
	if !s.prof.echo {
		echo = "the sender does not receive its own DATA"
	}
	run.AddFact(report.Fact{Name: "echo", Value: echo})
	list := "a joiner receives a LIST"
	if !s.prof.listOnJoin {
		list = "a joiner receives no LIST"
	}
	run.AddFact(report.Fact{Name: "LIST", Value: list})
	if msgs, _ := a.Snapshot(); !s.prof.relay && !s.prof.listOnJoin && len(msgs) <= 1 {
		s.prof.silent = true
		run.AddFact(report.Fact{Name: "after J_OK", Value: "nothing arrives", Detail: "after J_OK nothing arrives on this connection: LIST and DATA never came; does the server send them elsewhere (another connection, UDP)?"})
	}
	return nil
}

// noAnswer explains a probe JOIN that got no J_OK or J_ER.
func (s *Server) noAnswer(c *peer.Conn, r peer.Result) error {
	msgs, _ := c.Snapshot()
	var sample []byte
	for _, m := range msgs {
		sample = append(sample, m.Frame...)
		sample = append(sample, '\n')
	}
	p := &report.Problem{Sample: sample}
	switch {
	case r.End != nil && len(msgs) == 0:
		p.What = "it closed the connection without answering JOIN."
	case r.End != nil:
		p.What = "it closed the connection after answering JOIN with no J_OK or J_ER."
	case len(msgs) == 0:
		p.What = fmt.Sprintf("it accepted a connection but sent nothing in reply to JOIN within %s.", s.cfg.patient())
	default:
		p.What = fmt.Sprintf("it answered JOIN, but with no J_OK or J_ER within %s.", s.cfg.patient())
	}
	switch s.framing {
	case protocol.FramingLine:
		p.Hint = "If the server uses Java's DataOutputStream.writeUTF/readUTF, try -framing utf, or -framing auto to let the suite find out. If it needs longer to answer, raise -wait."
	case protocol.FramingUTF:
		p.Hint = "If the server reads lines (readLine, println), run the suite with -framing line, or -framing auto. If it needs longer to answer, raise -wait."
	default:
		p.Hint = "If it needs longer to answer, raise -wait."
	}
	return p
}

// listNaming returns the first LIST in msgs that names name, or nil.
func listNaming(msgs []peer.Msg, name string) *peer.Msg {
	for i := range msgs {
		if msgs[i].Kind == protocol.KindList && (hasName(msgs[i], name) || strings.Contains(msgs[i].Frame, name)) {
			return &msgs[i]
		}
	}
	return nil
}

// joinAsName reports whether LIST names show that the server took a whole
// JOIN line for a name: "JOIN" is among them.
func joinAsName(names []string) bool {
	for _, n := range names {
		if n == protocol.VerbJoin {
			return true
		}
	}
	return false
}

// imavFrame is IMAV as the suite writes it.
func (s *Server) imavFrame() []byte {
	b, _ := s.write.AppendMessage(nil, protocol.Alive())
	return b
}
