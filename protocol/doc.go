// Package protocol is the one grammar of the chat protocol: the messages,
// how they are parsed and formatted, the rules for user names and texts,
// the J_ER code table, and the two stream framings. It opens no sockets;
// the reference server, the reference client and the conformance steps all
// use it, so a line is split and formatted in exactly one place.
//
// # Messages
//
//	JOIN <name>, <host>:<port>   client -> server
//	J_OK                         server -> client
//	J_ER <code>: <text>          server -> client
//	DATA <name>: <text>          client -> server, and server -> every client
//	IMAV                         client -> server, the heartbeat
//	QUIT                         client -> server
//	LIST <name> <name> ...       server -> client
//
// Decisions this project takes where the assignment text is open:
//
//   - A name is 1 to [MaxNameLen] characters of A-Z a-z 0-9 '-' '_'.
//   - JOIN accepts any spacing around the comma. The ", host:port" part is
//     optional; when present it must have the shape host:port with a numeric
//     port, and it is recorded, not compared with the server's own address.
//   - The DATA text is everything after the first ':' that follows the name,
//     less one space if one follows the colon; it may itself contain ':'.
//     It is at most [MaxTextLen] Unicode characters (not bytes), must be
//     valid UTF-8 and may not contain control characters (C0, DEL, C1), so
//     that no user can repaint another user's terminal.
//   - The text's "OUIT" is a typo for QUIT (see the assignment's earlier
//     edition); only QUIT is accepted.
//   - Verbs are upper case and end at the first space or tab. Trailing
//     spaces after J_OK, IMAV, QUIT and LIST are ignored; LIST names are
//     separated by spaces (the assignment's "LIST <<name1 name2 name3
//     ...>>"), in any order. A comma between names is malformed: a client
//     that splits on spaces would read "a,b" as one name.
//   - J_ER is "J_ER <code>: <text>"; any code without spaces and any text are
//     accepted on read. The codes this project's server sends are the [Code]
//     constants.
//
// # Framing
//
// [FramingLine] (the default): a message is one line ending in "\n"; a
// trailing "\r" is stripped on read, so CRLF peers are legal.
// [FramingUTF]: Java's DataOutputStream.writeUTF frames, a 2-byte big-endian
// length followed by that many bytes of modified UTF-8. [FramingRaw]: no
// delimiter, each read() one message, as some servers written for the
// assignment do; it exists to grade and imitate them. Every reader bounds
// what it buffers: a frame longer than the reader's limit is reported as
// [ErrLineTooLong], never read into memory whole.
//
// # Reading leniently
//
// [Parse] is the grammar, strictly. [Recognize] is the tolerant reader of a
// peer that bends the grammar's shape but not its meaning ("alice: hi" for
// "DATA alice: hi", "J_OK welcome", "LIST a,b"): it says what each frame
// means and how its shape departs ([Shape]), so that a grader can fail the
// one rule about the shape and read the message as meant everywhere else.
package protocol
