package faultclient

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Mutant is one client of the self-test: the fault client with some
// faults, and how the client suite must grade it, by rule ID (the client
// features' @rule: tags): the rules it fails, the rules it leaves not
// graded; every other rule graded must pass.
type Mutant struct {
	// Name is short and unique.
	Name string
	// Does says what the client does differently, in words.
	Does string
	// Faults are the fault client's switches.
	Faults []string
	// Quit is the word the client leaves with, typed by the suite's
	// profile; "" leaves by the end of input.
	Quit string
	// Fails are the rules the suite must fail (or warn) it on, and no
	// others.
	Fails []string
	// Skips are the rules it must leave not graded (in at least one of
	// their scenarios, failing none).
	Skips []string
	// Legal marks a legal variation: the verdict must be PASS (without
	// -strict); Fails may hold SHOULD rules it costs.
	Legal bool
	// Concurrency, if not zero, is the suite's concurrency for this
	// client: one whose every scenario waits the whole start time runs
	// them all at once.
	Concurrency int
}

// Command is the shell command that runs m with the fault client built
// at bin, its IMAV every heartbeat.
func (m Mutant) Command(bin string, heartbeat time.Duration) string {
	cmd := fmt.Sprintf("'%s' -addr {addr} -heartbeat %s", bin, heartbeat)
	if m.Quit != "" {
		cmd += fmt.Sprintf(" -quit '%s'", m.Quit)
	}
	if len(m.Faults) > 0 {
		cmd += " -faults " + strings.Join(m.Faults, ",")
	}
	return cmd
}

// Rules returns the rule IDs m's table names.
func (m Mutant) Rules() []string { return slices.Concat(m.Fails, m.Skips) }

// The rules, as the client features spell them.
const (
	ruleJoinShape      = "client-joining.join-shape"
	ruleRetry          = "client-joining.retry"
	ruleNameChecked    = "client-joining.name-checked"
	ruleDataShape      = "client-messages.data-shape"
	ruleTextChecked    = "client-messages.text-checked"
	ruleAtLeast        = "client-heartbeat.at-least"
	ruleNotTooOften    = "client-heartbeat.not-too-often"
	ruleQuit           = "client-quitting.quit"
	ruleAtEOF          = "client-quitting.at-eof"
	ruleDataShown      = "client-display.data-shown"
	ruleListShown      = "client-display.list-shown"
	ruleRefusalShown   = "client-display.refusal-shown"
	ruleControlChars   = "client-display.control-chars"
	ruleUnknownMessage = "client-robustness.unknown-message"
	ruleJunk           = "client-robustness.junk"
	ruleLongLine       = "client-robustness.long-line"
	ruleServerCloses   = "client-robustness.server-closes"
)

// broken returns a mutant that fails exactly the rule of its fault.
func broken(fault, rule, does string) Mutant {
	return Mutant{Name: fault, Does: does, Faults: []string{fault}, Fails: []string{rule}}
}

