// Command chatbench measures a chat server under load: joins, deliveries per
// second, end-to-end latency, loss, drops and (with -pid) the server's
// memory. It works against any server speaking the protocol.
//
// Usage:
//
//	chatbench -addr host:port [-framing line|utf] [-clients 100] [-senders 10]
//	          [-rate 0] [-window 16] [-echo] [-probes 0] [-probe-rate 2]
//	          [-duration 10s] [-warmup 1s] [-size 64] [-join-rate 0] [-pid PID]
//	          [-json] [-html FILE] [-soak D] [-baseline] [-lines 16]
//	chatbench -server reference ...   (start the reference server in-process)
//	chatbench -baseline ...            (the minimal fan-out server alone)
//	chatbench -addr host:4242,host:4243,host:4244 [-nats nats://host:4222] ...
//	                                   (the nodes of a cluster)
//
// With several addresses, client i joins the (i mod n)-th and the figures
// come per node too; with -nats, chatbench also asks the nodes (through
// NATS) what they spent in NATS round trips during the load.
//
// With -baseline and a target (-addr or -server), the same load is run
// against the target and then against the in-process baseline fan-out
// server, and the table gives the ratio. -echo makes the senders open loop
// (each waits only for its own echoes); -probes adds well-behaved senders
// whose latency is reported apart; -html writes a page with charts. See the
// bench package and bench/README.md for what each figure means.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/chatspec/chatspec/bench"
	"github.com/chatspec/chatspec/bench/fanout"
	"github.com/chatspec/chatspec/reference/chatserver"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chatbench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chatbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg bench.Config
	fs.StringVar(&cfg.Addr, "addr", "", "server `host:port` to measure, or the nodes of a cluster separated by commas (clients spread over them)")
	natsURL := fs.String("nats", "", "with the nodes of a cluster: their NATS `url`, to report what the nodes spent in NATS round trips")
	clusterRoom := fs.String("cluster-room", "chat", "with -nats: the cluster's room `name`")
	server := fs.String("server", "", "start a server in-process and measure it: `reference`")
	baseline := fs.Bool("baseline", false, "also measure the in-process baseline fan-out server with the same load, and give ratios")
	lines := fs.Int("lines", 16, "baseline: most lines per write `n` (1 = one write call per line per client)")
	fs.Var(&cfg.Framing, "framing", "message framing: line or utf (Java writeUTF)")
	fs.IntVar(&cfg.Clients, "clients", 100, "clients to join `n`")
	fs.IntVar(&cfg.Senders, "senders", 10, "clients that send DATA `n` (-1 = all)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "DATA per second per sender; 0 = as fast as the server takes them (see -window)")
	fs.IntVar(&cfg.Window, "window", 16, "with -rate 0, messages in flight per sender")
	fs.BoolVar(&cfg.Echo, "echo", false, "with -rate 0, a message is in flight until its sender receives it, not until the last client does (open loop)")
	fs.IntVar(&cfg.Probes, "probes", 0, "well-behaved senders `n` (after the -senders), at -probe-rate each; their latency is reported apart")
	fs.Float64Var(&cfg.ProbeRate, "probe-rate", 2, "DATA per second per probe")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured load time")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "load before measuring")
	fs.IntVar(&cfg.Messages, "messages", 0, "if > 0, each sender sends exactly `n` messages (ignores -duration)")
	fs.IntVar(&cfg.Size, "size", 64, fmt.Sprintf("DATA text `bytes` (%d..250)", bench.MinSize))
	fs.Float64Var(&cfg.JoinRate, "join-rate", 0, "joins per second; 0 = as fast as they complete")
	fs.IntVar(&cfg.JoinConcurrency, "join-concurrency", 100, "joins in progress at once")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", 30*time.Second, "IMAV interval per client; negative = none")
	fs.IntVar(&cfg.MaxLineBytes, "max-line", 0, "longest frame `bytes` a client reads, and its buffer size; 0 = enough for a LIST of all the clients (13 bytes a name)")
	fs.DurationVar(&cfg.Settle, "settle", 300*time.Millisecond, "after the joins, wait until every newest LIST names everyone or, if LISTs cannot tell, for this much quiet")
	fs.DurationVar(&cfg.Idle, "idle", 0, "hold the joined clients idle this long before reading the server's memory")
	fs.DurationVar(&cfg.Drain, "drain", 3*time.Second, "wait this long without progress for messages in flight")
	fs.IntVar(&cfg.PID, "pid", 0, "server process id, to report its resident memory (Linux)")
	soak := fs.Duration("soak", 0, "steady load for this long, with a row per -interval (memory and loss over time)")
	fs.DurationVar(&cfg.Interval, "interval", time.Second, "sample period (progress and -soak rows)")
	asJSON := fs.Bool("json", false, "print the result as JSON on standard output")
	save := fs.String("save", "", "also write the result as JSON to `file`")
	htmlFile := fs.String("html", "", "also write a self-contained HTML page with charts to `file`")
	quiet := fs.Bool("q", false, "no progress line")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (load generator and any in-process server) to `file`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *soak > 0 {
		cfg.Duration = *soak
		cfg.Warmup = 0
	}
	if !*quiet {
		cfg.Progress = progressPrinter(stderr)
	}

	inProcess := *server != "" || *baseline
	if err := checkFiles(cfg.Clients, inProcess); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	probe := withProbe(&cfg, *natsURL, *clusterRoom)
	var target *bench.Result
	switch {
	case *server != "":
		if cfg.Addr != "" {
			return fmt.Errorf("give -addr or -server, not both")
		}
		if *server != "reference" {
			return fmt.Errorf("unknown -server %q (want reference)", *server)
		}
		res, err := runReference(ctx, cfg)
		if err != nil {
			return err
		}
		target = res
	case cfg.Addr != "":
		res, err := bench.Run(ctx, cfg)
		if err != nil {
			return err
		}
		target = res
	case !*baseline:
		return fmt.Errorf("give -addr host:port, -server reference or -baseline")
	}
	endProgress(stderr, cfg.Progress != nil)

	var base *bench.Result
	if *baseline && ctx.Err() == nil {
		res, err := runBaseline(ctx, cfg, *lines)
		if err != nil {
			return err
		}
		base = res
		endProgress(stderr, cfg.Progress != nil)
	}

	var costs []NodeCost
	if probe != nil {
		c, err := probe.costs()
		if err != nil {
			return fmt.Errorf("-nats: %w", err)
		}
		costs = c
	}
	out := struct {
		Target   *bench.Result `json:"target,omitempty"`
		Baseline *bench.Result `json:"baseline,omitempty"`
		Cluster  []NodeCost    `json:"cluster,omitempty"`
	}{target, base, costs}
	if *save != "" {
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*save, append(b, '\n'), 0o666); err != nil {
			return err
		}
	}
	if *htmlFile != "" {
		var page bytes.Buffer
		if err := bench.WriteHTML(&page, "chatbench "+strings.Join(args, " "), target, base); err != nil {
			return err
		}
		if err := os.WriteFile(*htmlFile, page.Bytes(), 0o666); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if *soak > 0 {
		for _, r := range []*bench.Result{target, base} {
			if r != nil {
				fmt.Fprintf(stdout, "%s over time:\n", r.Label)
				if err := bench.WriteSamples(stdout, r); err != nil {
					return err
				}
				fmt.Fprintln(stdout)
			}
		}
	}
	if err := bench.WriteTable(stdout, target, base); err != nil {
		return err
	}
	if target != nil && len(target.Nodes) > 0 {
		fmt.Fprintln(stdout, "\nper node (clients joined through each address):")
		if err := bench.WriteNodes(stdout, target); err != nil {
			return err
		}
	}
	if costs != nil {
		fmt.Fprintln(stdout, "\nNATS, per node, during the load:")
		return writeCosts(stdout, costs)
	}
	return nil
}

