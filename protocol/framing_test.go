package protocol

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// chunks is an io.Reader that returns its pieces one Read at a time, so a
// test controls exactly where the byte stream is split.
type chunks [][]byte

func (c *chunks) Read(p []byte) (int, error) {
	for len(*c) > 0 && len((*c)[0]) == 0 {
		*c = (*c)[1:]
	}
	if len(*c) == 0 {
		return 0, io.EOF
	}
	n := copy(p, (*c)[0])
	(*c)[0] = (*c)[0][n:]
	return n, nil
}

func readAll(t *testing.T, r Reader) ([]string, error) {
	t.Helper()
	var got []string
	for {
		s, err := r.ReadFrame()
		if err != nil {
			return got, err
		}
		got = append(got, s)
	}
}

var streamMessages = []string{
	"JOIN alice, 127.0.0.1:4242", "DATA alice: hi: there ø 🙂", "", "IMAV", "DATA alice: " + strings.Repeat("ø", 250), "QUIT",
}

// TestReadersAtEverySplitPoint feeds a stream cut in two at every byte
// offset (and cut into single bytes), in both framings, with LF and CRLF.
func TestReadersAtEverySplitPoint(t *testing.T) {
	for _, f := range []Framing{FramingLine, FramingUTF} {
		for _, crlf := range []bool{false, true} {
			if f == FramingUTF && crlf {
				continue
			}
			var stream []byte
			for _, m := range streamMessages {
				var err error
				stream, err = f.AppendFrame(stream, []byte(m))
				if err != nil {
					t.Fatal(err)
				}
				if crlf {
					stream = append(stream[:len(stream)-1], '\r', '\n')
				}
			}
			for i := 0; i <= len(stream); i++ {
				c := chunks{bytes.Clone(stream[:i]), bytes.Clone(stream[i:])}
				got, err := readAll(t, f.NewReader(&c, 0))
				if err != io.EOF || !equal(got, streamMessages) {
					t.Fatalf("%v crlf=%v split at %d: got %q, %v; want %q, EOF", f, crlf, i, got, err, streamMessages)
				}
			}
			got, err := readAll(t, f.NewReader(iotest.OneByteReader(bytes.NewReader(stream)), 0))
			if err != io.EOF || !equal(got, streamMessages) {
				t.Fatalf("%v crlf=%v one byte at a time: got %q, %v", f, crlf, got, err)
			}
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLineReaderLimit(t *testing.T) {
	const max = 16
	ok := strings.Repeat("a", max)
	long := strings.Repeat("b", 10000)
	stream := ok + "\r\n" + ok + "x\n" + long + "\n" + "after\n" + strings.Repeat("c", 100000)
	r := FramingLine.NewReader(iotest.HalfReader(strings.NewReader(stream)), max)
	want := []struct {
		s   string
		err error
	}{{ok, nil}, {"", ErrLineTooLong}, {"", ErrLineTooLong}, {"after", nil}, {"", ErrLineTooLong}, {"", io.ErrUnexpectedEOF}}
	for i, w := range want {
		s, err := r.ReadFrame()
		if s != w.s || !errors.Is(err, w.err) {
			t.Fatalf("frame %d: ReadFrame() = %q, %v; want %q, %v", i, s, err, w.s, w.err)
		}
	}
}

// TestLineReaderBoundedMemory reads a 100 MiB line with no newline and
// checks that the reader consumed it without buffering it.
func TestLineReaderBoundedMemory(t *testing.T) {
	src := &countingReader{n: 100 << 20}
	r := FramingLine.NewReader(src, 0)
	if _, err := r.ReadFrame(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("first ReadFrame() error = %v, want ErrLineTooLong", err)
	}
	if _, err := r.ReadFrame(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("second ReadFrame() error = %v, want io.ErrUnexpectedEOF", err)
	}
	if src.n != 0 {
		t.Fatalf("%d bytes left unread", src.n)
	}
	lr := r.(*lineReader)
	if size := lr.r.Size(); size > 2*DefaultMaxLineBytes {
		t.Fatalf("reader buffer is %d bytes", size)
	}
}

// countingReader yields n bytes of 'x'.
type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), c.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	c.n -= k
	return k, nil
}

func TestUTFFrameWireFormat(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"J_OK", []byte{0, 4, 'J', '_', 'O', 'K'}},
		{"ø", []byte{0, 2, 0xC3, 0xB8}},
		{"\x00", []byte{0, 2, 0xC0, 0x80}},                                      // NUL in two bytes
		{"🙂", []byte{0, 6, 0xED, 0xA0, 0xBD, 0xED, 0xB9, 0x82}},                 // a surrogate pair
		{"a€", []byte{0, 4, 'a', 0xE2, 0x82, 0xAC}},                             // three-byte char
		{"", []byte{0, 0}},                                                      // empty frame
		{"x\xffy", append([]byte{0, 5, 'x'}, append([]byte("\uFFFD"), 'y')...)}, // invalid UTF-8 written as U+FFFD
	}
	for _, tt := range tests {
		got, err := FramingUTF.AppendFrame(nil, []byte(tt.in))
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("AppendFrame(%q) = % x, %v; want % x", tt.in, got, err, tt.want)
			continue
		}
		back, err := FramingUTF.NewReader(bytes.NewReader(got), 0).ReadFrame()
		want := string([]rune(tt.in)) // each invalid byte becomes U+FFFD
		if err != nil || back != want {
			t.Errorf("ReadFrame(% x) = %q, %v; want %q", got, back, err, want)
		}
	}
}

