package conformance

import (
	"errors"
	"flag"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chatspec/chatspec/internal/faultproxy"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/steps"
)

// catch says which scenarios must fail against a broken server (guards:
// the scenarios of the rule it breaks) and which others may fail too
// (also: scenarios that need the broken behaviour along the way). Names are
// matched as substrings of scenario names.
type catch struct {
	guards []string
	also   []string
	slow   bool // the guards are @slow: grade the @slow scenarios too
	heavy  bool // the guards are @heavy: grade the @heavy scenarios too
	// conc, if above 1, grades that many scenarios at once: for a mutant
	// that makes many scenarios wait in vain, and whose withheld messages
	// no other scenario's traffic can stand in for (DATA and J_ER are
	// checked by name and connection; LIST is not).
	conc int
}

// Names of scenarios, as the features spell them (substrings).
const (
	scValidUpper      = "are accepted: upper-case letters"
	scValid12         = "are accepted: 12 characters"
	scValidOne        = "are accepted: one character"
	scValidDigits     = "are accepted: digits only"
	scValidHyphen     = "are accepted: '-' inside a name"
	scValidUnderscore = "are accepted: '_' inside a name"
	scValidLeadHyphen = "are accepted: a name that starts with '-'"
	scInvalid13       = "Invalid names are refused: 13 characters"
	scInvalidSpace    = "Invalid names are refused: a space"
	scInvalidBang     = "Invalid names are refused: '!'"
	scInvalidDot      = "Invalid names are refused: '.'"
	scInvalidOslash   = "Invalid names are refused: 'ø'"
	scInvalidEmpty    = "Invalid names are refused: an empty name"
	scRejoin          = "A second JOIN on the same connection is refused"
	scDupRefused      = "A second client cannot take an active user's name"
	scDupKeeps        = "The refused client does not replace the active user"
	scRetryInvalid    = "After an invalid name, the client can join on the same connection"
	scRetryDup        = "After a duplicate name, the client can join"
	scRetryUnknown    = "After an unknown command, the client can still chat"
	scDataOthers      = "The other clients receive the message"
	scDataEcho        = "The sender receives its own copy"
	scDataColons      = "A text with colons arrives whole"
	scText250Oslash   = `A text of 250 "ø" arrives whole`
	scTextArrives     = "arrives whole"
	scTextTooLong     = "is refused: one character too many"
	scTextTooLongO    = "is refused: 251 two-byte characters"
	scUnjoinedNobody  = "DATA from a client that has not joined reaches nobody"
	scUnjoinedJER     = "DATA from a client that has not joined is answered with J_ER"
	scImpersonation   = "DATA under another active user's name"
	scANSI            = "A text with an ANSI escape sequence"
	scListOthers      = "The clients already there learn of the newcomer"
	scListJoiner      = "The newcomer receives the LIST too"
	scOKFirst         = "J_OK comes first"
	scListQuit        = "The others learn that a user quit"
	scListAbrupt      = "An abrupt disconnect is noticed"
	scKeepAlive       = "A heartbeating client is kept"
	scSilentDropped   = "A silent client is dropped"
	scSilentClosed    = "The server closes a silent client's connection"
	scIMAVNoReply     = "IMAV is not answered with an error"
	scNameFree        = "Another client can take the name of a user who quit"
	scNothingAfter    = "Messages sent after QUIT do not reach the quitter"
	scQuitCloses      = "QUIT ends the connection"
	scUnknown         = "An unknown command is refused"
	scJERShape        = "An error reply carries a code and a text"
	scMalformed       = "A malformed command is refused"
	scOneWrite        = "JOIN and DATA in one write"
	scSplit           = "JOIN split across three writes"
	scCRLF            = "JOIN ending in CRLF"
	scHugeLine        = "A line of 1 MiB"
	scJunk            = "NUL bytes, invalid UTF-8"
	scEmptyConn       = "A connection opened and closed without a byte"
	scIdleConn        = "A connection that stays open and silent"
	scSlowReader      = "One client stops reading"
	scReset           = "A connection reset without QUIT or FIN"
	scRaceJoin        = "Ten clients join with the same name at once"
)

