package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what one run measured. Durations are time.Duration (nanoseconds
// in JSON); memory is in bytes. Figures that were not measured are zero.
type Result struct {
	Label   string `json:"label"`   // what was measured, e.g. the address or "baseline"
	Config  Config `json:"config"`  // with defaults filled in
	Framing string `json:"framing"` // Config.Framing by name: line or utf

	// Join phase.
	Joined      int           `json:"joined"`        // clients that got J_OK
	JoinFailed  int           `json:"join_failed"`   // dial errors, J_ER, timeouts
	JoinError   string        `json:"join_error"`    // the first join failure, for the report
	JoinTime    time.Duration `json:"join_time"`     // first dial to last verdict
	JoinsPerSec float64       `json:"joins_per_sec"` // Joined / JoinTime
	JoinLatency Latency       `json:"join_latency"`  // dial to J_OK, per client
	SettleTime  time.Duration `json:"settle_time"`   // last join to the end of the LIST storm (less the quiet period)

	// Load phase (the Duration after Warmup).
	LoadStart        time.Duration `json:"load_start"`         // since the run started: the senders start (warm-up)
	MeasureStart     time.Duration `json:"measure_start"`      // since the run started: the measured time starts
	MeasureEnd       time.Duration `json:"measure_end"`        // since the run started: the measured time ends
	Window           time.Duration `json:"window"`             // the measured time
	CPU              time.Duration `json:"cpu"`                // CPU time (user+system) of this process in the measured time: load generator and any in-process server; 0 if unknown
	Sent             int64         `json:"sent"`               // DATA written by senders, whole run
	SentPerSec       float64       `json:"sent_per_sec"`       // in the measured time
	Delivered        int64         `json:"delivered"`          // DATA received by clients in the measured time
	DeliveriesPerSec float64       `json:"deliveries_per_sec"` // Delivered / Window
	Latency          Latency       `json:"latency"`            // send to receipt of the Senders' DATA, in the measured time
	LatencyDist      []Bucket      `json:"latency_dist"`       // the distribution Latency sums up
	ProbeLatency     Latency       `json:"probe_latency"`      // send to receipt of the Probes' DATA, in the measured time
	ProbeDist        []Bucket      `json:"probe_dist"`         // the distribution ProbeLatency sums up

	// Whole run.
	Expected       int64  `json:"expected"`        // deliveries due to clients not dropped: (Sent-Rejected) each
	Received       int64  `json:"received"`        // deliveries those clients got, whole run
	Lost           int64  `json:"lost"`            // due but never received, after the drain
	Duplicated     int64  `json:"duplicated"`      // received beyond what was due
	OutOfOrder     int64  `json:"out_of_order"`    // received after a later message of the same sender
	Drops          int    `json:"drops"`           // joined clients the server disconnected
	ReadersDropped int    `json:"readers_dropped"` // of those, clients that only read
	SendersDropped int    `json:"senders_dropped"` // of those, Senders and Probes
	Errors         Errors `json:"errors"`

	Lists         int64 `json:"lists"`          // LIST frames received by all clients
	ListsComplete int   `json:"lists_complete"` // clients whose newest LIST names every joined client
	ListsUnknown  int   `json:"lists_unknown"`  // clients whose newest LIST was too long to read

	// Server memory (with PID).
	RSSBefore    int64 `json:"rss_before"`     // before the first dial
	RSSJoined    int64 `json:"rss_joined"`     // all joined, settled and Idle passed
	RSSPeak      int64 `json:"rss_peak"`       // largest sample
	RSSEnd       int64 `json:"rss_end"`        // after the drain
	RSSPerClient int64 `json:"rss_per_client"` // (RSSJoined-RSSBefore)/Joined

	Nodes []NodeResult `json:"nodes,omitempty"` // per address, when Config.Addr has several

	Interrupted bool     `json:"interrupted"` // the context ended the run early
	Notes       []string `json:"notes,omitempty"`
	Samples     []Sample `json:"samples"`
}

// Errors counts what went wrong, by kind.
type Errors struct {
	ServerErrors int64 `json:"server_errors"` // J_ER received after joining
	Rejected     int64 `json:"rejected"`      // of those, received by senders (a DATA refused)
	Parse        int64 `json:"parse"`         // frames protocol.Parse refused
	LongFrames   int64 `json:"long_frames"`   // frames over MaxLineBytes, skipped
	Foreign      int64 `json:"foreign"`       // DATA that this run did not send
	Unexpected   int64 `json:"unexpected"`    // J_OK after joining, JOIN/IMAV/QUIT from the server
	Write        int64 `json:"write"`         // failed writes (the client is then closed)
	Read         int64 `json:"read"`          // read errors other than the server closing
}

func (e Errors) total() int64 {
	return e.ServerErrors + e.Parse + e.Foreign + e.Unexpected + e.Write + e.Read
}

// Latency summarises a distribution, to about 3 % precision.
type Latency struct {
	Count uint64        `json:"count"` // values recorded
	P50   time.Duration `json:"p50"`   // the median
	P90   time.Duration `json:"p90"`   // 90th percentile
	P99   time.Duration `json:"p99"`   // 99th percentile
	P999  time.Duration `json:"p999"`  // 99.9th percentile
	Max   time.Duration `json:"max"`   // the largest value
}

// Bucket is one bucket of a latency distribution: Count values within
// about 3 % of Value.
type Bucket struct {
	Value time.Duration `json:"value"`
	Count uint64        `json:"count"`
}

// Sample is the state of a run at one moment, with rates over the Interval
// before it.
type Sample struct {
	At               time.Duration `json:"at"`                 // since the run started
	Phase            string        `json:"phase"`              // join, settle, idle, warmup, load, drain
	Joined           int           `json:"joined"`             // clients joined so far
	SentPerSec       float64       `json:"sent_per_sec"`       // DATA written
	DeliveriesPerSec float64       `json:"deliveries_per_sec"` // DATA received, all clients
	P50              time.Duration `json:"p50"`                // latency of the deliveries in the interval
	P99              time.Duration `json:"p99"`                // latency of the deliveries in the interval
	ProbeP50         time.Duration `json:"probe_p50"`          // latency of the Probes' deliveries in the interval
	ProbeP99         time.Duration `json:"probe_p99"`          // latency of the Probes' deliveries in the interval
	InFlight         int64         `json:"in_flight"`          // deliveries due to live clients, not yet received
	Missing          int64         `json:"missing"`            // skipped in a sender's sequence and not arrived since: lost so far
	Drops            int           `json:"drops"`              // so far
	Errors           int64         `json:"errors"`             // so far, all kinds but long frames
	RSS              int64         `json:"rss"`                // the server's, with PID
}

// Progress is passed to Config.Progress while a run goes on.
type Progress struct {
	Sample
	Clients int // the configured number of clients
}

// String is a one-line progress report.
func (p Progress) String() string {
	s := fmt.Sprintf("%6.1fs %-6s joined %d/%d  sent %s/s  delivered %s/s  p50 %s  p99 %s  in flight %d  drops %d  errors %d",
		p.At.Seconds(), p.Phase, p.Joined, p.Clients, si(p.SentPerSec), si(p.DeliveriesPerSec),
		ms(p.P50), ms(p.P99), p.InFlight, p.Drops, p.Errors)
	if p.Missing > 0 {
		s += fmt.Sprintf("  missing %d", p.Missing)
	}
	if p.RSS > 0 {
		s += "  rss " + mib(p.RSS)
	}
	return s
}

// WriteTable writes a readable table of r and, when base is not nil, of the
// baseline run base beside it with the ratio r/base where it means
// something. r may be nil to show the baseline alone.
func WriteTable(w io.Writer, r, base *Result) error {
	cols := []*Result{}
	if r != nil {
		cols = append(cols, r)
	}
	if base != nil {
		cols = append(cols, base)
	}
	if len(cols) == 0 {
		return nil
	}
	ratio := r != nil && base != nil
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(name string, f func(*Result) string, rf func(a, b *Result) float64) {
		var b strings.Builder
		b.WriteString(name)
		b.WriteByte('\t')
		for _, c := range cols {
			b.WriteString(f(c))
			b.WriteByte('\t')
		}
		if ratio && rf != nil {
			if v := rf(r, base); v > 0 {
				fmt.Fprintf(&b, "%.2f", v)
			}
			b.WriteByte('\t')
		}
		b.WriteByte('\n')
		io.WriteString(tw, b.String())
	}
	div := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	header := "\t"
	for _, c := range cols {
		header += c.Label + "\t"
	}
	if ratio {
		header += "ratio\t"
	}
	io.WriteString(tw, header+"\n")
	row("clients joined", func(c *Result) string {
		return fmt.Sprintf("%d/%d", c.Joined, c.Config.Clients)
	}, nil)
	row("joins/s", func(c *Result) string { return si(c.JoinsPerSec) }, func(a, b *Result) float64 { return div(a.JoinsPerSec, b.JoinsPerSec) })
	row("join time", func(c *Result) string { return dur(c.JoinTime) }, nil)
	row("join latency p50 / p99", func(c *Result) string {
		return ms(c.JoinLatency.P50) + " / " + ms(c.JoinLatency.P99)
	}, nil)
	row("LIST storm settled after", func(c *Result) string { return dur(c.SettleTime) }, nil)
	row("LISTs received", func(c *Result) string {
		s := si(float64(c.Lists))
		if c.Errors.LongFrames > 0 {
			s += " + " + si(float64(c.Errors.LongFrames)) + " too long to read"
		}
		return s
	}, nil)
	row("newest LIST complete", func(c *Result) string {
		s := fmt.Sprintf("%d/%d", c.ListsComplete, c.Joined)
		if c.ListsUnknown > 0 {
			s += fmt.Sprintf(" (%d too long to read)", c.ListsUnknown)
		}
		return s
	}, nil)
	load := false
	for _, c := range cols {
		load = load || c.Config.Senders > 0
	}
	if load {
		loadRows(cols, row, div)
	}
	row("readers dropped", func(c *Result) string { return fmt.Sprint(c.ReadersDropped) }, nil)
	row("senders dropped", func(c *Result) string { return fmt.Sprint(c.SendersDropped) }, nil)
	row("errors", func(c *Result) string { return errorsString(c.Errors) }, nil)
	if r != nil && r.RSSJoined > 0 {
		row("server RSS before/joined/peak/end", func(c *Result) string {
			if c.RSSJoined == 0 {
				return "-"
			}
			return mib(c.RSSBefore) + " / " + mib(c.RSSJoined) + " / " + mib(c.RSSPeak) + " / " + mib(c.RSSEnd)
		}, nil)
		row("server RSS per joined client", func(c *Result) string {
			if c.RSSJoined == 0 {
				return "-"
			}
			return fmt.Sprintf("%.1f KiB", float64(c.RSSPerClient)/1024)
		}, nil)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("bench: write table: %w", err)
	}
	for _, c := range cols {
		for _, n := range c.Notes {
			if _, err := fmt.Fprintf(w, "note (%s): %s\n", c.Label, n); err != nil {
				return fmt.Errorf("bench: write table: %w", err)
			}
		}
	}
	return nil
}

// loadRows adds the rows about the load phase to a table.
func loadRows(cols []*Result, row func(string, func(*Result) string, func(a, b *Result) float64), div func(a, b float64) float64) {
	row("senders x rate", func(c *Result) string {
		if c.Config.Senders == 0 {
			return "none"
		}
		switch {
		case c.Config.Rate > 0:
			return fmt.Sprintf("%d x %s/s", c.Config.Senders, si(c.Config.Rate))
		case c.Config.Echo:
			return fmt.Sprintf("%d x max (window %d of own echoes)", c.Config.Senders, c.Config.Window)
		}
		return fmt.Sprintf("%d x max (window %d)", c.Config.Senders, c.Config.Window)
	}, nil)
	row("text size", func(c *Result) string { return fmt.Sprintf("%d B", c.Config.Size) }, nil)
	row("measured for", func(c *Result) string { return dur(c.Window) }, nil)
	row("messages sent/s", func(c *Result) string { return si(c.SentPerSec) }, func(a, b *Result) float64 { return div(a.SentPerSec, b.SentPerSec) })
	row("deliveries/s", func(c *Result) string { return si(c.DeliveriesPerSec) }, func(a, b *Result) float64 { return div(a.DeliveriesPerSec, b.DeliveriesPerSec) })
	row("CPU of this process", func(c *Result) string {
		if c.CPU <= 0 || c.Window <= 0 || c.Delivered == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f cores, %.2fµs a delivery", c.CPU.Seconds()/c.Window.Seconds(), float64(c.CPU.Microseconds())/float64(c.Delivered))
	}, func(a, b *Result) float64 {
		if a.Delivered == 0 || b.Delivered == 0 {
			return 0
		}
		return div(float64(a.CPU)/float64(a.Delivered), float64(b.CPU)/float64(b.Delivered))
	})
	row("latency p50", func(c *Result) string { return ms(c.Latency.P50) }, nil)
	row("latency p90", func(c *Result) string { return ms(c.Latency.P90) }, nil)
	row("latency p99", func(c *Result) string { return ms(c.Latency.P99) }, nil)
	row("latency p99.9", func(c *Result) string { return ms(c.Latency.P999) }, nil)
	row("latency max", func(c *Result) string { return ms(c.Latency.Max) }, nil)
	probes := false
	for _, c := range cols {
		probes = probes || c.Config.Probes > 0
	}
	if probes {
		row("well-behaved senders", func(c *Result) string {
			return fmt.Sprintf("%d x %s/s", c.Config.Probes, si(c.Config.ProbeRate))
		}, nil)
		row("their latency p50 / p99 / max", func(c *Result) string {
			l := c.ProbeLatency
			return ms(l.P50) + " / " + ms(l.P99) + " / " + ms(l.Max)
		}, nil)
	}
	row("lost (of expected)", func(c *Result) string {
		return fmt.Sprintf("%d (of %s)", c.Lost, si(float64(c.Expected)))
	}, nil)
	row("duplicated / out of order", func(c *Result) string { return fmt.Sprintf("%d / %d", c.Duplicated, c.OutOfOrder) }, nil)
}

// WriteSamples writes r's samples as a table, one row per Interval: the
// over-time view of a soak run.
func WriteSamples(w io.Writer, r *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "at\tphase\tjoined\tsent/s\tdelivered/s\tp50\tp99\tin flight\tmissing\tdrops\terrors\tserver RSS\t")
	for _, s := range r.Samples {
		rss := "-"
		if s.RSS > 0 {
			rss = mib(s.RSS)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t\n", dur(s.At), s.Phase, s.Joined,
			si(s.SentPerSec), si(s.DeliveriesPerSec), ms(s.P50), ms(s.P99), s.InFlight, s.Missing, s.Drops, s.Errors, rss)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("bench: write samples: %w", err)
	}
	return nil
}

func errorsString(e Errors) string {
	if e.total() == 0 {
		return "0"
	}
	var parts []string
	add := func(n int64, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(e.ServerErrors, "J_ER")
	add(e.Rejected, "DATA refused")
	add(e.Parse, "unparsable")
	add(e.Foreign, "foreign DATA")
	add(e.Unexpected, "unexpected")
	add(e.Write, "write")
	add(e.Read, "read")
	return strings.Join(parts, ", ")
}

// si formats v with a k/M/G suffix.
func si(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v == float64(int64(v)):
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}

// ms formats d in milliseconds with three significant digits or so.
func ms(d time.Duration) string {
	v := float64(d) / 1e6
	switch {
	case d == 0:
		return "0"
	case v < 1:
		return fmt.Sprintf("%.3fms", v)
	case v < 100:
		return fmt.Sprintf("%.2fms", v)
	}
	return fmt.Sprintf("%.0fms", v)
}

func dur(d time.Duration) string {
	if d < time.Second {
		return ms(d)
	}
	return d.Round(10 * time.Millisecond).String()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