// Catalogue returns every client of the self-test: one or more broken
// clients per rule of the client suite, each failing exactly its rule,
// and the legal variations that must pass. Names are unique.
func Catalogue() []Mutant {
	return []Mutant{
		broken(JoinBare, ruleJoinShape, "sends the name alone instead of JOIN"),
		broken(JoinNoAddr, ruleJoinShape, `sends "JOIN <name>" without the server's address`),
		broken(JoinWrongPort, ruleJoinShape, "sends a port in JOIN that is not the server's"),
		{
			Name: NoJoin, Does: "connects, and sends nothing at all", Faults: []string{NoJoin},
			Concurrency: 32, Fails: []string{ruleJoinShape},
			Skips: []string{ruleRetry, ruleNameChecked, ruleDataShape, ruleTextChecked, ruleAtLeast, ruleNotTooOften, ruleQuit,
				ruleDataShown, ruleListShown, ruleRefusalShown, ruleControlChars, ruleUnknownMessage, ruleJunk, ruleLongLine, ruleServerCloses},
		},
		broken(NoRetry, ruleRetry, "exits after the server refuses a name"),
		broken(NoNameCheck, ruleNameChecked, "sends any name typed, invalid ones too"),
		broken(NoRefusalShown, ruleRefusalShown, "does not show why the server refused a name"),
		broken(DataNoVerb, ruleDataShape, `sends "<name>: <text>" without DATA`),
		broken(NoTextCheck, ruleTextChecked, "sends texts of any length"),
		{Name: NoIMAV, Does: "never sends IMAV", Faults: []string{NoIMAV}, Fails: []string{ruleAtLeast}, Skips: []string{ruleNotTooOften}},
		broken(IMAVOnce, ruleAtLeast, "sends one IMAV, then none"),
		broken(IMAVFast, ruleNotTooOften, "sends IMAV ten times an interval"),
		broken(NoQuitAtEOF, ruleQuit, "exits at the end of input without QUIT"),
		{Name: QuitAsData, Does: `sends the typed quit word as "DATA <name>: QUIT"`, Faults: []string{QuitAsData}, Quit: "QUIT", Fails: []string{ruleQuit}},
		broken(QuitNoClose, ruleQuit, "sends QUIT and keeps the connection open"),
		{Name: NoDataShown, Does: "does not print DATA", Faults: []string{NoDataShown}, Fails: []string{ruleDataShown}, Skips: []string{ruleControlChars}},
		broken(NoListShown, ruleListShown, "does not print LIST"),
		broken(RawControl, ruleControlChars, "prints control characters from the server as they are"),
		broken(CrashUnknown, ruleUnknownMessage, "dies with a stack trace on an unknown message"),
		broken(TraceUnknown, ruleUnknownMessage, "prints a stack trace on an unknown message, and goes on"),
		broken(CrashJunk, ruleJunk, "dies with a stack trace on bytes that are not text"),
		broken(CrashLong, ruleLongLine, "dies with a stack trace on a line over 4096 bytes"),
		broken(TraceOnClose, ruleServerCloses, "prints a stack trace when the server closes the connection"),
		broken(SilentOnClose, ruleServerCloses, "exits without a word when the server closes the connection"),

		{Name: "correct", Does: "does everything right", Legal: true},
		{Name: CRLF, Does: `ends its lines with "\r\n"`, Faults: []string{CRLF}, Legal: true},
		{Name: UTF, Does: "frames messages with Java's writeUTF", Faults: []string{UTF}, Legal: true},
		{Name: RetryNewConn, Does: "closes the connection after J_ER and dials again for the next name", Faults: []string{RetryNewConn}, Legal: true},
		{Name: JoinLocalhost, Does: `writes the server's address in JOIN as "localhost:<port>"`, Faults: []string{JoinLocalhost}, Legal: true},
		{Name: ConnectFirst, Does: "connects as soon as it starts, before it asks the name", Faults: []string{ConnectFirst}, Legal: true},
		{Name: NoPrompt, Does: "prints no prompt", Faults: []string{NoPrompt}, Legal: true},
		{Name: Coloured, Does: "colours its prompt and the names it prints with escape sequences", Faults: []string{Coloured}, Legal: true},
		{Name: Stray, Does: "opens a second connection that sends an HTTP request, besides its own", Faults: []string{Stray}, Legal: true},
		{Name: "quit-word", Does: `leaves when "*q" is typed, and at the end of input`, Quit: "*q", Legal: true},
		{
			Name: "quit-word-only", Does: `leaves with QUIT when "*q" is typed, but exits at the end of input without it`,
			Faults: []string{NoQuitAtEOF}, Quit: "*q", Fails: []string{ruleAtEOF}, Legal: true,
		},
		{
			Name: Silent, Does: "prints nothing at all: no prompt, no message, no refusal",
			Faults: []string{Silent}, Legal: true,
			Fails: []string{ruleNameChecked, ruleTextChecked, ruleDataShown, ruleListShown, ruleRefusalShown, ruleServerCloses},
			Skips: []string{ruleControlChars},
		},
	}
}
