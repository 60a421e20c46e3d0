package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/baselines"
)

// Dead-letter record headers: the reason code (a Reason constant) and a
// human-readable detail naming the field. The record's key, value and
// headers are otherwise unchanged.
const (
	HeaderReason = "driftwatch.dlq.reason"
	HeaderDetail = "driftwatch.dlq.detail"
	HeaderSource = "driftwatch.dlq.source" // topic/partition@offset it came from
)

// DefaultMaxPollRecords bounds the records taken from one poll.
const DefaultMaxPollRecords = 10_000

// KafkaConfig configures a Kafka source.
type KafkaConfig struct {
	Topic           string
	DeadLetterTopic string
	Group           string
	MaxPollRecords  int // 0: DefaultMaxPollRecords
	Baselines       map[string]*baselines.Baseline
	MaxRecordBytes  int           // 0: DefaultMaxRecordBytes
	MaxFuture       time.Duration // reject timestamps this far ahead of Now; 0: no check
	Now             func() time.Time
	DedupCapacity   int
	// Until, when not nil, may deliver the end offset of each partition of
	// Topic; the source stops once it has read up to them. Bounded runs (the
	// demo, tests) use it; a daemon leaves it nil.
	Until <-chan map[int32]int64
	// StartAtEnd starts a group with no committed offsets at the end of the
	// topic instead of its beginning.
	StartAtEnd bool
}

// Kafka reads the prediction topic as a member of a consumer group and emits
// Batches. Offsets are marked for commit only when every batch of a poll, and
// every dead-letter record of it, has been acknowledged, and polls are marked
// in the order they were read, so a committed offset never runs ahead of
// durable results. Kafka owns its client: call Close after Run returns and the
// downstream stages have drained.
type Kafka struct {
	cl  *kgo.Client
	cfg KafkaConfig
	log *slog.Logger
	rt  *router
	acks
	mu     sync.Mutex
	counts Counts
}

// NewKafka creates the source and its client. opts carry the connection
// settings (seed brokers, TLS, SASL); the source adds the consumer-group
// options it relies on: AutoCommitMarks, BlockRebalanceOnPoll and a commit
// of marked offsets when partitions are revoked.
func NewKafka(mem memory.Allocator, log *slog.Logger, cfg KafkaConfig, opts ...kgo.Opt) (*Kafka, error) {
	if cfg.MaxPollRecords <= 0 {
		cfg.MaxPollRecords = DefaultMaxPollRecords
	}
	k := &Kafka{cfg: cfg, log: log}
	k.rt = newRouter(mem, routerConfig{
		Baselines: cfg.Baselines, MaxBytes: cfg.MaxRecordBytes, MaxFuture: cfg.MaxFuture,
		Now: cfg.Now, DedupCap: cfg.DedupCapacity,
	})
	reset := kgo.NewOffset().AtStart()
	if cfg.StartAtEnd {
		reset = kgo.NewOffset().AtEnd()
	}
	opts = append(opts,
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(reset),
		kgo.AutoCommitMarks(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
			// Revoked partitions' open windows are not flushed yet; only what
			// is already durable was marked, so committing it is safe.
			if err := cl.CommitMarkedOffsets(ctx); err != nil {
				log.Warn("commit marked offsets on revoke", "err", err)
			}
		}),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create kafka client for topic %s: %w", cfg.Topic, err)
	}
	k.cl = cl
	k.acks.mark = cl.MarkCommitRecords
	return k, nil
}

// Counts returns what the source has done so far. Safe for concurrent use.
func (k *Kafka) Counts() Counts {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.counts
}

// Run polls until ctx is done, Until's end offsets are reached, or an
// acknowledgement fails; it sends batches on out and closes out. It does not
// close the client (see Close).
func (k *Kafka) Run(ctx context.Context, out chan<- Batch) error {
	defer close(out)
	defer k.rt.release()
	var (
		until     = k.cfg.Until
		end       map[int32]int64
		next      = make(map[int32]int64)
		partMaxTS = make(map[int32]time.Time)
	)
	for {
		if err := k.acks.failed(); err != nil {
			return err
		}
		if end == nil && until != nil {
			select {
			case end = <-until:
				until = nil
			default:
			}
		}
		if end != nil && reached(next, end) {
			return nil
		}
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if k.cfg.Until != nil {
			// Bounded runs re-check Until between short polls.
			pollCtx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
		}
		fetches := k.cl.PollRecords(pollCtx, k.cfg.MaxPollRecords)
		cancel()
		if fetches.IsClientClosed() {
			return nil
		}
		if ctx.Err() != nil {
			k.cl.AllowRebalance()
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				k.log.Warn("fetch", "topic", topic, "partition", p, "err", err)
			}
		})
		err := k.handle(ctx, fetches, out, next, partMaxTS)
		k.cl.AllowRebalance()
		if err != nil {
			return err
		}
	}
}

