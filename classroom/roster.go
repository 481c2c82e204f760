package classroom

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/chatspec/chatspec/conformance"
	"github.com/chatspec/chatspec/grade"
)

// Roster is a class as its roster file describes it: the class-wide
// defaults and one entry per student, each resolved (defaults applied,
// paths made absolute, settings checked). A student whose entry is wrong
// has Problem set; the others are still graded.
type Roster struct {
	// Title names the class in the reports ("" if the file gives none).
	Title string
	// Path is the roster file, absolute.
	Path string
	// Students are the students, in the file's order.
	Students []Student
}

// Student is one resolved roster entry: what to build, start and grade.
type Student struct {
	// Name is the student's name, unique in the roster.
	Name string `json:"name"`
	// Slug is Name made safe for a file name, unique in the roster: the
	// student's folder in the output folder.
	Slug string `json:"slug"`
	// Index is the entry's position in the roster, from 1.
	Index int `json:"index"`
	// Dir is the student's folder, absolute ("" for a server given by
	// Addr and no build).
	Dir string `json:"dir,omitempty"`
	// Addr is the address of an already running server; "" when
	// chatgrade starts the server itself.
	Addr string `json:"addr,omitempty"`
	// Build is run once in Dir before the server starts ("" for none).
	Build string `json:"build,omitempty"`
	// Server is the command that starts the server, run in Dir.
	Server string `json:"server,omitempty"`
	// Port is where the started server listens.
	Port int `json:"port,omitempty"`
	// Flags are the grading's command-line flags, as chatgrade server
	// takes them (without -addr and -timeout).
	Flags []string `json:"flags,omitempty"`
	// BuildTimeout bounds the build.
	BuildTimeout time.Duration `json:"build_timeout"`
	// StartTimeout bounds the wait for the started server to listen.
	StartTimeout time.Duration `json:"start_timeout"`
	// TimeLimit bounds the student's whole grading: build, start and
	// grading.
	TimeLimit time.Duration `json:"time_limit"`
	// Memory bounds the memory of the student's processes, in bytes (0:
	// no limit).
	Memory int64 `json:"memory"`
	// Problem says what is wrong with the entry; such a student is not
	// graded.
	Problem string `json:"problem,omitempty"`
}

// Defaults of the roster's keys.
const (
	DefaultBuildTimeout = 5 * time.Minute
	DefaultStartTimeout = 20 * time.Second
	DefaultMemory       = 1 << 30
)

// entry is one table of the roster file: [defaults] or a [[student]].
// Absent keys are nil. Every key is documented in the README, with an
// example.
type entry struct {
	Name         *string   `toml:"name"`
	Dir          *string   `toml:"dir"`
	Addr         *string   `toml:"addr"`
	Build        *string   `toml:"build"`
	Server       *string   `toml:"server"`
	Port         *int      `toml:"port"`
	Framing      *string   `toml:"framing"`
	Join         *string   `toml:"join"`
	Heartbeat    *duration `toml:"heartbeat"`
	Expiry       *duration `toml:"expiry"`
	Wait         *duration `toml:"wait"`
	Quiet        *duration `toml:"quiet"`
	Flood        *duration `toml:"flood"`
	Strict       *bool     `toml:"strict"`
	Rules        *[]string `toml:"rules"`
	Tags         *string   `toml:"tags"`
	Concurrency  *int      `toml:"concurrency"`
	BuildTimeout *duration `toml:"build_timeout"`
	StartTimeout *duration `toml:"start_timeout"`
	TimeLimit    *duration `toml:"time_limit"`
	Memory       *size     `toml:"memory"`
}

// studentOnly are the keys that belong to one student, not to [defaults].
var studentOnly = []string{"name", "addr"}

// knownKeys lists the keys of entry, from its tags.
func knownKeys() []string {
	t := reflect.TypeFor[entry]()
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = t.Field(i).Tag.Get("toml")
	}
	return keys
}

