package faultclient

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"

	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chatspec/chatspec/protocol"
)

// The faults Run knows, each a way a student's client departs from the
// assignment (or, for the legal ones, a choice it leaves open).
const (
	JoinBare       = "join-bare"        // sends the name alone instead of JOIN
	JoinNoAddr     = "join-no-addr"     // sends "JOIN <name>" without the address
	JoinWrongPort  = "join-wrong-port"  // sends a port that is not the server's
	JoinLocalhost  = "join-localhost"   // writes the address as localhost:<port> (legal)
	ConnectFirst   = "connect-first"    // connects at start, before it asks the name (legal)
	NoJoin         = "no-join"          // connects, and sends nothing at all
	NoRetry        = "no-retry"         // exits after a J_ER
	RetryNewConn   = "retry-new-conn"   // closes the connection after J_ER and dials again (legal)
	NoNameCheck    = "no-name-check"    // sends any name typed
	NoRefusalShown = "no-refusal-shown" // does not show the server's reason for a J_ER
	DataNoVerb     = "data-no-verb"     // sends "<name>: <text>" without DATA
	NoTextCheck    = "no-text-check"    // sends texts of any length
	NoIMAV         = "no-imav"          // never sends IMAV
	IMAVOnce       = "imav-once"        // sends one IMAV, then none
	IMAVFast       = "imav-fast"        // sends IMAV ten times an interval
	NoQuitAtEOF    = "no-quit-at-eof"   // exits at the end of input without QUIT
	QuitAsData     = "quit-as-data"     // sends the quit word as a DATA
	QuitNoClose    = "quit-no-close"    // sends QUIT and keeps the connection open
	NoDataShown    = "no-data-shown"    // does not print DATA
	NoListShown    = "no-list-shown"    // does not print LIST
	RawControl     = "raw-control"      // prints what the server sends as it is, control characters and all
	CrashUnknown   = "crash-unknown"    // dies with a stack trace on an unknown message
	TraceUnknown   = "trace-unknown"    // prints a stack trace on an unknown message, and goes on
	CrashJunk      = "crash-junk"       // dies with a stack trace on bytes that are not text
	CrashLong      = "crash-long"       // dies with a stack trace on a line over 4096 bytes
	TraceOnClose   = "trace-on-close"   // prints a stack trace when the server closes the connection
	SilentOnClose  = "silent-on-close"  // exits without a word when the server closes the connection
	CRLF           = "crlf"             // ends its lines with "\r\n" (legal)
	UTF            = "utf"              // frames messages with Java's writeUTF (legal)
	Silent         = "silent"           // prints nothing at all (legal, but shows nothing)
	NoPrompt       = "no-prompt"        // prints no prompt (legal)
	Coloured       = "coloured"         // colours its prompt and the names it prints (legal)
	Stray          = "stray"            // opens a second connection that sends an HTTP request (legal)
)

// Faults lists every fault Run knows.
func Faults() []string {
	return []string{JoinBare, JoinNoAddr, JoinWrongPort, JoinLocalhost, ConnectFirst, NoJoin, NoRetry, RetryNewConn,
		NoNameCheck, NoRefusalShown, DataNoVerb, NoTextCheck, NoIMAV, IMAVOnce, IMAVFast, NoQuitAtEOF,
		QuitAsData, QuitNoClose, NoDataShown, NoListShown, RawControl, CrashUnknown, TraceUnknown,
		CrashJunk, CrashLong, TraceOnClose, SilentOnClose, CRLF, UTF, Silent, NoPrompt, Coloured, Stray}
}

// javaTrace is what a Java client that lets an exception escape prints.
const javaTrace = "Exception in thread \"Thread-1\" java.io.%s\n" +
	"\tat ChatClient$Reader.run(ChatClient.java:87)\n" +
	"\tat java.base/java.lang.Thread.run(Thread.java:1583)\n"

// client is one run of the fault client. Its reader goroutine and the
// main goroutine share the connection's writes (guarded by wmu) and the
// output (guarded by omu).
type client struct {
	addr      string
	heartbeat time.Duration
	quitWord  string
	faults    []string
	stdout    io.Writer
	stderr    io.Writer

	conn    net.Conn
	frames  protocol.Reader
	framing protocol.Framing
	wmu     sync.Mutex
	omu     sync.Mutex
	name    string
}

func (c *client) has(f string) bool { return slices.Contains(c.faults, f) }

