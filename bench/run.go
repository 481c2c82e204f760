package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// Run performs one load run against cfg.Addr and returns what it measured.
// It returns an error only when the run could not be made at all (a bad
// Config, no client joined); a run with losses, drops or errors returns a
// Result that says so. When ctx ends, the run stops early, drains briefly
// and returns what it has, with Interrupted set.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := newRun(cfg)
	return r.run(ctx)
}

// run is the state of one Run. Fields set before the goroutines start are
// read-only after; the rest is atomic or owned as commented.
type run struct {
	cfg   Config
	tag   string    // random part of this run's user names
	start time.Time // the clock of the stamps

	clients []atomic.Pointer[client] // by index; set by the client's join worker once it has joined
	senders []*sender                // the first Senders+Probes clients' senders, by sender index

	lat      histogram // latency of the Senders' DATA, recorded by reader goroutines
	probeLat histogram // latency of the probes' DATA, recorded by reader goroutines
	joinLat  histogram // dial to J_OK, recorded by join workers
	addrs    []string  // the servers: client i joins addrs[i%len(addrs)]
	nodes    []nodeLat // per address when there are several, else nil

	phase   atomic.Pointer[string]
	joined  atomic.Int64
	drops   atomic.Int64
	nonData atomic.Int64 // frames other than DATA: the settle detector watches it
	lists   atomic.Int64
	// lastLongList is the newest long LIST any client kept, so that
	// clients holding the same LIST share one string.
	lastLongList atomic.Pointer[string]
	errs         errCounters
	closing      atomic.Bool   // set before the run closes its own connections
	stopSend     chan struct{} // closed to stop the senders
	obsGone      chan struct{} // closed when the observer is dropped
	obsOnce      sync.Once

	readers sync.WaitGroup // one per connected client
}

type errCounters struct {
	serverErrors, rejected, parse, longFrames, foreign, unexpected, write, read atomic.Int64
}

func (e *errCounters) load() Errors {
	return Errors{
		ServerErrors: e.serverErrors.Load(), Rejected: e.rejected.Load(), Parse: e.parse.Load(),
		LongFrames: e.longFrames.Load(), Foreign: e.foreign.Load(), Unexpected: e.unexpected.Load(),
		Write: e.write.Load(), Read: e.read.Load(),
	}
}

func newRun(cfg Config) *run {
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	tag := make([]byte, 4)
	for i := range tag {
		tag[i] = alnum[rand.IntN(len(alnum))]
	}
	r := &run{
		cfg:      cfg,
		tag:      string(tag),
		clients:  make([]atomic.Pointer[client], cfg.Clients),
		senders:  make([]*sender, cfg.Senders+cfg.Probes),
		stopSend: make(chan struct{}),
		obsGone:  make(chan struct{}),
	}
	for i := range r.senders {
		s := &sender{index: i, name: r.name(i), rate: cfg.Rate, wake: make(chan struct{}, 1), imavDue: make(chan struct{}, 1)}
		if i >= cfg.Senders {
			s.probe, s.rate = true, cfg.ProbeRate
		}
		r.senders[i] = s
	}
	r.addrs = cfg.Addrs()
	if len(r.addrs) > 1 {
		r.nodes = make([]nodeLat, len(r.addrs))
	}
	r.setPhase("join")
	return r
}

func (r *run) setPhase(p string) {
	r.phase.Store(&p)
	if r.cfg.Phase != nil {
		r.cfg.Phase(p)
	}
}

func (r *run) name(i int) string { return "c" + r.tag + "_" + strconv.Itoa(i) }

