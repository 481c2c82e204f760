package bench

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chatspec/chatspec/protocol"
)

// Values of client.lastList that are not a name count.
const (
	listNone    = -2 // no LIST yet
	listTooLong = -1 // the newest LIST was longer than MaxLineBytes
	listRaw     = -3 // the newest LIST is kept unparsed in client.lastRaw
)

// rawListBytes is the length from which a LIST is kept unparsed until the
// end of the run. Parsing checks every name, which costs far more than
// reading; a join storm sends thousands of LISTs of thousands of names to
// each client, and the clients share the machine with the server.
const rawListBytes = 1024

// maxOrderSlots bounds the memory (4 bytes a slot) of the per-client,
// per-sender order check; past it the check is skipped.
const maxOrderSlots = 16 << 20

// client is one joined connection. Its reader goroutine owns everything not
// atomic, apart from the fields set before that goroutine starts.
type client struct {
	r        *run
	index    int
	node     int // the index in run.addrs of the server it joined
	name     string
	conn     net.Conn
	send     *sender                // this client's sender, or nil
	verdict  chan error             // cap 1: the reader's answer to the JOIN
	gone     chan struct{}          // closed when the reader goroutine ends
	member   atomic.Bool            // set by the join worker once the client counts as joined
	observer atomic.Bool            // its receipts pace the senders; set before the load starts
	next     []atomic.Uint32        // per sender, the next seq expected (written by the reader only); nil = no order check
	joined   bool                   // reader-owned: J_OK seen
	received atomic.Int64           // this run's DATA frames received
	gaps     atomic.Int64           // seqs skipped in a sender's sequence
	late     atomic.Int64           // DATA older than one already received: reordered or duplicated
	dropped  atomic.Bool            // the server closed the connection while the run went on
	lastList atomic.Int32           // names in the newest LIST, or listNone/listTooLong/listRaw
	lastRaw  atomic.Pointer[string] // with listRaw: the newest LIST, unparsed
}

// read is the client's reader goroutine.
func (c *client) read() {
	r := c.r
	defer r.readers.Done()
	defer close(c.gone)
	rd := r.cfg.Framing.NewReader(c.conn, r.cfg.MaxLineBytes)
	for {
		frame, err := rd.ReadFrame()
		if err != nil {
			if errors.Is(err, protocol.ErrLineTooLong) {
				r.errs.longFrames.Add(1)
				r.nonData.Add(1)
				c.lastList.Store(listTooLong)
				continue
			}
			c.ended(err)
			return
		}
		if len(frame) >= rawListBytes && strings.HasPrefix(frame, protocol.VerbList+" ") {
			// Only the newest LIST matters: keep it, parse it at the end.
			// Clients mostly receive the same LISTs: share one copy.
			r.lists.Add(1)
			r.nonData.Add(1)
			p := r.lastLongList.Load()
			if p == nil || *p != frame {
				p = &frame
				r.lastLongList.Store(p)
			}
			c.lastRaw.Store(p)
			c.lastList.Store(listRaw)
			continue
		}
		m, err := protocol.Parse(frame)
		if err != nil {
			r.errs.parse.Add(1)
			r.nonData.Add(1)
			continue
		}
		switch m.Kind {
		case protocol.KindData:
			c.data(m)
			continue
		case protocol.KindOK:
			if !c.joined {
				c.joined = true
				c.verdict <- nil
			} else {
				r.errs.unexpected.Add(1)
			}
		case protocol.KindError:
			if !c.joined {
				c.verdict <- fmt.Errorf("server answered %q", frame)
				return
			}
			r.errs.serverErrors.Add(1)
			if c.send != nil {
				r.errs.rejected.Add(1)
				c.send.ack(1)
			}
		case protocol.KindList:
			r.lists.Add(1)
			c.lastList.Store(int32(len(m.Names)))
		default:
			r.errs.unexpected.Add(1)
		}
		r.nonData.Add(1)
	}
}

// data handles one DATA frame.
func (c *client) data(m protocol.Message) {
	r := c.r
	now := time.Since(r.start)
	st, ok := parseStamp(m.Text)
	if !ok || st.sender >= len(r.senders) || m.Name != r.senders[st.sender].name {
		r.errs.foreign.Add(1)
		return
	}
	snd := r.senders[st.sender]
	if snd.probe {
		r.probeLat.record(c.index, now-st.sent)
	} else {
		r.lat.record(c.index, now-st.sent)
	}
	if r.nodes != nil {
		r.nodes[c.node].lat.record(c.index, now-st.sent)
	}
	c.received.Add(1)
	if c.next != nil {
		// A server reads each sender's connection in order, so a skipped
		// seq is lost unless it arrives late.
		switch next := c.next[st.sender].Load(); {
		case st.seq == next:
			c.next[st.sender].Store(next + 1)
		case st.seq > next:
			c.gaps.Add(int64(st.seq - next))
			c.next[st.sender].Store(st.seq + 1)
		default:
			c.late.Add(1)
		}
	}
	if c.observer.Load() || r.cfg.Echo && c.send == snd {
		snd.ack(1)
	}
}