// Run is the fault client's main: flags in args, the user on stdin, the
// display on stdout and stderr. It returns the exit status.
//
//	faultclient -addr host:port [-heartbeat 1s] [-quit WORD] [-faults a,b]
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("faultclient", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &client{stdout: stdout, stderr: stderr}
	fs.StringVar(&c.addr, "addr", "127.0.0.1:4242", "the server, `host:port`")
	fs.DurationVar(&c.heartbeat, "heartbeat", time.Minute, "the IMAV interval")
	fs.StringVar(&c.quitWord, "quit", "", "a `word` that leaves when typed (besides the end of input)")
	faults := fs.String("faults", "", "comma-separated `faults`: "+strings.Join(Faults(), ", "))
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, f := range strings.Split(*faults, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !slices.Contains(Faults(), f) {
			fmt.Fprintf(stderr, "faultclient: unknown fault %q\n", f)
			return 2
		}
		c.faults = append(c.faults, f)
	}
	if c.has(UTF) {
		c.framing = protocol.FramingUTF
	}
	lines := bufio.NewScanner(stdin)
	if c.has(ConnectFirst) {
		if err := c.dial(); err != nil {
			c.say(stderr, "cannot connect: %v\n", err)
			return 1
		}
	}
	if !c.join(lines) {
		return 1
	}
	return c.chat(lines)
}

// say prints, unless the client is silent.
func (c *client) say(w io.Writer, format string, args ...any) {
	if c.has(Silent) {
		return
	}
	c.omu.Lock()
	defer c.omu.Unlock()
	fmt.Fprintf(w, format, args...)
}

func (c *client) prompt() {
	switch {
	case c.has(NoPrompt):
	case c.has(Coloured):
		c.say(c.stdout, "\x1b[1;34mname:\x1b[0m ")
	default:
		c.say(c.stdout, "name: ")
	}
}

