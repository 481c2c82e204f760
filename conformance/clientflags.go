package conformance

import (
	"context"

	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/chatspec/chatspec/clientsteps"
	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/features"
	"github.com/chatspec/chatspec/report"
)

// ClientFlags is the command line of a client grading: the -client-*
// flags of go test ./conformance, and of chatgrade client. Register binds
// them to a flag set; after parsing, Config turns them (and the profile
// file they may name) into the client target's configuration, and
// GradeClient runs the client suite with it. The flags a server grading
// shares (-strict, -rule, -report-json, -report-html, -report-junit) are
// not among them: go test takes them from ServerFlags.
type ClientFlags struct {
	Cmd       string
	Dir       string
	Manual    bool
	Profile   string // a TOML file; see ClientProfile
	Listen    string
	First     lineList
	Join      string
	Say       string
	Quit      string
	Heartbeat time.Duration
	Wait      time.Duration
	Quiet     time.Duration
	Start     time.Duration
	Step      time.Duration

	fs *flag.FlagSet
}

// lineList is a flag that may be given many times, one line each.
type lineList []string

func (l *lineList) String() string { return strings.Join(*l, " | ") }

func (l *lineList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// Register binds the client flags to fs, with their defaults.
func (f *ClientFlags) Register(fs *flag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.Cmd, "client-cmd", "", "grade the client this shell `command` starts ({host}, {port}, {addr}: the suite's server)")
	fs.StringVar(&f.Dir, "client-dir", "", "the `directory` the client command runs in (go test runs in ./conformance: give an absolute path)")
	fs.BoolVar(&f.Manual, "client-manual", false, "grade a client run by hand (a GUI client): the suite says what to do, one step at a time")
	fs.StringVar(&f.Profile, "client-profile", "", "read the client's command and typing profile from this TOML `file` (flags given override it)")
	fs.StringVar(&f.Listen, "client-listen", clientsteps.DefaultListen, "where the suite's server listens, `host:port` (a fixed port for a client with a hard-coded one)")
	fs.Var(&f.First, "client-first", "a `line` to type before joining (host, port...); give the flag once per line")
	fs.StringVar(&f.Join, "client-join", clientsteps.DefaultJoin, "the `line` typed to join; {name} stands for the name")
	fs.StringVar(&f.Say, "client-say", clientsteps.DefaultSay, "the `line` typed to say something; {text} stands for the text")
	fs.StringVar(&f.Quit, "client-quit", "", "the `word` typed to leave (QUIT, quit, *q...); none: close standard input")
	fs.DurationVar(&f.Heartbeat, "client-heartbeat", clientsteps.DefaultHeartbeat, "the IMAV `interval` the client must keep")
	fs.DurationVar(&f.Wait, "client-wait", clientsteps.DefaultWait, "how long the client has to react to what is typed or sent")
	fs.DurationVar(&f.Quiet, "client-quiet", clientsteps.DefaultQuiet, "how long the client's output must be still before what it prints next is judged")
	fs.DurationVar(&f.Start, "client-start", clientsteps.DefaultStart, "how long a client just started has to read its first line and connect")
	fs.DurationVar(&f.Step, "client-step", clientsteps.DefaultStep, "manual mode: the time for each step")
}

// Grading reports whether the flags ask to grade a client: a command, a
// profile or manual mode.
func (f *ClientFlags) Grading() bool { return f.Cmd != "" || f.Manual || f.Profile != "" }

// Given reports whether the named flag was set on the command line.
func (f *ClientFlags) Given(name string) bool {
	given := false
	f.fs.Visit(func(fl *flag.Flag) { given = given || fl.Name == name })
	return given
}

// ClientProfile is the TOML file of -client-profile: the client's
// command and how to type into it, for a teacher who keeps one per
// student. Every key is optional; a flag given on the command line wins.
//
//	command   = "java -cp build ChatClient"   # -client-cmd
//	dir       = "../alice"                     # -client-dir, relative to the file
//	manual    = false                          # -client-manual
//	listen    = "127.0.0.1:8888"               # -client-listen
//	heartbeat = "60s"                          # -client-heartbeat
//	first     = ["{host}", "{port}"]           # -client-first, in order
//	join      = "JOIN {name}, {addr}"          # -client-join
//	say       = "{text}"                       # -client-say
//	quit      = "*q"                           # -client-quit
type ClientProfile struct {
	Command   string        `toml:"command"`
	Dir       string        `toml:"dir"`
	Manual    bool          `toml:"manual"`
	Listen    string        `toml:"listen"`
	Heartbeat time.Duration `toml:"heartbeat"`
	First     []string      `toml:"first"`
	Join      string        `toml:"join"`
	Say       string        `toml:"say"`
	Quit      string        `toml:"quit"`
}