// runReference measures the reference server started in this process.
func runReference(ctx context.Context, cfg bench.Config) (*bench.Result, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := chatserver.New(chatserver.Config{Framing: cfg.Framing})
	defer serveLabelled("reference", l, srv.Serve, srv.Close)()
	cfg.Addr = l.Addr().String()
	cfg.PID = 0 // the process holds the clients too: its memory says nothing
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	res.Label = "reference"
	return res, nil
}

// runBaseline measures the baseline fan-out server started in this process.
func runBaseline(ctx context.Context, cfg bench.Config, lines int) (*bench.Result, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := fanout.New(fanout.Config{Framing: cfg.Framing, LinesPerWrite: lines})
	defer serveLabelled("baseline", l, srv.Serve, srv.Close)()
	cfg.Addr = l.Addr().String()
	cfg.PID = 0
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	res.Label = fmt.Sprintf("baseline (%d/write)", lines)
	return res, nil
}

// serveLabelled runs serve(l) in a goroutine with the pprof label
// server=name, which its children inherit, so that "go tool pprof
// -tagfocus server=reference" shows that server's share of a -cpuprofile. It returns a function that
// closes the server and waits for serve to return.
func serveLabelled(name string, l net.Listener, serve func(net.Listener) error, closeFn func() error) func() {
	done := make(chan struct{})
	go pprof.Do(context.Background(), pprof.Labels("server", name), func(context.Context) {
		defer close(done)
		serve(l)
	})
	return func() {
		closeFn()
		<-done
	}
}

// progressPrinter rewrites one status line on a terminal, or prints a line
// per sample otherwise.
func progressPrinter(w io.Writer) func(bench.Progress) {
	tty := isTerminal(w)
	return func(p bench.Progress) {
		if tty {
			fmt.Fprintf(w, "\r\033[K%s", p)
		} else {
			fmt.Fprintln(w, p)
		}
	}
}

func endProgress(w io.Writer, on bool) {
	if on && isTerminal(w) {
		fmt.Fprintln(w)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
