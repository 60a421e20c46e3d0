package kserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/consumer"
)

// pollRecords bounds the records the Converter takes from one poll.
const pollRecords = 1000

// ConverterConfig configures a Converter.
type ConverterConfig struct {
	Topic           string // KServe's events (kserve.topic)
	DeadLetterTopic string // where events that make no records go
	Group           string // the Converter's consumer group
	OutTopic        string // the predictions topic the records go to (kafka.topic)
	// Models maps InferenceService names to their Mapping.
	Models      map[string]Mapping
	JoinTimeout time.Duration
	MaxPending  int
	// StartAtEnd starts a group with no committed offsets at the end of
	// Topic instead of its beginning.
	StartAtEnd bool
	Now        func() time.Time // nil: time.Now
}

// Counts are what a Converter has done; cumulative but Pending.
type Counts struct {
	Events     int64            // read from the events topic
	Records    int64            // prediction log records produced to the predictions topic
	DeadLetter map[string]int64 // events dead-lettered, by reason
	Pending    int64            // events waiting for their pair now
}

// Converter reads KServe's events from a topic as a member of its own
// consumer group, joins and maps them (Adapter), produces the records to
// the predictions topic (keyed by prediction_id, timestamped with the
// event time) and each event that makes none, unchanged, to the
// dead-letter topic with the headers of CONTRACT.md section 4
// (consumer.HeaderReason, HeaderDetail, HeaderSource).
//
// One member of the group owns every partition (consumer's
// SingleOwnerBalancer): KafkaSink keys events by their partitionkey
// extension, which KServe does not set, so a request and its response
// may be in any two partitions. An event's offset is committed once what
// became of it is in its topic: its pair's records, or its dead letter;
// an event waiting for its pair holds its partition's commits back (at
// most the join timeout). Records and dead letters are produced at least
// once: after a crash, what was not committed is read, joined and
// produced again, with the same prediction ids, which the consumer drops
// as duplicates (or, their window closed, keeps out of its figures). On
// a rebalance the waiting events are forgotten, to be read again by the
// partitions' next owner.
//
// Run owns the poll loop; Close flushes, commits and leaves the group.
type Converter struct {
	cl   *kgo.Client
	cfg  ConverterConfig
	log  *slog.Logger
	ad   *Adapter[*source]
	offs offsets
	// reset is set by the group's callbacks: the loop forgets the waiting
	// events before it handles its next poll.
	reset atomic.Bool

	mu     sync.Mutex
	counts Counts // guarded by mu
	err    error  // the first failed produce; guarded by mu
	stop   context.CancelFunc

	closeOnce sync.Once
	closeErr  error
}

// source is an event's origin: its record and its place in the commit
// order.
type source struct {
	rec *kgo.Record
	at  *entry
}

// NewConverter creates the Converter and its client; opts carry the
// connection settings.
func NewConverter(log *slog.Logger, cfg ConverterConfig, opts ...kgo.Opt) (*Converter, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.JoinTimeout <= 0 || cfg.MaxPending <= 0 {
		return nil, fmt.Errorf("kserve topic %s: join timeout %s and max pending %d must be positive", cfg.Topic, cfg.JoinTimeout, cfg.MaxPending)
	}
	c := &Converter{cfg: cfg, log: log, ad: NewAdapter[*source](cfg.Models, cfg.JoinTimeout, cfg.MaxPending),
		counts: Counts{DeadLetter: make(map[string]int64)}}
	reset := kgo.NewOffset().AtStart()
	if cfg.StartAtEnd {
		reset = kgo.NewOffset().AtEnd()
	}
	forget := func() {
		c.offs.reset()
		c.reset.Store(true)
	}
	opts = append(append([]kgo.Opt{kgo.FetchMaxWait(consumer.DefaultFetchMaxWait)}, opts...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(reset),
		kgo.Balancers(consumer.SingleOwnerBalancer()),
		kgo.BlockRebalanceOnPoll(),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(time.Second),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
			if err := cl.CommitMarkedOffsets(ctx); err != nil {
				log.Warn("commit marked offsets on revoke", "topic", cfg.Topic, "err", err)
			}
			forget()
		}),
		kgo.OnPartitionsLost(func(context.Context, *kgo.Client, map[string][]int32) { forget() }),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create kafka client for kserve topic %s: %w", cfg.Topic, err)
	}
	c.cl = cl
	c.offs.mark = cl.MarkCommitRecords
	return c, nil
}

