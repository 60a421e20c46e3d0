package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/config"
	"github.com/driftwatch/driftwatch/windows"
)

// scaleOut creates the two halves of an instance that shares its group's
// work (kafka.scale_out, README "Scale out"): the fold, which reads the
// partitions of the predictions and labels topics the group gives it, and
// the merge source, which reads the partials partitions the merge group
// gives it. It creates the partials topic if it does not exist. kc is the
// configuration run would read the topics with alone.
func scaleOut(ctx context.Context, log *slog.Logger, k config.Kafka, kc consumer.KafkaConfig, wcfg windows.Config, kopts []kgo.Opt) (*consumer.Fold, *consumer.Kafka, error) {
	so := k.ScaleOut
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, nil, fmt.Errorf("create the kafka client that creates the partials topic: %w", err)
	}
	defer cl.Close()
	n := so.PartialsPartitions
	if n == 0 {
		tds, err := kadm.NewClient(cl).ListTopics(ctx, kc.Topic)
		if err == nil {
			err = tds.Error()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("kafka.scale_out: read the partition count of %s for its partials topic: %w", kc.Topic, err)
		}
		n = int32(len(tds[kc.Topic].Partitions))
	}
	ectx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := consumer.EnsurePartialsTopic(ectx, cl, kc.Group, n, so.PartialsRetention); err != nil {
		return nil, nil, fmt.Errorf("kafka.scale_out: %w", err)
	}
	txnID := ""
	if k.InstanceID != "" {
		txnID = kc.Group + "-fold-" + k.InstanceID // a restarted instance aborts what it left open at once
	}
	fold, err := consumer.NewFold(memory.DefaultAllocator, log, consumer.FoldConfig{
		Topic: kc.Topic, LabelsTopic: kc.LabelsTopic, DeadLetterTopic: kc.DeadLetterTopic, LabelsDeadLetterTopic: kc.LabelsDeadLetterTopic,
		Group: kc.Group, Baselines: kc.Baselines, Live: kc.Live, MaxRecordBytes: kc.MaxRecordBytes, MaxFuture: kc.MaxFuture, DedupCapacity: kc.DedupCapacity,
		MaxPollRecords: kc.MaxPollRecords, IdleTimeout: kc.IdleTimeout, WatermarkOutliers: kc.WatermarkOutliers, StartAtEnd: kc.StartAtEnd,
		Audit: kc.Audit, FlushInterval: so.FlushInterval, TransactionalID: txnID, TransactionTimeout: so.TransactionTimeout,
	}, windows.NewFold(wcfg), kopts...)
	if err != nil {
		return nil, nil, err
	}
	src, err := consumer.NewKafka(memory.DefaultAllocator, log, consumer.KafkaConfig{
		Topic: consumer.PartialsTopic(kc.Group), Group: consumer.MergeGroup(kc.Group), Partials: true,
		MaxPollRecords: kc.MaxPollRecords, Paused: kc.Paused, Fence: kc.Fence,
	}, kopts...)
	if err != nil {
		fold.Close()
		return nil, nil, err
	}
	return fold, src, nil
}

// scaleSource is the merge source as the pipeline sees it: its counts are
// the fold's (records read, dead letters, labels) with the merge's pauses.
type scaleSource struct {
	*consumer.Kafka
	fold *consumer.Fold
}

func (s scaleSource) Counts() consumer.Counts {
	c := s.fold.Counts().Counts
	c.Pauses = s.Kafka.Counts().Pauses
	return c
}

// registerScaleOutMetrics exposes what the fold wrote and committed and
// what the merge read.
func registerScaleOutMetrics(reg prometheus.Registerer, fold *consumer.Fold, merge *consumer.Kafka) {
	const help = "Scale-out: records this instance's merge read from the partials topic, by kind (bad: not written by driftwatch, skipped and logged)."
	for kind, f := range map[string]func(consumer.Counts) int64{
		consumer.KindDelta: func(c consumer.Counts) int64 { return c.Deltas },
		consumer.KindLabel: func(c consumer.Counts) int64 { return c.Labels },
		consumer.KindMark:  func(c consumer.Counts) int64 { return c.Marks },
		"bad":              func(c consumer.Counts) int64 { return c.PartialsBad },
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_merge_partials_records_total", Help: help,
			ConstLabels: prometheus.Labels{"kind": kind}}, func() float64 { return float64(f(merge.Counts())) }))
	}
	txns := func(f func(consumer.FoldCounts) int64) func() float64 {
		return func() float64 { return float64(f(fold.Counts())) }
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_fold_commits_total", Help: "Scale-out: fold transactions committed (deltas, marks and source offsets)."},
			txns(func(c consumer.FoldCounts) int64 { return c.Commits })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_fold_aborts_total", Help: "Scale-out: fold transactions aborted because the group rebalanced (their records are read again)."},
			txns(func(c consumer.FoldCounts) int64 { return c.Aborts })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_partials_deltas_total", Help: "Scale-out: window delta records written to the partials topic."},
			txns(func(c consumer.FoldCounts) int64 { return c.Deltas })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_partials_labels_total", Help: "Scale-out: labels forwarded to the partials topic."},
			txns(func(c consumer.FoldCounts) int64 { return c.Forwarded })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_partials_marks_total", Help: "Scale-out: watermark marks written to the partials topic."},
			txns(func(c consumer.FoldCounts) int64 { return c.Marks })),
	)
}
