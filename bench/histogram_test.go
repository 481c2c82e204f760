package bench

import (
	"testing"
	"time"
)

func TestHistIndexMonotonic(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<20; v++ {
		i := histIndex(v)
		if i < prev || i > prev+1 {
			t.Fatalf("histIndex(%d) = %d after %d", v, i, prev)
		}
		prev = i
	}
	if i := histIndex(^uint64(0)); i != histBuckets-1 {
		t.Errorf("histIndex(max) = %d, want %d", i, histBuckets-1)
	}
	for _, v := range []uint64{0, 1, 63, 64, 1000, 123456, 1 << 40, 1<<63 + 12345} {
		got := uint64(histValue(histIndex(v)))
		if d := float64(got) - float64(v); d > float64(v)/histSub+1 || -d > float64(v)/histSub+1 {
			t.Errorf("histValue(histIndex(%d)) = %d, off by more than 1/%d", v, got, histSub)
		}
	}
}

func TestHistQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(i, time.Duration(i)*time.Microsecond)
	}
	before := h.snapshot()
	h.record(0, time.Second)
	all := h.snapshot()
	l := before.latency()
	if l.Count != 1000 || l.Max != time.Millisecond {
		t.Errorf("count %d max %v, want 1000 1ms", l.Count, l.Max)
	}
	near := func(got, want time.Duration) bool { return got >= want*96/100 && got <= want*104/100 }
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.9, 900 * time.Microsecond}, {0.99, 990 * time.Microsecond}} {
		if got := before.quantile(c.q); !near(got, c.want) {
			t.Errorf("quantile(%v) = %v, want about %v", c.q, got, c.want)
		}
	}
	d := all.sub(before).latency()
	if d.Count != 1 || !near(d.P50, time.Second) || d.Max != time.Second {
		t.Errorf("difference %+v, want one value of 1s", d)
	}
}

func TestStamp(t *testing.T) {
	b := make([]byte, stampLen+3)
	want := stamp{sent: 123456789 * time.Microsecond, sender: 0xabcde, seq: 0xfffffffe}
	putStamp(b, want)
	got, ok := parseStamp(string(b))
	if !ok || got != want {
		t.Errorf("parseStamp(%q) = %+v, %v, want %+v", b, got, ok, want)
	}
	for _, bad := range []string{"", "short", "0000000000000000-00000g-00000000-", "0000000000000000+000000-00000000-"} {
		if _, ok := parseStamp(bad); ok {
			t.Errorf("parseStamp(%q) succeeded", bad)
		}
	}
}