func (r *run) run(ctx context.Context) (*Result, error) {
	cfg := r.cfg
	res := &Result{Label: cfg.Addr, Config: cfg, Framing: cfg.Framing.String()}
	r.start = time.Now()
	res.RSSBefore = r.rss()

	// The sampler reports progress and records samples until the run ends.
	samplerDone := make(chan struct{})
	samplerStop := make(chan struct{})
	var samples []Sample
	var rssPeak int64
	go func() {
		defer close(samplerDone)
		samples, rssPeak = r.sample(samplerStop)
	}()

	// Heartbeats, from the first join until the run ends: a slow join
	// phase must not let the server time the first clients out.
	hbStop := make(chan struct{})
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		r.heartbeat(hbStop)
	}()
	defer func() {
		close(hbStop)
		<-hbDone
	}()

	// Join.
	joinStart := time.Now()
	joinErr := r.joinAll(ctx)
	res.JoinTime = time.Since(joinStart)
	res.Joined = int(r.joined.Load())
	res.JoinFailed = cfg.Clients - res.Joined
	if joinErr != nil {
		res.JoinError = joinErr.Error()
	}
	if res.JoinTime > 0 {
		res.JoinsPerSec = float64(res.Joined) / res.JoinTime.Seconds()
	}
	res.JoinLatency = r.joinLat.snapshot().latency()
	defer r.closeAll()
	if res.Joined == 0 {
		close(samplerStop)
		<-samplerDone
		if joinErr == nil {
			joinErr = ctx.Err()
		}
		return nil, fmt.Errorf("bench: no client joined %s: %w", cfg.Addr, joinErr)
	}

	// Settle: wait for the LIST storm to end.
	r.setPhase("settle")
	settleStart := time.Now()
	res.SettleTime = max(0, r.settle(ctx).Sub(settleStart))
	if cfg.Idle > 0 {
		r.setPhase("idle")
		wait(ctx, cfg.Idle)
	}
	res.RSSJoined = r.rss()
	if res.RSSJoined > 0 && res.RSSBefore > 0 {
		res.RSSPerClient = (res.RSSJoined - res.RSSBefore) / int64(res.Joined)
	}

	// Load.
	r.load(ctx, res)

	// Drain.
	r.setPhase("drain")
	r.drain(ctx, res)
	res.RSSEnd = r.rss()
	res.Interrupted = ctx.Err() != nil
	if res.Interrupted {
		res.Notes = append(res.Notes, "interrupted: the figures cover the part that ran")
	}
	if res.JoinFailed > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d joins failed; the first: %s", res.JoinFailed, res.JoinError))
	}

	close(samplerStop)
	<-samplerDone
	res.Samples = samples
	res.RSSPeak = max(rssPeak, res.RSSJoined, res.RSSEnd)
	res.Drops = int(r.drops.Load())
	res.Lists = r.lists.Load()
	r.checkLists(res)
	res.Errors = r.errs.load()
	return res, nil
}

// checkLists counts the clients whose newest LIST names every joined
// client. Long LISTs were kept unparsed (see client.read); each distinct
// one is parsed once here.
func (r *run) checkLists(res *Result) {
	res.ListsComplete, res.ListsUnknown, _ = r.listState(make(map[*string]int), res.Joined)
}

// listState counts the joined clients whose newest LIST names at least want
// users, those whose newest LIST was too long to read, and those that have
// had no LIST. Long LISTs are parsed here, once per distinct string: cache
// maps each to its number of names (strings never change, so a cache may
// be kept across calls).
func (r *run) listState(cache map[*string]int, want int) (complete, unknown, none int) {
	for i := range r.clients {
		c := r.clients[i].Load()
		if c == nil {
			continue
		}
		n := int(c.lastList.Load())
		if n == listRaw {
			raw := c.lastRaw.Load()
			var ok bool
			if n, ok = cache[raw]; !ok {
				m, err := protocol.Parse(*raw)
				n = len(m.Names)
				if err != nil || m.Kind != protocol.KindList {
					r.errs.parse.Add(1)
					n = 0
				}
				cache[raw] = n
			}
		}
		switch {
		case n == listTooLong:
			unknown++
		case n == listNone:
			none++
		case n >= want:
			complete++
		}
	}
	return complete, unknown, none
}

// joinAll connects and joins every client, at most JoinConcurrency at once
// and at most JoinRate per second. It returns the first failure.
func (r *run) joinAll(ctx context.Context) error {
	cfg := r.cfg
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		firstMu  sync.Mutex
		firstErr error // guarded by firstMu
	)
	for range min(cfg.JoinConcurrency, cfg.Clients) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := r.join(ctx, i); err != nil {
					firstMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					firstMu.Unlock()
				}
			}
		}()
	}
	var tick *time.Ticker
	if cfg.JoinRate > 0 {
		tick = time.NewTicker(time.Duration(float64(time.Second) / cfg.JoinRate))
		defer tick.Stop()
	}
feed:
	for i := range cfg.Clients {
		if tick != nil && i > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
				break feed
			}
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return firstErr
}