func (c *client) dial() error {
	if c.has(Stray) {
		// A second connection, as a port check or a forgotten thread makes.
		if s, err := net.Dial("tcp", c.addr); err == nil {
			_, _ = s.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
			defer s.Close()
		}
	}
	conn, err := net.Dial("tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn, c.frames = conn, c.framing.NewReader(conn, 1<<17)
	return nil
}

// send writes one message.
func (c *client) send(payload string) error {
	var b []byte
	switch {
	case c.framing == protocol.FramingUTF:
		var err error
		if b, err = protocol.FramingUTF.AppendFrame(nil, []byte(payload)); err != nil {
			return err
		}
	case c.has(CRLF):
		b = []byte(payload + "\r\n")
	default:
		b = []byte(payload + "\n")
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.conn.Write(b)
	return err
}

// read reads one frame from the server; a frame it cannot decode comes
// back as junk ("\x00" and what it knows), a frame too long as a long
// line, for show to deal with.
func (c *client) read() (string, error) {
	frame, err := c.frames.ReadFrame()
	switch {
	case errors.Is(err, protocol.ErrBadEncoding):
		return "\x00(bytes that are not modified UTF-8)", nil
	case errors.Is(err, protocol.ErrLineTooLong):
		return strings.Repeat("?", 1<<17), nil
	}
	return frame, err
}

// join asks for names until the server accepts one.
func (c *client) join(lines *bufio.Scanner) bool {
	for {
		c.prompt()
		if !lines.Scan() {
			return false
		}
		name := strings.TrimSpace(lines.Text())
		if err := protocol.ValidName(name); err != nil && !c.has(NoNameCheck) {
			c.say(c.stderr, "that name is not allowed: %v\n", err)
			continue
		}
		if c.conn == nil {
			if err := c.dial(); err != nil {
				c.say(c.stderr, "cannot connect: %v\n", err)
				return false
			}
		}
		for c.has(NoJoin) {
			time.Sleep(time.Hour) // until the suite kills it
		}
		if err := c.send(c.joinLine(name)); err != nil {
			c.say(c.stderr, "connection lost\n")
			return false
		}
		reply, err := c.read()
		if err != nil {
			c.say(c.stderr, "connection lost\n")
			return false
		}
		m, _ := protocol.Parse(reply)
		if m.Kind == protocol.KindOK {
			c.name = name
			return true
		}
		if !c.has(NoRefusalShown) {
			c.say(c.stderr, "refused: %s\n", m.Text)
		} else {
			c.say(c.stderr, "try another name\n")
		}
		if c.has(NoRetry) {
			return false
		}
		if c.has(RetryNewConn) {
			c.conn.Close()
			c.conn = nil
		}
	}
}

func (c *client) joinLine(name string) string {
	host, port, _ := net.SplitHostPort(c.conn.RemoteAddr().String())
	switch {
	case c.has(JoinBare):
		return name
	case c.has(JoinNoAddr):
		return "JOIN " + name
	case c.has(JoinWrongPort):
		return "JOIN " + name + ", " + host + ":1"
	case c.has(JoinLocalhost):
		return "JOIN " + name + ", localhost:" + port
	}
	return protocol.Join(name, net.JoinHostPort(host, port)).String()
}

// chat runs the joined client: the reader and the heartbeat on
// goroutines, the user's lines here.
func (c *client) chat(lines *bufio.Scanner) int {
	done := make(chan struct{})
	go c.heartbeats(done)
	exit := make(chan int, 1)
	go func() { exit <- c.readLoop() }()
	typed := make(chan string)
	go func() {
		defer close(typed)
		for lines.Scan() {
			typed <- lines.Text()
		}
	}()
	for {
		select {
		case code := <-exit:
			close(done)
			return code
		case line, ok := <-typed:
			if !ok {
				close(done)
				if c.has(NoQuitAtEOF) {
					return 0
				}
				return c.quit()
			}
			if c.quitWord != "" && line == c.quitWord && !c.has(QuitAsData) {
				close(done)
				return c.quit()
			}
			if utf8.RuneCountInString(line) > protocol.MaxTextLen && !c.has(NoTextCheck) {
				c.say(c.stderr, "too long: at most %d characters\n", protocol.MaxTextLen)
				continue
			}
			msg := protocol.Data(c.name, line).String()
			if c.has(DataNoVerb) {
				msg = c.name + ": " + line
			}
			_ = c.send(msg)
		}
	}
}

// quit sends QUIT and closes, or with QuitNoClose keeps the connection
// open until the suite kills the process.
func (c *client) quit() int {
	_ = c.send(protocol.VerbQuit)
	for c.has(QuitNoClose) {
		time.Sleep(time.Hour) // until the suite kills it
	}
	c.conn.Close()
	return 0
}

func (c *client) heartbeats(done chan struct{}) {
	if c.has(NoIMAV) {
		return
	}
	every := c.heartbeat
	if c.has(IMAVFast) {
		every /= 10
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if c.send(protocol.VerbAlive) != nil || c.has(IMAVOnce) {
				return
			}
		}
	}
}

// readLoop prints what the server sends until the connection ends, and
// returns the exit status for that end.
func (c *client) readLoop() int {
	for {
		frame, err := c.read()
		if err != nil {
			switch {
			case c.has(TraceOnClose):
				c.say(c.stderr, javaTrace, "EOFException")
			case c.has(SilentOnClose):
			case errors.Is(err, io.EOF):
				c.say(c.stderr, "the server closed the connection\n")
			default:
				c.say(c.stderr, "connection lost: %v\n", err)
			}
			return 1
		}
		if code, stop := c.show(frame); stop {
			return code
		}
	}
}

// show prints one frame, and says whether the client dies of it.
func (c *client) show(frame string) (int, bool) {
	m, err := protocol.Parse(frame)
	text := !strings.ContainsRune(frame, 0) && utf8.ValidString(frame)
	switch {
	case !text && c.has(CrashJunk):
		c.say(c.stderr, javaTrace, "UTFDataFormatException: malformed input")
		return 1, true
	case len(frame) > 4096 && c.has(CrashLong):
		c.say(c.stderr, javaTrace, "IOException: line too long")
		return 1, true
	case m.Kind == protocol.KindInvalid && unknownVerb(frame) && c.has(CrashUnknown):
		c.say(c.stderr, javaTrace, "IllegalStateException: unknown message")
		return 1, true
	case m.Kind == protocol.KindInvalid && unknownVerb(frame) && c.has(TraceUnknown):
		c.say(c.stderr, javaTrace, "IllegalStateException: unknown message")
	}
	safe := func(s string) string {
		if c.has(RawControl) {
			return s
		}
		return strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
				return '?'
			}
			return r
		}, s)
	}
	name := func(s string) string {
		if c.has(Coloured) {
			return "\x1b[1;32m" + safe(s) + "\x1b[0m"
		}
		return safe(s)
	}
	switch {
	case m.Kind == protocol.KindData && (err == nil || errors.Is(err, protocol.ErrInvalidText)):
		if !c.has(NoDataShown) {
			c.say(c.stdout, "%s: %s\n", name(m.Name), safe(m.Text))
		}
	case m.Kind == protocol.KindList:
		if !c.has(NoListShown) {
			names := make([]string, len(m.Names))
			for i, n := range m.Names {
				names[i] = name(n)
			}
			c.say(c.stdout, "online: %s\n", strings.Join(names, " "))
		}
	case m.Kind == protocol.KindError:
		c.say(c.stderr, "server: %s %s\n", safe(m.Code), safe(m.Text))
	default:
		if len(frame) > 80 {
			frame = frame[:80] + "..."
		}
		c.say(c.stderr, "? %s\n", safe(frame))
	}
	return 0, false
}

// unknownVerb reports whether frame starts with an upper-case word the
// protocol does not have: an unknown message, not junk and not a long
// line of text.
func unknownVerb(frame string) bool {
	verb, _, _ := strings.Cut(frame, " ")
	return len(verb) > 1 && strings.Trim(verb, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == ""
}