// ended records why the reader stopped.
func (c *client) ended(err error) {
	r := c.r
	if !c.joined {
		c.verdict <- fmt.Errorf("connection ended before J_OK: %w", err)
		return
	}
	if r.closing.Load() || !c.member.Load() {
		return // closed by this run, or the join gave up on it
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) {
		r.errs.read.Add(1)
	}
	c.dropped.Store(true)
	r.drops.Add(1)
	c.conn.Close()
	if c.observer.Load() {
		r.obsOnce.Do(func() { close(r.obsGone) })
	}
}

// sender is the sending side of one of the first Senders+Probes clients.
type sender struct {
	index   int
	name    string        // the sending client's name
	probe   bool          // one of the Probes, not of the Senders
	rate    float64       // messages a second; 0 = as fast as acks allow
	sent    atomic.Int64  // messages written; written by the sender goroutine
	acked   atomic.Int64  // messages the observer (or, with Echo, the sender) received or refused; written by readers
	wake    chan struct{} // cap 1: an ack arrived
	running atomic.Bool   // the sender goroutine is running: it sends this client's IMAV
	imavDue chan struct{} // cap 1: the heartbeat asks the sender goroutine to send an IMAV
}

// heartbeat asks the sender goroutine to send an IMAV. It never blocks.
func (s *sender) heartbeat() {
	select {
	case s.imavDue <- struct{}{}:
	default:
	}
}

func (s *sender) ack(n int64) {
	s.acked.Add(n)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// loop is the sender goroutine: it writes DATA until the run stops sending
// or, with cfg.Messages, until it has written that many.
func (s *sender) loop(r *run, c *client, loadStart time.Time) {
	cfg := r.cfg
	const maxBatch = 256
	var (
		buf   []byte
		text  = make([]byte, cfg.Size)
		seq   uint32
		timer = time.NewTimer(time.Hour)
		imav  []byte
	)
	defer timer.Stop()
	imav, _ = cfg.Framing.AppendMessage(imav, protocol.Alive())
	s.running.Store(true)
	defer s.running.Store(false)
	for i := stampLen; i < len(text); i++ {
		text[i] = 'x'
	}
	for {
		select {
		case <-r.stopSend:
			return
		default:
		}
		select {
		case <-s.imavDue:
			if _, err := c.conn.Write(imav); err != nil {
				if !r.closing.Load() {
					r.errs.write.Add(1)
				}
				return
			}
		default:
		}
		sent := s.sent.Load()
		var n int64
		if s.rate > 0 {
			elapsed := time.Since(loadStart)
			n = int64(elapsed.Seconds()*s.rate) + 1 - sent
			if n <= 0 {
				due := time.Duration(float64(sent) / s.rate * float64(time.Second))
				timer.Reset(due - elapsed)
				select {
				case <-timer.C:
				case <-s.imavDue:
					s.heartbeat() // sent at the top of the loop
				case <-r.stopSend:
					return
				case <-c.gone:
					return
				}
				continue
			}
		} else {
			n = int64(cfg.Window) - (sent - s.acked.Load())
			if n <= 0 {
				select {
				case <-s.wake:
				case <-s.imavDue:
					s.heartbeat() // sent at the top of the loop
				case <-r.stopSend:
					return
				case <-c.gone: // dropped: its messages in flight will never come
					return
				}
				continue
			}
		}
		n = min(n, maxBatch)
		if cfg.Messages > 0 {
			n = min(n, int64(cfg.Messages)-sent)
			if n <= 0 {
				return
			}
		}
		buf = buf[:0]
		for range n {
			putStamp(text, stamp{sent: time.Since(r.start), sender: s.index, seq: seq})
			seq++
			buf, _ = cfg.Framing.AppendMessage(buf, protocol.Data(c.name, string(text)))
		}
		s.sent.Add(n)
		if _, err := c.conn.Write(buf); err != nil {
			s.sent.Add(-n)
			if !r.closing.Load() {
				r.errs.write.Add(1)
			}
			return
		}
	}
}

// stamp is what a DATA text carries: "<sent:16 hex>-<sender:6 hex>-<seq:8 hex>-".
type stamp struct {
	sent   time.Duration // since run.start
	sender int
	seq    uint32
}

const stampLen = 16 + 1 + 6 + 1 + 8 + 1

const hexDigits = "0123456789abcdef"

func putStamp(b []byte, s stamp) {
	putHex(b[0:16], uint64(s.sent))
	b[16] = '-'
	putHex(b[17:23], uint64(s.sender))
	b[23] = '-'
	putHex(b[24:32], uint64(s.seq))
	b[32] = '-'
}

func putHex(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
}

func parseStamp(text string) (stamp, bool) {
	if len(text) < stampLen || text[16] != '-' || text[23] != '-' || text[32] != '-' {
		return stamp{}, false
	}
	sent, ok1 := parseHex(text[0:16])
	snd, ok2 := parseHex(text[17:23])
	seq, ok3 := parseHex(text[24:32])
	if !ok1 || !ok2 || !ok3 {
		return stamp{}, false
	}
	return stamp{sent: time.Duration(sent), sender: int(snd), seq: uint32(seq)}, true
}

func parseHex(s string) (uint64, bool) {
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}