// Run polls until ctx is done or a record cannot be produced (it returns
// that error). It does not close the client (see Close).
func (c *Converter) Run(ctx context.Context) error {
	work, stop := context.WithCancel(ctx)
	defer stop()
	c.mu.Lock()
	c.stop = stop
	c.mu.Unlock()
	// Produced records outlive a poll and are flushed by Close: they
	// must not fail when Run's context ends.
	produceCtx := context.WithoutCancel(ctx)
	for {
		if err := c.failed(); err != nil {
			return err
		}
		pollCtx, cancel := work, context.CancelFunc(func() {})
		if next, ok := c.ad.Next(); ok {
			pollCtx, cancel = context.WithTimeout(work, max(next.Sub(c.cfg.Now()), time.Millisecond))
		}
		fetches := c.cl.PollRecords(pollCtx, pollRecords)
		cancel()
		if fetches.IsClientClosed() || work.Err() != nil {
			c.cl.AllowRebalance()
			return c.failed()
		}
		if c.reset.Swap(false) {
			c.ad.Reset()
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				c.log.Warn("fetch", "topic", topic, "partition", p, "err", err)
			}
		})
		now := c.cfg.Now()
		var outs []Outcome[*source]
		fetches.EachRecord(func(r *kgo.Record) {
			src := &source{rec: r, at: c.offs.read(r)}
			ev, err := FromKafka(r.Headers, r.Value)
			if err != nil {
				derr := &consumer.DecodeError{Code: ReasonNotCloudEvent, Detail: err.Error()}
				errors.As(err, &derr)
				outs = append(outs, Outcome[*source]{Sources: []*source{src}, Reason: derr.Code, Detail: derr.Detail})
				return
			}
			if ev.Time.IsZero() {
				ev.Time = r.Timestamp // binary mode without ce_time: when the sink wrote it
			}
			outs = append(outs, c.ad.Add(ev, src, now)...)
		})
		outs = append(outs, c.ad.Expire(c.cfg.Now())...)
		c.mu.Lock()
		c.counts.Events += int64(fetches.NumRecords())
		c.counts.Pending = int64(c.ad.Pending())
		c.mu.Unlock()
		for _, o := range outs {
			c.apply(produceCtx, o)
		}
		c.cl.AllowRebalance()
	}
}

// apply produces an outcome's records, or its sources' dead letters, and
// marks the sources done once every one is acknowledged.
func (c *Converter) apply(ctx context.Context, o Outcome[*source]) {
	var recs []*kgo.Record
	if o.Reason == "" {
		for _, r := range o.Records {
			recs = append(recs, &kgo.Record{Topic: c.cfg.OutTopic, Key: []byte(r.ID), Value: r.Value, Timestamp: r.Time})
		}
	} else {
		for _, s := range o.Sources {
			recs = append(recs, c.deadLetter(s.rec, o.Reason, o.Detail))
		}
	}
	var left atomic.Int64
	left.Store(int64(len(recs)))
	for _, r := range recs {
		c.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			if err != nil {
				c.fail(fmt.Errorf("produce to %s: %w", r.Topic, err))
				return
			}
			if left.Add(-1) > 0 {
				return
			}
			c.mu.Lock()
			if o.Reason == "" {
				c.counts.Records += int64(len(recs))
			} else {
				c.counts.DeadLetter[o.Reason] += int64(len(recs))
			}
			c.mu.Unlock()
			for _, s := range o.Sources {
				c.offs.done(s.at)
			}
		})
	}
}

// deadLetter returns r unchanged for the dead-letter topic, with the
// reason, detail and source headers.
func (c *Converter) deadLetter(r *kgo.Record, reason, detail string) *kgo.Record {
	h := make([]kgo.RecordHeader, 0, len(r.Headers)+3)
	h = append(h, r.Headers...)
	h = append(h,
		kgo.RecordHeader{Key: consumer.HeaderReason, Value: []byte(reason)},
		kgo.RecordHeader{Key: consumer.HeaderDetail, Value: []byte(detail)},
		kgo.RecordHeader{Key: consumer.HeaderSource, Value: fmt.Appendf(nil, "%s/%d@%d", r.Topic, r.Partition, r.Offset)},
	)
	return &kgo.Record{Topic: c.cfg.DeadLetterTopic, Key: r.Key, Value: r.Value, Headers: h, Timestamp: r.Timestamp}
}

