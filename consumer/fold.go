package consumer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/baselines"
)

// Defaults of FoldConfig.
const (
	DefaultFlushInterval      = time.Second
	DefaultFoldMaxOpen        = 10_000
	DefaultTransactionTimeout = 10 * time.Second
)

// FoldConfig configures a Fold. The fields it shares with KafkaConfig mean
// the same.
type FoldConfig struct {
	Topic                 string
	LabelsTopic           string
	DeadLetterTopic       string
	LabelsDeadLetterTopic string // "": LabelsTopic + ".dlq"
	// Group is the consumer group of the source topics; the partials topic
	// is PartialsTopic(Group).
	Group             string
	Baselines         map[string]*baselines.Baseline
	Live              *baselines.Live // as KafkaConfig's
	MaxRecordBytes    int
	MaxFuture         time.Duration
	Now               func() time.Time
	DedupCapacity     int
	MaxPollRecords    int
	IdleTimeout       time.Duration
	WatermarkOutliers int
	StartAtEnd        bool
	// Audit, as KafkaConfig.Audit: a transaction commits only once every
	// dead letter in it is audited.
	Audit func(d DeadLetter, done func(error))
	// FlushInterval is how often the instance writes its deltas and marks
	// and commits its offsets, one transaction each time: the merge can
	// close a window at most about this long after its last record was
	// read. 0: DefaultFlushInterval.
	FlushInterval time.Duration
	// MaxOpen is how many windows may hold a delta before the instance
	// commits early; 0: DefaultFoldMaxOpen.
	MaxOpen int
	// TransactionalID identifies the instance's producer; a restarted
	// instance with the same id aborts what its predecessor left open at
	// once, instead of after TransactionTimeout. "": Group + "-fold-" and
	// random hex.
	TransactionalID    string
	TransactionTimeout time.Duration // 0: DefaultTransactionTimeout
}

// Folder folds batches of records into window deltas (windows.Fold, adapted
// by the pipeline). Fold calls it from one goroutine.
type Folder interface {
	// Add folds b's rows and releases b's record.
	Add(b Batch)
	// Open is the number of windows with a delta to flush.
	Open() int
	// Flush returns the deltas folded since the last Flush, encoded, and
	// starts anew.
	Flush() ([]Partial, error)
}

// Partial is one encoded window delta of model.
type Partial struct {
	Model string
	Value []byte
}

// FoldCounts are what a Fold has done, cumulative.
type FoldCounts struct {
	Counts
	Commits, Aborts int64 // transactions
	Deltas          int64 // delta records written (committed or not)
	Forwarded       int64 // labels forwarded
	Marks           int64 // mark records written
}

// Fold is scale-out's fold half: a member of Group that reads the
// partitions of Topic (and LabelsTopic) the group's cooperative balancer
// gives it, decodes and dead-letters as Kafka does, folds the records into
// window deltas (Folder) and, every FlushInterval, writes the deltas, the
// labels read and its partitions' marks to the partials topic and commits
// its source offsets, in one transaction (kgo.GroupTransactSession). A
// rebalance or a failure before the commit aborts the transaction: the
// records since the last commit are read again, by this instance or the
// partitions' next owner, and nothing of them was seen downstream (the
// merge reads committed records only). Close it after Run returns.
type Fold struct {
	sess   *kgo.GroupTransactSession
	cl     *kgo.Client
	cfg    FoldConfig
	log    *slog.Logger
	rt     *router
	clock  *partitionClocks
	folder Folder
	dlq    topicLimits

	partials        string
	partialsN       int32 // partitions of the partials topic
	sourceN         int32 // partitions of Topic
	inTxn           bool
	labelDeadLetter map[string]int64
	metaStale       bool       // assigned partitions changed: re-read the partition counts (guarded by mu)
	tally           FoldCounts // the loop's own counts but Counts, copied into counts by snapshot

	errMu     sync.Mutex
	err       error         // the first failed produce or audit of the transaction
	audits    int           // audits of the transaction's dead letters not done yet
	auditDone chan struct{} // closed when audits drops to 0 (replaced when it grows)

	mu     sync.Mutex
	counts FoldCounts
}

