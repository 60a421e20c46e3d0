package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/baselines"
)

// Dead-letter record headers: the reason code (a Reason constant) and a
// human-readable detail naming the field. The record's key, value and
// headers are otherwise unchanged, unless the record does not fit in the
// dead-letter topic: then its value is cut to the longest prefix that fits
// (by the topic's max.message.bytes, read at start) and HeaderTruncated and
// HeaderOriginalSize say so. A dead letter the broker still refuses for its
// size is sent once more cut to DeadLetterRetryBytes.
const (
	HeaderReason = "driftwatch.dlq.reason"
	HeaderDetail = "driftwatch.dlq.detail"
	HeaderSource = "driftwatch.dlq.source" // topic/partition@offset it came from
	// HeaderTruncated is "true" on a dead letter that is not the record
	// whole; absent otherwise.
	HeaderTruncated = "driftwatch.dlq.truncated"
	// HeaderOriginalSize is, on a truncated dead letter, the size in bytes
	// (decimal) of the record's value before it was cut.
	HeaderOriginalSize = "driftwatch.dlq.original_size"
)

// DeadLetterRetryBytes bounds a dead letter sent again after the broker
// refused it for its size: it keeps at most this many bytes of the value, of
// the key and of each driftwatch header, and the record's own headers only
// if they total at most this many bytes. It is sent alone or with other such
// dead letters, in batches of at most resendBatchBytes, so that it fits in
// any topic that takes that much.
const DeadLetterRetryBytes = 1024

// resendBatchBytes is the batch limit of the client that resends dead
// letters cut to DeadLetterRetryBytes (at most about 5 KiB each).
const resendBatchBytes = 8 << 10

// defaultBatchMaxBytes is franz-go's default record batch limit, the
// dead-letter size limit when a topic's max.message.bytes cannot be read.
const defaultBatchMaxBytes = 1_000_012

// taskRecords bounds the records of one partition that one decoder
// decodes at a time: a poll of one busy partition is still decoded on
// every core.
const taskRecords = 2048

// DefaultMaxPollRecords bounds the records taken from one poll.
const DefaultMaxPollRecords = 10_000

// DefaultIdleTimeout is how long an assigned partition may go without a
// record before the watermark stops waiting for it.
const DefaultIdleTimeout = time.Minute

// DefaultFetchMaxWait is how long the broker may hold a fetch that finds no
// new records (Kafka's own consumer default; franz-go's is 5 s). Partitions
// that become ready while such a fetch is in flight wait for it: at start,
// the partitions with committed offsets are ready a round trip after those
// without (an idle labels topic), and would otherwise start reading up to
// 5 s late, on every restart. NewKafka's opts may override it.
const DefaultFetchMaxWait = 500 * time.Millisecond

// TopicPartition names one partition of one topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// KafkaConfig configures a Kafka source.
type KafkaConfig struct {
	Topic           string
	DeadLetterTopic string
	Group           string
	MaxPollRecords  int // 0: DefaultMaxPollRecords
	Baselines       map[string]*baselines.Baseline
	// Live, when set, replaces Baselines: a baseline swapped in applies to
	// the records decoded after the swap.
	Live           *baselines.Live
	MaxRecordBytes int           // 0: DefaultMaxRecordBytes
	MaxFuture      time.Duration // reject timestamps this far ahead of Now; 0: no check
	Now            func() time.Time
	DedupCapacity  int
	// Until, when not nil, may deliver the end offset of each partition of
	// Topic (and of LabelsTopic); the source stops once it has read up to
	// them. Bounded runs (the demo, tests) use it; a daemon leaves it nil.
	Until <-chan map[TopicPartition]int64
	// StartAtEnd starts a group with no committed offsets at the end of the
	// topic instead of its beginning.
	StartAtEnd bool
	// Audit, when set, records each dead-lettered record (prediction or
	// label) somewhere durable besides the dead-letter topic (ClickHouse's
	// dead_letters table). The record's offset is committed only once the
	// dead-letter topic and the audit both acknowledged it. Audit may block
	// (back-pressure); it must call done exactly once, from any goroutine,
	// or never (the offset then stays uncommitted and the record is read
	// again after a restart).
	Audit func(d DeadLetter, done func(error))
	// IdleTimeout: an assigned partition without a record for this long
	// (by Now) no longer holds the watermark back; 0: DefaultIdleTimeout.
	// Until then the watermark waits for every assigned partition, also
	// for one that has not delivered its first record yet.
	IdleTimeout time.Duration
	// WatermarkOutliers is how many of each partition's newest event times
	// the watermark ignores: a partition holds the watermark back at the
	// (WatermarkOutliers+1)-th newest good event time read from it, and
	// until it has delivered that many good records. 0: the newest; at
	// most MaxWatermarkOutliers.
	WatermarkOutliers int

	// Fence, when set, is called from the group's revoke and lost
	// callbacks, before they return and so before the partitions' next
	// owner can start, with the source's new generation: the pipeline
	// stops writing what it made of the records read before, and returns
	// once nothing of it is being written (pipeline.Pipeline.Fence). The
	// Reset batch that follows carries the generation.
	Fence func(generation int64)

	// Paused, when set, is asked before each poll whether reading must
	// pause (pipeline.Pipeline.Paused: the sink is failing): nil reads on;
	// a channel pauses fetching from every topic of the source (dropping
	// what the client had fetched ahead) until the channel is closed.
	// Time paused does not count towards IdleTimeout.
	Paused func() <-chan struct{}

	// LabelsTopic, when set, is read too, by the same client and group:
	// late labels (CONTRACT.md section 2), emitted as Batches with Labels.
	// Labels are not deduplicated and have no baseline check; MaxRecordBytes
	// applies to them.
	LabelsTopic string
	// LabelsDeadLetterTopic receives the labels that break the contract, as
	// DeadLetterTopic the predictions; "": LabelsTopic + ".dlq".
	LabelsDeadLetterTopic string

	// Partials makes the source scale-out's merge stage: it reads Topic as
	// a partials topic (PartialsTopic of the fold's group) in Group
	// (MergeGroup of it), and emits Batches with Partials and Labels, not
	// records; see Kafka's "merge mode". It reads only committed
	// transactions, shares the partitions among the group's members with
	// an eager balancer (kgo.StickyBalancer), and has no labels topic, no
	// dead-letter topic and no audit: LabelsTopic, DeadLetterTopic,
	// LabelsDeadLetterTopic and Audit must be empty, and Baselines,
	// MaxFuture, DedupCapacity, IdleTimeout and WatermarkOutliers do not
	// apply. MaxRecordBytes bounds the labels it decodes. Until's end
	// offsets are the topic's (kadm ListEndOffsets): the transactions'
	// commit markers count as read. A new merge group should not
	// StartAtEnd: it would skip the deltas of windows still open.
	Partials bool
}

