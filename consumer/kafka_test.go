package consumer

import (
	"context"
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