// ReadClientProfile reads a profile file. Unknown keys are an error, so
// that a typo does not pass unnoticed.
func ReadClientProfile(path string) (ClientProfile, error) {
	var p ClientProfile
	md, err := toml.DecodeFile(path, &p)
	if err != nil {
		return p, fmt.Errorf("conformance: client profile: %w", err)
	}
	if extra := md.Undecoded(); len(extra) > 0 {
		keys := make([]string, len(extra))
		for i, k := range extra {
			keys[i] = k.String()
		}
		return p, fmt.Errorf("conformance: client profile %s: unknown keys %s (known: command, dir, manual, listen, heartbeat, first, join, say, quit)", path, strings.Join(keys, ", "))
	}
	if p.Dir != "" && !filepath.IsAbs(p.Dir) {
		p.Dir = filepath.Join(filepath.Dir(path), p.Dir)
	}
	return p, nil
}

// Config returns the client target's configuration: the profile file's,
// if -client-profile names one, with every flag given on the command line
// on top.
func (f *ClientFlags) Config() (clientsteps.Config, error) {
	cfg := clientsteps.Config{
		Command: f.Cmd, Dir: f.Dir, Manual: f.Manual, Listen: f.Listen,
		Profile:   clientsteps.Profile{First: f.First, Join: f.Join, Say: f.Say, Quit: f.Quit},
		Heartbeat: f.Heartbeat, Wait: f.Wait, Quiet: f.Quiet, Start: f.Start, Step: f.Step,
	}
	if f.Profile != "" {
		p, err := ReadClientProfile(f.Profile)
		if err != nil {
			return cfg, err
		}
		take := func(flag string, dst *string, v string) {
			if v != "" && !f.Given(flag) {
				*dst = v
			}
		}
		take("client-cmd", &cfg.Command, p.Command)
		take("client-dir", &cfg.Dir, p.Dir)
		take("client-listen", &cfg.Listen, p.Listen)
		take("client-join", &cfg.Profile.Join, p.Join)
		take("client-say", &cfg.Profile.Say, p.Say)
		take("client-quit", &cfg.Profile.Quit, p.Quit)
		if p.Manual && !f.Given("client-manual") {
			cfg.Manual = true
		}
		if p.Heartbeat != 0 && !f.Given("client-heartbeat") {
			cfg.Heartbeat = p.Heartbeat
		}
		if len(p.First) > 0 && !f.Given("client-first") {
			cfg.Profile.First = p.First
		}
	}
	if err := checkPositive(durationFlag{"client-heartbeat", cfg.Heartbeat}, durationFlag{"client-wait", cfg.Wait}, durationFlag{"client-quiet", cfg.Quiet}, durationFlag{"client-start", cfg.Start}, durationFlag{"client-step", cfg.Step}); err != nil {
		return cfg, err
	}
	if err := cfg.Check(); err != nil {
		return cfg, fmt.Errorf("conformance: %w", err)
	}
	return cfg, nil
}

// ClientSuite is the client suite for cfg: the client features and the
// steps that drive a client.
func ClientSuite(cfg clientsteps.Config) engine.Suite {
	return engine.Suite{Name: "client", Features: features.Client, Order: features.ClientOrder(), Target: clientsteps.New(cfg)}
}

// GradeClient grades the client cfg describes with the client suite and
// returns the report: go test's entry and chatgrade client's. A run that
// needs one listener for every scenario (a fixed port, manual mode) runs
// one scenario at a time, whatever opts.Concurrency says.
func GradeClient(ctx context.Context, cfg clientsteps.Config, opts engine.Options) (*report.Report, error) {
	if cfg.Shared() {
		opts.Concurrency = 1
	}
	suite := ClientSuite(cfg)
	defer suite.Target.(*clientsteps.Client).Close()
	return engine.Run(ctx, suite, opts)
}

// CheckClientDeadline returns an error saying which go test -timeout (or
// chatgrade -timeout) a client run of cfg needs, if the time left before
// deadline may not be enough.
func CheckClientDeadline(cfg clientsteps.Config, deadline time.Time) error {
	need := clientsteps.Budget(cfg, 25)
	if left := time.Until(deadline); left < need {
		return fmt.Errorf("this client run may take up to %s (-client-heartbeat %s), more than the time limit leaves (%s): rerun with -timeout %s",
			need.Round(time.Second), cfg.Heartbeat, left.Round(time.Second), (need + time.Minute).Round(time.Minute))
	}
	return nil
}
