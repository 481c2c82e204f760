package engine

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// progress writes what a long run is doing: a line for each announcement,
// and while something is waited for, a line every interval (or one live
// line on a terminal, rewritten every second) saying what and how long.
type progress struct {
	w     io.Writer // nil: discard
	live  bool
	every time.Duration
	start time.Time
	count func() (done, total int) // how far the run is; nil before it starts

	mu     sync.Mutex
	waits  map[int]*waiting // guarded by mu: the waits under way, by id
	nextID int              // guarded by mu
	shown  bool             // guarded by mu: a live line is on screen

	quit chan struct{}
	done chan struct{} // closed when the ticker goroutine returns
}

// waiting is one announced wait.
type waiting struct {
	scenario, what string
	total          time.Duration
	since          time.Time
}

func newProgress(w io.Writer, live bool, every time.Duration, start time.Time, count func() (done, total int)) *progress {
	if every <= 0 {
		every = 10 * time.Second
	}
	p := &progress{w: w, live: live, every: every, start: start, count: count, waits: make(map[int]*waiting), quit: make(chan struct{}), done: make(chan struct{})}
	if w == nil {
		close(p.done)
		return p
	}
	tick := every
	if live {
		tick = time.Second
	}
	go p.loop(tick)
	return p
}

// loop writes the state of the waits every tick, until stop.
func (p *progress) loop(tick time.Duration) {
	defer close(p.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			p.mu.Lock()
			p.clearLocked()
			p.mu.Unlock()
			return
		case <-t.C:
			p.mu.Lock()
			p.showLocked()
			p.mu.Unlock()
		}
	}
}

// showLocked writes the longest wait under way, and how many others run.
func (p *progress) showLocked() {
	if len(p.waits) == 0 {
		// No long wait: say how far the run is, once it has been going a
		// while.
		if p.count == nil || time.Since(p.start) < p.every {
			p.clearLocked()
			return
		}
		done, total := p.count()
		p.writeLocked(fmt.Sprintf("+%s graded %d of %d scenarios", round(time.Since(p.start)), done, total))
		return
	}
	ws := make([]*waiting, 0, len(p.waits))
	for _, w := range p.waits {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].total-time.Since(ws[i].since) > ws[j].total-time.Since(ws[j].since) })
	w := ws[0]
	line := fmt.Sprintf("+%s waiting for %s: %s of at most %s (%s)",
		round(time.Since(p.start)), w.what, round(time.Since(w.since)), round(w.total), w.scenario)
	if len(ws) > 1 {
		line += fmt.Sprintf("; %d other wait(s)", len(ws)-1)
	}
	p.writeLocked(line)
}

// writeLocked shows line: rewritten in place on a terminal, else as a line
// of its own.
func (p *progress) writeLocked(line string) {
	if p.live {
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
		p.shown = true
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) clearLocked() {
	if p.live && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// linef writes one line now.
func (p *progress) linef(format string, args ...any) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	fmt.Fprintf(p.w, "+%s %s\n", round(time.Since(p.start)), fmt.Sprintf(format, args...))
}

// wait announces a wait; the returned func ends it. Waits shorter than a
// few seconds never show: the first line comes after one tick.
func (p *progress) wait(scenario, what string, total time.Duration) func() {
	if p.w == nil {
		return func() {}
	}
	p.mu.Lock()
	id := p.nextID
	p.nextID++
	p.waits[id] = &waiting{scenario: scenario, what: what, total: total, since: time.Now()}
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		delete(p.waits, id)
		p.mu.Unlock()
	}
}

// stop ends the ticker goroutine and waits for it.
func (p *progress) stop() {
	select {
	case <-p.quit:
	default:
		close(p.quit)
	}
	<-p.done
}

func round(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}
