// Package chatclient is the reference client of the chat protocol, as a
// library: it dials a server, joins under a name, sends texts, sends the
// IMAV heartbeat while joined, turns what the server sends into [Event]s,
// and sends QUIT when it is closed.
//
//	c, err := chatclient.Dial(ctx, "127.0.0.1:4242", chatclient.Config{})
//	if err != nil { ... }
//	defer c.Close() // sends QUIT
//	if err := c.Join(ctx, "alice"); err != nil { ... } // a *JoinError carries the server's J_ER
//	go func() {
//		for ev := range c.Events() { fmt.Println(chatclient.SafeText(ev.Text)) }
//		// the channel is closed: c.Err() says why
//	}()
//	err = c.Send("hello")
//
// A [Dialer] adds what a person at a prompt needs: when the server refuses
// a name and closes the connection, the next try dials again by itself.
//
// Every line is parsed and formatted by package protocol; names and texts
// are checked with protocol.ValidName and protocol.ValidText before they
// are sent. Text that arrives from the server is never trusted to be safe
// to print: [SafeText] shows control characters and escape sequences
// escaped, and both faces of cmd/chatclient (the terminal UI in package
// tui, the line-oriented plain mode in package plain) print through it.
//
// # Goroutines
//
// A Client runs two goroutines for the life of its connection. The reader
// owns the frame reader and the last LIST seen; it turns frames into events
// and hands J_OK / J_ER to a waiting Join. The writer owns every write to
// the connection: queued messages, the heartbeat ticker, and QUIT on Close.
// Their shared state (join state, name, the reason the connection ended) is
// guarded by Client.mu. Close waits for both goroutines to end.
package chatclient