// fail records the first failed produce and ends Run.
func (c *Converter) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
		if c.stop != nil {
			c.stop()
		}
	}
}

func (c *Converter) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Counts returns what the Converter has done so far. Safe for concurrent
// use.
func (c *Converter) Counts() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.counts
	out.DeadLetter = maps.Clone(c.counts.DeadLetter)
	return out
}

// Close waits, until ctx ends, for the records and dead letters produced
// to be acknowledged, commits the offsets they complete, and closes the
// client, leaving the group. Events still waiting for their pair are not
// committed: the group's next owner reads them again. Call it after Run
// returned; calls after the first return its error again.
func (c *Converter) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		defer c.cl.Close()
		if err := c.cl.Flush(ctx); err != nil {
			c.closeErr = fmt.Errorf("flush kserve records to %s and %s: %w", c.cfg.OutTopic, c.cfg.DeadLetterTopic, err)
			return
		}
		if err := c.cl.CommitMarkedOffsets(ctx); err != nil {
			c.closeErr = fmt.Errorf("commit offsets of kserve topic %s (group %s): %w", c.cfg.Topic, c.cfg.Group, err)
			return
		}
		c.closeErr = c.failed()
	})
	return c.closeErr
}

// RegisterMetrics registers the Converter's metrics with reg.
func RegisterMetrics(reg prometheus.Registerer, c *Converter) {
	f := func(get func(Counts) int64) func() float64 {
		return func() float64 { return float64(get(c.Counts())) }
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_kserve_events_total", Help: "KServe logger events read from kserve.topic."},
			f(func(c Counts) int64 { return c.Events })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_kserve_records_total", Help: "Prediction log records made from joined KServe events and produced to kafka.topic."},
			f(func(c Counts) int64 { return c.Records })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftwatch_kserve_pending_events", Help: "KServe events waiting for their pair (kserve.max_pending at most)."},
			f(func(c Counts) int64 { return c.Pending })),
	)
	for _, reason := range Reasons {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "driftwatch_kserve_dead_letter_events_total", Help: "KServe events sent to kserve.dead_letter_topic, by reason.",
			ConstLabels: prometheus.Labels{"reason": reason},
		}, f(func(c Counts) int64 { return c.DeadLetter[reason] })))
	}
}

// offsets keeps, per partition, the records read in offset order until
// what became of each is acknowledged, and marks for commit the last of
// the leading run of finished ones. Safe for concurrent use.
type offsets struct {
	mu    sync.Mutex
	parts map[int32]*partition
	mark  func(...*kgo.Record)
}

type partition struct {
	queue []*entry
	gone  bool // revoked: its entries mark nothing
}

type entry struct {
	rec  *kgo.Record
	done bool
	p    *partition
}

// read appends r to its partition's queue and returns its entry.
func (o *offsets) read(r *kgo.Record) *entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.parts == nil {
		o.parts = make(map[int32]*partition)
	}
	p := o.parts[r.Partition]
	if p == nil {
		p = &partition{}
		o.parts[r.Partition] = p
	}
	e := &entry{rec: r, p: p}
	p.queue = append(p.queue, e)
	return e
}

// done finishes e and marks what that completes. Marks are made outside
// the lock (the group's callbacks take it): the client keeps the highest
// of a partition's marks, so two made out of order mark the later one.
func (o *offsets) done(e *entry) {
	if last := o.finish(e); last != nil {
		o.mark(last)
	}
}

// finish finishes e and returns the last record of the leading run of
// finished ones it completes, nil if none.
func (o *offsets) finish(e *entry) *kgo.Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	e.done = true
	p := e.p
	if p.gone {
		return nil
	}
	var last *kgo.Record
	for len(p.queue) > 0 && p.queue[0].done {
		last = p.queue[0].rec
		p.queue[0] = nil
		p.queue = p.queue[1:]
	}
	return last
}

// reset forgets every partition: acknowledgements of what was read
// before mark nothing.
func (o *offsets) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range o.parts {
		p.gone = true
	}
	o.parts = nil
}
