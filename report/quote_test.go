package report

import (
	"testing"
	"time"
)

func TestQuoteBytes(t *testing.T) {
	for _, tc := range []struct {
		b    string
		size int
		want string
	}{
		{"JOIN alice\n", 11, `"JOIN alice\n"`},
		{"", 0, `""`},
		{"\x00\xff\xfe\r\t\x1b[2J", 8, `"\x00\xff\xfe\r\t\x1b[2J"`},
		{"é€", 5, `"é€"`},
		{"\u202e", 3, `"\u202e"`}, // a right-to-left override is shown, not obeyed
		{"DATA a:xy", 1200, `"DATA a:xy"... (1200 bytes in all)`},
		{"JOIN", 2, `"JOIN"`}, // a size below the bytes' own is no cut
	} {
		if got := QuoteBytes([]byte(tc.b), tc.size); got != tc.want {
			t.Errorf("QuoteBytes(%q, %d) = %s, want %s", tc.b, tc.size, got, tc.want)
		}
	}
}

func TestEntryText(t *testing.T) {
	for _, tc := range []struct {
		e    Entry
		want string
	}{
		{Entry{Dir: Sent, Data: []byte("IMAV\n")}, `"IMAV\n"`},
		{Entry{Dir: Received, Data: []byte("J_OK"), Size: 300}, `"J_OK"... (300 bytes in all)`},
		{Entry{Dir: Event, Note: "closed by the server"}, "closed by the server"},
	} {
		if got := tc.e.Text(); got != tc.want {
			t.Errorf("%+v.Text() = %s, want %s", tc.e, got, tc.want)
		}
	}
}

func TestOffset(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                       "+0.000s",
		1500 * time.Microsecond: "+0.002s",
		61 * time.Second:        "+61.000s",
	} {
		if got := offset(d); got != want {
			t.Errorf("offset(%v) = %s, want %s", d, got, want)
		}
	}
}
