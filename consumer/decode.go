package consumer

import (
	"bytes"
	"cmp"
	"hash/maphash"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
)

// A task is a run of raw records of one partition, in order, that one
// decoder turns into batches while other decoders work on other tasks: the
// part of reading that needs no state shared between records. What does
// (the duplicate filter, counts, the watermark) is left to the router,
// which settles tasks one at a time, in order.
type task struct {
	partition int32
	values    [][]byte
	// tooLong, if set, marks the values that are already rejected as
	// too_big (truncated lines of a file), with their rejection.
	tooLong map[int]*DecodeError
	// notAfter, when not 0, rejects records whose event time (unix ns) is
	// later: the max-future check, with the clock read once per task.
	notAfter int64

	// Set by decode: one outcome per value, and the batches of the good
	// records, one per model and baseline, in model and baseline order.
	outcomes []outcome
	batches  []Batch
}

// outcome is what decoding made of one record.
type outcome struct {
	derr  *DecodeError // the rejection, or nil
	ts    int64        // a good record's event time, unix ns
	id    idHash       // a good record's duplicate key (dedupKey), hashed
	batch int32        // a good record's batch in task.batches
	row   int32        // and row in it
}

// reset readies a task to be filled again, keeping its space.
func (t *task) reset(partition int32) {
	t.partition = partition
	t.values = t.values[:0]
	t.tooLong = nil
	t.notAfter = 0
	t.outcomes = t.outcomes[:0]
	t.batches = nil
}

// decoder turns tasks into batches. It is not safe for concurrent use:
// each worker owns one.
type decoder struct {
	baselines map[string]*baselines.Baseline
	live      *baselines.Live // when set, baselines follows it task by task
	maxBytes  int
	maxFuture time.Duration
	seeds     *[2]maphash.Seed // shared by the router's duplicate filters

	sc     scanner
	routes []route
	last   *route     // the route of the last good record, for the fast path
	target fastTarget // the fast path's
	// fastRecords counts the records the fast path decoded.
	fastRecords int64
	builders    map[modelBaseline]*BatchBuilder
	used        []*BatchBuilder // builders with rows in the current task
	key         []byte          // dedupKey's scratch
}

type modelBaseline struct {
	model    string
	baseline *baselines.Baseline
}

// route is where the records of one model and version go: their builder,
// nil without a baseline.
type route struct {
	model, version []byte
	bb             *BatchBuilder
}

// maxRoutes bounds the routes a decoder remembers; past it it starts afresh.
const maxRoutes = 64

// route returns the route of a record, looking its baseline up only the
// first time its model and version come along.
func (d *decoder) route(model, version []byte) *route {
	for i := range d.routes {
		rt := &d.routes[i]
		if bytes.Equal(rt.model, model) && bytes.Equal(rt.version, version) {
			return rt
		}
	}
	if len(d.routes) == maxRoutes {
		d.routes, d.last = d.routes[:0], nil
	}
	rt := route{model: bytes.Clone(model), version: bytes.Clone(version)}
	if base := baselines.For(d.baselines, string(model), string(version)); base != nil {
		k := modelBaseline{string(model), base}
		if rt.bb = d.builders[k]; rt.bb == nil {
			rt.bb = NewBatchBuilder(base)
			rt.bb.model = k.model
			d.builders[k] = rt.bb
		}
	}
	d.routes = append(d.routes, rt)
	return &d.routes[len(d.routes)-1]
}

// follow makes set the baselines of the records decoded from now on,
// forgetting the routes and builders of the old set (they hold no rows
// between tasks).
func (d *decoder) follow(set map[string]*baselines.Baseline) {
	if maps.Equal(set, d.baselines) {
		return
	}
	d.baselines, d.routes, d.last = set, d.routes[:0], nil
	for k, bb := range d.builders {
		bb.Release()
		delete(d.builders, k)
	}
}

// decode decodes t's values into t.outcomes and t.batches.
func (d *decoder) decode(t *task) {
	if d.live != nil {
		d.follow(d.live.Load())
	}
	t.outcomes = slices.Grow(t.outcomes[:0], len(t.values))[:len(t.values)]
	for i, v := range t.values {
		t.outcomes[i] = d.one(t, i, v)
	}
	d.finish(t)
}

// finish turns the builders t's records went to into t.batches, in model
// and baseline order, and points the outcomes at them.
func (d *decoder) finish(t *task) {
	order := slices.Clone(d.used)
	slices.SortFunc(order, func(a, b *BatchBuilder) int {
		if c := strings.Compare(a.model, b.model); c != 0 {
			return c
		}
		return cmp.Compare(a.base.ID, b.base.ID)
	})
	index := make([]int32, len(d.used))
	t.batches = make([]Batch, len(order))
	for j, bb := range order {
		index[bb.task] = int32(j)
		t.batches[j] = Batch{Model: bb.model, Partition: t.partition, Baseline: bb.base, Issues: bb.TakeIssues(), Rec: bb.NewRecordBatch()}
		bb.TypeErrors = 0 // the router counts the settled batches' WrongType issues
		bb.task = -1
	}
	for i := range t.outcomes {
		if o := &t.outcomes[i]; o.derr == nil {
			o.batch = index[o.batch]
		}
	}
	d.used = d.used[:0]
}

