package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Figures per node, for a run against the nodes of a cluster (several
// addresses in Config.Addr).

// NodeResult is what the clients of one address measured in the load's
// measured time.
type NodeResult struct {
	Addr             string  `json:"addr"`
	Clients          int     `json:"clients"`            // joined through this address
	Senders          int     `json:"senders"`            // of those, senders
	Delivered        int64   `json:"delivered"`          // DATA its clients received
	DeliveriesPerSec float64 `json:"deliveries_per_sec"` // Delivered / Window
	Latency          Latency `json:"latency"`            // send (from any node) to receipt by its clients
}

// nodeLat is the latency histogram of one address's clients.
type nodeLat struct {
	lat histogram
}

// nodeMark is one address's totals at a moment.
type nodeMark struct {
	h         *histSnapshot
	delivered int64
}

// nodeMarks returns every address's totals now, or nil for one address.
func (r *run) nodeMarks() []nodeMark {
	if r.nodes == nil {
		return nil
	}
	marks := make([]nodeMark, len(r.nodes))
	for i := range r.nodes {
		marks[i].h = r.nodes[i].lat.snapshot()
	}
	for i := range r.clients {
		if c := r.clients[i].Load(); c != nil {
			marks[c.node].delivered += c.received.Load()
		}
	}
	return marks
}

// fillNodes sets res.Nodes from the totals at the start of the measured
// time (start) and now.
func (r *run) fillNodes(res *Result, start []nodeMark, window time.Duration) {
	if start == nil {
		return
	}
	end := r.nodeMarks()
	res.Nodes = make([]NodeResult, len(end))
	for i, a := range r.addrs {
		n := &res.Nodes[i]
		n.Addr = a
		n.Delivered = end[i].delivered - start[i].delivered
		n.Latency = end[i].h.sub(start[i].h).latency()
		if window > 0 {
			n.DeliveriesPerSec = float64(n.Delivered) / window.Seconds()
		}
	}
	for i := range r.clients {
		if c := r.clients[i].Load(); c != nil {
			res.Nodes[c.node].Clients++
			if c.send != nil {
				res.Nodes[c.node].Senders++
			}
		}
	}
}

// WriteNodes writes r's figures per node as a table, if it has any.
func WriteNodes(w io.Writer, r *Result) error {
	if r == nil || len(r.Nodes) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\tclients\tsenders\tdeliveries/s\tp50\tp99\tp99.9\tmax\t")
	var total float64
	for _, n := range r.Nodes {
		total += n.DeliveriesPerSec
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", n.Addr, n.Clients, n.Senders, si(n.DeliveriesPerSec),
			ms(n.Latency.P50), ms(n.Latency.P99), ms(n.Latency.P999), ms(n.Latency.Max))
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", r.Joined, r.Config.Senders, si(total),
		ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.P999), ms(r.Latency.Max))
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("bench: write nodes: %w", err)
	}
	return nil
}