// Kafka reads the prediction topic, and the labels topic when configured, as
// a member of a consumer group and emits Batches: one per prediction
// partition and model, then one per labels partition, for each poll. A
// partition's offsets are marked for commit only when every batch of it in a
// poll, and every dead-letter record of it (topic and audit), has been
// acknowledged, in the order the polls were read, so a committed offset
// never runs ahead of durable results. The watermark is the prediction
// partitions' alone: labels neither move it nor hold it back. One member of
// the group owns every partition of both topics (SingleOwnerBalancer); on
// any change of assignment the source emits a Reset batch first. Kafka owns
// its client: call Close after Run returns and the downstream stages have
// drained.
//
// In merge mode (KafkaConfig.Partials) it reads the partials topic instead,
// whose partitions the group's members share (see readPartials): per
// partials partition of a poll, one Batch with the window deltas read, in
// offset order, and, after the poll's delta batches, one with its labels.
// Marks move the watermark, which is the oldest over the partials
// partitions the instance owns. Offsets are committed as in the records
// mode: a partition's share of a poll once every batch of it is
// acknowledged, that is once the windows its deltas went into are durable.
type Kafka struct {
	cl  *kgo.Client
	cfg KafkaConfig
	log *slog.Logger
	rt  *router
	acks
	clock *partitionClocks
	// labels and labelDeadLetter count good and bad labels; the poll loop
	// owns them and copies them into counts.
	labels          int64
	labelDeadLetter map[string]int64
	mu              sync.Mutex
	pauses          int64 // guarded by mu
	counts          Counts
	reset           bool  // the assignment changed: the loop must emit a Reset before its next batch
	generation      int64 // revocations so far (guarded by mu): Batch.Generation of the next Reset
	// commit asks Run's committer to commit the marked offsets; capacity 1,
	// so that requests made while a commit is in flight make one more.
	commit chan struct{}
	// deadLetterMax is each dead-letter topic's max.message.bytes, read
	// when Run starts, before the first dead letter; the producer's batch
	// limit for the topic (batchMaxBytes) and the size a dead letter is cut
	// to.
	deadLetterMax topicLimits
	// resends are the dead letters being sent again, cut, after the broker
	// refused them for their size; Close waits for them. They go through
	// a client of their own (resendClient), created on the first, whose
	// small batches never hold a big dead letter still being refused.
	resends  sync.WaitGroup
	connOpts []kgo.Opt // NewKafka's opts: the connection settings
	resendMu sync.Mutex
	resendCl *kgo.Client
	// merge is the merge mode's state; nil in the records mode.
	merge *mergeState
}

