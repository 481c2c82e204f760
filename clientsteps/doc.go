// Package clientsteps is the client half of the conformance suite: the
// step definitions of the client features (features.Client), and the
// engine.Target that grades a chat client program with them. The suite
// plays both what the client talks to: the chat server, scripted, and the
// user, typing.
//
// # The client
//
// Every scenario starts the client afresh: Config.Command, run with
// "sh -c" in a process group of its own, killed whole at the scenario's
// end. The placeholders {host}, {port} and {addr} in the command and in
// every typed line stand for the suite's server. What the client prints
// on standard output and standard error is recorded in the scenario's
// transcript ("stdout", "stderr"), as is what the suite types ("stdin")
// and the process's start and exit ("process").
//
// The suite types what Config.Profile says: optional first lines (a host,
// a port), then the join line with {name}, the say line with {text}, and a
// quit word or the end of input. It types one line at a time, and waits
// for the client to read each (on Linux, where a pipe tells how much of it
// is unread) and, where a line should make the client send something, for
// that message on the wire, before it types the next: it never waits for
// prompts, which may be missing, coloured or in Danish.
//
// In manual mode (a GUI client) no process is started: the suite writes
// one instruction at a time to Config.Instructions ("join as alice") and
// moves on when the client's message arrives, each step bounded by
// Config.Step. What the client shows cannot be graded then.
//
// # The server
//
// The suite listens on Config.Listen: a fresh port per scenario when its
// port is 0, so that scenarios run side by side; one shared listener
// otherwise, one scenario at a time. Each connection's framing (lines, or
// Java's writeUTF) is found from its first bytes. The server acts as the
// reference server does where a step does not script it: a join attempt
// gets J_OK and a LIST (J_ER for an invalid name), a DATA is echoed to its
// sender, IMAV and QUIT get nothing; after QUIT the connection is left
// open for the client to close. It reads leniently: "JOIN alice" without
// the address, or "alice" alone as a connection's first message, is an
// attempt to join, and "alice: hi" a DATA, for every rule but the one
// about that message's shape. A connection that never tries to join is a
// stray (another program on the port): it is not graded.
//
// # Preconditions
//
// A Given step is a precondition: a client that never joins, or whose
// DATA never leaves it, is not graded on the rules that need that, and
// the report names the rule that explains it. Before the scenarios,
// Prepare starts the client once and has it join: a client that never
// connects gets one paragraph, with hints, instead of a report.
package clientsteps
