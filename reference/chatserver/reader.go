package chatserver

import (
	"bufio"
	"net"

	"github.com/chatspec/chatspec/protocol"
)

// A connection holds a read buffer only while it has bytes to read: an
// idle connection waits for its next byte with a one-byte read and no
// buffer, and takes a frameReader from the server's pool when the byte
// comes. With thousands of idle clients this is most of their memory.

// frameReader is a protocol.Reader on a pooled buffer, lent to one
// connection at a time. It is owned by that connection's reader goroutine.
type frameReader struct {
	src connSource
	br  *bufio.Reader   // reads from src; protocol's reader reads from br
	r   protocol.Reader // reads frames from br, and keeps no bytes of its own
}

// connSource is what a lent buffer reads from: the byte that woke an idle
// connection, then the connection.
type connSource struct {
	conn     net.Conn
	first    byte
	hasFirst bool
}

func (s *connSource) Read(p []byte) (int, error) {
	if s.hasFirst && len(p) > 0 {
		p[0], s.hasFirst = s.first, false
		return 1, nil
	}
	return s.conn.Read(p)
}

// readBufferSize is the size of a frameReader's buffer: what
// protocol.Framing.NewReader would allocate itself for maxBytes, so that it
// reads from ours instead of wrapping it in a buffer of its own
// (bufio.NewReaderSize returns a large enough *bufio.Reader unchanged;
// TestReaderUsesPooledBuffer checks that this still holds).
func readBufferSize(maxBytes int) int { return max(maxBytes+2, 512) }

// newFrameReader is the pool's constructor.
func (s *Server) newFrameReader() any {
	fr := &frameReader{}
	fr.br = bufio.NewReaderSize(&fr.src, readBufferSize(s.cfg.MaxLineBytes))
	fr.r = s.cfg.Framing.NewReader(fr.br, s.cfg.MaxLineBytes)
	return fr
}

// getReader lends a frameReader to conn, whose next byte, already read,
// is first.
func (s *Server) getReader(conn net.Conn, first byte) *frameReader {
	fr := s.readers.Get().(*frameReader)
	s.lent.Add(1)
	fr.src = connSource{conn: conn, first: first, hasFirst: true}
	return fr
}

// idle reports whether fr holds no unread bytes, so that it can go back to
// the pool. Call it only between frames (after a frame was returned whole).
func (fr *frameReader) idle() bool { return fr.br.Buffered() == 0 && !fr.src.hasFirst }

// putReader takes back a frameReader that is idle.
func (s *Server) putReader(fr *frameReader) {
	fr.src = connSource{}
	fr.br.Reset(&fr.src)
	s.readers.Put(fr)
	s.lent.Add(-1)
}

// dropReader gives up a lent frameReader that may hold part of a frame:
// it is not fit for another connection and is left to the collector.
func (s *Server) dropReader() { s.lent.Add(-1) }