// one decodes value i of t; a good record's outcome names its builder's
// index in d.used as its batch.
func (d *decoder) one(t *task, i int, value []byte) outcome {
	if t.tooLong != nil && t.tooLong[i] != nil {
		return outcome{derr: t.tooLong[i]}
	}
	if o, ok := d.fast(t, value); ok {
		d.fastRecords++
		return o
	}
	s := &d.sc
	derr := s.scan(value, d.maxBytes, fieldOf)
	if derr == nil {
		derr = s.checkRecord()
	}
	if derr != nil {
		return outcome{derr: derr}
	}
	model := s.text(s.fields[fModel])
	rt := d.route(model, s.text(s.fields[fModelVersion]))
	if rt.bb == nil {
		return outcome{derr: reject(ReasonNoBaseline, "no baseline for model %q", truncate(string(model), 64))}
	}
	if t.notAfter != 0 && s.ts > t.notAfter {
		return outcome{derr: aheadOfClock(time.Unix(0, s.ts), d.maxFuture)}
	}
	o := d.good(t, rt.bb, s.text(s.fields[fPredictionID]))
	rt.bb.appendScanned(s)
	d.last = rt
	return o
}

// good returns the outcome of the good record the scanner holds, about to
// be appended to bb.
func (d *decoder) good(t *task, bb *BatchBuilder, id []byte) outcome {
	if bb.task < 0 {
		bb.task = len(d.used)
		d.used = append(d.used, bb)
	}
	key := d.dedupKey(id)
	return outcome{ts: d.sc.ts, id: idHash{maphash.Bytes(d.seeds[0], key), maphash.Bytes(d.seeds[1], key)}, batch: int32(bb.task), row: int32(bb.Len())}
}

// dedupKey returns what identifies the record the scanner holds for the
// duplicate filter (CONTRACT.md section 1): its prediction id, and its
// variant when it names one, so that a shadow deployment's records of one
// prediction id (one per variant) are all kept and only the same id of
// the same variant again is a duplicate. The two are joined by the byte
// 0xff, which no decoded text holds (an invalid UTF-8 byte becomes
// U+FFFD), so no id and variant can spell another pair's key.
func (d *decoder) dedupKey(id []byte) []byte {
	v := d.sc.fields[fVariant]
	if v.typ != jsonString {
		return id
	}
	d.key = append(append(append(d.key[:0], id...), 0xff), d.sc.text(v)...)
	return d.key
}

// decodeAll decodes the tasks, in parallel on up to len(decoders)
// goroutines, and returns when all are done.
func decodeAll(decoders []*decoder, tasks []*task) {
	workers := min(len(decoders), len(tasks))
	if workers <= 1 {
		for _, t := range tasks {
			decoders[0].decode(t)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, d := range decoders[:workers] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(tasks)) {
					return
				}
				d.decode(tasks[i])
			}
		}()
	}
	wg.Wait()
}

func (d *decoder) release() {
	for _, bb := range d.builders {
		bb.Release()
	}
}

// Decoder decodes prediction log records into the Arrow batches of their
// models, one record at a time on the calling goroutine: what one core of
// a source does, without the duplicate filter, the counts and the
// watermark that a source adds. It is for benchmarks and for tools that
// get records from elsewhere; it is not safe for concurrent use.
type Decoder struct {
	d decoder
	t task
}

// NewDecoder returns a decoder of records whose baselines are in set (see
// baselines.For), at most maxBytes long (0: DefaultMaxRecordBytes).
func NewDecoder(set map[string]*baselines.Baseline, maxBytes int) *Decoder {
	return &Decoder{d: decoder{baselines: set, maxBytes: maxBytes, seeds: &[2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		builders: make(map[modelBaseline]*BatchBuilder)}}
}

// Add decodes one record into its model's batch. It returns a
// *DecodeError when the record breaks the contract or has no baseline.
func (d *Decoder) Add(value []byte) error {
	if o := d.d.one(&d.t, 0, value); o.derr != nil {
		return o.derr
	}
	return nil
}

// Flush returns the batches of the records added since the last Flush,
// one per model and baseline; the caller releases their records. Their
// Ack, Partition and Watermark are not set.
func (d *Decoder) Flush() []Batch {
	d.t.outcomes = d.t.outcomes[:0]
	d.d.finish(&d.t)
	b := d.t.batches
	d.t.batches = nil
	return b
}
