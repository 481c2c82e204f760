// Package steps drives any chat server over TCP through the conformance
// suite's Gherkin features: the godog step definitions, the per-scenario
// state behind them, and [Run], which grades a server and writes the report.
//
// It talks to the server only through the protocol package's grammar and a
// socket; it never imports the reference server, so it grades every server
// alike.
//
// # Scenarios
//
// Every scenario gets its own state (a world), carried in the step's
// context.Context, so scenarios run concurrently against one server. The
// aliases of the feature text (alice, bob, ...) become wire names unique to
// the scenario, at most 12 characters long. Every client the suite opens
// records each byte it sends and receives, with its time offset, for the
// report; sends IMAV every Config.Heartbeat once it has joined, unless the
// scenario makes it go silent; and sends QUIT at the end of the scenario if
// it is still open.
//
// # Reading replies
//
// Replies are parsed with protocol.Parse. A client keeps three cursors over
// what it received: replies to its own requests (J_OK, J_ER, lines that do
// not parse), DATA, and LIST. An expected reply is the next one of its kind;
// an expected DATA or LIST is any later one that matches, because other
// users (other scenarios, a student's own client) chat and join on the same
// server at the same time. LIST checks are "includes" and "does not include"
// the scenario's own users, never the whole list or its order.
package steps
