// Package steps is the server half of the conformance suite: the step
// definitions of the server features, and the engine.Target that drives a
// chat server (or the nodes of a cluster) over TCP with them. It never
// imports the reference server: it grades every server alike, through
// the protocol package's grammar and a socket.
//
// # Before the scenarios
//
// Prepare finds the server's framing (lines, writeUTF, or raw: one read()
// one message) when asked to, and probes the server with two clients: a
// server that cannot be reached, or does not answer a JOIN, gets one
// paragraph with a hint instead of a report full of failures. The probe
// also learns what later steps adapt to, and what the report's profile
// shows: whether a joiner receives a LIST, whether DATA is relayed and
// echoed, and in what shapes.
//
// # Scenarios
//
// Every scenario has its own world, built by Start; its aliases (alice,
// bob, ...) become wire names unique to the scenario, at most 11
// characters long. Every client the suite opens records each byte it
// sends and receives in the scenario's transcript, sends IMAV every
// Config.Heartbeat once it has joined (unless the scenario makes it go
// silent), and sends QUIT at the end of the scenario if it is still open.
//
// # Reading what arrives
//
// Frames are read leniently (protocol.Recognize): "alice: hi" is a DATA,
// "J_OK welcome" a J_OK, "LIST a,b" a LIST, for every rule but the one
// about that message's shape. A client keeps three cursors over what it
// received: replies to its own requests, DATA, and LIST. What other
// scenarios cause on a client's connection (their DATA, their LISTs, a
// malformed line of theirs that the server echoes) is traced to them
// through a registry of every name and line of the run, never counted for
// or against this scenario, and set apart in the transcript.
//
// # Preconditions and causes
//
// A Given step is a precondition: if it fails, the scenario is not
// graded, and the report names the rule that explains it. Steps that only
// set the stage (a DATA that proves the server relays, before a rule
// about a refused DATA) are Given steps too, and every rule about a
// refusal checks that the server still accepts what is valid. A rule
// about a LIST that an event causes counts only the LIST whose change
// from the one before is that event's; one that merges another kind of
// change is inconclusive, and the engine runs the scenario again, alone.
package steps
