// Package conformance grades a chat server against every rule of the
// protocol, through the Gherkin features of the features package and the
// steps of the steps package. It holds no code of its own beyond this
// documentation: the entry point is its test.
//
// Grade a server:
//
//	go test ./conformance -count=1 -v -addr host:port
//
// Without -addr, the test starts the reference server in-process on
// 127.0.0.1 with a short heartbeat timeout and grades it with matching
// short timings: the project's own test, and a newcomer's first run.
//
// # Flags
//
//	-addr host:port   the server to grade; none: the in-process reference server
//	-framing line|utf newline-terminated lines (default) or Java writeUTF frames
//	-heartbeat D      every joined client sends IMAV at this interval (default 60s)
//	-expiry D         how long to wait for a silent client to be dropped, and how
//	                  long a heartbeating client is held before checking it is
//	                  still there (default 3m; a little above the server's timeout)
//	-wait D           how long to wait for an expected reply (default 2s)
//	-quiet D          how long to listen before concluding nothing arrives (default 300ms)
//	-strict           SHOULD-level failures fail the run too
//	-godog.tags EXPR  run only matching scenarios: @must, ~@slow, @presence,@quitting
//	                  (godog's syntax: ~ not, && and, "," or; "not @a" selects nothing)
//	-godog.format F   godog's own output as well: pretty, progress, junit:FILE, cucumber:FILE
//	-godog.concurrency N  scenarios at once (default 8; the @slow ones always run side by side)
//
// Without -addr, the defaults not given on the command line become
// -heartbeat 250ms -expiry 3s -quiet 200ms -strict, against a reference
// server that drops clients silent for 1.5s: the reference server passes
// every rule, SHOULD ones included. With -addr, the project's own tests
// of the suite (the broken servers of internal/faultproxy) are skipped.
//
// Every feature has a tag for its group (@joining, @duplicates, @messages,
// @presence, @heartbeat, @quitting, @errors, @framing, @robustness); @slow
// marks the timing rules, which wait for -expiry.
//
// # The report
//
// Every failed scenario is reported with its rule, its level (MUST: the
// assignment states it; SHOULD: a sensible reading of what it leaves open),
// the step, what was expected, what actually arrived, and the transcript of
// every connection of the scenario: time offset, direction and the exact
// bytes. A summary follows: MUST passed and failed, SHOULD passed and
// warned, one line per failed rule, and the verdict. The run fails on a
// MUST-level failure, or with -strict on any failure, or when no scenario
// ran. A server that cannot be reached or does not answer JOIN gets one
// paragraph with a hint instead; a server that stops accepting connections
// part-way is reported once, with the last scenario that connected.
package conformance
