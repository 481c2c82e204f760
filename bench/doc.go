// Package bench is chatbench's load generator: it joins many clients to a
// chat server over TCP, has some of them send DATA at a set rate (or as fast
// as the server takes it), has every client read everything, and measures
// join rate, deliveries per second, end-to-end latency, loss, drops and the
// server's memory.
//
// It works against any server speaking the protocol: it needs only that a
// JOIN is answered by J_OK (or J_ER) and that a DATA is delivered to the
// joined clients. All framing and parsing goes through package protocol.
//
// # How a run goes
//
//  1. Join: Clients connections are dialled and joined, at most
//     JoinConcurrency at a time and at most JoinRate per second.
//  2. Settle: the run waits for the end of the LIST storm the joins cause:
//     until every client's newest LIST names every joined client or, for a
//     server whose LISTs cannot tell (none, or too long to read), until no
//     client has received a non-DATA frame for Settle; at most a minute.
//  3. Load: the first Senders clients send DATA for Warmup+Duration (or
//     Messages each). Every delivery is counted once per receiving client
//     and its latency recorded; figures cover Duration, after Warmup.
//  4. Drain: sending stops and the run waits until every client the server
//     did not drop has received every message, or Drain passes without
//     progress; what is still missing is loss.
//
// # The DATA text
//
// Each text is the send time and the message's identity in fixed-width hex,
// padded with 'x' to Size bytes (at most protocol.MaxTextLen, no control
// characters): "<send ns since run start:16>-<sender:6>-<seq:8>-xxx...".
// Latency is therefore measured with this process's monotonic clock, which
// is why senders and receivers live in one process.
//
// # Flow control
//
// With Rate 0 each sender keeps at most Window messages in flight: sent but
// not yet received by the observer, the last client joined (servers usually
// write to it last). This saturates the server without overrunning its
// outbound queues: the senders wait for the slowest client. With Echo, a
// message is in flight until the sender's own client receives it: each
// sender waits only for itself, and together they offer more than the
// slowest client takes (open loop), as senders in a real room do. With
// Rate > 0 senders are paced open loop at a fixed rate; a sender that the
// server slows (by not reading it) falls behind, and its messages carry the
// time they were stamped, so the wait counts in their latency.
//
// Probes are further clients that send at ProbeRate, open loop, whatever
// the Senders do: people typing while others flood. Their messages'
// latency is reported apart (Result.ProbeLatency): how long a flood delays
// someone else's message.
//
// A client the server disconnects is a drop, reported apart for readers
// and for senders (ReadersDropped, SendersDropped); loss counts only what
// clients still connected never received.
//
// # Resources
//
// Each client costs one socket, one reader goroutine and a read buffer of
// MaxLineBytes. 10,000 clients need 10,000 file descriptors here, and
// another 10,000 in the server when the server runs in the same process:
// with a limit of 20,000 open files per process, run 10,000 clients against
// a server in another process, or raise the limit (ulimit -n).
package bench
