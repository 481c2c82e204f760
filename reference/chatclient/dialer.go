package chatclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/chatspec/chatspec/protocol"
)

// Dialer joins a server under a name a person chooses, one try at a time,
// and hides what servers do after a refusal: some keep the connection open
// for the next JOIN, others close it. Between tries the Dialer keeps the
// open, unjoined connection, or dials a new one if the server closed it.
//
// A Dialer is used by one goroutine at a time.
type Dialer struct {
	Addr   string // the server, "host:port"
	Config Config // for every Client the Dialer makes

	c *Client // an open connection that has not joined, kept for the next try
}

// Join tries to join as name and returns the joined Client. The name is
// checked with protocol.ValidName first, before any connection is made. On a
// *JoinError the caller may ask the person for another name and call Join
// again. Any other error means the server could not be reached or the
// connection broke on a fresh connection.
func (d *Dialer) Join(ctx context.Context, name string) (*Client, error) {
	if err := protocol.ValidName(name); err != nil {
		return nil, fmt.Errorf("chatclient: join: %w", err)
	}
	for {
		fresh := false
		if d.c != nil {
			select {
			case <-d.c.Done(): // closed by the server after the last refusal
				d.c.Close()
				d.c = nil
			default:
			}
		}
		if d.c == nil {
			c, err := Dial(ctx, d.Addr, d.Config)
			if err != nil {
				return nil, err
			}
			d.c, fresh = c, true
		}
		err := d.c.Join(ctx, name)
		var je *JoinError
		switch {
		case err == nil:
			c := d.c
			d.c = nil
			return c, nil
		case errors.As(err, &je):
			return nil, err
		case errors.Is(err, ErrConnLost) && !fresh:
			// The server closed the connection it kept after refusing the
			// last name; that close raced with this JOIN. Dial again.
			d.c.Close()
			d.c = nil
			continue
		default:
			d.c.Close()
			d.c = nil
			return nil, err
		}
	}
}

// Connect makes sure the server can be reached before anyone is asked for
// a name: it dials, unless a connection is kept already, and keeps the
// connection for the next Join. The error says why the server cannot be
// reached.
func (d *Dialer) Connect(ctx context.Context) error {
	if d.c != nil {
		select {
		case <-d.c.Done():
			d.c.Close()
			d.c = nil
		default:
			return nil
		}
	}
	c, err := Dial(ctx, d.Addr, d.Config)
	if err != nil {
		return err
	}
	d.c = c
	return nil
}

// Close closes the connection kept between tries, if any.
func (d *Dialer) Close() error {
	if d.c == nil {
		return nil
	}
	err := d.c.Close()
	d.c = nil
	return err
}