// join dials client i, sends JOIN and waits for the verdict. On success the
// client is left running; on failure it is closed.
func (r *run) join(ctx context.Context, i int) error {
	cfg := r.cfg
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.JoinTimeout)
	defer cancel()
	var d net.Dialer
	node := i % len(r.addrs)
	conn, err := d.DialContext(ctx, "tcp", r.addrs[node])
	if err != nil {
		return fmt.Errorf("client %d: %w", i, err)
	}
	c := &client{
		r:       r,
		index:   i,
		node:    node,
		name:    r.name(i),
		conn:    conn,
		verdict: make(chan error, 1),
		gone:    make(chan struct{}),
	}
	c.lastList.Store(listNone)
	if i < len(r.senders) {
		c.send = r.senders[i]
	}
	if len(r.senders) > 0 && len(r.senders)*cfg.Clients <= maxOrderSlots {
		c.next = make([]atomic.Uint32, len(r.senders))
	}
	r.readers.Add(1)
	go c.read()
	join, err := cfg.Framing.AppendMessage(nil, protocol.Join(c.name, r.addrs[node]))
	if err == nil {
		_, err = conn.Write(join)
	}
	if err == nil {
		select {
		case err = <-c.verdict:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		conn.Close()
		return fmt.Errorf("join %s (client %d): %w", c.name, i, err)
	}
	c.member.Store(true)
	r.clients[i].Store(c)
	r.joined.Add(1)
	r.joinLat.record(i, time.Since(t0))
	return nil
}

// settle waits for the end of the LIST storm of the joins and returns when
// it ended: once every joined client's newest LIST names every joined
// client or, when that cannot be told (no LIST at all, or LISTs too long to
// read), once no client has received a non-DATA frame for cfg.Settle. A
// server that paces its LISTs may pause longer than that between rounds,
// hence the first rule; for a server whose LISTs never name everyone, a
// quiet time of ten times cfg.Settle (at least 10s) ends it too, and a
// minute in all.
func (r *run) settle(ctx context.Context) time.Time {
	if r.cfg.Settle < 0 {
		return time.Now()
	}
	const poll = 20 * time.Millisecond
	longQuiet := max(10*r.cfg.Settle, 10*time.Second)
	joined := int(r.joined.Load())
	cache := make(map[*string]int)
	deadline := time.Now().Add(time.Minute)
	last, quietSince := r.nonData.Load(), time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		wait(ctx, poll)
		complete, unknown, none := r.listState(cache, joined)
		if complete == joined {
			return time.Now()
		}
		n, quiet := r.nonData.Load(), time.Since(quietSince)
		switch {
		case n != last:
			last, quietSince = n, time.Now()
		case quiet >= r.cfg.Settle && (unknown > 0 || none == joined), quiet >= longQuiet:
			return quietSince
		}
	}
	return time.Now()
}

// load starts the senders, measures the Duration after the Warmup and
// stops the senders.
func (r *run) load(ctx context.Context, res *Result) {
	cfg := r.cfg
	if len(r.senders) == 0 {
		r.setPhase("load")
		wait(ctx, cfg.Warmup+cfg.Duration)
		return
	}
	// The observer is the last client that joined: servers usually write
	// to it last. With Echo, each sender is its own observer.
	for i := len(r.clients) - 1; i >= 0 && !cfg.Echo; i-- {
		if c := r.clients[i].Load(); c != nil {
			c.observer.Store(true)
			break
		}
	}
	h0, p0, d0, s0, t0 := r.lat.snapshot(), r.probeLat.snapshot(), r.delivered(), r.sent(), time.Now()
	n0 := r.nodeMarks()
	c0 := processCPU()
	loadStart := t0
	res.LoadStart = t0.Sub(r.start)
	warmup := cfg.Warmup > 0 && cfg.Messages <= 0
	if warmup {
		r.setPhase("warmup")
	} else {
		r.setPhase("load")
	}
	var wg sync.WaitGroup
	for _, s := range r.senders {
		c := r.clients[s.index].Load()
		if c == nil {
			continue // did not join
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(r, c, loadStart)
		}()
	}
	allDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(allDone)
	}()
	if warmup {
		select {
		case <-time.After(cfg.Warmup):
		case <-ctx.Done():
		case <-allDone:
		}
		h0, p0, d0, s0, t0 = r.lat.snapshot(), r.probeLat.snapshot(), r.delivered(), r.sent(), time.Now()
		n0 = r.nodeMarks()
		r.setPhase("load")
		c0 = processCPU()
	}
	res.MeasureStart = t0.Sub(r.start)
	var limit <-chan time.Time
	if cfg.Messages <= 0 {
		limit = time.After(cfg.Duration)
	}
	select {
	case <-limit:
	case <-ctx.Done():
	case <-r.obsGone:
		res.Notes = append(res.Notes, "the server dropped the observer client, so sending stopped early")
	case <-allDone:
	}
	// With Messages set, the window ends when the last message is
	// delivered; the drain waits for that, so measure after it instead.
	measure := func() {
		h1, p1, d1, s1, t1 := r.lat.snapshot(), r.probeLat.snapshot(), r.delivered(), r.sent(), time.Now()
		r.fillLoad(res, h1.sub(h0), p1.sub(p0), d1-d0, s1-s0, t1.Sub(t0))
		r.fillNodes(res, n0, t1.Sub(t0))
		res.MeasureEnd = t1.Sub(r.start)
		if c0 > 0 {
			res.CPU = processCPU() - c0
		}
	}
	if cfg.Messages <= 0 {
		measure()
	}
	close(r.stopSend)
	wg.Wait()
	if cfg.Messages > 0 {
		r.drainWait(ctx)
		measure()
	}
}

