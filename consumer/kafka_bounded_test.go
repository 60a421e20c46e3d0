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

// TestKafkaBoundedRunDeliversDeadLetters: a bounded run (Until) returns only
// once its dead letters are in the dead-letter topic. A pipeline cancels the
// context it ran the source with as soon as its stages return, and the
// producer fails every record still buffered under a cancelled context; a
// dead letter must never depend on being sent before that happens.
func TestKafkaBoundedRunDeliversDeadLetters(t *testing.T) {
	addrs, prod := startBroker(t)
	checkBoundedRunDeliversDeadLetters(t, addrs, prod, "p", "p.dlq", "g")
}

// TestRealKafkaBoundedRunDeliversDeadLetters is
// TestKafkaBoundedRunDeliversDeadLetters against a real broker.
func TestRealKafkaBoundedRunDeliversDeadLetters(t *testing.T) {
	brokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_BROKERS"), ",")
	topic, group := testservers.UniqueName(t, "p"), testservers.UniqueName(t, "g")
	prod := realClient(t, kgo.SeedBrokers(brokers...))
	testservers.CreateTopics(t, prod, 1, topic, topic+".dlq")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
		defer cancel()
		if resp, err := kadm.NewClient(prod).DeleteGroups(ctx, group); err != nil || resp.Error() != nil {
			t.Logf("delete group %s: %v %v", group, err, resp.Error())
		}
	})
	checkBoundedRunDeliversDeadLetters(t, brokers, prod, topic, topic+".dlq", group)
}

func checkBoundedRunDeliversDeadLetters(t *testing.T, brokers []string, prod *kgo.Client, topic, dlq, group string) {
	t.Helper()
	ctx, cancelAll := context.WithTimeout(context.Background(), time.Minute) // a bound, not a wait
	defer cancelAll()
	const n = 20
	for range n {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(`{"broken"`)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	until := make(chan map[TopicPartition]int64, 1)
	until <- map[TopicPartition]int64{{topic, 0}: n}
	// The producer holds the dead letters until something flushes them, as
	// it holds any record for its linger.
	src, err := NewKafka(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), KafkaConfig{
		Topic: topic, DeadLetterTopic: dlq, Group: group,
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, Until: until,
	}, kgo.SeedBrokers(brokers...), kgo.ProducerLinger(time.Minute))
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
	ends, err := kadm.NewClient(prod).ListEndOffsets(ctx, dlq)
	if err != nil || ends.Error() != nil {
		t.Fatalf("list end offsets of %s: %v %v", dlq, err, ends.Error())
	}
	if o, _ := ends.Lookup(dlq, 0); o.Offset != n {
		t.Fatalf("%d of %d dead letters in %s after the bounded run", o.Offset, n, dlq)
	}
}
