package bench

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

// WriteHTML writes one self-contained HTML page about a run: r, and base
// beside it when not nil (either may be nil, not both). The page needs no
// network: the style is inline and the charts are inline SVG, with the
// value of each point in its tooltip. It shows the table WriteTable
// writes, then deliveries per second and latency p50/p99 over time (from
// the start of the load, the measured window shaded), and the distribution
// of the latency in the measured window. title heads the page (say, the
// command that made the run).
func WriteHTML(w io.Writer, title string, r, base *Result) error {
	var runs []*Result
	for _, x := range []*Result{r, base} {
		if x != nil {
			runs = append(runs, x)
		}
	}
	if len(runs) == 0 {
		return fmt.Errorf("bench: write html: no result")
	}
	var table bytes.Buffer
	if err := WriteTable(&table, r, base); err != nil {
		return err
	}
	page := htmlPage{
		Title:   title,
		Table:   table.String(),
		Charts:  []template.HTML{throughputChart(runs).svg(), latencyChart(runs).svg(), distChart(runs).svg()},
		Written: time.Now().Format("2 January 2006 15:04 MST"),
	}
	if err := htmlTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("bench: write html: %w", err)
	}
	return nil
}

type htmlPage struct {
	Title   string
	Table   string
	Charts  []template.HTML
	Written string
}

var htmlTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 960px; }
h1 { font-size: 18px; font-family: ui-monospace, monospace; font-weight: 600; word-break: break-all; }
pre { font: 12px/1.35 ui-monospace, monospace; background: #f6f6f6; padding: 10px; overflow-x: auto; }
svg { display: block; margin: 18px 0; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg .title { font-size: 13px; font-weight: 600; }
svg .grid { stroke: #e4e4e4; }
svg .axis { stroke: #888; }
.note { color: #666; font-size: 12px; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<pre>{{.Table}}</pre>
{{range .Charts}}{{.}}
{{end}}<p class="note">Written by chatbench on {{.Written}}. Over time: one point per sample interval, from the start of the load; the measured window is shaded.
Latency is from the sender's write to each client's read; "well-behaved" is the probes' DATA, the rest is the senders'.</p>
</body>
</html>
`))

// Colours of the runs: the target, then the baseline; probes get their own.
var (
	runColours   = []string{"#1f77b4", "#ff7f0e"}
	probeColours = []string{"#2ca02c", "#d62728"}
)

func throughputChart(runs []*Result) chart {
	c := chart{Title: "Deliveries per second", XLabel: "seconds since the load started", YFormat: si, XFormat: secs}
	for i, r := range runs {
		s := series{Name: r.Label, Colour: runColours[i]}
		for _, smp := range loadSamples(r) {
			x := (smp.At - r.LoadStart).Seconds()
			s.Points = append(s.Points, point{x, smp.DeliveriesPerSec,
				fmt.Sprintf("%s at %.1fs: %s deliveries/s", r.Label, x, si(smp.DeliveriesPerSec))})
		}
		c.Series = append(c.Series, s)
		c.Bands = append(c.Bands, measuredBand(r))
	}
	return c
}

func latencyChart(runs []*Result) chart {
	c := chart{Title: "Latency p50 (dashed) and p99 (solid) over time, ms", XLabel: "seconds since the load started",
		YLog: true, YFormat: msTick, XFormat: secs}
	for i, r := range runs {
		add := func(name, colour string, dash bool, v func(Sample) time.Duration) {
			s := series{Name: name, Colour: colour, Dash: dash}
			for _, smp := range loadSamples(r) {
				x := (smp.At - r.LoadStart).Seconds()
				s.Points = append(s.Points, point{x, float64(v(smp)) / 1e6,
					fmt.Sprintf("%s at %.1fs: %s", name, x, ms(v(smp)))})
			}
			c.Series = append(c.Series, s)
		}
		add(r.Label+" p50", runColours[i], true, func(s Sample) time.Duration { return s.P50 })
		add(r.Label+" p99", runColours[i], false, func(s Sample) time.Duration { return s.P99 })
		if r.Config.Probes > 0 {
			add(r.Label+" well-behaved p50", probeColours[i], true, func(s Sample) time.Duration { return s.ProbeP50 })
			add(r.Label+" well-behaved p99", probeColours[i], false, func(s Sample) time.Duration { return s.ProbeP99 })
		}
		c.Bands = append(c.Bands, measuredBand(r))
	}
	return c
}

// distChart draws each latency distribution as the share of deliveries per
// bin, four bins an octave, on a log scale of latency.
func distChart(runs []*Result) chart {
	c := chart{Title: "Latency distribution in the measured window: share of deliveries per bin (4 bins an octave)",
		XLabel: "latency, ms", XLog: true, XFormat: msTick, YFormat: percent}
	for i, r := range runs {
		add := func(name, colour string, l Latency, dist []Bucket) {
			if l.Count == 0 {
				return
			}
			s := series{Name: fmt.Sprintf("%s (p50 %s, p99 %s)", name, ms(l.P50), ms(l.P99)), Colour: colour, Step: true}
			bins := map[int]uint64{}
			lo, hi := math.MaxInt, math.MinInt
			for _, b := range dist {
				k := int(math.Floor(4 * math.Log2(math.Max(float64(b.Value), 1)/1e6)))
				bins[k] += b.Count
				lo, hi = min(lo, k), max(hi, k)
			}
			for k := lo; k <= hi+1; k++ {
				from := math.Exp2(float64(k) / 4)
				share := float64(bins[k]) / float64(l.Count)
				s.Points = append(s.Points, point{from, share,
					fmt.Sprintf("%s: %.1f%% of deliveries in %s to %s ms", name, 100*share, msNum(from), msNum(math.Exp2(float64(k+1)/4)))})
			}
			c.Series = append(c.Series, s)
		}
		add(r.Label, runColours[i], r.Latency, r.LatencyDist)
		add(r.Label+" well-behaved", probeColours[i], r.ProbeLatency, r.ProbeDist)
	}
	return c
}

// loadSamples returns the samples from the start of the load on.
func loadSamples(r *Result) []Sample {
	var out []Sample
	for _, s := range r.Samples {
		if s.At >= r.LoadStart && (s.Phase == "warmup" || s.Phase == "load" || s.Phase == "drain") {
			out = append(out, s)
		}
	}
	return out
}

func measuredBand(r *Result) band {
	return band{(r.MeasureStart - r.LoadStart).Seconds(), (r.MeasureEnd - r.LoadStart).Seconds()}
}

func secs(v float64) string    { return trimFloat(v) + "s" }
func msTick(v float64) string  { return msNum(v) }
func percent(v float64) string { return trimFloat(100*v) + "%" }

func msNum(v float64) string {
	switch {
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return trimFloat(math.Round(v*10) / 10)
	}
	return trimFloat(math.Round(v*1000) / 1000)
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// chart is a line chart drawn as inline SVG.
type chart struct {
	Title, XLabel    string
	XLog, YLog       bool
	XFormat, YFormat func(float64) string
	Series           []series
	Bands            []band // x ranges to shade
}

type series struct {
	Name   string
	Colour string
	Dash   bool // dashed line
	Step   bool // a step line (a histogram): each point holds until the next
	Points []point
}

type point struct {
	X, Y float64
	Tip  string // the tooltip
}

type band struct{ From, To float64 }

// Chart geometry, in SVG user units.
const (
	chartW, chartH           = 900, 320
	padL, padR, padT, padB   = 64, 16, 44, 40
	legendLine, legendHeight = 18, 16
)

// svg draws the chart. Points that cannot be drawn (not positive on a log
// axis: an interval with no delivery has no latency) are left out, and the
// line joins their neighbours.
func (c chart) svg() template.HTML {
	legendRows := (len(c.Series) + 1) / 2
	top := padT + legendRows*legendHeight
	height := chartH + legendRows*legendHeight
	plotW, plotH := float64(chartW-padL-padR), float64(height-top-padB)

	ok := func(v float64, log bool) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) && (!log || v > 0) }
	xs, ys := axisRange{log: c.XLog}, axisRange{log: c.YLog}
	for _, s := range c.Series {
		for _, p := range s.Points {
			if ok(p.X, c.XLog) && ok(p.Y, c.YLog) {
				xs.add(p.X)
				ys.add(p.Y)
			}
		}
	}
	if !c.YLog {
		ys.add(0)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`, chartW, height, chartW, height)
	fmt.Fprintf(&b, `<title>%s</title>`, esc(c.Title))
	fmt.Fprintf(&b, `<text class="title" x="%d" y="18">%s</text>`, padL, esc(c.Title))
	for i, s := range c.Series { // legend, two columns
		x, y := padL+(i%2)*(chartW-padL-padR)/2, padT-8+(i/2)*legendHeight
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`, x, y-4, x+legendLine, y-4, s.Colour, dash(s.Dash))
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, x+legendLine+6, y, esc(s.Name))
	}
	if xs.empty() || ys.empty() {
		fmt.Fprintf(&b, `<text x="%d" y="%d">no data</text></svg>`, padL+10, top+20)
		return template.HTML(b.String())
	}
	xs.pad()
	ys.pad()
	px := func(v float64) float64 { return padL + xs.frac(v)*plotW }
	py := func(v float64) float64 { return float64(top) + (1-ys.frac(v))*plotH }

	for _, bd := range c.Bands {
		x0, x1 := px(math.Max(bd.From, xs.lo)), px(math.Min(bd.To, xs.hi))
		if x1 > x0 {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%.1f" fill="#000" fill-opacity="0.04"/>`, x0, top, x1-x0, plotH)
		}
	}
	for _, t := range ys.ticks() {
		y := py(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, esc(c.YFormat(t)))
	}
	for _, t := range xs.ticks() {
		x := px(t)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%.1f"/>`, x, top, x, float64(top)+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, float64(top)+plotH+16, esc(c.XFormat(t)))
	}
	fmt.Fprintf(&b, `<rect class="axis" x="%d" y="%d" width="%.1f" height="%.1f" fill="none"/>`, padL, top, plotW, plotH)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, padL+plotW/2, height-6, esc(c.XLabel))

	for _, s := range c.Series {
		var d strings.Builder
		for _, p := range s.Points {
			if !ok(p.X, c.XLog) || !ok(p.Y, c.YLog) {
				continue
			}
			x, y := px(p.X), py(p.Y)
			switch {
			case d.Len() == 0:
				fmt.Fprintf(&d, "M%.1f %.1f", x, y)
			case s.Step:
				fmt.Fprintf(&d, "H%.1fV%.1f", x, y)
			default:
				fmt.Fprintf(&d, "L%.1f %.1f", x, y)
			}
		}
		if d.Len() > 0 {
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.8"%s/>`, d.String(), s.Colour, dash(s.Dash))
		}
		for _, p := range s.Points {
			if ok(p.X, c.XLog) && ok(p.Y, c.YLog) && !(s.Step && p.Y == 0) {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s</title></circle>`, px(p.X), py(p.Y), s.Colour, esc(p.Tip))
			}
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func dash(on bool) string {
	if on {
		return ` stroke-dasharray="5 4"`
	}
	return ""
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// axisRange is the range of the values on one axis, linear or log.
type axisRange struct {
	log    bool
	lo, hi float64
	n      int
}

func (a *axisRange) add(v float64) {
	if a.n == 0 {
		a.lo, a.hi = v, v
	}
	a.lo, a.hi = math.Min(a.lo, v), math.Max(a.hi, v)
	a.n++
}

func (a *axisRange) empty() bool { return a.n == 0 }

// pad widens the range to round ends (whole decades on a log axis).
func (a *axisRange) pad() {
	if a.log {
		a.lo = math.Pow(10, math.Floor(math.Log10(a.lo)))
		a.hi = math.Pow(10, math.Ceil(math.Log10(a.hi)))
		if a.hi <= a.lo {
			a.hi = a.lo * 10
		}
		return
	}
	if a.hi <= a.lo {
		a.hi = a.lo + 1
	}
	step := niceStep((a.hi - a.lo) / 6)
	a.lo = math.Floor(a.lo/step) * step
	a.hi = math.Ceil(a.hi/step) * step
}

// frac is where v falls in the range, from 0 to 1.
func (a *axisRange) frac(v float64) float64 {
	if a.log {
		return (math.Log10(v) - math.Log10(a.lo)) / (math.Log10(a.hi) - math.Log10(a.lo))
	}
	return (v - a.lo) / (a.hi - a.lo)
}

// ticks returns where the axis is labelled: 1, 2, 5 in each decade on a log
// axis (1 alone past three decades), round steps on a linear one.
func (a *axisRange) ticks() []float64 {
	var t []float64
	if a.log {
		mults := []float64{1, 2, 5}
		if math.Log10(a.hi/a.lo) > 3 {
			mults = []float64{1}
		}
		for d := a.lo; d <= a.hi*1.0001; d *= 10 {
			for _, m := range mults {
				if v := d * m; v <= a.hi*1.0001 {
					t = append(t, v)
				}
			}
		}
		return t
	}
	step := niceStep((a.hi - a.lo) / 6)
	for v := a.lo; v <= a.hi+step/1000; v += step {
		t = append(t, v)
	}
	return t
}

// niceStep rounds a step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}