func (r *run) fillLoad(res *Result, h, probe *histSnapshot, delivered, sent int64, window time.Duration) {
	res.Window = window
	res.Delivered = delivered
	res.Latency = h.latency()
	res.LatencyDist = h.buckets()
	if len(r.senders) > r.cfg.Senders {
		res.ProbeLatency = probe.latency()
		res.ProbeDist = probe.buckets()
	}
	if window > 0 {
		res.DeliveriesPerSec = float64(delivered) / window.Seconds()
		res.SentPerSec = float64(sent) / window.Seconds()
	}
}

// drain waits for the messages in flight (unless load did, with Messages)
// and counts what is lost.
func (r *run) drain(ctx context.Context, res *Result) {
	if r.cfg.Messages <= 0 || len(r.senders) == 0 {
		r.drainWait(ctx)
	}
	res.Sent = r.sent()
	expected := r.expected()
	for i := range r.clients {
		c := r.clients[i].Load()
		if c != nil && c.dropped.Load() {
			if c.send != nil {
				res.SendersDropped++
			} else {
				res.ReadersDropped++
			}
		}
		if c == nil || c.dropped.Load() {
			continue
		}
		got := c.received.Load()
		res.Expected += expected
		res.Received += got
		res.Lost += max(0, expected-got)
		res.Duplicated += max(0, got-expected)
		res.OutOfOrder += c.late.Load()
	}
}

// drainWait returns when every live client has received every message
// sent, or when no delivery has happened for cfg.Drain.
func (r *run) drainWait(ctx context.Context) {
	const poll = 5 * time.Millisecond
	last, lastChange := int64(-1), time.Now()
	for {
		missing, got := r.missing()
		if missing == 0 {
			return
		}
		if got != last {
			last, lastChange = got, time.Now()
		} else if time.Since(lastChange) >= r.cfg.Drain {
			return
		}
		if ctx.Err() != nil && time.Since(lastChange) >= 100*time.Millisecond {
			return
		}
		time.Sleep(poll)
	}
}

// expected returns the deliveries due to each live client: every message
// sent, less those the server refused (J_ER) and those a dropped sender
// wrote that the server never relayed. For a dropped sender, what counts as
// sent is the most of its messages any live client saw (by sequence), or
// without the order check what the observer received.
func (r *run) expected() int64 {
	var n int64
	for _, s := range r.senders {
		c := r.clients[s.index].Load()
		if c == nil || !c.dropped.Load() {
			n += s.sent.Load()
			continue
		}
		seen := s.acked.Load()
		for i := range r.clients {
			if o := r.clients[i].Load(); o != nil && o.next != nil && !o.dropped.Load() {
				seen = max(seen, int64(o.next[s.index].Load()))
			}
		}
		n += seen
	}
	return n - r.errs.rejected.Load()
}

// gapped returns the messages that live clients saw skipped in a sender's
// sequence and that have not arrived since: lost so far, as far as the
// clients can tell while the load goes on.
func (r *run) gapped() int64 {
	var n int64
	for i := range r.clients {
		if c := r.clients[i].Load(); c != nil && !c.dropped.Load() {
			n += max(0, c.gaps.Load()-c.late.Load())
		}
	}
	return n
}