// NewKafka creates the source and its client. opts carry the connection
// settings (seed brokers, TLS, SASL, session timeout, instance id); the
// source adds the consumer-group options it relies on: AutoCommitMarks,
// BlockRebalanceOnPoll, SingleOwnerBalancer (in merge mode
// kgo.StickyBalancer, eager, with read-committed isolation and commit
// markers kept as records), and callbacks that commit
// marked offsets when partitions are revoked and forget them when revoked
// or lost. Marked offsets are committed as soon as they are marked (see
// Run); the client's autocommit (every 5 s unless opts set
// kgo.AutoCommitInterval) stays as a backstop.
func NewKafka(mem memory.Allocator, log *slog.Logger, cfg KafkaConfig, opts ...kgo.Opt) (*Kafka, error) {
	if cfg.MaxPollRecords <= 0 {
		cfg.MaxPollRecords = DefaultMaxPollRecords
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.WatermarkOutliers < 0 || cfg.WatermarkOutliers > MaxWatermarkOutliers {
		return nil, fmt.Errorf("watermark outliers %d: want 0 to %d", cfg.WatermarkOutliers, MaxWatermarkOutliers)
	}
	if cfg.Partials && (cfg.LabelsTopic != "" || cfg.DeadLetterTopic != "" || cfg.LabelsDeadLetterTopic != "" || cfg.Audit != nil) {
		return nil, fmt.Errorf("partials topic %s: the merge reads labels from it and dead-letters nothing; want no labels topic, dead-letter topic or audit", cfg.Topic)
	}
	if cfg.LabelsTopic != "" {
		if cfg.LabelsTopic == cfg.Topic {
			return nil, fmt.Errorf("labels topic %s is the predictions topic", cfg.LabelsTopic)
		}
		if cfg.LabelsDeadLetterTopic == "" {
			cfg.LabelsDeadLetterTopic = cfg.LabelsTopic + ".dlq"
		}
	}
	k := &Kafka{cfg: cfg, log: log, clock: newPartitionClocks(cfg.IdleTimeout, cfg.WatermarkOutliers, cfg.Now), labelDeadLetter: make(map[string]int64),
		commit: make(chan struct{}, 1), connOpts: slices.Clone(opts)}
	if cfg.Partials {
		k.merge = &mergeState{tables: make(map[int32]*markTable)}
	}
	k.rt = newRouter(mem, routerConfig{
		Baselines: cfg.Baselines, Live: cfg.Live, MaxBytes: cfg.MaxRecordBytes, MaxFuture: cfg.MaxFuture,
		Now: cfg.Now, DedupCap: cfg.DedupCapacity,
	})
	opts = append([]kgo.Opt{kgo.FetchMaxWait(DefaultFetchMaxWait)}, opts...)
	reset := kgo.NewOffset().AtStart()
	if cfg.StartAtEnd {
		reset = kgo.NewOffset().AtEnd()
	}
	balancer := SingleOwnerBalancer()
	if cfg.Partials {
		// Eager, as SingleOwnerBalancer: every rebalance revokes every
		// partition (see mergeState). Sticky gives partitions back to
		// their previous owners where it can; that saves no re-reading,
		// only churn in who merges which model.
		balancer = kgo.StickyBalancer()
		opts = append(opts,
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			// The transactions' commit markers come as records, so that a
			// partition's last offset read is its end (Until) and commits
			// go past the marker.
			kgo.KeepControlRecords(),
		)
	}
	opts = append(opts,
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(k.topics()...),
		kgo.ConsumeResetOffset(reset),
		kgo.ProducerBatchMaxBytesFn(k.batchMaxBytes),
		kgo.AutoCommitMarks(),
		kgo.BlockRebalanceOnPoll(),
		kgo.Balancers(balancer),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
			if len(k.own(assigned)) == 0 {
				return // a standby's empty share
			}
			k.clock.assign(assigned[cfg.Topic])
			if k.merge != nil {
				k.merge.assign(assigned[cfg.Topic])
			}
			log.Info("partitions assigned", k.partitionAttrs(assigned)...)
			// The previous owner may have committed windows since this
			// instance started: the reset re-reads them from the sink.
			k.mu.Lock()
			k.reset = true
			k.mu.Unlock()
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
			if len(k.own(revoked)) == 0 {
				return
			}
			log.Info("partitions revoked; open windows dropped, to be read again by their next owner", k.partitionAttrs(revoked)...)
			// Revoked partitions' open windows are not flushed yet; only what
			// is already durable was marked, so committing it is safe.
			if err := cl.CommitMarkedOffsets(ctx); err != nil {
				log.Warn("commit marked offsets on revoke", "err", err)
			}
			k.forget(revoked)
			k.fence()
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
			if len(k.own(lost)) == 0 {
				return
			}
			log.Warn("partitions lost (session expired); open windows dropped", k.partitionAttrs(lost)...)
			k.forget(lost) // never commit here: another member may own them already
			k.fence()
		}),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create kafka client for topic %s: %w", cfg.Topic, err)
	}
	k.cl = cl
	k.acks.mark = func(rs ...*kgo.Record) {
		cl.MarkCommitRecords(rs...)
		select {
		case k.commit <- struct{}{}:
		default: // a commit is requested already; it will include these
		}
	}
	return k, nil
}

// forget drops what the source holds of partitions it no longer owns: their
// pending acknowledgements will mark nothing, and the loop resets the
// pipeline's open windows before its next batch. The new owner (or this
// instance, when the eager protocol gives the partitions back) re-reads them
// from the committed offsets, so dropping loses nothing, and resetting is
// what keeps the re-read records from being counted twice.
func (k *Kafka) forget(partitions map[string][]int32) {
	tps := k.own(partitions)
	if len(tps) == 0 {
		return
	}
	k.clock.revoke(partitions[k.cfg.Topic])
	if k.merge != nil {
		k.merge.revoke(partitions[k.cfg.Topic])
	}
	k.acks.forget(tps)
	k.mu.Lock()
	k.reset = true
	k.mu.Unlock()
}

// fence starts a new generation and, with KafkaConfig.Fence, waits until
// the pipeline no longer writes what it made of the records read before:
// the partitions' next owner reads the sink only after that.
func (k *Kafka) fence() {
	k.mu.Lock()
	k.generation++
	g := k.generation
	k.mu.Unlock()
	if k.cfg.Fence != nil {
		k.cfg.Fence(g)
	}
}

// topics are the topics the source reads: Topic, then LabelsTopic if set.
func (k *Kafka) topics() []string {
	if k.cfg.LabelsTopic == "" {
		return []string{k.cfg.Topic}
	}
	return []string{k.cfg.Topic, k.cfg.LabelsTopic}
}

// own returns the partitions of the source's topics among partitions, as
// the group's callbacks receive them.
func (k *Kafka) own(partitions map[string][]int32) []TopicPartition {
	var tps []TopicPartition
	for _, topic := range k.topics() {
		for _, p := range partitions[topic] {
			tps = append(tps, TopicPartition{topic, p})
		}
	}
	return tps
}

