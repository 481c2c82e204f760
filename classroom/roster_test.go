package classroom

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatspec/chatspec/steps"
)

// rosterDir returns a folder with hand-ins/alice and hand-ins/bob.
func rosterDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"hand-ins/alice", "hand-ins/bob"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRosterDefaults(t *testing.T) {
	dir := rosterDir(t)
	r, err := ParseRoster(`
title = "Networking 2026"
[defaults]
dir = "hand-ins/{name}"
build = "javac -d out $(find src -name '*.java')"
server = "java -cp out Server {port}"
port = 5000
framing = "auto"
heartbeat = "60s"
expiry = "3m"
memory = "512MiB"

[[student]]
name = "alice"

[[student]]
name = "bob"
port = 6000
framing = "utf"
strict = true
rules = ["presence.list-on-join", "messages.echo"]
concurrency = 1

[[student]]
name = "carol"
addr = "10.0.0.7:4242"
build = ""
`, dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Title != "Networking 2026" || len(r.Students) != 3 {
		t.Fatalf("ParseRoster = %+v", r)
	}
	alice, bob, carol := r.Students[0], r.Students[1], r.Students[2]
	if alice.Problem != "" || bob.Problem != "" || carol.Problem != "" {
		t.Fatalf("problems: %q, %q, %q", alice.Problem, bob.Problem, carol.Problem)
	}
	if want := filepath.Join(dir, "hand-ins", "alice"); alice.Dir != want {
		t.Errorf("alice.Dir = %q, want %q", alice.Dir, want)
	}
	if alice.Server != "java -cp out Server 5000" || bob.Server != "java -cp out Server 6000" {
		t.Errorf("servers %q, %q: want {port} filled in", alice.Server, bob.Server)
	}
	if alice.Memory != 512<<20 || alice.BuildTimeout != DefaultBuildTimeout || alice.StartTimeout != DefaultStartTimeout {
		t.Errorf("alice: memory %d, build timeout %s, start timeout %s", alice.Memory, alice.BuildTimeout, alice.StartTimeout)
	}
	for _, f := range []string{"-framing=auto", "-heartbeat=1m0s", "-expiry=3m0s"} {
		if !slices.Contains(alice.Flags, f) {
			t.Errorf("alice.Flags = %q, want %s", alice.Flags, f)
		}
	}
	for _, f := range []string{"-framing=utf", "-strict=true", "-rule=presence.list-on-join,messages.echo", "-godog.concurrency=1"} {
		if !slices.Contains(bob.Flags, f) {
			t.Errorf("bob.Flags = %q, want %s", bob.Flags, f)
		}
	}
	if carol.Addr != "10.0.0.7:4242" || carol.Server != "" {
		t.Errorf("carol: addr %q, server %q", carol.Addr, carol.Server)
	}
	// The default time limit leaves the grading what it may need, and the
	// build and the start theirs.
	need := steps.Budget(steps.Config{Heartbeat: time.Minute, Expiry: 3 * time.Minute}, 80)
	if alice.TimeLimit < need+DefaultBuildTimeout+DefaultStartTimeout {
		t.Errorf("alice.TimeLimit = %s: too short for the default timings (%s), the build and the start", alice.TimeLimit, need)
	}
}

// TestRosterStudentProblems: what is wrong in one student's table is that
// student's problem; the others are fine.
func TestRosterStudentProblems(t *testing.T) {
	dir := rosterDir(t)
	for _, tc := range []struct {
		table, want string
	}{
		{`name = "x"` + "\nsever = \"java S\"", `unknown key "sever" (did you mean "server"?)`},
		{`name = "x"` + "\nserver = \"java S\"\nport = 5000\nxyzzy = 1", `unknown key "xyzzy"`},
		{`server = "java S"`, "no name"},
		{`name = "x"`, "no server"},
		{`name = "x"` + "\naddr = \"h:1\"\nserver = \"java S\"", "both addr and server"},
		{`name = "x"` + "\nserver = \"java S\"\nport = 0", "port 0"},
		{`name = "x"` + "\nserver = \"java S\"", "no port"},
		{`name = "x"` + "\nserver = \"java S\"\nport = 70000", "port 70000"},
		{`name = "x"` + "\nserver = \"java S\"\nport = 5000\ndir = \"nowhere\"", "nowhere"},
		{`name = "x"` + "\nserver = \"java S\"\nport = 5000\nframing = \"xml\"", "xml"},
		{`name = "x"` + "\nserver = \"java S\"\nport = 5000\nheartbeat = \"soon\"", `"soon" is not a duration`},
		{`name = "x"` + "\nserver = \"java S\"\nport = 5000\nheartbeat = 60", "heartbeat"},
		{`name = "x"` + "\nserver = \"java S\"\nport = 5000\nmemory = \"lots\"", `"lots" is not a size`},
		{`name = "x"` + "\nserver = \"java S\"\nport = 5000\ntime_limit = \"1m\"", "time_limit 1m0s"},
		{`name = "x"` + "\nserver = \"java S\"\nport = 5000\nconcurrency = 0", "concurrency 0"},
		{`name = "x"` + "\naddr = \"h:1\"\nbuild = \"make\"", "build with addr"},
		{`name = "alice"` + "\naddr = \"h:1\"", `already student 1's`},
	} {
		text := "[defaults]\ndir = \"hand-ins/alice\"\n[[student]]\nname = \"alice\"\naddr = \"h:2\"\n[[student]]\n" + tc.table + "\n"
		r, err := ParseRoster(text, dir)
		if err != nil {
			t.Errorf("ParseRoster(%q): %v", tc.table, err)
			continue
		}
		if p := r.Students[0].Problem; p != "" {
			t.Errorf("ParseRoster(%q): alice's problem %q, want none", tc.table, p)
		}
		if p := r.Students[1].Problem; !strings.Contains(p, tc.want) {
			t.Errorf("ParseRoster(%q): problem %q, want one with %q", tc.table, p, tc.want)
		}
	}
}

// TestRosterErrors: what is wrong in the file as a whole stops the run.
func TestRosterErrors(t *testing.T) {
	dir := rosterDir(t)
	for _, tc := range []struct {
		text, want string
	}{
		{"[defaults]\nport = \n", "line 2"},
		{"[defaults]\nprot = 5000\n[[student]]\nname = \"a\"\naddr = \"h:1\"\n", `[defaults]: unknown key "prot" (did you mean "port"?)`},
		{"titel = \"x\"\n[[student]]\nname = \"a\"\naddr = \"h:1\"\n", `unknown top-level key "titel" (did you mean "title"?)`},
		{"[[students]]\nname = \"a\"\n", `unknown top-level key "students"`},
		{"[defaults]\nname = \"a\"\n[[student]]\nname = \"a\"\naddr = \"h:1\"\n", `"name" belongs to one student`},
		{"title = \"x\"\n", "no students"},
		{"[defaults]\nheartbeat = \"x\"\n[[student]]\nname = \"a\"\naddr = \"h:1\"\n", "[defaults]"},
	} {
		_, err := ParseRoster(tc.text, dir)
		if !errors.Is(err, ErrRoster) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRoster(%q) = %v, want an ErrRoster with %q", tc.text, err, tc.want)
		}
	}
	if _, err := LoadRoster(filepath.Join(dir, "missing.toml")); !errors.Is(err, ErrRoster) {
		t.Errorf("LoadRoster(missing) = %v, want an ErrRoster", err)
	}
}

