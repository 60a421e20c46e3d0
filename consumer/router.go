package consumer

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

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

	// A Kafka source in merge mode (KafkaConfig.Partials) counts in Records
	// every partials record read but the transactions' commit markers,
	// good or bad: Deltas + Labels + Marks + PartialsBad. Labels counts the
	// good labels among them; Accepted, Duplicates, DeadLetter, TypeErrors,
	// DedupEvict and LabelDeadLetter stay zero.
	Deltas int64 // window deltas handed on
	Marks  int64 // marks read
	// PartialsBad counts the partials records skipped: of no or an unknown
	// kind, or a mark or label that does not decode (each logged). They
	// come from a driftwatch bug or a foreign writer.
	PartialsBad int64
}

// router turns raw records into batches: its decoders decode tasks in
// parallel (see task), then it settles them one at a time, in order: it
// drops duplicates, counts, and keeps the batches until flush. It is not
// safe for concurrent use: each source owns one.
type router struct {
	mem       memory.Allocator
	maxFuture time.Duration
	now       func() time.Time
	dedupCap  int
	seeds     [2]maphash.Seed

	decoders []*decoder
	tasks    []*task // reused from call to call of newTasks
	seen     map[string]*idSet
	filters  []*idSet // the duplicate filters of a task's batches, reused
	pending  []Batch  // settled, not flushed yet
	counts   Counts
	lastWM   time.Time // watermark of the last batch flushed
	// goodTimes is decodeShares' scratch: a partition's good event times.
	goodTimes []int64
}

type routerConfig struct {
	Baselines map[string]*baselines.Baseline
	// Live, when set, replaces Baselines: each task is decoded with the
	// set current when its decoding starts.
	Live     *baselines.Live
	MaxBytes int
	// MaxFuture rejects records whose timestamp is more than this ahead of
	// now (0: no check); one such record would otherwise close every window.
	MaxFuture time.Duration
	Now       func() time.Time
	DedupCap  int
	// Decoders is how many tasks are decoded at once; 0 means GOMAXPROCS.
	Decoders int
}