// duration is a TOML string such as "90s" or "3m".
type duration time.Duration

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write \"90s\", \"3m\", \"1h30m\")", b)
	}
	if v <= 0 {
		return fmt.Errorf("%q: must be positive", b)
	}
	*d = duration(v)
	return nil
}

// size is a memory size: a TOML integer (bytes) or a string such as
// "512MiB", "1GiB", "2GB"; 0 or "none" means no limit.
type size int64

func (s *size) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case int64:
		if v < 0 {
			return fmt.Errorf("%d: must not be negative", v)
		}
		*s = size(v)
		return nil
	case string:
		n, err := parseSize(v)
		*s = size(n)
		return err
	}
	return fmt.Errorf("%v: want a size such as \"1GiB\"", v)
}

// sizeUnits are the units parseSize knows, longest first.
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
}

func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "none" || t == "0" {
		return 0, nil
	}
	factor := int64(1)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, factor = strings.TrimSpace(num), u.factor
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size (write \"512MiB\", \"1GiB\", or \"none\")", s)
	}
	return int64(n * float64(factor)), nil
}

// file is the roster file's top level.
type file struct {
	Title    string           `toml:"title"`
	Defaults toml.Primitive   `toml:"defaults"`
	Student  []toml.Primitive `toml:"student"`
}

// ErrRoster marks an error in the roster as a whole (its syntax, a key
// of [defaults] or of the top level): nothing can be graded. Such an error
// is one for errors.Is, and its text is the problem's alone.
var ErrRoster = errors.New("roster")

// rosterErr is an error in the roster as a whole: errors.Is(e, ErrRoster).
type rosterErr struct{ err error }

func (e rosterErr) Error() string        { return e.err.Error() }
func (e rosterErr) Unwrap() error        { return e.err }
func (e rosterErr) Is(target error) bool { return target == ErrRoster }

// rosterError formats an error in the roster as a whole.
func rosterError(format string, args ...any) error {
	return rosterErr{fmt.Errorf(format, args...)}
}

// LoadRoster reads and resolves the roster file at path. An error in the
// file as a whole (syntax, [defaults], the top level) is an error wrapping
// ErrRoster; an error in one student's entry is that Student's Problem.
func LoadRoster(path string) (*Roster, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, rosterError("%w", err)
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		return nil, rosterError("%w", err)
	}
	r, err := ParseRoster(string(b), filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.Path = abs
	return r, nil
}

// ParseRoster parses a roster's text; dir is the folder that relative
// paths in it are relative to.
func ParseRoster(text, dir string) (*Roster, error) {
	var f file
	md, err := toml.Decode(text, &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, rosterError("%s", pe.ErrorWithPosition())
		}
		return nil, rosterError("%w", err)
	}
	var defaults entry
	if err := md.PrimitiveDecode(f.Defaults, &defaults); err != nil {
		return nil, rosterError("[defaults]: %w", err)
	}
	var bad []string
	for _, k := range md.Undecoded() {
		switch {
		case len(k) > 0 && k[0] == "student":
			// a student's own keys: checked with the student
		case len(k) == 2 && k[0] == "defaults":
			bad = append(bad, fmt.Sprintf("[defaults]: unknown key %q%s", k[1], suggest(k[1])))
		case len(k) == 1:
			bad = append(bad, fmt.Sprintf("unknown top-level key %q%s (the roster has title, [defaults] and [[student]] tables)", k[0], suggest(k[0])))
		}
	}
	for _, k := range studentOnly {
		if md.IsDefined("defaults", k) {
			bad = append(bad, fmt.Sprintf("[defaults]: %q belongs to one student, in a [[student]] table", k))
		}
	}
	if len(bad) > 0 {
		return nil, rosterError("%s", strings.Join(bad, "; "))
	}
	if len(f.Student) == 0 {
		return nil, rosterError("no students: add a [[student]] table for each")
	}
	r := &Roster{Title: f.Title}
	names := make(map[string]int)
	slugs := make(map[string]bool)
	for i, p := range f.Student {
		s := resolve(&md, p, &defaults, dir, i+1)
		if s.Problem == "" {
			if first, ok := names[s.Name]; ok {
				s.Problem = fmt.Sprintf("the name %q is already student %d's", s.Name, first)
			}
		}
		if _, ok := names[s.Name]; !ok && s.Name != "" {
			names[s.Name] = s.Index
		}
		s.Slug = uniqueSlug(s.Name, s.Index, slugs)
		r.Students = append(r.Students, s)
	}
	return r, nil
}