func TestUTFFrameLimits(t *testing.T) {
	if _, err := FramingUTF.AppendFrame(nil, bytes.Repeat([]byte("a"), MaxUTFFrame+1)); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("AppendFrame(65536 bytes) error = %v, want ErrFrameTooLarge", err)
	}
	var stream []byte
	stream, _ = FramingUTF.AppendFrame(stream, bytes.Repeat([]byte("a"), 5000))
	stream, _ = FramingUTF.AppendFrame(stream, []byte("IMAV"))
	stream = append(stream, 0, 3, 0xFF, 'a', 'b')
	stream = append(stream, 0, 9, 'x')
	r := FramingUTF.NewReader(iotest.HalfReader(bytes.NewReader(stream)), 100)
	want := []struct {
		s   string
		err error
	}{{"", ErrLineTooLong}, {"IMAV", nil}, {"", ErrBadEncoding}, {"", io.ErrUnexpectedEOF}}
	for i, w := range want {
		s, err := r.ReadFrame()
		if s != w.s || !errors.Is(err, w.err) {
			t.Fatalf("frame %d: ReadFrame() = %q, %v; want %q, %v", i, s, err, w.s, w.err)
		}
	}
}

func TestAppendMessage(t *testing.T) {
	for _, f := range []Framing{FramingLine, FramingUTF} {
		b, err := f.AppendMessage(nil, Data("bob", "hej ø"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.NewReader(bytes.NewReader(b), 0).ReadFrame()
		if err != nil || s != "DATA bob: hej ø" {
			t.Errorf("%v: round trip = %q, %v", f, s, err)
		}
	}
}

// TestAppendMessageMatchesAppendFrame checks AppendMessage's in-place
// writeUTF encoding against the general encoder, after a non-empty prefix.
func TestAppendMessageMatchesAppendFrame(t *testing.T) {
	for _, text := range []string{"", "hi", "ø€", "🙂", "nul\x00", "bad\xff", strings.Repeat("x", 250)} {
		for _, f := range []Framing{FramingLine, FramingUTF} {
			m := Data("bob", text)
			got, err := f.AppendMessage([]byte("prefix"), m)
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.AppendFrame([]byte("prefix"), m.Append(nil))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%v: AppendMessage(%q) = % x, want % x", f, text, got, want)
			}
		}
	}
	long := Data("bob", strings.Repeat("x", MaxUTFFrame))
	if _, err := FramingUTF.AppendMessage(nil, long); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("AppendMessage(64 KiB text) error = %v, want ErrFrameTooLarge", err)
	}
}

func TestFramingFlag(t *testing.T) {
	var f Framing
	if err := f.Set("utf"); err != nil || f != FramingUTF || f.String() != "utf" {
		t.Errorf("Set(utf) = %v, %v", f, err)
	}
	if err := f.Set("line"); err != nil || f != FramingLine || f.String() != "line" {
		t.Errorf("Set(line) = %v, %v", f, err)
	}
	if err := f.Set("json"); err == nil {
		t.Errorf("Set(json) = nil, want an error")
	}
}

