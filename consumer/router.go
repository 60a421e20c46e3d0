package consumer

import (
	"bytes"
	"cmp"
	"context"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
)

// DefaultDedupCapacity is how many recent prediction ids per model the router
// remembers to drop duplicates.
const DefaultDedupCapacity = 200_000

// Counts are what a source has done with the records it read. A source's
// Counts method returns a snapshot; the fields are cumulative.
type Counts struct {
	Records    int64            // read from the source, good or bad
	Accepted   int64            // decoded and handed on in batches
	Duplicates int64            // dropped: prediction id seen before for the model
	DeadLetter map[string]int64 // sent to the dead-letter sink, by reason code
	TypeErrors int64            // feature values of the wrong type, stored as null
	DedupEvict int64            // ids forgotten by the bounded duplicate filter
	// Labels are the good late labels read and handed on (Kafka with a
	// labels topic); they are not among Records.
	Labels int64
	// LabelDeadLetter counts labels sent to the labels' dead-letter topic,
	// by reason code.
	LabelDeadLetter map[string]int64
	// Pauses counts the times a Kafka source paused reading for a failing
	// sink (KafkaConfig.Paused).
	Pauses int64
}

// router decodes raw records, drops duplicates, and appends good records to
// the batch builder of their model. It is not safe for concurrent use: each
// source owns one.
type router struct {
	mem       memory.Allocator
	baselines map[string]*baselines.Baseline
	maxBytes  int
	maxFuture time.Duration
	now       func() time.Time
	dedupCap  int

	sc       scanner
	routes   []route
	builders map[builderKey]*BatchBuilder
	seen     map[string]*idSet
	counts   Counts
	lastWM   time.Time // watermark of the last batch flushed
}

type routerConfig struct {
	Baselines map[string]*baselines.Baseline
	MaxBytes  int
	// MaxFuture rejects records whose timestamp is more than this ahead of
	// now (0: no check); one such record would otherwise close every window.
	MaxFuture time.Duration
	Now       func() time.Time
	DedupCap  int
}

func newRouter(mem memory.Allocator, cfg routerConfig) *router {
	if cfg.DedupCap <= 0 {
		cfg.DedupCap = DefaultDedupCapacity
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &router{
		mem: mem, baselines: cfg.Baselines, maxBytes: cfg.MaxBytes, maxFuture: cfg.MaxFuture,
		now: cfg.Now, dedupCap: cfg.DedupCap,
		builders: make(map[builderKey]*BatchBuilder),
		seen:     make(map[string]*idSet),
		counts:   Counts{DeadLetter: make(map[string]int64)},
	}
}

// builderKey: batches are per source partition, model and baseline (a
// model's versions may have baselines, and so schemas, of their own), so
// that each batch's acknowledgement concerns one partition's offsets only.
type builderKey struct {
	partition int32
	model     string
	baseline  *baselines.Baseline
}

// add decodes one raw record read from partition. It returns the time of a
// good record, or a *DecodeError for a record that must go to the
// dead-letter sink. Duplicates are counted and dropped (ok false, no error).
func (r *router) add(partition int32, value []byte) (ts time.Time, ok bool, derr *DecodeError) {
	r.counts.Records++
	s := &r.sc
	if derr = s.scan(value, r.maxBytes); derr == nil {
		derr = s.checkRecord()
	}
	if derr != nil {
		r.counts.DeadLetter[derr.Code]++
		return time.Time{}, false, derr
	}
	rt := r.route(partition, s.text(s.fields[fModel]), s.text(s.fields[fModelVersion]))
	if rt.bb == nil {
		derr = reject(ReasonNoBaseline, "no baseline for model %q", truncate(string(rt.model), 64))
		r.counts.DeadLetter[derr.Code]++
		return time.Time{}, false, derr
	}
	ts = time.Unix(0, s.ts).UTC()
	if r.maxFuture > 0 && ts.After(r.now().Add(r.maxFuture)) {
		derr = reject(ReasonBadTimestamp, "timestamp %s is more than %s ahead of the clock", ts.Format(time.RFC3339), r.maxFuture)
		r.counts.DeadLetter[derr.Code]++
		return time.Time{}, false, derr
	}
	if !rt.seen.add(s.text(s.fields[fPredictionID])) {
		r.counts.Duplicates++
		return time.Time{}, false, nil
	}
	rt.bb.appendScanned(s)
	r.counts.Accepted++
	return ts, true, nil
}

// route is where the records of one partition, model and version go: the
// builder of their batches (nil without a baseline) and their model's
// duplicate filter.
type route struct {
	partition      int32
	model, version []byte
	bb             *BatchBuilder
	seen           *idSet
}

// maxRoutes bounds the routes a router remembers; past it it starts afresh.
const maxRoutes = 64

// route returns the route of a record, looking its baseline up only the
// first time its partition, model and version come along.
func (r *router) route(partition int32, model, version []byte) *route {
	for i := range r.routes {
		rt := &r.routes[i]
		if rt.partition == partition && bytes.Equal(rt.model, model) && bytes.Equal(rt.version, version) {
			return rt
		}
	}
	if len(r.routes) == maxRoutes {
		r.routes = r.routes[:0]
	}
	rt := route{partition: partition, model: bytes.Clone(model), version: bytes.Clone(version)}
	if base := baselines.For(r.baselines, string(model), string(version)); base != nil {
		bk := builderKey{partition, string(model), base}
		if rt.bb = r.builders[bk]; rt.bb == nil {
			rt.bb = NewBatchBuilder(r.mem, base)
			r.builders[bk] = rt.bb
		}
		if rt.seen = r.seen[string(model)]; rt.seen == nil {
			rt.seen = newIDSet(r.dedupCap)
			r.seen[string(model)] = rt.seen
		}
	}
	r.routes = append(r.routes, rt)
	return &r.routes[len(r.routes)-1]
}

// pending is the number of records appended but not yet flushed.
func (r *router) pending() int {
	n := 0
	for _, bb := range r.builders {
		n += bb.Len()
	}
	return n
}

// flush turns every non-empty builder into a Batch, in partition and model
// order. Only the last batch carries the new watermark wm; the others carry
// the previous one, so that no model's records of this flush arrive after wm
// has closed their windows. Ack is left for the caller to set.
func (r *router) flush(wm time.Time) []Batch {
	keys := make([]builderKey, 0, len(r.builders))
	for k, bb := range r.builders {
		if bb.Len() > 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b builderKey) int {
		if a.partition != b.partition {
			return cmp.Compare(a.partition, b.partition)
		}
		if c := strings.Compare(a.model, b.model); c != 0 {
			return c
		}
		return strings.Compare(a.baseline.ID, b.baseline.ID)
	})
	out := make([]Batch, 0, len(keys))
	for _, k := range keys {
		bb := r.builders[k]
		r.counts.TypeErrors += bb.TypeErrors
		bb.TypeErrors = 0
		issues := bb.TakeIssues()
		out = append(out, Batch{Model: k.model, Partition: k.partition, Baseline: k.baseline, Rec: bb.NewRecordBatch(), Watermark: r.lastWM, Issues: issues})
	}
	if len(out) > 0 {
		out[len(out)-1].Watermark = wm
		r.lastWM = wm
	}
	return out
}

