package consumer

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/baselines"
)

// TestKafkaPausedReadsNothing: while Paused hands out a channel, the
// source reads no record; once the channel is closed, it reads them all.
func TestKafkaPausedReadsNothing(t *testing.T) {
	addrs, prod := startBroker(t)
	ctx := context.Background()
	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i, id := range []string{"a", "b", "c"} {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "p", Value: []byte(line(id, "fraud", ts.Add(time.Duration(i)*time.Minute), 1.0, "DE"))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	resumed := make(chan struct{})
	paused := resumed
	until := make(chan map[TopicPartition]int64, 1)
	until <- map[TopicPartition]int64{{"p", 0}: 3}
	src, err := NewKafka(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), KafkaConfig{
		Topic: "p", DeadLetterTopic: "p.dlq", Group: "g",
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, Until: until,
		Paused: func() <-chan struct{} {
			mu.Lock()
			defer mu.Unlock()
			return paused
		},
	}, kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(ctx)
	out := make(chan Batch, 16)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()

	deadline := time.Now().Add(10 * time.Second)
	for src.Counts().Pauses != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the source did not pause")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case b := <-out:
		t.Fatalf("read a batch while paused: %+v", b)
	case <-time.After(time.Second):
	}
	if c := src.Counts(); c.Records != 0 {
		t.Fatalf("read %d records while paused", c.Records)
	}
	mu.Lock()
	paused = nil
	mu.Unlock()
	close(resumed)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var n int64
	for b := range out {
		if b.Rec != nil {
			n += b.Rec.NumRows()
			b.Rec.Release()
			b.Ack(nil)
		}
	}
	if n != 3 || src.Counts().Pauses != 1 {
		t.Fatalf("read %d records after resuming, %d pauses; want 3 and 1", n, src.Counts().Pauses)
	}
}