// partitionAttrs are the log attributes of a group callback's partitions.
func (k *Kafka) partitionAttrs(partitions map[string][]int32) []any {
	attrs := []any{"topic", k.cfg.Topic, "partitions", partitions[k.cfg.Topic]}
	if k.cfg.LabelsTopic != "" {
		attrs = append(attrs, "labels_topic", k.cfg.LabelsTopic, "labels_partitions", partitions[k.cfg.LabelsTopic])
	}
	return attrs
}

// takeReset reports, once, that partitions were revoked.
func (k *Kafka) takeReset() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	r := k.reset
	k.reset = false
	return r
}

// Counts returns what the source has done so far. Safe for concurrent use.
func (k *Kafka) Counts() Counts {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.counts
}

// Run polls until ctx is done, Until's end offsets are reached (it then
// returns once its dead letters are delivered), or an acknowledgement
// fails; it sends batches on out and closes out. It does not close the
// client (see Close). While it runs, offsets are committed as soon as they
// are marked (the rows behind them are durable), one commit at a time, so
// that a job killed moments later does not read them again; marks made
// after Run returned are committed by Close.
func (k *Kafka) Run(ctx context.Context, out chan<- Batch) error {
	defer close(out)
	defer k.rt.release()
	if k.merge == nil {
		k.readDeadLetterLimits(ctx)
	}
	commitCtx, stopCommits := context.WithCancel(ctx)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		k.commitMarked(commitCtx)
	}()
	defer func() {
		stopCommits()
		<-committed
	}()
	// A failed acknowledgement (a dead letter that cannot be written) ends
	// the poll Run may be waiting in, so that Run returns its error at once,
	// not when the next record arrives.
	work, failed := context.WithCancel(ctx)
	defer failed()
	k.acks.onFail(failed)
	var (
		until = k.cfg.Until
		end   map[TopicPartition]int64
		next  = make(map[TopicPartition]int64)
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
			return k.deliverDeadLetters(ctx)
		}
		if k.cfg.Paused != nil {
			if resumed := k.cfg.Paused(); resumed != nil && !k.pause(work, resumed) {
				return k.acks.failed() // nil when shutting down
			}
		}
		pollCtx, cancel := work, context.CancelFunc(func() {})
		if k.cfg.Until != nil {
			// Bounded runs re-check Until between short polls.
			pollCtx, cancel = context.WithTimeout(work, 200*time.Millisecond)
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
		if k.takeReset() {
			// Partitions were revoked or assigned before this poll (the
			// protocol is eager: a rebalance revokes all): start over as a
			// restarted instance would.
			k.rt.reset()
			if k.merge != nil {
				k.merge.lastWM = time.Time{}
			}
			clear(next)
			k.mu.Lock()
			gen := k.generation
			k.mu.Unlock()
			select {
			case out <- Batch{Reset: true, Generation: gen}:
			case <-work.Done():
				k.cl.AllowRebalance()
				return k.acks.failed() // nil when shutting down
			}
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				k.log.Warn("fetch", "topic", topic, "partition", p, "err", err)
			}
		})
		err := k.handle(ctx, work, fetches, out, next)
		k.cl.AllowRebalance()
		if err != nil {
			return err
		}
	}
}

// deliverDeadLetters ends a bounded run: it waits until the producer has
// delivered (or failed) every dead letter, and returns the first failed
// acknowledgement. Dead letters are produced under Run's context, and the
// producer fails every record still buffered once that context ends, which
// a pipeline does as soon as its stages have returned: a bounded run must
// not return before its dead letters are in their topic.
func (k *Kafka) deliverDeadLetters(ctx context.Context) error {
	if err := k.cl.Flush(ctx); err != nil {
		return fmt.Errorf("deliver dead letters to %s: %w", k.cfg.DeadLetterTopic, err)
	}
	return k.acks.failed()
}

// pause stops fetching until resumed is closed or ctx ends, and reports
// whether reading goes on. The time paused counts as time blocked
// downstream, so that no partition looks idle for it.
func (k *Kafka) pause(ctx context.Context, resumed <-chan struct{}) bool {
	topics := k.topics()
	k.cl.PauseFetchTopics(topics...)
	defer k.cl.ResumeFetchTopics(topics...)
	k.log.Warn("reading paused: the sink is failing", "topics", topics)
	began := k.cfg.Now()
	k.mu.Lock()
	k.pauses++
	k.counts.Pauses = k.pauses
	k.mu.Unlock()
	select {
	case <-resumed:
	case <-ctx.Done():
	}
	paused := k.cfg.Now().Sub(began)
	k.clock.stalled(paused)
	if ctx.Err() != nil {
		return false
	}
	k.log.Info("reading resumed", "topics", topics, "paused_for", paused.Round(time.Millisecond))
	return true
}

// commitMarked commits the marked offsets each time a mark asks for it,
// until ctx is done. A failed commit is logged once per run of failures and
// not retried here: the next mark, the client's autocommit or Close commits
// the same offsets, or later ones. The group's rules still hold: the client
// sends no commit while the group is joining or syncing, a member whose
// partitions were lost has its marks dropped by the client and its stale
// commits refused by the broker, and revoked partitions are committed by
// the revoke callback.
func (k *Kafka) commitMarked(ctx context.Context) {
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.commit:
		}
		err := k.cl.CommitMarkedOffsets(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			k.log.Warn("commit marked offsets; retried at the next acknowledgement, by the autocommit and on close",
				"group", k.cfg.Group, "err", err)
		case err == nil && failing:
			k.log.Info("committing marked offsets again", "group", k.cfg.Group)
		}
		failing = err != nil
	}
}