func reached(next, end map[int32]int64) bool {
	for p, e := range end {
		if e > 0 && next[p] < e {
			return false
		}
	}
	return true
}

// handle turns one poll into batches and dead-letter records, all tied to one
// acknowledgement entry.
func (k *Kafka) handle(ctx context.Context, fetches kgo.Fetches, out chan<- Batch, next map[int32]int64, partMaxTS map[int32]time.Time) error {
	if fetches.NumRecords() == 0 {
		return nil
	}
	p := k.acks.open()
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 {
			return
		}
		for _, r := range fp.Records {
			ts, ok, derr := k.rt.add(r.Value)
			if ok && ts.After(partMaxTS[r.Partition]) {
				partMaxTS[r.Partition] = ts
			}
			if derr != nil {
				k.deadLetter(ctx, p, r, derr)
			}
		}
		last := fp.Records[len(fp.Records)-1]
		next[last.Partition] = last.Offset + 1
		p.marks = append(p.marks, last)
	})
	wm := minTime(partMaxTS)
	batches := k.rt.flush(wm)
	k.mu.Lock()
	k.counts = k.rt.snapshot()
	k.mu.Unlock()
	sent := send(ctx, out, batches, func() func(error) {
		k.acks.add(p)
		return func(err error) { k.acks.done(p, err) }
	})
	if !sent {
		return nil // shutting down: this poll stays unmarked
	}
	k.acks.done(p, nil) // the entry's own reference, taken by open
	return nil
}

func (k *Kafka) deadLetter(ctx context.Context, p *pollAck, r *kgo.Record, derr *DecodeError) {
	headers := make([]kgo.RecordHeader, 0, len(r.Headers)+3)
	headers = append(headers, r.Headers...)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderReason, Value: []byte(derr.Code)},
		kgo.RecordHeader{Key: HeaderDetail, Value: []byte(derr.Detail)},
		kgo.RecordHeader{Key: HeaderSource, Value: fmt.Appendf(nil, "%s/%d@%d", r.Topic, r.Partition, r.Offset)},
	)
	dl := &kgo.Record{Topic: k.cfg.DeadLetterTopic, Key: r.Key, Value: r.Value, Headers: headers, Timestamp: r.Timestamp}
	k.acks.add(p)
	k.cl.Produce(ctx, dl, func(_ *kgo.Record, err error) {
		if err != nil {
			err = fmt.Errorf("produce dead letter for %s/%d@%d to %s: %w", r.Topic, r.Partition, r.Offset, k.cfg.DeadLetterTopic, err)
		}
		k.acks.done(p, err)
	})
}

// Close commits every offset marked so far and leaves the group. Call it
// after Run has returned and downstream stages have acknowledged what they
// could; ctx bounds the commit.
func (k *Kafka) Close(ctx context.Context) error {
	if err := k.cl.Flush(ctx); err != nil {
		k.log.Warn("flush dead letters before close", "err", err)
	}
	err := k.cl.CommitMarkedOffsets(ctx)
	k.cl.CloseAllowingRebalance()
	if err != nil {
		return fmt.Errorf("commit offsets of %s on close: %w", k.cfg.Topic, err)
	}
	return nil
}

func minTime(m map[int32]time.Time) time.Time {
	var out time.Time
	for _, t := range m {
		if out.IsZero() || t.Before(out) {
			out = t
		}
	}
	return out
}

// acks marks polls for commit in the order they were read, each once all of
// its parts are acknowledged. The first failed acknowledgement stops marking
// for good and is returned by failed.
type acks struct {
	mark func(...*kgo.Record)

	mu    sync.Mutex
	queue []*pollAck
	err   error
}

type pollAck struct {
	pending int
	marks   []*kgo.Record // last record of each partition in the poll
}

func (a *acks) open() *pollAck {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := &pollAck{pending: 1}
	a.queue = append(a.queue, p)
	return p
}

// add counts one more part of p that must be acknowledged; call it before
// handing the part out.
func (a *acks) add(p *pollAck) {
	a.mu.Lock()
	p.pending++
	a.mu.Unlock()
}

func (a *acks) done(p *pollAck, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil && a.err == nil {
		a.err = err
	}
	p.pending--
	if a.err != nil {
		return
	}
	var ready []*kgo.Record
	for len(a.queue) > 0 && a.queue[0].pending == 0 {
		ready = append(ready, a.queue[0].marks...)
		a.queue[0] = nil
		a.queue = a.queue[1:]
	}
	if len(ready) > 0 {
		a.mark(ready...)
	}
}

func (a *acks) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}