// catches maps every mutant of the catalogue, and the local ones, to the
// scenarios that must catch it. TestEveryMutantIsCaught fails for a mutant
// missing here.
var catches = map[string]catch{
	// Joining.
	"reject-uppercase":     {guards: []string{scValidUpper}},
	"refuse-hyphen":        {guards: []string{scValidHyphen, scValidLeadHyphen}},
	"refuse-12-chars":      {guards: []string{scValid12}, also: []string{scValidUpper}},
	"refuse-one-char":      {guards: []string{scValidOne}},
	"refuse-digits-only":   {guards: []string{scValidDigits}, also: []string{scValidOne}},
	"refuse-underscore":    {guards: []string{scValidUnderscore}, also: []string{scValidLeadHyphen}},
	"accept-13-chars":      {guards: []string{scInvalid13}},
	"accept-space":         {guards: []string{scInvalidSpace}},
	"accept-punctuation":   {guards: []string{scInvalidBang, scInvalidDot}, also: []string{scRetryInvalid}},
	"accept-non-ascii":     {guards: []string{scInvalidOslash}},
	"accept-empty":         {guards: []string{scInvalidEmpty}},
	"jer-malformed":        {guards: []string{scInvalid13, scInvalidSpace, scInvalidBang, scInvalidDot, scInvalidOslash, scInvalidEmpty}, also: []string{scRetryInvalid}},
	"jer-unknown-no-colon": {guards: []string{scJERShape}, also: []string{scUnknown, scRetryUnknown, scJunk}},
	"rejoin-accepted":      {guards: []string{scRejoin}},
	"no-retry-after-jer":   {guards: []string{scRetryInvalid, scRetryDup}},
	// Duplicates.
	"accept-duplicate":     {guards: []string{scDupRefused, scDupKeeps}, also: []string{scRetryDup, scRaceJoin}},
	"name-kept-after-quit": {guards: []string{scNameFree}},
	// Messages.
	"no-echo":                  {guards: []string{scDataEcho}, also: []string{scNothingAfter}},
	"no-delivery-to-others":    {guards: []string{scDataOthers}, also: []string{scDupKeeps, scRetryUnknown, scOneWrite, scDataColons, scTextArrives, scKeepAlive, scHugeLine, scJunk, scEmptyConn, scSlowReader}, conc: 4},
	"count-bytes":              {guards: []string{scText250Oslash}},
	"accept-long-text":         {guards: []string{scTextTooLong, scTextTooLongO}},
	"text-cut-at-colon":        {guards: []string{scDataColons}},
	"data-before-join-ignored": {guards: []string{scUnjoinedJER}},
	"unjoined-data-broadcast":  {guards: []string{scUnjoinedNobody}},
	"impersonation-broadcast":  {guards: []string{scImpersonation}},
	"accept-control-chars":     {guards: []string{scANSI}},
	// Presence.
	"no-list-to-joiner":      {guards: []string{scListJoiner}},
	"no-list-to-others":      {guards: []string{scListOthers}, also: []string{scListQuit, scListAbrupt, scKeepAlive, scSilentDropped, scIdleConn, scReset}},
	"list-before-jok":        {guards: []string{scOKFirst}},
	"no-list-after-quit":     {guards: []string{scListQuit}},
	"list-keeps-quitter":     {guards: []string{scListQuit}},
	"slow-disconnect-notice": {guards: []string{scListAbrupt, scReset}},
	// Heartbeat.
	"never-drops-silent": {guards: []string{scSilentDropped, scSilentClosed}, slow: true},
	"ignores-imav":       {guards: []string{scKeepAlive}, also: []string{scSilentDropped}, slow: true},
	"dropped-left-open":  {guards: []string{scSilentClosed}, slow: true},
	"imav-answered-jer":  {guards: []string{scIMAVNoReply}},
	// Quitting.
	"quit-ignored":    {guards: []string{scListQuit, scNothingAfter}, also: []string{scNameFree, scQuitCloses}},
	"data-after-quit": {guards: []string{scNothingAfter}, also: []string{scQuitCloses}},
	"open-after-quit": {guards: []string{scQuitCloses}},
	// Errors.
	"unknown-ignored":     {guards: []string{scUnknown}, also: []string{scJERShape, scRetryUnknown, scJunk, scHugeLine}, conc: 4},
	"close-after-unknown": {guards: []string{scRetryUnknown}},
	"malformed-ignored":   {guards: []string{scMalformed}, conc: 4},
	// Stream framing.
	// Keeping only the first line of each read() loses any message that
	// shares a read with another (a heartbeat, a flood), so any scenario
	// may fail; the guard always does.
	"first-line-per-read": {guards: []string{scOneWrite}, also: []string{""}},
	"read-is-message":     {guards: []string{scSplit}},
	"crlf-refused":        {guards: []string{scCRLF}},
	// Robustness.
	"oversized-swallowed": {guards: []string{scHugeLine}},
	"blocking-broadcast":  {guards: []string{scSlowReader}, heavy: true},
	"idle-blocks-others":  {guards: []string{scIdleConn}, also: []string{scHugeLine}},
	// The server dies in the scenario that guards it; the fragile ones after
	// it cannot connect (TestCrashIsReportedOnce checks the report).
	"crash-on-empty-connection": {guards: []string{scEmptyConn}, also: []string{scIdleConn, scSlowReader, scReset, scRaceJoin}},
}

