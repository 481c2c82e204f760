// Package chatcluster lets several reference servers (nodes) share one chat
// room through NATS JetStream, so that a client connected to any node sees
// what it would see on a single server.
//
// A [Node] is one server's membership of the cluster: [Open] connects it to
// NATS, and [Node.Room] is the chatserver.Room the server uses in place of a
// room of its own (chatserver.Config.Room). Only cmd/chatserver imports this
// package, so the conformance suite and the single-node server never link
// NATS.
//
// # What lives in NATS
//
// For a room named R (Config.Room):
//
//   - Stream CHAT_R, subjects chat.R.ev.<process>: every event of the room
//     (join, leave, DATA, node down) in one order. Each node publishes on
//     its own subject and reads the whole stream with an ordered consumer.
//   - Key-value bucket CHAT_R_names: one key per joined user name, created
//     with a create that fails if the key exists. This is what makes a name
//     unique across the cluster: of two nodes joining "alice" at the same
//     moment, exactly one create succeeds.
//   - Key-value bucket CHAT_R_nodes: one key per node name, the node's
//     lease, renewed by the node every NodeTimeout/4.
//
// # One order for everyone
//
// A node never delivers anything straight to its clients: JOIN, QUIT and
// DATA become events published to the stream, and every node, the sender's
// included, applies the stream's events in stream order to its own replica
// of the room (a chatroom.Room in which the other nodes' members are
// placeholders that receive nothing). Applying an event formats its frames
// in the node's own framing and queues them to that node's clients, so a
// line node and a writeUTF node can share a room. Every member therefore
// sees the room's events in the stream's order, whichever node it is on.
// The joining client's J_OK is queued when its join event is applied, so
// it sees exactly the events after its join. Say returns once the DATA is
// queued for publishing (a client may have 32 in flight before its reads
// wait); a J_ER answering the client's next lines is held until its echoes
// are queued (Room.Reply), and Leave returns once the departure is
// applied, so a client sees its echoes, its errors and the end of its
// connection in the order of its requests, as on a single server.
//
// # Names, leases and node failure
//
// A name's key holds the process and epoch that claimed it. A name is
// released (its key deleted) before the event that says it left is
// published, so a node starting up can read the names bucket and then
// apply the stream from where it stood, and miss nothing.
//
// Each node holds a lease (its key in the nodes bucket) and updates it
// every NodeTimeout/4 with a conditional update. Every node reads the
// leases as often; a lease that has not changed for NodeTimeout, counted
// only while the reader is connected to NATS, marks its node dead. The first node to
// delete the dead lease (a conditional delete: exactly one succeeds) deletes
// the dead node's names and publishes one "down" event, which removes the
// dead node's users from every LIST at once. A node restarting under the same
// name takes over its predecessor's lease at once, so it never shows, nor
// keeps the names of, users of its previous life.
//
// A node that finds its own lease gone (declared dead while cut off, or taken
// over by another process with its name) disconnects its joined clients,
// whose names are no longer theirs, and registers again under a new epoch.
//
// # NATS unavailable
//
// A node that loses NATS answers new JOINs with "J_ER 503" and a text that
// says why, keeps its connections, and logs the outage once. DATA its
// clients send meanwhile is accepted and queued (up to Config.QueueBytes;
// beyond, J_ER 503 too). On reconnect the node finds out which of its
// events the stream already holds, by reading its own subject, publishes
// the rest in order, and logs that it is back: nothing accepted is lost or
// published twice. Messages the others published meanwhile arrive through
// the ordered consumer, which resumes after the last event it delivered.
// The nodes' clocks for each other's leases restart when they reconnect,
// so an outage of NATS itself never makes nodes declare each other dead.
package chatcluster
