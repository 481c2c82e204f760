package chatcluster

import (
	"encoding/json"
	"fmt"
)

// The cluster's own wire format: JSON values in the room's stream and
// buckets, readable with the nats command-line tool. They carry no chat
// framing: each node frames for its own clients (package protocol).

// Event kinds.
const (
	kindJoin  = "join"
	kindLeave = "leave"
	kindData  = "data"
	kindDown  = "down"
)

// event is one message of the room's stream.
type event struct {
	Kind  string `json:"k"`
	Proc  string `json:"p"` // the publishing process
	Epoch uint64 `json:"e"` // its epoch when it published
	Seq   uint64 `json:"s"` // its sequence number, from 1, across epochs

	Name string `json:"n,omitempty"` // join, leave, data: the user
	Rev  uint64 `json:"r,omitempty"` // join, leave, data: the revision of the name's claim
	Node string `json:"o,omitempty"` // join: the node's name
	Addr string `json:"a,omitempty"` // join: the "host:port" of the JOIN line
	Text string `json:"t,omitempty"` // data

	Dead      string `json:"dp,omitempty"` // down: the dead process
	DeadEpoch uint64 `json:"de,omitempty"` // down: its epochs up to this one are dead
}

// claim is the value of a name's key: who holds the name.
type claim struct {
	Proc  string `json:"p"`
	Epoch uint64 `json:"e"`
	Node  string `json:"o"`
	Addr  string `json:"a,omitempty"` // the "host:port" of the JOIN line
}

// lease is the value of a node's key.
type lease struct {
	Proc  string `json:"p"`
	Epoch uint64 `json:"e"`
	Addr  string `json:"a,omitempty"` // the node's chat address
}

// decode parses a stream message or key value into v.
func decode[T any](data []byte) (T, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("chatcluster: decode %T: %w", v, err)
	}
	return v, nil
}

// encode formats v; it cannot fail for the types above.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("chatcluster: encode %T: %v", v, err))
	}
	return b
}