// legalCosts maps a legal variation to the SHOULD scenarios it may fail
// (it must pass every MUST).
var legalCosts = map[string][]string{
	"close-after-jer": {scRetryInvalid, scRetryDup, scRetryUnknown},
}

// legalHeavy names the legal variations graded with the @heavy scenarios
// too: those that change how DATA reaches the clients.
var legalHeavy = map[string]bool{"crlf-endings": true}

// localMutants are broken servers the catalogue lacks, built with the
// proxy's public API.
func localMutants() []faultproxy.Mutant {
	onFrame := func(dir faultproxy.Direction, hook func(s *faultproxy.Session, m protocol.Message, err error, line string) []string) func() faultproxy.Fault {
		return func() faultproxy.Fault {
			return faultproxy.Fault{Frame: func(s *faultproxy.Session, d faultproxy.Direction, line string) []string {
				if d != dir {
					return []string{line}
				}
				m, err := protocol.Parse(line)
				return hook(s, m, err, line)
			}}
		}
	}
	return []faultproxy.Mutant{
		faultproxy.RefuseNames("refuse-one-char", "a name of one character is valid",
			func(n string) bool { return len(n) == 1 }),
		faultproxy.RefuseNames("refuse-digits-only", "a name of digits only is valid",
			func(n string) bool { return strings.Trim(n, "0123456789") == "" }),
		faultproxy.RefuseNames("refuse-underscore", "a name with '_' is valid",
			func(n string) bool { return strings.Contains(n, "_") }),
		{
			Name: "jer-unknown-no-colon", Level: faultproxy.Must,
			Breaks: `J_ER has the shape "J_ER <code>: <text>" (here the J_ER for an unknown command has no colon)`,
			Fault: onFrame(faultproxy.ToClient, func(_ *faultproxy.Session, m protocol.Message, _ error, line string) []string {
				if m.Kind == protocol.KindError && m.Code == "401" {
					return []string{"J_ER 401 unknown command"} // malformed on purpose
				}
				return []string{line}
			}),
		},
		{
			Name: "unjoined-data-broadcast", Level: faultproxy.Must,
			Breaks: "DATA from a client that has not joined reaches nobody",
			Fault: onFrame(faultproxy.ToServer, func(s *faultproxy.Session, m protocol.Message, _ error, line string) []string {
				if m.Kind == protocol.KindData && !s.Joined() {
					for _, o := range s.Proxy().Sessions() {
						if o.Joined() {
							_ = o.Inject(faultproxy.ToClient, line)
						}
					}
				}
				return []string{line}
			}),
		},
		{
			Name: "imav-answered-jer", Level: faultproxy.Should,
			Breaks: "IMAV needs no answer (here it gets J_ER)",
			Fault: onFrame(faultproxy.ToServer, func(s *faultproxy.Session, m protocol.Message, _ error, line string) []string {
				if m.Kind == protocol.KindAlive {
					_ = s.Inject(faultproxy.ToClient, protocol.Error(protocol.CodeUnknownCommand, "what is IMAV?").String())
				}
				return []string{line}
			}),
		},
	}
}

