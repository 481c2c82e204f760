package classroom

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/grade"
	"github.com/chatspec/chatspec/report"
)

// job is one student's grading, as the class run hands it to the process
// that does it.
type job struct {
	Student Student `json:"student"`
	// Isolation is where the process runs (Result.Isolation); with
	// IsolationNamespace it brings the namespace's loopback up first.
	Isolation string `json:"isolation"`
	// Cgroup is the student's memory cgroup folder ("" for none).
	Cgroup string `json:"cgroup,omitempty"`
	// Deadline ends the student's grading, build and start included.
	Deadline time.Time `json:"deadline"`
	// ProgressEvery is how often a progress line says what a long wait
	// is at (engine.Options.ProgressEvery): every second when the class
	// run shows a live line, else zero (every 10s).
	ProgressEvery time.Duration `json:"progress_every,omitempty"`
}

// Restarts of a crashed server are bounded: a server that dies at every
// scenario is not restarted forever.
const maxRestarts = 5

// endGrace is how long a server that stopped answering is given to be
// seen ending by itself, before it is taken for hung and killed.
const endGrace = time.Second

// outputLines is how many of a server's last lines a crash keeps.
const outputLines = 20

// gradeStudent builds, starts and grades one student's server, writing
// progress lines to progress, and returns the result. It runs in the
// student's own process (in its namespace, if any).
func gradeStudent(ctx context.Context, j job, progress io.Writer) *Result {
	s := &j.Student
	res := problemResult(s, j.Isolation, nil)
	if j.Cgroup != "" {
		res.Memory = s.Memory
	}
	defer func() { res.Elapsed = time.Since(res.Started) }()
	ctx, cancel := context.WithDeadline(ctx, j.Deadline)
	defer cancel()
	say := func(format string, args ...any) { fmt.Fprintf(progress, format+"\n", args...) }

	if j.Isolation == IsolationNamespace {
		if err := bringLoopbackUp(); err != nil {
			res.Problem = &Problem{Stage: "internal", What: err.Error()}
			return res
		}
	}
	addr := s.Addr
	env := childEnv()
	var srv *server
	if s.Server != "" {
		if s.Build != "" {
			say("building: %s", s.Build)
			if p := build(ctx, s, j.Cgroup, env, res); p != nil {
				res.Problem = p
				return res
			}
			say("built in %s", res.Build.Elapsed.Round(100*time.Millisecond))
		}
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
		res.Addr = addr
		srv = &server{student: s, cgroup: j.Cgroup, env: env, out: newOutput(), started: time.Now(), isolated: j.Isolation == IsolationNamespace}
		res.Server = &Command{Command: s.Server}
		defer func() {
			srv.stop()
			res.Server.Output, res.Server.Bytes = srv.out.Text(), srv.out.Len()
			res.Server.Elapsed = time.Since(srv.started)
			res.Crashes = srv.crashList()
		}()
		say("starting the server: %s", s.Server)
		if p := srv.start(ctx); p != nil {
			res.Problem = p
			return res
		}
		say("listening on port %d after %s", s.Port, time.Since(srv.started).Round(100*time.Millisecond))
	}

	var g grade.Flags
	fs := flag.NewFlagSet("chatgrade", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.Register(fs)
	args := slices.Concat(s.Flags, []string{"-addr=" + addr, "-timeout=" + time.Until(j.Deadline).Truncate(time.Second).String()})
	if err := fs.Parse(args); err != nil {
		res.Problem = &Problem{Stage: "roster", What: err.Error()}
		return res
	}
	plan, err := g.Plan()
	if err != nil {
		res.Problem = &Problem{Stage: "time", What: err.Error(),
			Hint: "Raise time_limit in the roster, or shorten build_timeout."}
		return res
	}
	plan.Options.Progress, plan.Options.ProgressEvery = progress, j.ProgressEvery
	if srv != nil {
		plan.Options.Revive = srv.revive
		plan.Wrap = func(t engine.Target) engine.Target { return &watched{Target: t, srv: srv} }
	}
	rep, err := plan.Run(ctx)
	res.Report = rep
	if err != nil {
		res.Problem = &Problem{Stage: "grade", What: err.Error()}
	}
	return res
}

// build runs the student's build command; it returns the problem if it
// failed.
func build(ctx context.Context, s *Student, cgroup string, env []string, res *Result) *Problem {
	bctx, cancel := context.WithTimeout(ctx, s.BuildTimeout)
	defer cancel()
	out := newOutput()
	start := time.Now()
	err := runProc(bctx, s.Dir, s.Build, cgroup, env, out)
	res.Build = &Command{Command: s.Build, Elapsed: time.Since(start), Output: out.Text(), Bytes: out.Len()}
	switch {
	case err == nil:
		res.Build.Exit = "exit status 0"
		return nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		res.Build.Exit = "killed"
		return &Problem{Stage: "build", What: fmt.Sprintf("the build did not end within build_timeout (%s): it was killed", s.BuildTimeout),
			Hint: "A build that waits for input or for the network never ends here: the hand-in has no network.", Output: out.Last(outputLines)}
	case ctx.Err() != nil:
		res.Build.Exit = "killed"
		return &Problem{Stage: "time", What: "the student's time limit ran out during the build", Output: out.Last(outputLines)}
	}
	res.Build.Exit = exitText(err)
	return &Problem{Stage: "build", What: "the build failed (" + res.Build.Exit + ")",
		Hint: "Run the build command in the student's folder to see it fail; the end of its output is below.", Output: out.Last(outputLines)}
}

// exitText says how a command ended, from the error of its Wait.
func exitText(err error) string {
	var ee interface{ ExitCode() int }
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return fmt.Sprintf("exit status %d", ee.ExitCode())
	}
	return err.Error()
}

