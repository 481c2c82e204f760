package protocol_test

import (
	"strings"
	"testing"

	"github.com/chatspec/chatspec/protocol"
)

// Benchmarks of the grammar's hot paths: what a server does per request
// (Parse), per broadcast (Append, AppendMessage) and per frame read, and
// what a load generator does per delivery (ReadFrame + Parse). Run with
//
//	go test -run '^$' -bench . -benchmem ./protocol

func benchNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "user_" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
	}
	return names
}

var benchLines = []struct {
	name string
	line string
}{
	{"data-short", "DATA alice_92: hello, world"},
	{"data-250-ascii", "DATA alice_92: " + strings.Repeat("a", protocol.MaxTextLen)},
	{"data-250-utf8", "DATA alice_92: " + strings.Repeat("ø", protocol.MaxTextLen)},
	{"join", "JOIN alice_92, 172.168.168.12:4578"},
	{"imav", "IMAV"},
	{"j_er", "J_ER 409: duplicate user name"},
	{"list-100", protocol.List(benchNames(100)).String()},
}

func BenchmarkParse(b *testing.B) {
	for _, c := range benchLines {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.line)))
			for b.Loop() {
				if _, err := protocol.Parse(c.line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseInvalid: a refused line costs a *ParseError.
func BenchmarkParseInvalid(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := protocol.Parse("DATA alice_92 no colon"); err == nil {
			b.Fatal("parsed")
		}
	}
}

var benchMessages = []struct {
	name string
	msg  protocol.Message
}{
	{"data-short", protocol.Data("alice_92", "hello, world")},
	{"data-250-ascii", protocol.Data("alice_92", strings.Repeat("a", protocol.MaxTextLen))},
	{"j_er", protocol.Error(protocol.CodeDuplicateName, protocol.CodeDuplicateName.Text())},
	{"list-100", protocol.List(benchNames(100))},
	{"list-1000", protocol.List(benchNames(1000))},
}

// BenchmarkAppend formats into a reused buffer: the broadcast path, which
// formats once per message and should not allocate.
func BenchmarkAppend(b *testing.B) {
	for _, c := range benchMessages {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := c.msg.Append(nil)
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf = c.msg.Append(buf[:0])
			}
		})
	}
}

// BenchmarkString formats into a new string each time.
func BenchmarkString(b *testing.B) {
	m := protocol.Data("alice_92", "hello, world")
	b.ReportAllocs()
	for b.Loop() {
		_ = m.String()
	}
}

func BenchmarkAppendMessage(b *testing.B) {
	for _, f := range []protocol.Framing{protocol.FramingLine, protocol.FramingUTF} {
		for _, c := range benchMessages[:2] {
			b.Run(f.String()+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				buf, err := f.AppendMessage(nil, c.msg)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(buf)))
				for b.Loop() {
					buf, _ = f.AppendMessage(buf[:0], c.msg)
				}
			})
		}
	}
}

// cyclicReader returns its data over and over, in reads of at most chunk
// bytes, like a socket that always has more to give.
type cyclicReader struct {
	data  []byte
	off   int
	chunk int
}

func (r *cyclicReader) Read(p []byte) (int, error) {
	p = p[:min(len(p), r.chunk)]
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.data[r.off:])
		n += c
		r.off = (r.off + c) % len(r.data)
	}
	return n, nil
}

// BenchmarkReadFrame reads frames of a DATA stream; each op is one frame.
// With "+parse" it also parses it: what a client does per delivery.
func BenchmarkReadFrame(b *testing.B) {
	for _, f := range []protocol.Framing{protocol.FramingLine, protocol.FramingUTF} {
		for _, c := range benchMessages[:2] {
			for _, parse := range []bool{false, true} {
				name := f.String() + "/" + c.name
				if parse {
					name += "+parse"
				}
				b.Run(name, func(b *testing.B) {
					var stream []byte
					for range 64 {
						stream, _ = f.AppendMessage(stream, c.msg)
					}
					b.SetBytes(int64(len(stream) / 64))
					rd := f.NewReader(&cyclicReader{data: stream, chunk: 64 << 10}, 0)
					b.ReportAllocs()
					for b.Loop() {
						s, err := rd.ReadFrame()
						if err != nil {
							b.Fatal(err)
						}
						if parse {
							if _, err := protocol.Parse(s); err != nil {
								b.Fatal(err)
							}
						}
					}
				})
			}
		}
	}
}

func BenchmarkValidText(b *testing.B) {
	for _, c := range []struct{ name, text string }{
		{"ascii-250", strings.Repeat("a", protocol.MaxTextLen)},
		{"utf8-250", strings.Repeat("ø", protocol.MaxTextLen)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				if err := protocol.ValidText(c.text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := protocol.ValidName("alice_92-xyz"); err != nil {
			b.Fatal(err)
		}
	}
}
