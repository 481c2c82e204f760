// Package conformance grades a chat server against every rule of the
// protocol, through the Gherkin features of the features package, the
// steps of the steps package and the engine, and a chat client through
// the client features and package clientsteps. Its exported pieces are the
// command lines ([ServerFlags], [ClientFlags]) and the client run
// ([GradeClient]), shared by its test and by chatgrade; the entry point is
// its test.
//
// Grade a server:
//
//	go test ./conformance -count=1 -addr host:port
//
// Without -addr, the test starts the reference server in-process on
// 127.0.0.1 with a short heartbeat timeout and grades it with matching
// short timings: the project's own test, and a newcomer's first run. Then
// the self-test grades every server of internal/faultproxy's catalogue and
// checks each rule's outcome against the catalogue's table (skipped when
// -addr names a server).
//
// # Flags
//
//	-addr host:port[,...]  the server to grade, or the nodes of a cluster;
//	                       none: the in-process reference server
//	-framing auto|line|utf|raw
//	                       how the server frames messages (default auto: find out)
//	-join full|bare        JOIN as the assignment has it (default), or the name alone
//	-heartbeat D           every joined client sends IMAV at this interval (default 60s)
//	-expiry D              how long to wait for a silent client to be dropped, and how
//	                       long a heartbeating client is held before checking it is
//	                       still there (default 3m; a little above the server's timeout)
//	-wait D                how long to wait for an expected message (default 2s)
//	-quiet D               how long to listen before concluding nothing arrives (default 300ms)
//	-flood D               the longest the flood scenario floods (default 60s)
//	-strict                SHOULD-level failures fail the run too
//	-rule ID[,ID...]       run only these rules (e.g. presence.list-on-join)
//	-report-json FILE      the report as JSON
//	-report-html FILE      the report as one self-contained HTML page
//	-report-junit FILE     the report as JUnit XML
//	-godog.tags EXPR       run only matching scenarios: @must, ~@slow, @presence,@quitting
//	                       (godog's syntax: ~ not, && and, "," or; "not @a" selects nothing)
//	-godog.paths F[:LINE]  run only a feature file, or one scenario by its line
//	-godog.concurrency N   scenarios at once (default 8)
//	-godog.format F        godog's own step-by-step output as well: pretty or progress
//	-mutants REGEXP        (self-test) grade only the catalogue's matching servers, and
//	                       show their reports
//
// Without -addr, the defaults not given on the command line become
// -heartbeat 200ms -expiry 1.5s -quiet 200ms -strict, against a reference
// server that drops clients silent for 1s: the reference server passes
// every rule, SHOULD ones included.
//
// Every feature has a tag for its group (@joining, @duplicates, @messages,
// @presence, @heartbeat, @quitting, @errors, @framing, @robustness); every
// rule has a level (@must, @should) and an ID (@rule:presence.list-on-join).
//
// # The report
//
// The report starts with the verdict and the root causes of what went
// wrong, then the server's profile (framing, shapes, echo, timeout), then
// every rule with its outcome, then one block per failed or warned
// scenario: rule, level, step, expected, actual, and the transcript of the
// scenario's connections, exact bytes included; then the scenarios not
// graded and why. Without -v, go test hides a passing test's output, so
// with -addr the report goes to the terminal directly when there is one.
// The test fails when the verdict is not PASS: a MUST failure (or, with
// -strict, any), a MUST scenario not graded, or nothing graded at all.
//
// # Grading a client
//
// TestClient grades a chat client program with the client features and
// the steps of package clientsteps; [ClientFlags] is its command line,
// shared with chatgrade, and [GradeClient] the run:
//
//	go test ./conformance -count=1 -run 'TestClient$' -client-cmd 'java -cp /abs/path ChatClient {host} {port}'
//
// Without -client-cmd (or -client-profile, or -client-manual) it grades the
// reference client, built from ./cmd/chatclient, in plain mode with a
// one-second heartbeat; TestClientCatalogue grades every client of
// internal/faultclient's catalogue and TestClientManualMode plays the
// person of manual mode (both skipped when a client is named). The flags:
//
//	-client-cmd CMD        the shell command that starts the client ({host} {port} {addr})
//	-client-dir DIR        where it runs (go test runs in ./conformance)
//	-client-manual         a client run by hand (a GUI): the suite says what to do
//	-client-profile FILE   a TOML profile: command, dir, manual, listen, heartbeat,
//	                       first, join, say, quit (flags given win)
//	-client-listen H:P     where the suite's server listens (default 127.0.0.1:0)
//	-client-first LINE     a line typed before joining (repeat the flag for more)
//	-client-join LINE      what the user types to join (default {name})
//	-client-say LINE       what the user types to say something (default {text})
//	-client-quit WORD      what the user types to leave (default: close standard input)
//	-client-heartbeat D    the IMAV interval the client must keep (default 60s)
//	-client-wait D         how long the client has to react (default 2s)
//	-client-quiet D        how long the client's output must be still before what it
//	                       prints next is judged (default 300ms)
//	-client-start D        how long a client just started has to connect (default 10s)
//	-client-step D         manual mode: the time for each step (default 2m)
//	-client-mutants REGEXP (self-test) grade only the catalogue's matching clients
//
// -strict, -rule, -godog.tags and the -report-* flags work as for a
// server.
package conformance
