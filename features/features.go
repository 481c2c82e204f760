// Package features holds the conformance suite's rules as Gherkin feature
// files, one file per rule group, embedded so that a compiled test binary
// carries them.
//
// Every Rule carries exactly one level tag, @must (the assignment states
// the rule) or @should (a sensible reading of what the assignment leaves
// open), and one rule ID, @rule:<group>.<name> (for example
// @rule:presence.list-on-join): the stable key by which reports, the
// broken servers of the project's own tests and the -rule flag name it.
// Every feature has a tag of its own for selecting a group (@joining,
// @duplicates, @messages, @presence, @heartbeat, @quitting, @errors,
// @framing, @robustness). Other tags:
//
//   - @slow: a timing rule; it waits for a heartbeat expiry window. The
//     suite starts these first and runs them side by side.
//   - @isolated: judges a broadcast by the event that caused it; the suite
//     runs it with no other scenario running.
//   - @fragile: may crash a fragile server (oversized lines, junk, empty
//     connections, a malformed first line). The suite runs these one at a
//     time after every other scenario.
//   - @heavy: moves megabytes; the project's broken-server tests run it
//     only where it matters.
//   - @lines: only meaningful for newline framing; skipped otherwise.
//
// Aliases in the text (alice, bob, carol, ...) stand for unique wire names
// of at most 12 characters, fresh for every scenario. In a quoted name, each
// '#' stands for a random digit, so that every run joins with fresh names
// of exactly the length written.
package features

import "embed"

// Order returns the feature files in the order a reader meets the rules:
// the order of the reports.
func Order() []string {
	return []string{
		"joining.feature", "duplicates.feature", "messages.feature", "presence.feature",
		"heartbeat.feature", "quitting.feature", "errors.feature", "framing.feature",
		"robustness.feature",
	}
}

// FS holds every *.feature file of this directory, at its root.
//
//go:embed *.feature
var FS embed.FS
