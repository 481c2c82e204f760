package clientsteps

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chatspec/chatspec/peer"
	"github.com/chatspec/chatspec/protocol"
)

// msg reads frame as a peer.Conn does.
func msg(frame string) peer.Msg {
	return peer.Msg{Frame: frame, Reading: protocol.Recognize(frame)[0]}
}

func TestFramingOf(t *testing.T) {
	utf, _ := protocol.FramingUTF.AppendFrame(nil, []byte("JOIN alice, 127.0.0.1:4242"))
	for _, tc := range []struct {
		first string
		want  protocol.Framing
	}{
		{"JOIN alice, 127.0.0.1:4242\n", protocol.FramingLine},
		{"alice\r\n", protocol.FramingLine},
		{"\r\nJOIN alice", protocol.FramingLine},
		{string(utf), protocol.FramingUTF},
		{string(utf[:1]), protocol.FramingUTF},
	} {
		if got := framingOf([]byte(tc.first)); got != tc.want {
			t.Errorf("framingOf(%q) = %v, want %v", tc.first, got, tc.want)
		}
	}
}

func TestMeantName(t *testing.T) {
	typed := []string{"alice1x2y", "bad.name"}
	for _, tc := range []struct {
		frame  string
		joined bool
		want   string
		ok     bool
	}{
		{"JOIN alice1x2y, 127.0.0.1:4242", false, "alice1x2y", true},
		{"JOIN alice1x2y", false, "alice1x2y", true},
		{"join alice1x2y, 127.0.0.1:4242", false, "alice1x2y", true},
		{"JOIN alice1x2y 127.0.0.1:4242", false, "alice1x2y", true},
		{"JOIN bad.name, 127.0.0.1:4242", false, "bad.name", true},
		{"JOIN someone, 127.0.0.1:4242", false, "someone", true},
		{"alice1x2y", false, "alice1x2y", true},
		{"alice1x2y, 127.0.0.1:4242", false, "alice1x2y", true},
		{"alice1x2y", true, "", false},
		{"hello", false, "", false},
		{"DATA alice1x2y: hi", false, "", false},
		{"IMAV", false, "", false},
	} {
		got, ok := meantName(msg(tc.frame), tc.joined, typed)
		if got != tc.want || ok != tc.ok {
			t.Errorf("meantName(%q, joined %v) = %q, %v; want %q, %v", tc.frame, tc.joined, got, ok, tc.want, tc.ok)
		}
	}
}

func TestJoinShape(t *testing.T) {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}
	resolve := func(host string) []string {
		if host == "localhost" {
			return []string{"127.0.0.1", "::1"}
		}
		return nil
	}
	for _, tc := range []struct {
		frame string
		want  string // "" for a legal JOIN, else a part of the complaint
	}{
		{"JOIN alice, 127.0.0.1:4242", ""},
		{"JOIN alice,127.0.0.1:4242", ""},
		{"JOIN alice, localhost:4242", ""},
		{"JOIN alice, 127.0.1.1:4242", ""}, // a loopback address for a loopback one
		{"JOIN alice, 127.0.0.1:8888", "the port 8888"},
		{"JOIN alice, 10.0.0.7:4242", `the host "10.0.0.7"`},
		{"JOIN alice, nowhere.invalid:4242", `the host "nowhere.invalid"`},
		{"JOIN alice", "no address"},
		{"alice", "the name alone"},
		{"join alice, 127.0.0.1:4242", "not the shape of JOIN"},
		{"JOIN alice 127.0.0.1:4242", "holds more than the name typed"},
		{"JOIN bob, 127.0.0.1:4242", "not the name typed"},
		{"HELLO", "not a JOIN"},
	} {
		got := joinShape(msg(tc.frame), "alice", local, resolve)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("joinShape(%q) = %q, want %q", tc.frame, got, tc.want)
		}
	}
}

func TestTraceIn(t *testing.T) {
	for _, tc := range []struct {
		out   string
		trace bool
	}{
		{"Exception in thread \"main\" java.net.SocketException: Connection reset\n\tat java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:318)\n", true},
		{"java.io.EOFException\n\tat java.base/java.io.DataInputStream.readUnsignedShort(DataInputStream.java:334)\n\tat Client$Listener.run(Client.java:51)\n", true},
		{"panic: runtime error: index out of range\n\ngoroutine 1 [running]:\n", true},
		{"Traceback (most recent call last):\n  File \"client.py\", line 3\n", true},
		{"Connection lost: java.net.SocketException: Connection reset\n", false},
		{"the server closed the connection\n", false},
		{"alice: meet me at the station\n", false},
	} {
		if got := traceIn(tc.out); (got != "") != tc.trace {
			t.Errorf("traceIn(%q) = %q, want a trace: %v", tc.out, got, tc.trace)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // "" if valid
	}{
		{Config{Command: "java Client"}, ""},
		{Config{Manual: true}, ""},
		{Config{}, "no command"},
		{Config{Command: "x", Manual: true}, "manual mode takes no command"},
		{Config{Command: "x", Listen: "8888"}, "want host:port"},
		{Config{Command: "x", Profile: Profile{Join: "JOIN alice"}}, "has no {name}"},
		{Config{Command: "x", Profile: Profile{Say: "say"}}, "has no {text}"},
		{Config{Command: "x", Profile: Profile{First: []string{"a\nb"}}}, "line break"},
	} {
		err := tc.cfg.Check()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v.Check() = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestShared(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want bool
	}{
		{Config{Command: "x"}, false},
		{Config{Command: "x", Listen: "127.0.0.1:0"}, false},
		{Config{Command: "x", Listen: "127.0.0.1:8888"}, true},
		{Config{Manual: true}, true},
	} {
		if got := tc.cfg.Shared(); got != tc.want {
			t.Errorf("%+v.Shared() = %v, want %v", tc.cfg, got, tc.want)
		}
	}
}

// TestBudget: the real-time run, the assignment's minute, fits go test's
// default 10 minutes with a fresh port per scenario.
func TestBudget(t *testing.T) {
	if got := Budget(Config{Command: "x"}, 25); got > 10*time.Minute {
		t.Errorf("Budget(the assignment's timings) = %v, want at most 10m", got)
	}
	if a, b := Budget(Config{Command: "x"}, 25), Budget(Config{Command: "x", Listen: "127.0.0.1:8888"}, 25); b <= a {
		t.Errorf("Budget with a shared port = %v, want more than %v (its scenarios run one at a time)", b, a)
	}
	if got := Budget(Config{Manual: true}, 25); got > 2*time.Hour {
		t.Errorf("Budget(manual mode) = %v, want at most the README's -timeout 2h", got)
	}
}

func TestExpand(t *testing.T) {
	if got := expand("java Client {host} {port} ({addr})", "127.0.0.1:4242"); got != "java Client 127.0.0.1 4242 (127.0.0.1:4242)" {
		t.Errorf("expand = %q", got)
	}
}
