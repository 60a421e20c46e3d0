package consumer

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/baselines"
)

// TestKafkaBoundedRunDeliversDeadLetters: a bounded run (Until) returns only
// once its dead letters are in the dead-letter topic. A pipeline cancels the
// context it ran the source with as soon as its stages return, and the
// producer fails every record still buffered under a cancelled context; a
// dead letter must never depend on being sent before that happens.
func TestKafkaBoundedRunDeliversDeadLetters(t *testing.T) {
	addrs, prod := startBroker(t)
	ctx := context.Background()
	const n = 20
	for range n {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "p", Value: []byte(`{"broken"`)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	until := make(chan map[TopicPartition]int64, 1)
	until <- map[TopicPartition]int64{{"p", 0}: n}
	// The producer holds the dead letters until something flushes them, as
	// it holds any record for its linger.
	src, err := NewKafka(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), KafkaConfig{
		Topic: "p", DeadLetterTopic: "p.dlq", Group: "g",
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, Until: until,
	}, kgo.SeedBrokers(addrs...), kgo.ProducerLinger(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan Batch, 16)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for b := range out {
			if b.Rec != nil {
				b.Rec.Release()
			}
			if b.Ack != nil {
				b.Ack(nil)
			}
		}
	}()
	runCtx, cancel := context.WithCancel(ctx)
	runErr := src.Run(runCtx, out)
	cancel() // as the pipeline's errgroup does once every stage returned
	<-drained
	if runErr != nil {
		t.Fatalf("bounded run: %v", runErr)
	}
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c := src.Counts(); c.DeadLetter[ReasonNotJSON] != n {
		t.Fatalf("counted %v dead letters, want %d not_json", c.DeadLetter, n)
	}
	ends, err := kadm.NewClient(prod).ListEndOffsets(ctx, "p.dlq")
	if err != nil || ends.Error() != nil {
		t.Fatalf("list end offsets of p.dlq: %v %v", err, ends.Error())
	}
	if o, _ := ends.Lookup("p.dlq", 0); o.Offset != n {
		t.Fatalf("%d of %d dead letters in p.dlq after the bounded run", o.Offset, n)
	}
}