// NewFold creates a Fold and its client. opts carry the connection
// settings, as for NewKafka.
func NewFold(mem memory.Allocator, log *slog.Logger, cfg FoldConfig, folder Folder, opts ...kgo.Opt) (*Fold, error) {
	if cfg.MaxPollRecords <= 0 {
		cfg.MaxPollRecords = DefaultMaxPollRecords
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.MaxOpen <= 0 {
		cfg.MaxOpen = DefaultFoldMaxOpen
	}
	if cfg.TransactionTimeout <= 0 {
		cfg.TransactionTimeout = DefaultTransactionTimeout
	}
	if cfg.WatermarkOutliers < 0 || cfg.WatermarkOutliers > MaxWatermarkOutliers {
		return nil, fmt.Errorf("watermark outliers %d: want 0 to %d", cfg.WatermarkOutliers, MaxWatermarkOutliers)
	}
	if cfg.LabelsTopic != "" && cfg.LabelsDeadLetterTopic == "" {
		cfg.LabelsDeadLetterTopic = cfg.LabelsTopic + ".dlq"
	}
	if cfg.TransactionalID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		cfg.TransactionalID = cfg.Group + "-fold-" + hex.EncodeToString(b[:])
	}
	f := &Fold{cfg: cfg, log: log, folder: folder, partials: PartialsTopic(cfg.Group), labelDeadLetter: make(map[string]int64),
		clock: newPartitionClocks(cfg.IdleTimeout, cfg.WatermarkOutliers, cfg.Now), metaStale: true}
	f.rt = newRouter(mem, routerConfig{Baselines: cfg.Baselines, Live: cfg.Live, MaxBytes: cfg.MaxRecordBytes, MaxFuture: cfg.MaxFuture, Now: cfg.Now, DedupCap: cfg.DedupCapacity})
	topics := []string{cfg.Topic}
	if cfg.LabelsTopic != "" {
		topics = append(topics, cfg.LabelsTopic)
	}
	reset := kgo.NewOffset().AtStart()
	if cfg.StartAtEnd {
		reset = kgo.NewOffset().AtEnd()
	}
	opts = append([]kgo.Opt{kgo.FetchMaxWait(DefaultFetchMaxWait)}, opts...)
	opts = append(opts,
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(reset),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.TransactionalID(cfg.TransactionalID),
		kgo.TransactionTimeout(cfg.TransactionTimeout),
		kgo.ProducerBatchMaxBytesFn(f.dlq.get),
		kgo.RecordPartitioner(foldPartitioner{partials: f.partials, other: kgo.StickyKeyPartitioner(nil)}),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
			f.clock.assign(assigned[cfg.Topic])
			log.Info("fold partitions assigned", "topic", cfg.Topic, "partitions", assigned[cfg.Topic], "labels_partitions", assigned[cfg.LabelsTopic])
			f.mu.Lock()
			f.metaStale = true
			f.mu.Unlock()
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
			if len(revoked[cfg.Topic])+len(revoked[cfg.LabelsTopic]) == 0 {
				return
			}
			log.Info("fold partitions revoked; what was read since the last commit is read again by their next owner",
				"topic", cfg.Topic, "partitions", revoked[cfg.Topic], "labels_partitions", revoked[cfg.LabelsTopic])
			f.clock.revoke(revoked[cfg.Topic])
		}),
	)
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return nil, fmt.Errorf("create kafka transactional client for topic %s: %w", cfg.Topic, err)
	}
	f.sess, f.cl = sess, sess.Client()
	return f, nil
}

// foldPartitioner sends partials records to the partition they name
// (PartialsPartition, or every one for marks) and dead letters as the
// client's default does.
type foldPartitioner struct {
	partials string
	other    kgo.Partitioner
}

func (p foldPartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if topic == p.partials {
		return kgo.ManualPartitioner().ForTopic(topic)
	}
	return p.other.ForTopic(topic)
}

// Counts returns what the fold has done so far. Safe for concurrent use.
func (f *Fold) Counts() FoldCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

// Run folds until ctx is done or a transaction fails for good; what was
// folded since the last commit is then dropped (read again after a
// restart). It returns nil when ctx ends.
func (f *Fold) Run(ctx context.Context) error {
	defer f.rt.release()
	if err := f.readMeta(ctx); err != nil {
		return err
	}
	limits := readMaxMessageBytes(ctx, f.cl, f.log, deadLetterTopics(f.cfg.DeadLetterTopic, f.cfg.LabelsTopic, f.cfg.LabelsDeadLetterTopic))
	limits[f.partials] = PartialsMaxMessageBytes
	f.dlq.set(limits)
	next := f.cfg.Now().Add(f.cfg.FlushInterval)
	for {
		wait := max(next.Sub(f.cfg.Now()), time.Millisecond)
		pollCtx, cancel := context.WithTimeout(ctx, wait)
		fetches := f.sess.PollRecords(pollCtx, f.cfg.MaxPollRecords)
		cancel()
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				f.log.Warn("fetch", "topic", topic, "partition", p, "err", err)
			}
		})
		if err := f.handle(ctx, fetches); err != nil {
			return err
		}
		if now := f.cfg.Now(); !now.Before(next) || f.folder.Open() >= f.cfg.MaxOpen {
			if err := f.commit(ctx); err != nil {
				return err
			}
			next = now.Add(f.cfg.FlushInterval)
		}
	}
}

