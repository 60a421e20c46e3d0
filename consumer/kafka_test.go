package consumer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/driftwatch/driftwatch/baselines"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func committed(t *testing.T, adm *kadm.Client, group, topic string) map[int32]int64 {
	t.Helper()
	resp, err := adm.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[int32]int64)
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			out[o.Partition] = o.At
		}
	})
	return out
}

// startBroker starts an embedded broker with topics p and p.dlq, one
// partition each, and a producer client; both stop when the test ends.
func startBroker(t *testing.T) ([]string, *kgo.Client) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "p"), kfake.SeedTopics(1, "p.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	addrs := cluster.ListenAddrs()
	prod, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	return addrs, prod
}

// TestKafkaAckPath checks the at-least-once contract of the source: bad
// records reach the dead-letter topic unchanged with their reason, and no
// offset is committed before the batches covering it are acknowledged, even
// when acknowledgements arrive out of order.
func TestKafkaAckPath(t *testing.T) {
	addrs, prod := startBroker(t)
	adm := kadm.NewClient(prod)
	ctx := context.Background()

	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	produce := func(values ...string) {
		for _, v := range values {
			rec := &kgo.Record{Topic: "p", Value: []byte(v), Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("svc")}}}
			if err := prod.ProduceSync(ctx, rec).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produce(line("a", "fraud", ts, 1.0, "DE"), `{"broken"`, line("b", "fraud", ts.Add(time.Minute), 2.0, "FR"))

	until := make(chan map[int32]int64, 1)
	src, err := NewKafka(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), KafkaConfig{
		Topic: "p", DeadLetterTopic: "p.dlq", Group: "g", MaxPollRecords: 2,
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, Until: until,
	}, kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan Batch, 16)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()

	// Two polls of at most two records: {a, broken} and {b}.
	var held []Batch
	for len(held) < 2 {
		b := <-out
		if b.Reset {
			continue // the assignment's
		}
		b.Rec.Release()
		held = append(held, b)
	}
	until <- map[int32]int64{0: 3}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// The dead letter is acknowledged by the broker, the batches are not:
	// nothing may be committed.
	if err := src.cl.CommitMarkedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	if c := committed(t, adm, "g", "p"); c[0] > 0 {
		t.Fatalf("committed %v before any batch was acknowledged", c)
	}
	// Acknowledge the second poll first: the first still holds the offset.
	held[1].Ack(nil)
	if err := src.cl.CommitMarkedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	if c := committed(t, adm, "g", "p"); c[0] > 0 {
		t.Fatalf("committed %v past an unacknowledged poll", c)
	}
	held[0].Ack(nil)
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c := committed(t, adm, "g", "p"); c[0] != 3 {
		t.Fatalf("committed %v after every acknowledgement, want offset 3", c)
	}

	// The bad record sits in the dead-letter topic unchanged, with reasons.
	cons, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics("p.dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var dl *kgo.Record
	for dl == nil && pctx.Err() == nil {
		cons.PollFetches(pctx).EachRecord(func(r *kgo.Record) { dl = r })
	}
	if dl == nil {
		t.Fatal("no dead letter")
	}
	headers := map[string]string{}
	for _, h := range dl.Headers {
		headers[h.Key] = string(h.Value)
	}
	if string(dl.Value) != `{"broken"` || headers[HeaderReason] != ReasonNotJSON || headers["origin"] != "svc" || headers[HeaderSource] != "p/0@1" {
		t.Fatalf("dead letter %q headers %v", dl.Value, headers)
	}
	if c := src.Counts(); c.Accepted != 2 || c.DeadLetter[ReasonNotJSON] != 1 {
		t.Fatalf("counts %+v", c)
	}
}

// TestKafkaFailedAckStops checks that a failed acknowledgement stops the
// source with that error and commits nothing.
func TestKafkaFailedAckStops(t *testing.T) {
	addrs, prod := startBroker(t)
	ctx := context.Background()
	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "p", Value: []byte(line("a", "fraud", ts, 1.0, "DE"))}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	src, err := NewKafka(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), KafkaConfig{
		Topic: "p", DeadLetterTopic: "p.dlq", Group: "g",
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, Until: make(chan map[int32]int64),
	}, kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan Batch, 1)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()
	b := <-out
	for b.Reset { // the assignment's
		b = <-out
	}
	b.Rec.Release()
	b.Ack(io.ErrShortWrite)
	if err := <-done; err != io.ErrShortWrite {
		t.Fatalf("Run = %v, want the acknowledgement's error", err)
	}
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c := committed(t, kadm.NewClient(prod), "g", "p"); c[0] > 0 {
		t.Fatalf("committed %v after a failed acknowledgement", c)
	}
}