// server is a student's started server: the running process, its output
// across restarts, and its crashes. The engine's goroutines call it (the
// watched target's hooks, Revive); mu guards what they share.
type server struct {
	student  *Student
	cgroup   string
	env      []string
	out      *output
	started  time.Time
	isolated bool // in a namespace of its own: every listener there is its own

	watchers sync.WaitGroup // one per process: wait for it to end

	mu       sync.Mutex
	p        *proc          // guarded by mu: the running process
	running  map[string]int // guarded by mu: scenarios under way, by name
	last     string         // guarded by mu: the scenario that ended last
	crashes  []Crash        // guarded by mu
	restarts int            // guarded by mu
	stopped  bool           // guarded by mu: stop has run; deaths are ours
}

// start starts the server and waits until it listens on its port; it
// returns the problem if it does not.
func (sv *server) start(ctx context.Context) *Problem {
	port := sv.student.Port
	if taken, err := listening(port); err == nil && taken && !sv.awaitFree(ctx) {
		hint := "Something else on this machine listens on that port; chatgrade would grade it instead of the student's server. Stop it, or run the class with isolation (Linux, namespaces)."
		if sv.isolated {
			hint = "In the student's own network namespace only the build can have left it running: a build that starts a server (or a daemon) keeps the port."
		}
		return &Problem{Stage: "start", What: fmt.Sprintf("port %d is already taken before the server starts", port), Hint: hint}
	}
	p, err := startProc(sv.student.Dir, sv.student.Server, sv.cgroup, sv.env, sv.out)
	if err != nil {
		return &Problem{Stage: "start", What: err.Error()}
	}
	if prob := sv.awaitListening(ctx, p); prob != nil {
		p.stop() // its end is not a crash: the start failed
		prob.Output = sv.out.Last(outputLines)
		return prob
	}
	// From now on its end is a crash.
	sv.mu.Lock()
	sv.p = p
	sv.mu.Unlock()
	sv.watchers.Add(1)
	go sv.watch(p)
	return nil
}