// resolve decodes one [[student]] table, applies the defaults and checks
// the result; what is wrong goes to Problem.
func resolve(md *toml.MetaData, p toml.Primitive, defaults *entry, dir string, index int) Student {
	s := Student{Index: index}
	var keys map[string]any
	if err := md.PrimitiveDecode(p, &keys); err != nil {
		s.Problem = err.Error()
		return s
	}
	if n, ok := keys["name"].(string); ok {
		s.Name = strings.TrimSpace(n)
	}
	known := knownKeys()
	var unknown []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !slices.Contains(known, k) {
			unknown = append(unknown, fmt.Sprintf("unknown key %q%s", k, suggest(k)))
		}
	}
	if len(unknown) > 0 {
		s.Problem = strings.Join(unknown, "; ")
		return s
	}
	var own entry
	if err := md.PrimitiveDecode(p, &own); err != nil {
		s.Problem = err.Error()
		return s
	}
	if s.Name == "" {
		s.Problem = "no name: every [[student]] needs name = \"...\""
		return s
	}
	e := overlay(defaults, &own)
	if own.Addr != nil {
		// A server that already runs: the defaults' way of starting one
		// does not apply.
		for _, k := range []struct{ own, e **string }{{&own.Server, &e.Server}, {&own.Build, &e.Build}} {
			if *k.own == nil {
				*k.e = nil
			}
		}
		if own.Port == nil {
			e.Port = nil
		}
	}
	if err := s.fill(e, dir); err != nil {
		s.Problem = err.Error()
	}
	return s
}

// overlay returns the student's entry with the defaults under it: a key
// the student gives wins.
func overlay(defaults, own *entry) *entry {
	out := *defaults
	dv, ov := reflect.ValueOf(&out).Elem(), reflect.ValueOf(own).Elem()
	for i := range ov.NumField() {
		if f := ov.Field(i); !f.IsNil() {
			dv.Field(i).Set(f)
		}
	}
	return &out
}

