package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Scale-out (CONTRACT.md, "Scale-out internal topics") runs the windowing
// stage in two halves joined by an internal topic, the partials topic: each
// instance folds the records of the source partitions it owns into window
// deltas and writes them, with the labels it read and the event clocks of
// its partitions (marks), in one Kafka transaction with its source offsets;
// the instance that owns a partials partition merges the deltas of its
// models and closes their windows once every source partition's mark has
// passed them.
//
// A partials record says what it holds in its KindHeader header. Deltas
// and labels are keyed by model and go to partition PartialsPartition(model)
// so that one instance merges all of a model's windows and joins all of its
// labels; a mark goes to every partition.
const (
	KindHeader = "driftwatch.kind"
	KindDelta  = "delta" // value: a window delta (windows.MarshalDelta)
	KindLabel  = "label" // value: a label as read from the labels topic
	KindMark   = "mark"  // value: a Mark, JSON
)

// PartialsTopic is the partials topic of consumer group group.
func PartialsTopic(group string) string { return group + "-partials" }

// MergeGroup is the consumer group in which instances share the partials
// topic of group.
func MergeGroup(group string) string { return group + "-merge" }

// PartialsPartition is the partials partition, of n, of model's deltas and
// labels: FNV-1a of the name, modulo n.
func PartialsPartition(model string, n int32) int32 {
	h := uint32(2166136261)
	for i := 0; i < len(model); i++ {
		h ^= uint32(model[i])
		h *= 16777619
	}
	return int32(h % uint32(n))
}

// Mark is what a fold instance says, at each commit, of the source
// partitions it owns: every record it read from them before the mark is
// in deltas written before it.
type Mark struct {
	// Topic is the source topic and Partitions its partition count: the
	// watermark waits for a mark of every one of them.
	Topic      string          `json:"topic"`
	Partitions int32           `json:"partitions"`
	Clocks     []PartitionMark `json:"clocks"`
}

// PartitionMark is one source partition's event clock (see
// KafkaConfig.WatermarkOutliers and IdleTimeout).
type PartitionMark struct {
	Partition int32 `json:"p"`
	// Mark is the partition's clock, unix nanoseconds; 0 while it has not
	// delivered enough good records for one.
	Mark int64 `json:"mark"`
	// Newest is the newest event time read from it, unix nanoseconds.
	Newest int64 `json:"newest"`
	// Idle: no record for the idle timeout; it does not hold the watermark
	// back.
	Idle bool `json:"idle"`
}

// MarshalMark encodes m as a partials record value.
func MarshalMark(m Mark) ([]byte, error) { return json.Marshal(m) }

// UnmarshalMark decodes a mark record's value.
func UnmarshalMark(b []byte) (Mark, error) {
	var m Mark
	if err := json.Unmarshal(b, &m); err != nil {
		return Mark{}, fmt.Errorf("decode mark: %w", err)
	}
	if m.Topic == "" || m.Partitions <= 0 {
		return Mark{}, fmt.Errorf("decode mark: no source topic or partition count")
	}
	for _, c := range m.Clocks {
		if c.Partition < 0 || c.Partition >= m.Partitions {
			return Mark{}, fmt.Errorf("decode mark: partition %d of %d", c.Partition, m.Partitions)
		}
	}
	return m, nil
}

// markTable is what one partials partition's marks say: the latest clock
// of each source partition. A partition's clock never goes back: a new
// owner starts its clock afresh, but every record it reads after the
// previous owner's last mark was not in that owner's deltas, so the
// previous mark still holds.
type markTable struct {
	topic      string
	partitions int32
	clocks     map[int32]PartitionMark
}

func (t *markTable) add(m Mark) {
	if t.clocks == nil || t.topic != m.Topic {
		t.topic, t.clocks = m.Topic, make(map[int32]PartitionMark)
	}
	t.partitions = max(t.partitions, m.Partitions)
	for _, c := range m.Clocks {
		old := t.clocks[c.Partition]
		c.Mark, c.Newest = max(c.Mark, old.Mark), max(c.Newest, old.Newest)
		t.clocks[c.Partition] = c
	}
}

// watermark is partitionClocks.watermark over the marks: the oldest clock
// of the partitions not idle, zero while a partition has no mark or a clock
// not set yet, and the newest event time of all when every one is idle.
func (t *markTable) watermark() time.Time {
	if t.partitions == 0 {
		return time.Time{}
	}
	var wm, newest int64
	active := false
	for p := range t.partitions {
		c, ok := t.clocks[p]
		if !ok {
			return time.Time{}
		}
		newest = max(newest, c.Newest)
		if c.Idle {
			continue
		}
		if c.Mark == 0 {
			return time.Time{}
		}
		if !active || c.Mark < wm {
			wm = c.Mark
		}
		active = true
	}
	if !active {
		wm = newest
	}
	if wm == 0 {
		return time.Time{}
	}
	return time.Unix(0, wm).UTC()
}

// PartialsMaxMessageBytes is the partials topic's max.message.bytes, and
// the fold's record batch limit for it: a delta holds a window's state and
// at most 16,384 prediction keys.
const PartialsMaxMessageBytes = 16 << 20

// EnsurePartialsTopic creates the partials topic of group, unless it
// exists, with partitions partitions (the most instances that merge at
// once), the broker's default replication, deletion after retention and
// PartialsMaxMessageBytes. An existing topic is left as it is: every
// instance reads its partition count.
func EnsurePartialsTopic(ctx context.Context, cl *kgo.Client, group string, partitions int32, retention time.Duration) error {
	topic := PartialsTopic(group)
	configs := map[string]*string{
		"cleanup.policy":    ptr("delete"),
		"retention.ms":      ptr(strconv.FormatInt(retention.Milliseconds(), 10)),
		"max.message.bytes": ptr(strconv.Itoa(PartialsMaxMessageBytes)),
	}
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, -1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create the partials topic %s (%d partitions): %w", topic, partitions, err)
	}
	// A topic just created (here, or by another instance starting at the
	// same time) takes a moment to reach the brokers' metadata: wait until
	// every partition has a leader, so that the fold finds it.
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		tds, err := kadm.NewClient(cl).ListTopics(ctx, topic)
		if err == nil {
			err = tds.Error()
		}
		if err == nil && ready(tds[topic]) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the partials topic %s: %w (last: %v)", topic, ctx.Err(), err)
		case <-time.After(wait):
		}
	}
}

// ready reports whether every partition of td has a leader.
func ready(td kadm.TopicDetail) bool {
	if len(td.Partitions) == 0 {
		return false
	}
	for _, p := range td.Partitions {
		if p.Err != nil || p.Leader < 0 {
			return false
		}
	}
	return true
}

func ptr[T any](v T) *T { return &v }
