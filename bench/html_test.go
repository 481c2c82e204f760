package bench_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatspec/chatspec/bench"
	"github.com/chatspec/chatspec/bench/fanout"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatserver"
)

// TestWriteHTML: the page of a run beside a baseline is one file that
// fetches nothing, escapes what it quotes, and draws three charts with a
// series per run (and per probe group).
func TestWriteHTML(t *testing.T) {
	timed := func(addr string) bench.Config {
		return bench.Config{Addr: addr, Clients: 5, Senders: 2, Probes: 1, ProbeRate: 200, Echo: true,
			Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond, Interval: 50 * time.Millisecond,
			Settle: -1, Heartbeat: -1}
	}
	ref := chatserver.New(chatserver.Config{})
	res, err := bench.Run(t.Context(), timed(serve(t, ref.Serve, ref.Close)))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	res.Label = "ref <&> erence"
	fo := fanout.New(fanout.Config{Framing: protocol.FramingLine})
	base, err := bench.Run(t.Context(), timed(serve(t, fo.Serve, fo.Close)))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	base.Label = "baseline"

	var page bytes.Buffer
	if err := bench.WriteHTML(&page, "chatbench -x <y>", res, base); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	if n := strings.Count(html, "<svg"); n != 3 {
		t.Errorf("%d charts, want 3", n)
	}
	for _, bad := range []string{"<script", "src=", "href=", "url(", "@import", "<link", "ref <&> erence", "-x <y>"} {
		if strings.Contains(html, bad) {
			t.Errorf("page contains %q: it must fetch nothing and escape what it quotes", bad)
		}
	}
	for _, want := range []string{"ref &lt;&amp;&gt; erence p99", "baseline p50", "baseline well-behaved p99",
		"Deliveries per second", "Latency distribution", "<title>"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`<path d="M[0-9.]+ [0-9.]+[HLV]`).MatchString(html) {
		t.Error("page draws no line")
	}
	if err := bench.WriteHTML(&page, "none", nil, nil); err == nil {
		t.Error("WriteHTML with no result succeeded")
	}
}