// fill resolves e into s and checks it.
func (s *Student) fill(e *entry, rosterDir string) error {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return strings.TrimSpace(*p)
	}
	s.Addr, s.Build, s.Server = str(e.Addr), str(e.Build), str(e.Server)
	if e.Port != nil {
		s.Port = *e.Port
	}
	switch {
	case s.Addr != "" && s.Server != "":
		return errors.New("both addr and server: give addr for a server that already runs, or server (and port) for one chatgrade starts")
	case s.Addr == "" && s.Server == "":
		return errors.New("no server: give server (the command that starts it) and port, or addr (where it already runs)")
	case s.Addr != "" && s.Build != "":
		return errors.New("build with addr: chatgrade builds only a server it starts (remove build, or give server instead of addr)")
	case s.Server != "" && (s.Port < 1 || s.Port > 65535):
		if e.Port == nil {
			return errors.New("no port: give the port the server listens on (port = 5000)")
		}
		return fmt.Errorf("port %d: must be between 1 and 65535", s.Port)
	}
	if d := str(e.Dir); d != "" {
		d = strings.ReplaceAll(d, "{name}", s.Name)
		if !filepath.IsAbs(d) {
			d = filepath.Join(rosterDir, d)
		}
		s.Dir = filepath.Clean(d)
	}
	if s.Server != "" || s.Build != "" {
		if s.Dir == "" {
			return errors.New("no dir: give the folder of the student's hand-in (dir = \"hand-ins/alice\"), where build and server run")
		}
		if fi, err := os.Stat(s.Dir); err != nil {
			return fmt.Errorf("dir %s: %w", s.Dir, errors.Unwrap(err))
		} else if !fi.IsDir() {
			return fmt.Errorf("dir %s: not a folder", s.Dir)
		}
	}
	s.Server = strings.ReplaceAll(s.Server, "{port}", strconv.Itoa(s.Port))
	s.BuildTimeout = dur(e.BuildTimeout, DefaultBuildTimeout)
	s.StartTimeout = dur(e.StartTimeout, DefaultStartTimeout)
	s.Memory = DefaultMemory
	if e.Memory != nil {
		s.Memory = int64(*e.Memory)
	}
	s.Flags = gradingFlags(e)
	// The flags must be what chatgrade server accepts.
	var g grade.Flags
	fs := flag.NewFlagSet("roster", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.Register(fs)
	if err := fs.Parse(s.Flags); err != nil {
		return err
	}
	if e.Concurrency != nil && *e.Concurrency < 1 {
		return fmt.Errorf("concurrency %d: must be 1 or more", *e.Concurrency)
	}
	cfg, err := g.Server.Config()
	if err != nil {
		return err
	}
	need := conformance.ServerBudget(cfg)
	s.TimeLimit = need + s.BuildTimeout + 2*s.StartTimeout + time.Minute
	if e.TimeLimit != nil {
		s.TimeLimit = time.Duration(*e.TimeLimit)
		if s.TimeLimit < need {
			return fmt.Errorf("time_limit %s: the grading alone may need %s with these timings (expiry, flood): give at least %s",
				s.TimeLimit, need.Round(time.Second), (need + s.BuildTimeout + s.StartTimeout).Round(time.Minute))
		}
	}
	return nil
}

func dur(d *duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return time.Duration(*d)
}

// gradingFlags turns the grading keys of e into chatgrade server's flags.
func gradingFlags(e *entry) []string {
	var out []string
	add := func(name, value string) { out = append(out, "-"+name+"="+value) }
	for _, s := range []struct {
		name string
		v    *string
	}{{"framing", e.Framing}, {"join", e.Join}, {"godog.tags", e.Tags}} {
		if s.v != nil {
			add(s.name, *s.v)
		}
	}
	for _, d := range []struct {
		name string
		v    *duration
	}{{"heartbeat", e.Heartbeat}, {"expiry", e.Expiry}, {"wait", e.Wait}, {"quiet", e.Quiet}, {"flood", e.Flood}} {
		if d.v != nil {
			add(d.name, time.Duration(*d.v).String())
		}
	}
	if e.Strict != nil {
		add("strict", strconv.FormatBool(*e.Strict))
	}
	if e.Rules != nil && len(*e.Rules) > 0 {
		add("rule", strings.Join(*e.Rules, ","))
	}
	if e.Concurrency != nil {
		add("godog.concurrency", strconv.Itoa(*e.Concurrency))
	}
	return out
}

// Fingerprint identifies what a student's grading depends on in the
// roster: a student whose fingerprint has not changed since an earlier
// run is not graded again (unless forced).
func (s *Student) Fingerprint() string {
	c := *s
	c.Index = 0 // moving an entry in the roster changes nothing
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:12])
}

// uniqueSlug returns name made safe for a file name, not yet in used.
func uniqueSlug(name string, index int, used map[string]bool) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	slug := strings.Trim(b.String(), "-.")
	if slug == "" {
		slug = fmt.Sprintf("student-%d", index)
	}
	base := slug
	for n := 2; used[strings.ToLower(slug)]; n++ {
		slug = fmt.Sprintf("%s-%d", base, n)
	}
	used[strings.ToLower(slug)] = true
	return slug
}

// suggest returns ` (did you mean "x"?)` for a key one or two edits
// from a known key, or "".
func suggest(key string) string {
	best, bestD := "", 3
	for _, k := range append(knownKeys(), "title", "defaults", "student") {
		if d := editDistance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// compareIndex orders students by their place in the roster.
func compareIndex(a, b *Student) int { return cmp.Compare(a.Index, b.Index) }