var mutantPattern = flag.String("mutants", "", "grade only the broken servers whose names match this `regexp` (for debugging a mutant)")

// allMutants returns the catalogue's mutants and the local ones, or only
// those the -mutants pattern selects.
func allMutants(t *testing.T) []faultproxy.Mutant {
	ms := append(faultproxy.Mutants(), localMutants()...)
	ms = append(ms, robustnessMutants()...)
	if *mutantPattern == "" {
		return ms
	}
	re, err := regexp.Compile(*mutantPattern)
	if err != nil {
		t.Fatalf("-mutants: %v", err)
	}
	return slices.DeleteFunc(ms, func(m faultproxy.Mutant) bool { return !re.MatchString(m.Name) })
}

func matches(name string, subs []string) bool {
	return slices.ContainsFunc(subs, func(s string) bool { return strings.Contains(name, s) })
}

// failures lists the scenarios of rep that did not pass, and complains of
// any that could not run.
func failures(t *testing.T, name string, rep *steps.Report, text string) []steps.ScenarioResult {
	t.Helper()
	if rep.Unreachable != nil {
		t.Fatalf("%s: server unreachable: %v", name, rep.Unreachable)
	}
	var out []steps.ScenarioResult
	for _, s := range rep.Scenarios {
		if s.Passed() {
			continue
		}
		var ce *steps.ConnectError
		if errors.As(s.Err, &ce) || !s.Ran {
			t.Errorf("%s: scenario %q could not run: %v\n%s", name, s.Scenario, s.Err, text)
		}
		out = append(out, s)
	}
	return out
}

// TestEveryMutantIsCaught grades every broken server and checks that the
// scenarios guarding the rule it breaks fail, and no unrelated one does.
func TestEveryMutantIsCaught(t *testing.T) {
	skipWhenGrading(t)
	t.Parallel()
	ms := allMutants(t)
	jobs := make([]job, 0, len(ms)+8)
	for _, m := range ms {
		tm := fastPass
		tm.conc = max(1, catches[m.Name].conc)
		jobs = append(jobs, job{m, fastTags, tm})
	}
	for _, m := range ms {
		if catches[m.Name].slow {
			jobs = append(jobs, job{m, slowTags, slowPass})
		}
		if catches[m.Name].heavy {
			jobs = append(jobs, job{m, heavyTags, fastPass})
		}
	}
	runs := gradeJobs(t, protocol.FramingLine, jobs)
	fast := runs[:len(ms)]
	extra := make(map[string][]run)
	for _, r := range runs[len(ms):] {
		extra[r.m.Name] = append(extra[r.m.Name], r)
	}
	for _, r := range fast {
		t.Run(r.m.Name, func(t *testing.T) {
			c, ok := catches[r.m.Name]
			if !ok {
				t.Fatalf("mutant %q (%s) has no entry in catches: say which scenario catches it", r.m.Name, r.m.Breaks)
			}
			failed := failures(t, r.m.Name, r.rep, r.text)
			text := r.text
			for _, x := range extra[r.m.Name] {
				failed = append(failed, failures(t, r.m.Name, x.rep, x.text)...)
				text += x.text
			}
			var names []string
			for _, s := range failed {
				names = append(names, s.Scenario)
				if !matches(s.Scenario, c.guards) && !matches(s.Scenario, c.also) {
					t.Errorf("mutant %s (breaks: %s) fails an unrelated scenario: %q", r.m.Name, r.m.Breaks, s.Scenario)
				}
			}
			for _, g := range c.guards {
				if !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, g) }) {
					t.Errorf("mutant %s (breaks: %s) is not caught by %q", r.m.Name, r.m.Breaks, g)
				}
			}
			if t.Failed() || *mutantPattern != "" {
				// With -mutants, show what a student would see from such a server.
				t.Logf("report:\n%s", text)
			}
		})
	}
}