func TestFingerprint(t *testing.T) {
	dir := rosterDir(t)
	parse := func(text string) Student {
		t.Helper()
		r, err := ParseRoster(text, dir)
		if err != nil {
			t.Fatal(err)
		}
		return r.Students[len(r.Students)-1]
	}
	a := parse("[[student]]\nname = \"alice\"\naddr = \"h:1\"\n")
	moved := parse("[[student]]\nname = \"bob\"\naddr = \"h:2\"\n[[student]]\nname = \"alice\"\naddr = \"h:1\"\n")
	changed := parse("[[student]]\nname = \"alice\"\naddr = \"h:1\"\nexpiry = \"4m\"\n")
	viaDefaults := parse("[defaults]\nexpiry = \"4m\"\n[[student]]\nname = \"alice\"\naddr = \"h:1\"\n")
	if a.Fingerprint() != moved.Fingerprint() {
		t.Errorf("moving an entry changed its fingerprint")
	}
	if a.Fingerprint() == changed.Fingerprint() {
		t.Errorf("a new expiry did not change the fingerprint")
	}
	if changed.Fingerprint() != viaDefaults.Fingerprint() {
		t.Errorf("the same settings through [defaults] gave another fingerprint")
	}
}

func TestSlugs(t *testing.T) {
	used := make(map[string]bool)
	for _, tc := range []struct{ name, want string }{
		{"alice", "alice"}, {"Ana María", "Ana-Mar-a"}, {"../etc", "etc"}, {"ALICE", "ALICE-2"}, {"???", "student-5"},
	} {
		if got := uniqueSlug(tc.name, 5, used); got != tc.want {
			t.Errorf("uniqueSlug(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1GiB", 1 << 30}, {"512MiB", 512 << 20}, {"2GB", 2e9}, {"1.5G", 3 << 29}, {"none", 0}, {"0", 0}, {"100", 100},
	} {
		if got, err := parseSize(tc.in); err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v, want %d", tc.in, got, err, tc.want)
		}
	}
	if _, err := parseSize("-1MiB"); err == nil {
		t.Errorf("parseSize(-1MiB): no error")
	}
}

func TestOutput(t *testing.T) {
	o := &output{headMax: 8, tailMax: 8}
	for _, s := range []string{"head\n", "mid", "dle\n", "more\n", "last\n"} {
		o.Write([]byte(s))
	}
	if got, want := o.Text(), "head\nmid\n[... 6 bytes left out ...]\nre\nlast\n"; got != want {
		t.Errorf("Text() = %q, want %q", got, want)
	}
	if got := o.Last(1); got != "last" {
		t.Errorf("Last(1) = %q, want %q", got, "last")
	}
	if o.Len() != 22 {
		t.Errorf("Len() = %d, want 22", o.Len())
	}
}