// readMeta reads the partition counts of the partials topic (which must
// exist: see EnsurePartialsTopic) and of the source topic.
func (f *Fold) readMeta(ctx context.Context) error {
	f.mu.Lock()
	stale := f.metaStale
	f.metaStale = false
	f.mu.Unlock()
	if !stale {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tds, err := kadm.NewClient(f.cl).ListTopics(ctx, f.cfg.Topic, f.partials)
	if err == nil {
		err = tds.Error()
	}
	if err != nil {
		return fmt.Errorf("read the partition counts of %s and %s: %w", f.cfg.Topic, f.partials, err)
	}
	src, part := tds[f.cfg.Topic], tds[f.partials]
	if len(part.Partitions) == 0 {
		return fmt.Errorf("the partials topic %s has no partitions (driftwatch creates it when scale-out starts)", f.partials)
	}
	f.sourceN, f.partialsN = int32(len(src.Partitions)), int32(len(part.Partitions))
	return nil
}

// begin starts the transaction, if not started, before a produce.
func (f *Fold) begin() error {
	if f.inTxn {
		return nil
	}
	if err := f.sess.Begin(); err != nil {
		return fmt.Errorf("begin a transaction: %w", err)
	}
	f.inTxn = true
	return nil
}

// produce writes r in the transaction; a failure fails the transaction.
func (f *Fold) produce(ctx context.Context, r *kgo.Record) error {
	if err := f.begin(); err != nil {
		return err
	}
	f.sess.Produce(ctx, r, func(r *kgo.Record, err error) {
		if err != nil {
			f.fail(fmt.Errorf("produce to %s/%d (%d bytes): %w", r.Topic, r.Partition, len(r.Value), err))
		}
	})
	return nil
}

func (f *Fold) fail(err error) {
	f.errMu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.errMu.Unlock()
}

// handle decodes one poll and folds its good predictions; bad records
// become dead letters and good labels partials records, in the
// transaction.
func (f *Fold) handle(ctx context.Context, fetches kgo.Fetches) error {
	if fetches.NumRecords() == 0 {
		return nil
	}
	var shares []recordShare
	var err error
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 || err != nil {
			return
		}
		if fp.Topic == f.cfg.LabelsTopic {
			err = f.forwardLabels(ctx, fp.Records)
			return
		}
		shares = appendShares(shares, fp.Partition, fp.Records)
	})
	if err != nil {
		return err
	}
	batches := f.rt.decodeShares(shares, f.clock, func(r *kgo.Record, derr *DecodeError) {
		if err == nil {
			err = f.deadLetter(ctx, r, derr, f.cfg.DeadLetterTopic)
		}
	})
	for _, b := range batches {
		f.folder.Add(b)
	}
	f.snapshot()
	return err
}

// forwardLabels writes the good labels of records to the partials topic,
// each to its model's partition, as read; bad ones are dead-lettered.
func (f *Fold) forwardLabels(ctx context.Context, records []*kgo.Record) error {
	for _, r := range records {
		l, err := DecodeLabel(r.Value, f.cfg.MaxRecordBytes)
		if err != nil {
			derr := err.(*DecodeError)
			f.labelDeadLetter[derr.Code]++
			if err := f.deadLetter(ctx, r, derr, f.cfg.LabelsDeadLetterTopic); err != nil {
				return err
			}
			continue
		}
		rec := &kgo.Record{Topic: f.partials, Partition: PartialsPartition(l.Model, f.partialsN), Key: []byte(l.Model), Value: r.Value,
			Headers: []kgo.RecordHeader{{Key: KindHeader, Value: []byte(KindLabel)}}}
		if err := f.produce(ctx, rec); err != nil {
			return err
		}
		f.tally.Forwarded++
	}
	return nil
}