func newRouter(mem memory.Allocator, cfg routerConfig) *router {
	if cfg.DedupCap <= 0 {
		cfg.DedupCap = DefaultDedupCapacity
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Decoders <= 0 {
		cfg.Decoders = runtime.GOMAXPROCS(0)
	}
	r := &router{
		mem: mem, maxFuture: cfg.MaxFuture, now: cfg.Now, dedupCap: cfg.DedupCap,
		seeds:  [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		seen:   make(map[string]*idSet),
		counts: Counts{DeadLetter: make(map[string]int64)},
	}
	for range cfg.Decoders {
		r.decoders = append(r.decoders, &decoder{
			baselines: cfg.Baselines, live: cfg.Live, maxBytes: cfg.MaxBytes, maxFuture: cfg.MaxFuture, seeds: &r.seeds,
			builders: make(map[modelBaseline]*BatchBuilder),
		})
	}
	return r
}

// newTasks returns n empty tasks, reusing the space of earlier ones; they
// are valid until the next call.
func (r *router) newTasks(n int) []*task {
	for len(r.tasks) < n {
		r.tasks = append(r.tasks, new(task))
	}
	for _, t := range r.tasks[:n] {
		t.reset(0)
	}
	return r.tasks[:n]
}

// decode decodes the tasks, in parallel.
func (r *router) decode(tasks []*task) {
	for _, t := range tasks {
		r.prepare(t)
	}
	decodeAll(r.decoders, tasks)
}

// prepare readies t for a decoder: the max-future check's bound, with the
// clock read now. Safe for concurrent use.
func (r *router) prepare(t *task) {
	if r.maxFuture > 0 {
		t.notAfter = r.now().Add(r.maxFuture).UnixNano()
	}
}

// settle takes a decoded task's records in order: it counts them, drops
// the duplicates (a prediction id the model's filter remembers), and keeps
// the task's batches for flush. It calls each, if not nil, with every
// record's outcome; ok says the record was good and new.
func (r *router) settle(t *task, each func(i int, o *outcome, ok bool)) {
	var drop map[int32][]int32 // rows of duplicates, by batch
	filters := r.filters[:0]
	for _, b := range t.batches {
		filters = append(filters, r.filter(b.Model))
	}
	r.filters = filters
	for i := range t.outcomes {
		o := &t.outcomes[i]
		r.counts.Records++
		ok := false
		switch {
		case o.derr != nil:
			r.counts.DeadLetter[o.derr.Code]++
		case !filters[o.batch].add(o.id):
			r.counts.Duplicates++
			if drop == nil {
				drop = make(map[int32][]int32)
			}
			drop[o.batch] = append(drop[o.batch], o.row)
		default:
			r.counts.Accepted++
			ok = true
		}
		if each != nil {
			each(i, o, ok)
		}
	}
	for j, b := range t.batches {
		if rows := drop[int32(j)]; len(rows) > 0 {
			if b = dropRows(r.mem, b, rows); b.Rec == nil {
				continue
			}
		}
		for _, is := range b.Issues {
			if is.Kind == WrongType {
				r.counts.TypeErrors++
			}
		}
		r.pending = append(r.pending, b)
	}
	t.batches = nil
}

// filter returns the duplicate filter of a model.
func (r *router) filter(model string) *idSet {
	ids := r.seen[model]
	if ids == nil {
		ids = newIDSet(r.dedupCap)
		r.seen[model] = ids
	}
	return ids
}

// dropRows returns b without the given rows (ascending), releasing b.Rec;
// a batch left without rows has a nil Rec.
func dropRows(mem memory.Allocator, b Batch, rows []int32) Batch {
	old := b.Rec
	defer old.Release()
	n := old.NumRows()
	if int64(len(rows)) == n {
		b.Rec, b.Issues = nil, nil
		return b
	}
	// The runs of rows kept.
	type run struct{ from, to int64 }
	var keep []run
	from := int64(0)
	for _, r := range rows {
		if int64(r) > from {
			keep = append(keep, run{from, int64(r)})
		}
		from = int64(r) + 1
	}
	if from < n {
		keep = append(keep, run{from, n})
	}
	cols := make([]arrow.Array, old.NumCols())
	for c := range cols {
		parts := make([]arrow.Array, len(keep))
		for k, kr := range keep {
			parts[k] = array.NewSlice(old.Column(c), kr.from, kr.to)
		}
		col, err := array.Concatenate(parts, mem)
		for _, p := range parts {
			p.Release()
		}
		if err != nil {
			panic(fmt.Sprintf("consumer: concatenate column %s: %v", old.ColumnName(c), err)) // same type, same dictionary: cannot fail
		}
		cols[c] = col
	}
	b.Rec = array.NewRecordBatch(old.Schema(), cols, n-int64(len(rows)))
	for _, c := range cols {
		c.Release()
	}
	// Issues of the dropped rows go; the others move up.
	issues := b.Issues[:0]
	for _, is := range b.Issues {
		k, found := slices.BinarySearch(rows, is.Row)
		if !found {
			is.Row -= int32(k)
			issues = append(issues, is)
		}
	}
	b.Issues = issues
	return b
}

// flush returns the settled batches, in partition, model and baseline
// order (of each, in the order settled). Only the last batch carries the
// new watermark wm; the others carry the previous one, so that no model's
// records of this flush arrive after wm has closed their windows. Ack is
// left for the caller to set.
func (r *router) flush(wm time.Time) []Batch {
	out := r.pending
	r.pending = nil
	slices.SortStableFunc(out, func(a, b Batch) int {
		if a.Partition != b.Partition {
			return cmp.Compare(a.Partition, b.Partition)
		}
		if c := strings.Compare(a.Model, b.Model); c != 0 {
			return c
		}
		return strings.Compare(a.Baseline.ID, b.Baseline.ID)
	})
	for i := range out {
		out[i].Watermark = r.lastWM
	}
	if len(out) > 0 {
		out[len(out)-1].Watermark = wm
		r.lastWM = wm
	}
	return out
}

// recordShare is a run of at most taskRecords records of one partition,
// decoded as one task.
type recordShare struct {
	partition int32
	records   []*kgo.Record
}

// appendShares appends partition p's records of a poll as shares of at
// most taskRecords, so that a poll of one busy partition is still decoded
// on every core.
func appendShares(shares []recordShare, p int32, rs []*kgo.Record) []recordShare {
	for len(rs) > 0 {
		n := min(len(rs), taskRecords)
		shares = append(shares, recordShare{p, rs[:n]})
		rs = rs[n:]
	}
	return shares
}

// decodeShares decodes shares in parallel and settles them in order: each
// record that breaks the contract goes to bad, each partition's good event
// times to clock; it returns the batches settled, the last carrying
// clock's watermark (flush).
func (r *router) decodeShares(shares []recordShare, clock *partitionClocks, bad func(*kgo.Record, *DecodeError)) []Batch {
	tasks := r.newTasks(len(shares))
	for j, sh := range shares {
		tasks[j].partition = sh.partition
		for _, rec := range sh.records {
			tasks[j].values = append(tasks[j].values, rec.Value)
		}
	}
	r.decode(tasks)
	for j, t := range tasks {
		times := r.goodTimes[:0]
		r.settle(t, func(i int, o *outcome, ok bool) {
			if ok {
				times = append(times, o.ts)
			}
			if o.derr != nil {
				bad(shares[j].records[i], o.derr)
			}
		})
		clock.observeAll(t.partition, times)
		r.goodTimes = times
	}
	return r.flush(clock.watermark())
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
}

func (r *router) release() {
	for _, d := range r.decoders {
		d.release()
	}
	for _, b := range r.pending {
		b.Rec.Release()
	}
	r.pending = nil
}

// idSet remembers the last max ids added, forgetting the oldest first. It
// keeps a 128-bit seeded hash of each id (see idHash), not the id: the
// chance that two of 200,000 ids collide is about 10^-28.
//
// The hashes are kept in an open-addressing table with linear probing, at
// most half full: a hash is already uniform, so its first word picks the
// slot, and a look-up costs one probe mostly. A forgotten hash is removed by
// shifting the rest of its run back, so the table never fills with
// tombstones however long the stream.
type idSet struct {
	slots   []idHash // a power of two long; the zero hash marks an empty slot
	n       int      // hashes in slots
	ring    []idHash // the hashes in the order added, oldest at next once full
	max     int
	next    int
	evicted int64
}

// idHash is a prediction id hashed with the router's two seeds.
type idHash [2]uint64

func newIDSet(max int) *idSet {
	return &idSet{max: max}
}

// add reports whether id is new, remembering it.
func (s *idSet) add(h idHash) bool {
	if h == (idHash{}) {
		h[1] = 1 // the empty slot's mark; as likely as any other hash
	}
	if s.find(h) >= 0 {
		return false
	}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, h)
	} else {
		s.remove(s.ring[s.next])
		s.evicted++
		s.ring[s.next] = h
		s.next = (s.next + 1) % s.max
	}
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	s.insert(h)
	return true
}

