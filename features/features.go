// Package features holds the conformance suite's rules as Gherkin feature
// files, one file per rule group, embedded so that a compiled test binary
// carries them.
//
// Every scenario carries exactly one level tag: @must (the assignment states
// the rule) or @should (a sensible reading of what the assignment leaves
// open). Every feature has a tag of its own for selecting a group
// (@joining, @duplicates, @messages, @presence, @heartbeat, @quitting,
// @errors, @framing, @robustness). Other tags:
//
//   - @slow: a timing rule; it waits for a heartbeat expiry window. The
//     suite runs these side by side.
//   - @fragile: may crash a fragile server (oversized lines, junk, empty
//     connections). The suite runs these one at a time after every other
//     scenario.
//   - @heavy: moves megabytes; the project's broken-server tests run it
//     only where it matters.
//   - @lines: only meaningful for newline framing; skipped with -framing utf.
//
// Aliases in the text (alice, bob, carol, ...) stand for unique wire names
// of at most 12 characters, fresh for every scenario. In a quoted name, each
// '#' stands for a random digit, so that every run joins with fresh names
// of exactly the length written.
package features

import "embed"

// FS holds every *.feature file of this directory, at its root.
//
//go:embed *.feature
var FS embed.FS