// send hands batches to out in order, each with the acknowledgement ack
// returns for it (given its index). If ctx ends first it releases the
// batches not sent and returns false.
func send(ctx context.Context, out chan<- Batch, batches []Batch, ack func(i int) func(error)) bool {
	for i := range batches {
		batches[i].Ack = ack(i)
		select {
		case out <- batches[i]:
		case <-ctx.Done():
			for _, b := range batches[i:] {
				if b.Rec != nil {
					b.Rec.Release()
				}
			}
			return false
		}
	}
	return true
}

func (r *router) snapshot() Counts {
	c := r.counts
	c.DeadLetter = make(map[string]int64, len(r.counts.DeadLetter))
	for k, v := range r.counts.DeadLetter {
		c.DeadLetter[k] = v
	}
	for _, s := range r.seen {
		c.DedupEvict += s.evicted
	}
	return c
}

// reset forgets the duplicate filter's ids, for records about to be read
// again after a rebalance; counts stay cumulative.
func (r *router) reset() {
	for _, s := range r.seen {
		r.counts.DedupEvict += s.evicted
	}
	clear(r.seen)
	r.routes = r.routes[:0]
}

func (r *router) release() {
	for _, bb := range r.builders {
		bb.Release()
	}
}

// idSet remembers the last max ids added, forgetting the oldest first. It
// keeps a 128-bit hash of each id, not the id: the chance that two of
// 200,000 ids collide is about 10^-28.
type idSet struct {
	seeds   [2]maphash.Seed
	ids     map[idHash]struct{}
	ring    []idHash
	max     int
	next    int
	evicted int64
}

type idHash [2]uint64

func newIDSet(max int) *idSet {
	return &idSet{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, ids: make(map[idHash]struct{}, min(max, 1<<16)), max: max}
}

// add reports whether id is new, remembering it.
func (s *idSet) add(id []byte) bool {
	h := idHash{maphash.Bytes(s.seeds[0], id), maphash.Bytes(s.seeds[1], id)}
	if _, dup := s.ids[h]; dup {
		return false
	}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, h)
	} else {
		delete(s.ids, s.ring[s.next])
		s.evicted++
		s.ring[s.next] = h
		s.next = (s.next + 1) % s.max
	}
	s.ids[h] = struct{}{}
	return true
}