func reached(next, end map[TopicPartition]int64) bool {
	for p, e := range end {
		if e > 0 && next[p] < e {
			return false
		}
	}
	return true
}

// handle turns one poll into batches and dead-letter records. Each
// partition's share of the poll is one acknowledgement entry, so that one
// partition's progress never waits for another's windows. The labels of a
// labels partition become one batch, after the poll's prediction batches.
// Dead letters are produced under ctx; batches are sent until work is done.
func (k *Kafka) handle(ctx, work context.Context, fetches kgo.Fetches, out chan<- Batch, next map[TopicPartition]int64) error {
	if fetches.NumRecords() == 0 {
		return nil
	}
	if k.merge != nil {
		k.readPartials(work, fetches, out, next)
		return nil
	}
	entries := make(map[TopicPartition]*pollAck)
	var labels map[int32][]Label
	var shares []recordShare
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 {
			return
		}
		tp := TopicPartition{fp.Topic, fp.Partition}
		last := fp.Records[len(fp.Records)-1]
		p := k.acks.open(tp, last)
		entries[tp] = p
		next[tp] = last.Offset + 1
		if fp.Topic == k.cfg.LabelsTopic {
			if labels == nil {
				labels = make(map[int32][]Label)
			}
			labels[fp.Partition] = k.readLabels(ctx, p, fp.Records, labels[fp.Partition])
			return
		}
		shares = appendShares(shares, fp.Partition, fp.Records)
	})
	batches := k.rt.decodeShares(shares, k.clock, func(r *kgo.Record, derr *DecodeError) {
		k.deadLetter(ctx, entries[TopicPartition{k.cfg.Topic, r.Partition}], r, derr, k.cfg.DeadLetterTopic)
	})
	owners := make([]*pollAck, len(batches), len(batches)+len(labels))
	for i := range batches {
		owners[i] = entries[TopicPartition{k.cfg.Topic, batches[i].Partition}]
	}
	// Label batches carry the watermark the prediction batches delivered
	// last, so that labels never move it.
	for _, partition := range slices.Sorted(maps.Keys(labels)) {
		if ls := labels[partition]; len(ls) > 0 {
			batches = append(batches, Batch{Partition: partition, Labels: ls, Watermark: k.rt.lastWM})
			owners = append(owners, entries[TopicPartition{k.cfg.LabelsTopic, partition}])
		}
	}
	k.mu.Lock()
	k.counts = k.rt.snapshot()
	k.counts.Labels = k.labels
	k.counts.LabelDeadLetter = maps.Clone(k.labelDeadLetter)
	k.counts.Pauses = k.pauses
	k.mu.Unlock()
	began := k.cfg.Now()
	sent := send(work, out, batches, func(i int) func(error) {
		p := owners[i]
		k.acks.add(p)
		return func(err error) { k.acks.done(p, err) }
	})
	k.clock.stalled(k.cfg.Now().Sub(began))
	if !sent {
		return nil // shutting down, or an acknowledgement failed: this poll stays unmarked
	}
	for _, p := range entries {
		k.acks.done(p, nil) // the entry's own reference, taken by open
	}
	return nil
}

// readLabels decodes one labels partition's share of a poll, appending the
// good labels to ls and dead-lettering the bad ones under p.
func (k *Kafka) readLabels(ctx context.Context, p *pollAck, records []*kgo.Record, ls []Label) []Label {
	for _, r := range records {
		l, err := DecodeLabel(r.Value, k.cfg.MaxRecordBytes)
		if err != nil {
			derr := err.(*DecodeError)
			k.labelDeadLetter[derr.Code]++
			k.deadLetter(ctx, p, r, derr, k.cfg.LabelsDeadLetterTopic)
			continue
		}
		k.labels++
		ls = append(ls, l)
	}
	return ls
}

// DeadLetter is a record sent to the dead-letter topic, as KafkaConfig.Audit
// receives it.
type DeadLetter struct {
	Topic     string
	Partition int32
	Offset    int64
	// Timestamp is the record's Kafka timestamp; Received is when
	// driftwatch read it.
	Timestamp, Received time.Time
	DeadLetterTopic     string
	Reason, Detail      string // as in the dead letter's headers
	Value               []byte // the record's value, unchanged; not to be modified
}