// missing returns the deliveries still due to live clients, and the total
// received so far.
func (r *run) missing() (missing, received int64) {
	expected := r.expected()
	for i := range r.clients {
		c := r.clients[i].Load()
		if c == nil || c.dropped.Load() {
			continue
		}
		got := c.received.Load()
		received += got
		missing += max(0, expected-got)
	}
	return missing, received
}

func (r *run) delivered() int64 {
	var n int64
	for i := range r.clients {
		if c := r.clients[i].Load(); c != nil {
			n += c.received.Load()
		}
	}
	return n
}

func (r *run) sent() int64 {
	var n int64
	for _, s := range r.senders {
		n += s.sent.Load()
	}
	return n
}

// heartbeat sends IMAV from every client once per cfg.Heartbeat, spread
// over the interval, until stop is closed.
func (r *run) heartbeat(stop <-chan struct{}) {
	if r.cfg.Heartbeat < 0 {
		return
	}
	hb := r.cfg.Heartbeat
	tick := max(hb/100, time.Millisecond)
	per := int((int64(len(r.clients))*int64(tick) + int64(hb) - 1) / int64(hb)) // clients per tick
	imav, _ := r.cfg.Framing.AppendMessage(nil, protocol.Alive())
	t := time.NewTicker(tick)
	defer t.Stop()
	for i := 0; ; {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		for range per {
			switch c := r.clients[i].Load(); {
			case c == nil || c.dropped.Load():
			case c.send != nil && c.send.running.Load():
				// A sender's writes may block while the server paces
				// it: its own goroutine sends the IMAV, not this one,
				// which every client's heartbeat waits on.
				c.send.heartbeat()
			default:
				if _, err := c.conn.Write(imav); err != nil && !r.closing.Load() {
					r.errs.write.Add(1)
				}
			}
			i = (i + 1) % len(r.clients)
		}
	}
}

// sample records a Sample every Interval until stop is closed, passing each
// to cfg.Progress. It returns the samples and the largest RSS seen.
func (r *run) sample(stop <-chan struct{}) ([]Sample, int64) {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	var (
		samples []Sample
		peak    int64
	)
	prevH, prevP, prevD, prevS, prevT := r.lat.snapshot(), r.probeLat.snapshot(), int64(0), int64(0), time.Now()
	for {
		select {
		case <-stop:
			return samples, peak
		case <-t.C:
		}
		h, p, d, s, now := r.lat.snapshot(), r.probeLat.snapshot(), r.delivered(), r.sent(), time.Now()
		dt := now.Sub(prevT).Seconds()
		hs, ps := h.sub(prevH), p.sub(prevP)
		missing, _ := r.missing()
		smp := Sample{
			At:               now.Sub(r.start),
			Phase:            *r.phase.Load(),
			Joined:           int(r.joined.Load()),
			SentPerSec:       float64(s-prevS) / dt,
			DeliveriesPerSec: float64(d-prevD) / dt,
			P50:              hs.quantile(0.5),
			P99:              hs.quantile(0.99),
			ProbeP50:         ps.quantile(0.5),
			ProbeP99:         ps.quantile(0.99),
			InFlight:         missing,
			Missing:          r.gapped(),
			Drops:            int(r.drops.Load()),
			Errors:           r.errs.load().total(),
			RSS:              r.rss(),
		}
		peak = max(peak, smp.RSS)
		samples = append(samples, smp)
		prevH, prevP, prevD, prevS, prevT = h, p, d, s, now
		if r.cfg.Progress != nil {
			r.cfg.Progress(Progress{Sample: smp, Clients: r.cfg.Clients})
		}
	}
}

// closeAll sends QUIT from every client, closes the connections and waits
// for the reader goroutines.
func (r *run) closeAll() {
	r.closing.Store(true)
	quit, _ := r.cfg.Framing.AppendMessage(nil, protocol.Quit())
	for i := range r.clients {
		c := r.clients[i].Load()
		if c == nil {
			continue
		}
		c.conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		c.conn.Write(quit)
		c.conn.Close()
	}
	r.readers.Wait()
}

func (r *run) rss() int64 {
	if r.cfg.PID <= 0 {
		return 0
	}
	n, err := ReadRSS(r.cfg.PID)
	if err != nil {
		return 0
	}
	return n
}

// wait sleeps for d or until ctx ends.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