// find returns h's slot, or -1.
func (s *idSet) find(h idHash) int {
	if len(s.slots) == 0 {
		return -1
	}
	mask := uint64(len(s.slots) - 1)
	for i := h[0] & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return int(i)
		case idHash{}:
			return -1
		}
	}
}

func (s *idSet) insert(h idHash) {
	mask := uint64(len(s.slots) - 1)
	i := h[0] & mask
	for s.slots[i] != (idHash{}) {
		i = (i + 1) & mask
	}
	s.slots[i] = h
	s.n++
}

// remove deletes h, moving back each later hash of its run that may take
// the freed slot (one whose home slot is not between the free slot and it).
func (s *idSet) remove(h idHash) {
	i := s.find(h)
	if i < 0 {
		return
	}
	mask := len(s.slots) - 1
	for j := (i + 1) & mask; s.slots[j] != (idHash{}); j = (j + 1) & mask {
		home := int(s.slots[j][0]) & mask
		if (j-home)&mask >= (j-i)&mask {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = idHash{}
	s.n--
}

// grow doubles the table (4,096 slots at first), placing every hash anew.
func (s *idSet) grow() {
	old := s.slots
	s.slots, s.n = make([]idHash, max(2*len(old), 1<<12)), 0
	for _, h := range old {
		if h != (idHash{}) {
			s.insert(h)
		}
	}
}