// deadLetter sends r to the dead-letter topic dlq (and to Audit), as parts
// of p. A dead letter too big for dlq goes with its value cut (fitDeadLetter);
// one refused for its size all the same (a topic limit lowered since Run
// read it, or unknown) is sent once more, cut to DeadLetterRetryBytes
// (resendCut). Any other failure, or a second refusal, fails p.
func (k *Kafka) deadLetter(ctx context.Context, p *pollAck, r *kgo.Record, derr *DecodeError, dlq string) {
	dl, own := deadLetterOf(r, derr, dlq, int(k.batchMaxBytes(dlq)))
	k.acks.add(p)
	k.cl.Produce(ctx, dl, func(_ *kgo.Record, err error) {
		if err != nil && tooLarge(err) {
			// A promise must not block on the client: resend from a
			// goroutine of its own, which ends with the produce.
			k.resends.Add(1)
			go func() {
				defer k.resends.Done()
				k.resendCut(ctx, p, r, own, dl, err)
			}()
			return
		}
		if err != nil {
			err = fmt.Errorf("produce dead letter for %s/%d@%d to %s (%d bytes): %w", r.Topic, r.Partition, r.Offset, dlq, len(dl.Value), err)
		}
		k.acks.done(p, err)
	})
	if k.cfg.Audit != nil {
		k.acks.add(p)
		k.cfg.Audit(auditOf(r, derr, dlq, k.cfg.Now()), func(err error) {
			if err != nil {
				err = fmt.Errorf("audit dead letter %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
			}
			k.acks.done(p, err)
		})
	}
}

// deadLetterOf is the dead letter of r for topic dlq: r's key, value and
// headers with the driftwatch headers added (own, the three of them), cut
// to fit a record batch of limit bytes (fitDeadLetter).
func deadLetterOf(r *kgo.Record, derr *DecodeError, dlq string, limit int) (dl *kgo.Record, own []kgo.RecordHeader) {
	headers := make([]kgo.RecordHeader, 0, len(r.Headers)+5)
	headers = append(headers, r.Headers...)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderReason, Value: []byte(derr.Code)},
		kgo.RecordHeader{Key: HeaderDetail, Value: []byte(derr.Detail)},
		kgo.RecordHeader{Key: HeaderSource, Value: fmt.Appendf(nil, "%s/%d@%d", r.Topic, r.Partition, r.Offset)},
	)
	dl = fitDeadLetter(&kgo.Record{Topic: dlq, Key: r.Key, Value: r.Value, Headers: headers, Timestamp: r.Timestamp}, limit)
	return dl, headers[len(r.Headers):]
}

// auditOf is what Audit receives of r's dead letter in dlq.
func auditOf(r *kgo.Record, derr *DecodeError, dlq string, received time.Time) DeadLetter {
	return DeadLetter{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, Received: received,
		DeadLetterTopic: dlq, Reason: derr.Code, Detail: derr.Detail, Value: r.Value,
	}
}

// Ping reports whether a broker answers and accepts the client's
// credentials (an ApiVersions request after the connection's TLS and SASL
// handshakes). Safe for concurrent use.
func (k *Kafka) Ping(ctx context.Context) error { return k.cl.Ping(ctx) }

// resendCut sends the dead letter of r again after the broker (or the
// client) refused sent, the first one, for its size (refusal): with value
// and key cut to DeadLetterRetryBytes, r's own headers left out if they
// total more, and own, the driftwatch headers, each cut likewise; marked
// truncated if anything was cut. It completes the part of p that the first
// send held.
func (k *Kafka) resendCut(ctx context.Context, p *pollAck, r *kgo.Record, own []kgo.RecordHeader, sent *kgo.Record, refusal error) {
	const n = DeadLetterRetryBytes
	cut := len(r.Key) > n || len(r.Value) > n
	headers := make([]kgo.RecordHeader, 0, len(r.Headers)+len(own)+2)
	if headerBytes(r.Headers) <= n {
		headers = append(headers, r.Headers...)
	} else {
		cut = true
	}
	for _, h := range own {
		cut = cut || len(h.Value) > n
		headers = append(headers, kgo.RecordHeader{Key: h.Key, Value: h.Value[:min(len(h.Value), n)]})
	}
	if cut {
		headers = append(headers, truncatedHeaders(len(r.Value))...)
	}
	dl := &kgo.Record{Topic: sent.Topic, Key: r.Key[:min(len(r.Key), n)], Value: r.Value[:min(len(r.Value), n)],
		Headers: headers, Timestamp: r.Timestamp}
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			err = fmt.Errorf("produce dead letter for %s/%d@%d to %s, cut to %d bytes after %d bytes were refused (%v): %w",
				r.Topic, r.Partition, r.Offset, sent.Topic, len(dl.Value), len(sent.Value), refusal, err)
		}
		k.acks.done(p, err)
	}
	cl, err := k.resendClient()
	if err != nil {
		done(dl, err)
		return
	}
	cl.Produce(ctx, dl, done)
}

// resendClient returns the client that resends dead letters cut to
// DeadLetterRetryBytes, creating it on the first call; Close closes it.
func (k *Kafka) resendClient() (*kgo.Client, error) {
	k.resendMu.Lock()
	defer k.resendMu.Unlock()
	if k.resendCl == nil {
		cl, err := kgo.NewClient(append(slices.Clone(k.connOpts), kgo.ProducerBatchMaxBytes(resendBatchBytes))...)
		if err != nil {
			return nil, fmt.Errorf("create the client that resends cut dead letters: %w", err)
		}
		k.resendCl = cl
	}
	return k.resendCl, nil
}

// tooLarge reports whether err is the broker's or the client's refusal of a
// record for its size.
func tooLarge(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge)
}

// fitDeadLetter returns dl, or, when dl would not fit in a record batch of
// limit bytes, dl with HeaderTruncated and HeaderOriginalSize added and its
// value cut to the longest prefix that fits (none, if the key and headers
// alone do not fit). It may append to dl.Headers.
func fitDeadLetter(dl *kgo.Record, limit int) *kgo.Record {
	if batchBytes(dl) <= limit {
		return dl
	}
	dl.Headers = append(dl.Headers, truncatedHeaders(len(dl.Value))...)
	room := limit - batchBytes(&kgo.Record{Key: dl.Key, Headers: dl.Headers})
	dl.Value = dl.Value[:min(len(dl.Value), max(0, room))]
	return dl
}

// truncatedHeaders mark a dead letter that is not its record whole, whose
// value had size bytes.
func truncatedHeaders(size int) []kgo.RecordHeader {
	return []kgo.RecordHeader{
		{Key: HeaderTruncated, Value: []byte("true")},
		{Key: HeaderOriginalSize, Value: strconv.AppendInt(nil, int64(size), 10)},
	}
}