// deadLetter writes r to dlq in the transaction, cut to fit, and audits it.
func (f *Fold) deadLetter(ctx context.Context, r *kgo.Record, derr *DecodeError, dlq string) error {
	dl, _ := deadLetterOf(r, derr, dlq, int(f.dlq.get(dlq)))
	if err := f.produce(ctx, dl); err != nil {
		return err
	}
	if f.cfg.Audit != nil {
		f.errMu.Lock()
		if f.audits == 0 {
			f.auditDone = make(chan struct{})
		}
		f.audits++
		f.errMu.Unlock()
		f.cfg.Audit(auditOf(r, derr, dlq, f.cfg.Now()), func(err error) {
			f.errMu.Lock()
			defer f.errMu.Unlock()
			if err != nil && f.err == nil {
				f.err = fmt.Errorf("audit dead letter %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
			}
			if f.audits--; f.audits == 0 {
				close(f.auditDone)
			}
		})
	}
	return nil
}

// waitAudits waits until every dead letter of the transaction is audited,
// or ctx ends (false): an audit may never be done once the pipeline stops.
func (f *Fold) waitAudits(ctx context.Context) bool {
	f.errMu.Lock()
	n, done := f.audits, f.auditDone
	f.errMu.Unlock()
	if n == 0 {
		return true
	}
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// commit writes the deltas folded since the last commit and the marks of
// the partitions owned, and commits the transaction with the source
// offsets read. If the group rebalanced meanwhile the transaction aborts:
// what was folded is dropped and read again.
func (f *Fold) commit(ctx context.Context) error {
	if err := f.readMeta(ctx); err != nil {
		return err
	}
	ps, err := f.folder.Flush()
	if err != nil {
		return fmt.Errorf("encode window deltas: %w", err)
	}
	clocks := f.clock.marks()
	if len(ps) == 0 && len(clocks) == 0 && !f.inTxn {
		return nil // nothing owned, nothing read
	}
	for _, p := range ps {
		r := &kgo.Record{Topic: f.partials, Partition: PartialsPartition(p.Model, f.partialsN), Key: []byte(p.Model), Value: p.Value,
			Headers: []kgo.RecordHeader{{Key: KindHeader, Value: []byte(KindDelta)}}}
		if err := f.produce(ctx, r); err != nil {
			return err
		}
	}
	f.tally.Deltas += int64(len(ps))
	if len(clocks) > 0 {
		mark, err := MarshalMark(Mark{Topic: f.cfg.Topic, Partitions: f.sourceN, Clocks: clocks})
		if err != nil {
			return fmt.Errorf("encode mark: %w", err)
		}
		for p := range f.partialsN {
			r := &kgo.Record{Topic: f.partials, Partition: p, Value: mark, Headers: []kgo.RecordHeader{{Key: KindHeader, Value: []byte(KindMark)}}}
			if err := f.produce(ctx, r); err != nil {
				return err
			}
		}
		f.tally.Marks += int64(f.partialsN)
	}
	if !f.waitAudits(ctx) {
		return nil // shutting down: the transaction stays open, and Close aborts it
	}
	// Flush before deciding: a produce failure shows in its promise.
	if err := f.cl.Flush(ctx); err != nil {
		return nil // shutting down
	}
	f.errMu.Lock()
	failed := f.err
	f.err = nil
	f.errMu.Unlock()
	committed, err := f.sess.End(ctx, kgo.TransactionEndTry(failed == nil))
	f.inTxn = false
	switch {
	case failed != nil:
		return fmt.Errorf("transaction aborted: %w", failed)
	case err != nil:
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("end the transaction of %s: %w", f.cfg.Topic, err)
	case !committed:
		f.tally.Aborts++
		f.rt.reset()
		f.clock.restart()
		f.log.Info("fold transaction aborted (the group rebalanced); reading again from the committed offsets", "group", f.cfg.Group)
	default:
		f.tally.Commits++
	}
	f.snapshot()
	return nil
}

func (f *Fold) snapshot() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts = f.tally
	f.counts.Counts = f.rt.snapshot()
	f.counts.LabelDeadLetter = maps.Clone(f.labelDeadLetter)
}

// Close aborts a transaction Run left open, leaves the group and closes the
// client. Call it after Run returns.
func (f *Fold) Close() {
	if f.inTxn {
		ctx, cancel := context.WithTimeout(context.Background(), f.cfg.TransactionTimeout)
		if _, err := f.sess.End(ctx, kgo.TryAbort); err != nil {
			f.log.Warn("abort the open fold transaction on close; the broker aborts it after the transaction timeout", "err", err, "timeout", f.cfg.TransactionTimeout)
		}
		cancel()
		f.inTxn = false
	}
	f.sess.Close()
}