// TestAcksPerPartition: a partition's share of a poll is marked once it and
// the partition's earlier shares are acknowledged, whatever other
// partitions still wait for; a forgotten (revoked) partition marks nothing.
func TestAcksPerPartition(t *testing.T) {
	var marked []string
	a := acks{mark: func(rs ...*kgo.Record) {
		for _, r := range rs {
			marked = append(marked, fmt.Sprintf("%d@%d", r.Partition, r.Offset))
		}
	}}
	rec := func(p int32, o int64) *kgo.Record { return &kgo.Record{Partition: p, Offset: o} }
	p0a := a.open(0, rec(0, 9))   // poll 1, partition 0: a window of it stays open
	p1a := a.open(1, rec(1, 4))   // poll 1, partition 1
	p0b := a.open(0, rec(0, 19))  // poll 2, partition 0
	p1b := a.open(1, rec(1, 14))  // poll 2, partition 1
	p2a := a.open(2, rec(2, 100)) // poll 2, partition 2
	a.add(p0a)                    // the open window's hold
	for _, p := range []*pollAck{p0a, p1a, p0b, p1b} {
		a.done(p, nil) // the entries' own references
	}
	if fmt.Sprint(marked) != "[1@4 1@14]" {
		t.Fatalf("marked %v, want partition 1 through offset 14 and nothing of partition 0", marked)
	}
	a.forget([]int32{2})
	a.done(p2a, nil)
	a.done(p0a, nil) // the window closes: partition 0 through both polls
	if fmt.Sprint(marked) != "[1@4 1@14 0@19]" {
		t.Fatalf("marked %v, want partition 0 through 19 and nothing of the forgotten partition 2", marked)
	}
}

// TestPartitionClocks: the watermark waits for every assigned partition's
// first record, is the oldest of the partitions' newest times, stops waiting
// for a partition silent past the idle timeout, and does not count time the
// source spent blocked downstream as silence.
func TestPartitionClocks(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	c := newPartitionClocks(time.Minute, func() time.Time { return now })
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	c.assign([]int32{0, 1, 2})
	c.observe(0, t0.Add(3*time.Hour), true)
	c.observe(1, t0.Add(2*time.Hour), true)
	if wm := c.watermark(); !wm.IsZero() {
		t.Fatalf("watermark %v before partition 2's first record, want none", wm)
	}
	c.observe(2, time.Time{}, false) // a bad record: heard from, but no time
	if wm := c.watermark(); !wm.IsZero() {
		t.Fatalf("watermark %v with no good record from partition 2, want none", wm)
	}
	c.observe(2, t0.Add(5*time.Hour), true)
	if wm := c.watermark(); !wm.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("watermark %v, want the oldest newest time, +2h", wm)
	}
	// Blocked downstream for five minutes, then partitions 0 and 2 deliver:
	// partition 1 has been readable for 30 s only, so it still counts.
	now = now.Add(5 * time.Minute)
	c.stalled(4*time.Minute + 30*time.Second)
	c.observe(0, t0.Add(4*time.Hour), true)
	c.observe(2, t0.Add(6*time.Hour), true)
	if wm := c.watermark(); !wm.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("watermark %v after a stall, want partition 1's +2h still", wm)
	}
	// A minute of readable silence: partition 1 is idle.
	now = now.Add(time.Minute)
	c.observe(0, t0.Add(4*time.Hour), true)
	c.observe(2, t0.Add(6*time.Hour), true)
	if wm := c.watermark(); !wm.Equal(t0.Add(4 * time.Hour)) {
		t.Fatalf("watermark %v with partition 1 idle, want +4h", wm)
	}
	c.revoke([]int32{0})
	if wm := c.watermark(); !wm.Equal(t0.Add(6 * time.Hour)) {
		t.Fatalf("watermark %v after revoking partition 0, want +6h", wm)
	}
	now = now.Add(time.Hour) // everything idle: nothing is arriving
	if wm := c.watermark(); !wm.Equal(t0.Add(6 * time.Hour)) {
		t.Fatalf("watermark %v with every partition idle, want the newest, +6h", wm)
	}
}