// batchBytes bounds from above the bytes dl takes in a record batch of its
// own: the batch header, and each field with its length at its widest.
func batchBytes(dl *kgo.Record) int {
	const (
		batchHeader = 61
		varint      = 5
		record      = varint + 1 + 2*varint /* timestamp delta */ + varint + varint /* key length */ + varint /* value length */ + varint /* header count */
	)
	return batchHeader + record + len(dl.Key) + len(dl.Value) + headerBytes(dl.Headers)
}

// headerBytes bounds from above the bytes hs take in a record.
func headerBytes(hs []kgo.RecordHeader) int {
	n := 0
	for _, h := range hs {
		n += 5 + len(h.Key) + 5 + len(h.Value)
	}
	return n
}

// readDeadLetterLimits reads the max.message.bytes of the dead-letter
// topics (readMaxMessageBytes).
func (k *Kafka) readDeadLetterLimits(ctx context.Context) {
	topics := deadLetterTopics(k.cfg.DeadLetterTopic, k.cfg.LabelsTopic, k.cfg.LabelsDeadLetterTopic)
	k.deadLetterMax.set(readMaxMessageBytes(ctx, k.cl, k.log, topics))
}

// deadLetterTopics are the dead-letter topics of a source: dlq, and
// labelsDLQ when it reads a labels topic into another one.
func deadLetterTopics(dlq, labels, labelsDLQ string) []string {
	if labels != "" && labelsDLQ != dlq {
		return []string{dlq, labelsDLQ}
	}
	return []string{dlq}
}

// readMaxMessageBytes reads the max.message.bytes of dead-letter topics; a
// topic whose limit cannot be read (not created yet, not authorized) gets
// franz-go's default batch limit, and a warning.
func readMaxMessageBytes(ctx context.Context, cl *kgo.Client, log *slog.Logger, topics []string) map[string]int32 {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topics...)
	limits := make(map[string]int32, len(topics))
	for _, topic := range topics {
		limit, lerr := int64(0), err
		if lerr == nil {
			var rc kadm.ResourceConfig
			if rc, lerr = rcs.On(topic, nil); lerr == nil {
				lerr = rc.Err
			}
			for _, c := range rc.Configs {
				if c.Key == "max.message.bytes" && c.Value != nil {
					limit, lerr = strconv.ParseInt(*c.Value, 10, 32)
				}
			}
			if lerr == nil && limit <= 0 {
				lerr = errors.New("no max.message.bytes")
			}
		}
		if lerr != nil {
			log.Warn("read the dead-letter topic's max.message.bytes; dead letters are cut to the default",
				"topic", topic, "max_bytes", defaultBatchMaxBytes, "err", lerr)
			limit = defaultBatchMaxBytes
		}
		limits[topic] = int32(min(max(limit, 512), 1<<30)) // what franz-go accepts
	}
	return limits
}

// topicLimits are topics' record batch limits, read once a client runs and
// asked by its producer (kgo.ProducerBatchMaxBytesFn): franz-go's default
// until read, and for a topic not read. The client asks once per
// partition, when it first produces to it.
type topicLimits struct {
	mu  sync.Mutex
	max map[string]int32
}

func (l *topicLimits) set(m map[string]int32) {
	l.mu.Lock()
	l.max = m
	l.mu.Unlock()
}

func (l *topicLimits) get(topic string) int32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n, ok := l.max[topic]; ok {
		return n
	}
	return defaultBatchMaxBytes
}

// batchMaxBytes is the producer's record batch limit for topic.
func (k *Kafka) batchMaxBytes(topic string) int32 { return k.deadLetterMax.get(topic) }

// Close commits every offset marked so far and leaves the group. Call it
// after Run has returned and downstream stages have acknowledged what they
// could; ctx bounds the commit.
func (k *Kafka) Close(ctx context.Context) error {
	// A dead letter refused for its size is resent from its promise, which
	// Flush waits for: flush, wait for the resends to be buffered, flush
	// them.
	err := k.cl.Flush(ctx)
	k.resends.Wait()
	k.resendMu.Lock()
	if rc := k.resendCl; rc != nil {
		if ferr := rc.Flush(ctx); err == nil {
			err = ferr
		}
		rc.Close()
	}
	k.resendMu.Unlock()
	if err != nil {
		k.log.Warn("flush dead letters before close", "err", err)
	}
	err = k.cl.CommitMarkedOffsets(ctx)
	k.cl.CloseAllowingRebalance()
	if err != nil {
		return fmt.Errorf("commit offsets of %s on close: %w", strings.Join(k.topics(), ", "), err)
	}
	return nil
}

// acks marks offsets for commit per topic partition, in the order they were
// read: a partition's share of a poll is marked once it and every earlier
// share of that partition are acknowledged. The first failed
// acknowledgement stops marking for good and is returned by failed.
type acks struct {
	mark func(...*kgo.Record)

	mu     sync.Mutex
	queues map[TopicPartition][]*pollAck
	err    error
	fail   func() // called once, with the first failure
}

type pollAck struct {
	tp      TopicPartition
	pending int
	last    *kgo.Record // the partition's last record in the poll
}

