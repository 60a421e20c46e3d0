package consumer

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/testservers"
)

// TestRealKafkaCommitsWhenDurable checks, against a real broker, that an
// acknowledged poll's offsets are committed while the source runs, soon
// after the acknowledgement, not at the client's autocommit interval (an
// hour here) or on Close: a job killed seconds after its rows became
// durable must not read them again. Offsets of a poll not yet acknowledged
// stay uncommitted.
func TestRealKafkaCommitsWhenDurable(t *testing.T) {
	brokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_BROKERS"), ",")
	topic, group := testservers.UniqueName(t, "p"), testservers.UniqueName(t, "g")
	prod := realClient(t, kgo.SeedBrokers(brokers...))
	testservers.CreateTopics(t, prod, 1, topic, topic+".dlq")
	adm := kadm.NewClient(prod)
	dropGroupAtEnd(t, adm, group)
	ctx, cancel := context.WithTimeout(context.Background(), 2*realTimeout)
	defer cancel()
	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	produce := func(values ...string) {
		t.Helper()
		for _, v := range values {
			if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatalf("produce to %s: %v", topic, err)
			}
		}
	}

	src, err := NewKafka(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), KafkaConfig{
		Topic: topic, DeadLetterTopic: topic + ".dlq", Group: group, MaxPollRecords: 1,
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()},
	}, kgo.SeedBrokers(brokers...), kgo.AutoCommitInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan Batch, 16)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Run(runCtx, out) }()
	defer func() {
		stop()
		for range out { // Run closes out
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
		if err := src.Close(ctx); err != nil {
			t.Error(err)
		}
	}()
	receive := func() Batch {
		t.Helper()
		for {
			select {
			case b := <-out:
				if b.Reset {
					continue
				}
				b.Rec.Release()
				return b
			case <-ctx.Done():
				t.Fatalf("no batch: %v", ctx.Err())
			}
		}
	}
	// waitCommitted waits until the committed offset is want.
	waitCommitted := func(want int64) time.Duration {
		t.Helper()
		began := time.Now()
		deadline := began.Add(10 * time.Second)
		for {
			c := committed(t, adm, group, topic)
			if c[0] == want {
				return time.Since(began)
			}
			if time.Now().After(deadline) {
				t.Fatalf("committed %v 10 s after the acknowledgement, want offset %d", c, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// One record per poll: a, then b, each a batch of its own.
	produce(line("a", "fraud", ts, 1.0, "DE"), line("b", "fraud", ts.Add(time.Minute), 2.0, "FR"))
	a := receive()
	if c := committed(t, adm, group, topic); c[0] > 0 {
		t.Fatalf("committed %v before a batch was acknowledged", c)
	}
	a.Ack(nil)
	took := waitCommitted(1)
	t.Logf("offset committed %s after the acknowledgement", took.Round(time.Millisecond))
	b := receive()
	if c := committed(t, adm, group, topic); c[0] != 1 {
		t.Fatalf("committed %v with b not acknowledged, want offset 1", c)
	}
	b.Ack(nil)
	waitCommitted(2)
}