// TestLegalVariationsPass grades every legal variation of a server (the
// @slow scenarios included, and the @heavy ones where legalHeavy says), and
// checks that the verdict is PASS and that only the
// SHOULD scenarios it is known to cost fail.
func TestLegalVariationsPass(t *testing.T) {
	skipWhenGrading(t)
	t.Parallel()
	legal := faultproxy.Legal()
	var jobs []job
	for _, m := range legal {
		jobs = append(jobs, job{m, fastTags, fastPass}, job{m, slowTags, slowPass})
		if legalHeavy[m.Name] {
			jobs = append(jobs, job{m, heavyTags, fastPass})
		}
	}
	byName := make(map[string][]run)
	for _, r := range gradeJobs(t, protocol.FramingLine, jobs) {
		byName[r.m.Name] = append(byName[r.m.Name], r)
	}
	for _, m := range legal {
		t.Run(m.Name, func(t *testing.T) {
			var text string
			var failed []steps.ScenarioResult
			ok := true
			for _, r := range byName[m.Name] {
				text += r.text
				failed = append(failed, failures(t, m.Name, r.rep, r.text)...)
				ok = ok && r.rep.OK()
			}
			for _, s := range failed {
				if !matches(s.Scenario, legalCosts[m.Name]) {
					t.Errorf("legal variation %s (%s) fails %s scenario %q", m.Name, m.Note, s.Level, s.Scenario)
				}
			}
			if !ok {
				t.Errorf("legal variation %s (%s): verdict FAIL", m.Name, m.Note)
			}
			if t.Failed() {
				t.Logf("report:\n%s", text)
			}
		})
	}
}

// TestMutantsInUTFFraming grades a few broken servers and a legal variation
// in writeUTF framing, where every frame passes through the other codec.
func TestMutantsInUTFFraming(t *testing.T) {
	skipWhenGrading(t)
	t.Parallel()
	pick := map[string]bool{"no-echo": true, "accept-long-text": true, "unknown-ignored": true, "count-bytes": true}
	var jobs []job
	for _, m := range allMutants(t) {
		if pick[m.Name] {
			tm := fastPass
			tm.conc = max(1, catches[m.Name].conc)
			jobs = append(jobs, job{m, fastTags, tm})
		}
	}
	for _, m := range faultproxy.Legal() {
		if !m.LineOnly {
			jobs = append(jobs, job{m, fastTags, fastPass})
			break
		}
	}
	for _, r := range gradeJobs(t, protocol.FramingUTF, jobs) {
		t.Run(r.m.Name, func(t *testing.T) {
			c := catches[r.m.Name]
			var names []string
			for _, s := range failures(t, r.m.Name, r.rep, r.text) {
				names = append(names, s.Scenario)
				if !matches(s.Scenario, c.guards) && !matches(s.Scenario, c.also) && !matches(s.Scenario, legalCosts[r.m.Name]) {
					t.Errorf("%s in utf framing fails an unrelated scenario: %q", r.m.Name, s.Scenario)
				}
			}
			for _, g := range c.guards {
				if !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, g) }) {
					t.Errorf("%s in utf framing is not caught by %q", r.m.Name, g)
				}
			}
			if t.Failed() {
				t.Logf("report:\n%s", r.text)
			}
		})
	}
}