// FuzzUTFFrame checks that any payload survives a writeUTF round trip and
// that the reader never panics on arbitrary bytes.
func FuzzUTFFrame(f *testing.F) {
	f.Add([]byte("DATA a: ø🙂\x00"))
	f.Add([]byte{0, 3, 0xC0, 0x80, 'a'})
	f.Add([]byte{0xED, 0xA0, 0xBD})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := FramingUTF.NewReader(bytes.NewReader(b), 0)
		for {
			if _, err := r.ReadFrame(); err != nil {
				break
			}
		}
		frame, err := FramingUTF.AppendFrame(nil, b)
		if err != nil {
			return
		}
		got, err := FramingUTF.NewReader(bytes.NewReader(frame), MaxUTFFrame).ReadFrame()
		if want := string([]rune(string(b))); err != nil || got != want {
			t.Fatalf("round trip of %q = %q, %v", b, got, err)
		}
	})
}

// FuzzLineReader checks that the line reader returns exactly the lines of a
// stream whatever its content and however it is split.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("JOIN a\r\nDATA a: x\n\nQUIT"), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, split uint8) {
		i := int(split) % (len(b) + 1)
		c := chunks{bytes.Clone(b[:i]), bytes.Clone(b[i:])}
		got, err := readAll(t, FramingLine.NewReader(&c, MaxUTFFrame))
		var want []string
		rest := string(b)
		for {
			line, after, ok := strings.Cut(rest, "\n")
			if !ok {
				break
			}
			want = append(want, strings.TrimSuffix(line, "\r"))
			rest = after
		}
		wantErr := io.EOF
		if rest != "" {
			wantErr = io.ErrUnexpectedEOF
		}
		if !equal(got, want) || err != wantErr {
			t.Fatalf("lines of %q split at %d = %q, %v; want %q, %v", b, i, got, err, want, wantErr)
		}
	})
}

func TestRawReader(t *testing.T) {
	src := &chunks{[]byte("J_OK"), []byte("LIST a b"), []byte("DATA a: hi\r\nDATA b: yo\n"), []byte("\n"), []byte("IMAV")}
	r := FramingRaw.NewReader(src, 64)
	want := []struct{ payload, raw string }{
		{"J_OK", "J_OK"},
		{"LIST a b", "LIST a b"},
		{"DATA a: hi", "DATA a: hi\r\n"},
		{"DATA b: yo", "DATA b: yo\n"},
		{"IMAV", "IMAV"},
	}
	for _, w := range want {
		got, err := r.ReadFrame()
		if err != nil || got != w.payload || string(r.Bytes()) != w.raw {
			t.Fatalf("ReadFrame() = %q, %v (bytes %q), want %q (bytes %q)", got, err, r.Bytes(), w.payload, w.raw)
		}
	}
	if _, err := r.ReadFrame(); err != io.EOF {
		t.Errorf("ReadFrame() at the end = %v, want io.EOF", err)
	}
}

func TestRawReaderTooLong(t *testing.T) {
	long := strings.Repeat("x", 600)
	r := FramingRaw.NewReader(&chunks{[]byte(long), []byte("J_OK")}, 100)
	if _, err := r.ReadFrame(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("ReadFrame() = %v, want ErrLineTooLong", err)
	}
	if got, err := r.ReadFrame(); err != nil || got != "J_OK" {
		t.Errorf("ReadFrame() after the long one = %q, %v, want \"J_OK\"", got, err)
	}
}

func TestReaderBytes(t *testing.T) {
	for _, f := range []Framing{FramingLine, FramingUTF} {
		var stream []byte
		var frames [][]byte
		for _, m := range []Message{OK(), Data("bjørn", "hæ\x00?")} {
			before := len(stream)
			stream, _ = f.AppendFrame(stream, []byte(m.String()))
			frames = append(frames, stream[before:])
		}
		if f == FramingLine {
			stream = append(stream[:len(frames[0])-1], append([]byte("\r\n"), stream[len(frames[0]):]...)...)
			frames[0] = []byte("J_OK\r\n")
		}
		r := f.NewReader(bytes.NewReader(stream), 0)
		for i := range frames {
			if _, err := r.ReadFrame(); err != nil {
				t.Fatalf("%s: ReadFrame: %v", f, err)
			}
			if !bytes.Equal(r.Bytes(), frames[i]) {
				t.Errorf("%s: Bytes() = %q, want %q", f, r.Bytes(), frames[i])
			}
		}
	}
}