func (a *acks) open(tp TopicPartition, last *kgo.Record) *pollAck {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.queues == nil {
		a.queues = make(map[TopicPartition][]*pollAck)
	}
	p := &pollAck{tp: tp, pending: 1, last: last}
	a.queues[tp] = append(a.queues[tp], p)
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
		if a.fail != nil {
			a.fail()
		}
	}
	p.pending--
	if a.err != nil {
		return
	}
	q := a.queues[p.tp]
	var ready *kgo.Record
	for len(q) > 0 && q[0].pending == 0 {
		ready = q[0].last
		q[0] = nil
		q = q[1:]
	}
	a.queues[p.tp] = q
	if ready != nil {
		a.mark(ready)
	}
}

// forget drops the pending entries of partitions no longer assigned: their
// acknowledgements, if they still come, mark nothing, so a partition that
// comes back is never marked at an offset from before it left.
func (a *acks) forget(partitions []TopicPartition) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range partitions {
		for _, e := range a.queues[p] {
			e.pending = -1 << 30 // never reaches 0 again
		}
		delete(a.queues, p)
	}
}

// onFail makes fail be called on the first failed acknowledgement, or at
// once if one failed already.
func (a *acks) onFail(fail func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fail = fail
	if a.err != nil {
		fail()
	}
}

func (a *acks) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// partitionClocks keeps, per assigned partition of the predictions topic,
// its event clock (the (outliers+1)-th newest good event time read from
// it, see eventClock) and when it last delivered a record, and derives the
// watermark: the oldest of the partitions' clocks, over the partitions that
// are not idle. A few records stamped far ahead of the rest thus move
// nothing. It is shared by the poll loop and the group's callbacks.
//
// Idleness is measured in time the source could read: time it spent blocked
// handing batches downstream (a slow or failing sink) does not count, or
// every partition would look idle after an outage but the first one read.
type partitionClocks struct {
	idle     time.Duration
	outliers int
	now      func() time.Time

	mu      sync.Mutex
	parts   map[int32]*partitionClock
	blocked time.Duration // total time blocked downstream
}

type partitionClock struct {
	events eventClock
	heard  time.Time // readable time (now - blocked) of the last record or of the assignment
}

// newPartitionClocks: a partition silent for idle no longer holds the
// watermark back; each partition's clock ignores its outliers newest
// event times.
func newPartitionClocks(idle time.Duration, outliers int, now func() time.Time) *partitionClocks {
	return &partitionClocks{idle: idle, outliers: outliers, now: now, parts: make(map[int32]*partitionClock)}
}

// readable is now less the time spent blocked; call with mu held.
func (c *partitionClocks) readable() time.Time { return c.now().Add(-c.blocked) }

// stalled notes time the source spent blocked downstream.
func (c *partitionClocks) stalled(d time.Duration) {
	c.mu.Lock()
	c.blocked += d
	c.mu.Unlock()
}

func (c *partitionClocks) assign(ps []int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.readable()
	for _, p := range ps {
		if c.parts[p] == nil {
			c.parts[p] = &partitionClock{events: eventClock{outliers: c.outliers}, heard: now}
		}
	}
}

func (c *partitionClocks) revoke(ps []int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range ps {
		delete(c.parts, p)
	}
}

// observe notes a record read from p; ts counts only when ok (the record
// was good).
func (c *partitionClocks) observe(p int32, ts time.Time, ok bool) {
	if ok {
		c.observeAll(p, []int64{ts.UnixNano()})
	} else {
		c.observeAll(p, nil)
	}
}

// observeAll notes records read from p, of which the good ones had the
// event times good (unix nanoseconds).
func (c *partitionClocks) observeAll(p int32, good []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pc := c.parts[p]
	if pc == nil { // read before its assignment callback ran
		pc = &partitionClock{events: eventClock{outliers: c.outliers}}
		c.parts[p] = pc
	}
	pc.heard = c.readable()
	for _, ns := range good {
		pc.events.observeNanos(ns)
	}
}

// watermark returns the oldest clock over the partitions heard from within
// the idle timeout, or zero while one of them has not delivered enough good
// records for a clock yet. When every partition is idle, nothing is
// arriving: it returns the newest event time of all, the records ahead
// included, so that every window can close.
func (c *partitionClocks) watermark() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.readable()
	var wm, newest time.Time
	active := false
	for _, pc := range c.parts {
		if pc.events.newest.After(newest) {
			newest = pc.events.newest
		}
		if now.Sub(pc.heard) >= c.idle {
			continue
		}
		mark := pc.events.mark()
		if mark.IsZero() {
			return time.Time{}
		}
		if !active || mark.Before(wm) {
			wm = mark
		}
		active = true
	}
	if !active {
		return newest
	}
	return wm
}

// marks returns the assigned partitions' clocks as a fold instance
// publishes them (Mark), by partition.
func (c *partitionClocks) marks() []PartitionMark {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.readable()
	out := make([]PartitionMark, 0, len(c.parts))
	for p, pc := range c.parts {
		m := PartitionMark{Partition: p, Idle: now.Sub(pc.heard) >= c.idle}
		if t := pc.events.mark(); !t.IsZero() {
			m.Mark = t.UnixNano()
		}
		if !pc.events.newest.IsZero() {
			m.Newest = pc.events.newest.UnixNano()
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b PartitionMark) int { return int(a.Partition - b.Partition) })
	return out
}

// restart forgets every partition's event times, for records about to be
// read again (an aborted transaction rewinds to the committed offsets);
// the partitions count as heard from now.
func (c *partitionClocks) restart() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.readable()
	for p := range c.parts {
		c.parts[p] = &partitionClock{events: eventClock{outliers: c.outliers}, heard: now}
	}
}
