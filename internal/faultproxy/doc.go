// Package faultproxy builds the broken servers that prove every conformance
// check can fail, and the legal variations that prove no check fails a
// server for a choice the assignment leaves open.
//
// It is test tooling: only _test files (of conformance/) import it. A broken
// server is the reference server behind a rewriting TCP proxy: [Start]
// listens on 127.0.0.1, dials the real server for every client it accepts,
// and passes the traffic through a [Fault], which may drop, rewrite or
// inject frames, see raw byte chunks, or keep one side of a connection open
// after the other closed. [Mutants] is the catalogue of broken servers, each
// breaking exactly one rule of the protocol; [Legal] lists the legal
// variations the suite must pass.
//
// # Use
//
// [Mutant.Start] runs a mutant: a reference server (package chatserver) on
// 127.0.0.1 behind a proxy. The conformance tests grade each one:
//
//	for _, m := range faultproxy.Mutants() {
//		srv, err := m.Start(protocol.FramingLine, suiteHeartbeatTimeout)
//		// grade srv.Addr(): the scenarios of m's rule (m.Group, m.Breaks,
//		// m.Level) fail, no other does; then srv.Close()
//	}
//
// A Mutant's Note says what else a test needs to know, e.g. which
// mutants only mean something in line framing (also flagged LineOnly).
//
// # Framing
//
// The proxy reads each direction with [protocol.Framing.NewReader] and
// writes with [protocol.Framing.AppendFrame], in the framing given to
// [Start]. It therefore re-frames: it forwards exactly the frames it reads,
// in order per direction, each frame (or the lines a hook returns for it)
// in one write. What changes on the wire is only what a correct peer
// cannot observe: TCP write boundaries, and in line framing a "\r\n"
// terminator becomes "\n" (a hook that wants "\r\n" returns line+"\r").
// Frames longer than the proxy's limit (64 KiB) or with bad modified UTF-8
// are forwarded as a stand-in frame with the same defect (see
// [Fault.Frame]).
//
// [Fault.Raw] replaces frame handling in the client-to-server direction by
// byte chunks, exactly as read() returned them; Raw faults model servers
// that treat each read as a message, so they are meaningful in line framing
// only.
//
// # What a session knows
//
// The proxy follows each session's JOIN: [Session.Name] is the name the
// client joined with, once the server has answered J_OK, and
// [Session.ServerName] the name the server knows (they differ only when a
// Fault renamed the JOIN). It pairs the server's J_OK and J_ER with the
// requests sent before joining, in order, as the reference server answers
// them, so a client that pipelines requests is followed correctly. Raw
// sessions are not followed.
//
// # Sessions and concurrency
//
// Every accepted client connection is a [Session] with two goroutines: one
// reads the client and writes the server (ToServer), one reads the server
// and writes the client (ToClient). A Fault's hooks run on the goroutine of
// the direction they see, so two hooks of one session may run at once, and
// hooks of different sessions certainly do: state shared between calls lives
// in the closure that the Mutant's Fault constructor returns, guarded by a
// mutex, or in [Session.Vars].
package faultproxy
