package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// The histogram is log-linear: values below 2*histSub nanoseconds have a
// bucket each; above, every power of two is split into histSub buckets, so a
// recorded value is off by at most 1/histSub (about 3 %) of itself. It covers
// the whole uint64 range.
const (
	histSubBits = 5
	histSub     = 1 << histSubBits
	histBuckets = (64 - histSubBits + 1) * histSub
	histShards  = 16 // spread the atomic adds of many reader goroutines
)

// histogram counts latencies from many goroutines at once. Each recording
// goroutine uses one shard (chosen by the caller) so that adds rarely share a
// cache line; all fields are atomics, so no lock is needed.
type histogram struct {
	shards [histShards]histShard
}

type histShard struct {
	counts [histBuckets]atomic.Uint64
	max    atomic.Int64
	_      [64]byte // keep the next shard's hot words off this shard's line
}

func histIndex(v uint64) int {
	if v < 2*histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	return (shift+1)<<histSubBits + int(v>>uint(shift)) - histSub
}

// histValue returns the middle of bucket i's range.
func histValue(i int) int64 {
	if i < 2*histSub {
		return int64(i)
	}
	shift := i>>histSubBits - 1
	low := uint64(i&(histSub-1)+histSub) << uint(shift)
	return int64(low + (uint64(1)<<uint(shift))/2)
}

// record adds one latency to shard s (any int; it is reduced modulo the
// shard count).
func (h *histogram) record(s int, d time.Duration) {
	if d < 0 {
		d = 0
	}
	sh := &h.shards[uint(s)%histShards]
	sh.counts[histIndex(uint64(d))].Add(1)
	for {
		m := sh.max.Load()
		if int64(d) <= m || sh.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// snapshot sums the shards. Counts are read one by one while recording goes
// on, so a snapshot is a consistent view only to within the adds racing it.
func (h *histogram) snapshot() *histSnapshot {
	s := &histSnapshot{}
	for i := range h.shards {
		sh := &h.shards[i]
		for j := range sh.counts {
			s.counts[j] += sh.counts[j].Load()
		}
		s.max = max(s.max, sh.max.Load())
	}
	return s
}

// histSnapshot is a point-in-time copy of a histogram, owned by whoever took
// it.
type histSnapshot struct {
	counts [histBuckets]uint64
	max    int64 // the largest value recorded up to the snapshot
}

// sub returns s minus an earlier snapshot of the same histogram: the values
// recorded between the two. Its max is the largest bucket's value, or the
// exact maximum when that falls in the same bucket.
func (s *histSnapshot) sub(earlier *histSnapshot) *histSnapshot {
	d := &histSnapshot{}
	top := -1
	for i := range s.counts {
		d.counts[i] = s.counts[i] - earlier.counts[i]
		if d.counts[i] > 0 {
			top = i
		}
	}
	if top >= 0 {
		d.max = histValue(top)
		if histIndex(uint64(s.max)) == top {
			d.max = s.max
		}
	}
	return d
}

func (s *histSnapshot) count() uint64 {
	var n uint64
	for _, c := range s.counts {
		n += c
	}
	return n
}

// quantile returns the value below which a fraction q of the recorded values
// fall (to the histogram's precision), or 0 when nothing was recorded.
func (s *histSnapshot) quantile(q float64) time.Duration {
	n := s.count()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = min(max(rank, 1), n)
	var seen uint64
	for i, c := range s.counts {
		seen += c
		if seen >= rank {
			v := histValue(i)
			if histIndex(uint64(s.max)) == i {
				v = min(v, s.max)
			}
			return time.Duration(v)
		}
	}
	return time.Duration(s.max)
}

// latency summarises s.
func (s *histSnapshot) latency() Latency {
	return Latency{
		Count: s.count(),
		P50:   s.quantile(0.50),
		P90:   s.quantile(0.90),
		P99:   s.quantile(0.99),
		P999:  s.quantile(0.999),
		Max:   time.Duration(s.max),
	}
}

// buckets returns the non-empty buckets of s, in increasing order of value.
func (s *histSnapshot) buckets() []Bucket {
	var b []Bucket
	for i, c := range s.counts {
		if c > 0 {
			b = append(b, Bucket{Value: time.Duration(histValue(i)), Count: c})
		}
	}
	return b
}
