// Package faultproxy builds the servers of the project's self-test: broken
// servers that prove every conformance check can fail, deviant servers
// built like the ones students hand in, noisy servers whose traffic must
// not disturb other scenarios, and the legal variations that prove no
// check fails a server for a choice the assignment leaves open.
//
// It is test tooling: only _test files (of conformance/) import it. A
// server of the catalogue is the reference server behind a rewriting TCP
// proxy: [Start] listens on 127.0.0.1, dials the real server for every
// client it accepts, and passes the traffic through a [Fault], which may
// drop, rewrite or inject frames, see raw byte chunks, keep one side of a
// connection open after the other closed, or make the whole server freeze,
// stop accepting or refuse connections ([Proxy.Freeze],
// [Proxy.StopAccepting], [Proxy.Refuse]).
//
// # The catalogue
//
// [Catalogue] lists every server, in one place. Each [Mutant] says, by
// rule ID (the features' @rule: tags), exactly how the suite must grade
// it: the rules it fails (Fails), the rules it leaves not graded (Skips),
// and, where the fault makes a race of what a scenario can observe, the
// rules whose outcome is not checked (Maybe); every other rule graded must
// pass. The level of a rule comes from its feature, never from here.
// [Mutant.Start] runs one:
//
//	for _, m := range faultproxy.Catalogue() {
//		srv, err := m.Start(protocol.FramingLine, suiteHeartbeatTimeout)
//		// grade srv.Addr(), compare every rule with m.Fails, m.Skips, m.Maybe
//	}
//
// Adding one is a few lines with the helpers of faults.go: drop a kind of
// frame (dropWhere), rewrite one (frameHook, rewriteToClient), refuse one
// (RefuseNames), remember something per session (perSession).
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
// byte chunks, exactly as read() returned them, and [Fault.RawToClient]
// writes the server's frames to the client with no delimiter: together
// they model servers that treat each read as a message, so they are
// meaningful in line framing only.
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
// mutex (perSession keeps a typed value per session that way).
package faultproxy