// awaitFree waits a little for the port to be free again, after a
// restart: the killed server's processes may take a moment to close
// their sockets. It reports whether the port is free; it waits only
// after a restart.
func (sv *server) awaitFree(ctx context.Context) bool {
	sv.mu.Lock()
	restarted := sv.restarts > 0
	sv.mu.Unlock()
	if !restarted {
		return false
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for range 100 {
		if up, err := listening(sv.student.Port); err != nil || !up {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return false
}

// awaitListening waits until the server listens on its port, it exits,
// StartTimeout passes or ctx ends.
func (sv *server) awaitListening(ctx context.Context, p *proc) *Problem {
	port := sv.student.Port
	deadline := time.NewTimer(sv.student.StartTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if up, err := listening(port); err != nil {
			return &Problem{Stage: "internal", What: err.Error()}
		} else if up {
			return nil
		}
		select {
		case <-p.done:
			return &Problem{Stage: "start", What: fmt.Sprintf("the server exited (%s) before it listened on port %d", p.exitText(), port),
				Hint: "The end of its output is below: an exception, a missing class, a port it could not bind?"}
		case <-deadline.C:
			prob := &Problem{Stage: "start", What: fmt.Sprintf("the server did not listen on port %d within start_timeout (%s)", port, sv.student.StartTimeout),
				Hint: "Check port in the roster: it must be the port the server listens on. A server that reads its port from standard input gets none here."}
			if sv.isolated {
				if ls, err := listeners(); err == nil && len(ls) > 0 {
					ports := make([]string, 0, len(ls))
					for p := range ls {
						ports = append(ports, strconv.Itoa(p))
					}
					slices.Sort(ports)
					prob.Hint = fmt.Sprintf("It listens on %s instead: set port to that in the roster.", strings.Join(ports, ", "))
				}
			}
			return prob
		case <-ctx.Done():
			return &Problem{Stage: "time", What: fmt.Sprintf("the student's time limit ran out while waiting for the server to listen on port %d", port)}
		case <-tick.C:
		}
	}
}

// watch waits for process p to end and records a crash if it was not
// ours to end.
func (sv *server) watch(p *proc) {
	defer sv.watchers.Done()
	<-p.done
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.stopped || sv.p != p {
		return
	}
	sv.crashes = append(sv.crashes, Crash{
		At: time.Since(sv.started), During: sv.duringLocked(), Exit: p.exitText(),
		OOM: sv.oomLocked(), Output: sv.out.Last(outputLines),
	})
	sv.p = nil
}

// duringLocked names the scenarios under way, or the one that ended
// last.
func (sv *server) duringLocked() []string {
	if len(sv.running) == 0 {
		if sv.last == "" {
			return nil
		}
		return []string{sv.last}
	}
	names := make([]string, 0, len(sv.running))
	for n := range sv.running {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// oomLocked reports whether the kernel killed a process of the student
// for going over the memory limit since the last crash put down to it.
func (sv *server) oomLocked() bool {
	if sv.cgroup == "" {
		return false
	}
	seen := 0
	for _, c := range sv.crashes {
		if c.OOM {
			seen++
		}
	}
	return oomKills(sv.cgroup) > seen
}

// revive is the engine's Options.Revive: the server stopped answering.
// If its process still runs (hung), that is recorded as the crash; the
// process group is killed and the server started again.
func (sv *server) revive(ctx context.Context) error {
	sv.mu.Lock()
	if sv.restarts >= maxRestarts {
		sv.mu.Unlock()
		return fmt.Errorf("it was restarted %d times already", maxRestarts)
	}
	sv.restarts++
	old := sv.p
	sv.mu.Unlock()
	if old != nil {
		// Its watcher has not seen it end: it is ending just now (its
		// port closes a moment before it has been waited for), or it
		// still runs but answers no more.
		t := time.NewTimer(endGrace)
		select {
		case <-old.done:
		case <-t.C:
		}
		t.Stop()
	}
	sv.mu.Lock()
	old = sv.p
	if old != nil {
		exit := "it still ran but had stopped answering: killed"
		select {
		case <-old.done:
			exit = old.exitText()
		default:
		}
		sv.crashes = append(sv.crashes, Crash{At: time.Since(sv.started), During: sv.duringLocked(),
			Exit: exit, Output: sv.out.Last(outputLines), OOM: sv.oomLocked()})
		sv.p = nil
	} else if n := len(sv.crashes); n == 0 || sv.crashes[n-1].Restarted {
		sv.crashes = append(sv.crashes, Crash{At: time.Since(sv.started), During: sv.duringLocked(), Exit: "it had stopped answering"})
	}
	crash := len(sv.crashes) - 1
	sv.mu.Unlock()
	if old != nil {
		old.stop()
	}
	fmt.Fprintf(sv.out, "\n----- chatgrade: the server stopped answering; starting it again -----\n")
	if prob := sv.start(ctx); prob != nil {
		return errors.New(prob.What)
	}
	sv.mu.Lock()
	sv.crashes[crash].Restarted = true
	sv.mu.Unlock()
	return nil
}

// stop ends the server for good, and waits for its watchers.
func (sv *server) stop() {
	sv.mu.Lock()
	sv.stopped = true
	p := sv.p
	sv.p = nil
	sv.mu.Unlock()
	if p != nil {
		p.stop()
	}
	sv.watchers.Wait()
}

// crashList returns the crashes, once stop has run.
func (sv *server) crashList() []Crash {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return slices.Clone(sv.crashes)
}

// begin and end track the scenarios under way, so that a crash names
// them.
func (sv *server) begin(name string) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.running == nil {
		sv.running = make(map[string]int)
	}
	sv.running[name]++
}

func (sv *server) end(name string) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.running[name]--; sv.running[name] <= 0 {
		delete(sv.running, name)
	}
	sv.last = name
}

// watched wraps the server target: it tells the server which scenarios
// run, and adds the crashes to the report's findings.
type watched struct {
	engine.Target
	srv *server
}

// Start notes the scenario, and wraps its world to note its end.
func (w *watched) Start(sc *godog.ScenarioContext, s *engine.Scenario) engine.World {
	world := w.Target.Start(sc, s)
	if world == nil {
		return nil
	}
	w.srv.begin(s.Result.Name)
	return &watchedWorld{World: world, srv: w.srv, name: s.Result.Name}
}

// Finish puts the crashes in the report's findings: how the process
// ended and its last lines of output.
//
// The engine has already added a finding for every death that Revive
// undid, in order, and nothing else yet (the target adds its own after
// this): each restarted crash completes its finding. A crash that was not
// restarted gets a finding of its own.
func (w *watched) Finish(rep *report.Report) {
	crashes := w.srv.crashList()
	revived := 0
	for _, c := range crashes {
		if c.Restarted {
			revived++
		}
	}
	merge := revived == len(rep.Findings)
	i := 0
	for _, c := range crashes {
		if merge && c.Restarted {
			f := &rep.Findings[i]
			i++
			f.Detail = strings.TrimSpace(f.Detail + " " + crashText(c))
			continue
		}
		title := "The server process ended (" + c.Exit + ")"
		if c.OOM {
			title = "The server process was killed for going over the memory limit"
		}
		if len(c.During) > 0 {
			title += " during " + quoteList(c.During)
		}
		rep.Findings = append(rep.Findings, report.Finding{Title: title, Detail: crashText(c)})
	}
	w.Target.Finish(rep)
}

// crashText says how the process ended and what it printed last.
func crashText(c Crash) string {
	s := "The server process ended (" + c.Exit + ")."
	if c.OOM {
		s = "The kernel killed the server process for going over the memory limit."
	}
	if !c.Restarted {
		s += " It was not restarted."
	}
	if c.Output != "" {
		s += " Its last output: " + strings.Join(strings.Split(lastLines(c.Output, 5), "\n"), " | ")
	}
	return s
}

type watchedWorld struct {
	engine.World
	srv  *server
	name string
}

func (w *watchedWorld) End() {
	w.World.End()
	w.srv.end(w.name)
}

// quoteList writes names as "a", "b" and "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// lastLines returns the last n lines of text.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
