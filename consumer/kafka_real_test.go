package consumer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/testservers"
)

// The tests in this file run against a real Apache Kafka broker, the one
// deploy/servers/kafka.sh starts; they skip when DRIFTWATCH_KAFKA_BROKERS is
// not set. `deploy/servers/kafka.sh env` prints every variable they read.
// Each test uses its own topics and groups, so reruns against one broker do
// not see each other's records.

const realTimeout = 30 * time.Second

// realClient returns a client that is closed when the test ends.
func realClient(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// consumeOne reads the first record of topic from its start through a client
// with the connection options opts.
func consumeOne(t *testing.T, topic string, opts ...kgo.Opt) *kgo.Record {
	t.Helper()
	cons := realClient(t, append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	return testservers.FirstRecord(t, cons, topic)
}

// TestRealKafkaAckPath is TestKafkaAckPath against a real broker: bad records
// reach the dead-letter topic unchanged with their reason, no offset is
// committed before the batches covering it are acknowledged, even when
// acknowledgements arrive out of order, and a new member of the group resumes
// from the committed offset.
func TestRealKafkaAckPath(t *testing.T) {
	brokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_BROKERS"), ",")
	topic, group := testservers.UniqueName(t, "p"), testservers.UniqueName(t, "g")
	dlq := topic + ".dlq"
	prod := realClient(t, kgo.SeedBrokers(brokers...))
	testservers.CreateTopics(t, prod, 1, topic, dlq)
	adm := kadm.NewClient(prod)
	dropGroupAtEnd(t, adm, group)
	ctx, cancel := context.WithTimeout(context.Background(), 2*realTimeout)
	defer cancel()

	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	produce := func(values ...string) {
		t.Helper()
		for _, v := range values {
			rec := &kgo.Record{Topic: topic, Value: []byte(v), Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("svc")}}}
			if err := prod.ProduceSync(ctx, rec).FirstErr(); err != nil {
				t.Fatalf("produce to %s: %v", topic, err)
			}
		}
	}
	produce(line("a", "fraud", ts, 1.0, "DE"), `{"broken"`, line("b", "fraud", ts.Add(time.Minute), 2.0, "FR"))

	newSource := func(until chan map[TopicPartition]int64) *Kafka {
		t.Helper()
		src, err := NewKafka(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), KafkaConfig{
			Topic: topic, DeadLetterTopic: dlq, Group: group, MaxPollRecords: 2,
			Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, Until: until,
		}, kgo.SeedBrokers(brokers...))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(src.cl.Close) // after a failure; a second Close is a no-op
		return src
	}
	// receive takes n batches from out, releasing their records.
	receive := func(out <-chan Batch, n int) []Batch {
		t.Helper()
		var held []Batch
		for len(held) < n {
			select {
			case b := <-out:
				if b.Reset {
					continue // an assignment's
				}
				b.Rec.Release()
				held = append(held, b)
			case <-ctx.Done():
				t.Fatalf("received %d of %d batches: %v", len(held), n, ctx.Err())
			}
		}
		return held
	}
	commit := func(src *Kafka) {
		t.Helper()
		if err := src.cl.CommitMarkedOffsets(ctx); err != nil {
			t.Fatalf("commit marked offsets: %v", err)
		}
	}

	until := make(chan map[TopicPartition]int64, 1)
	src := newSource(until)
	out := make(chan Batch, 16)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()

	// At most two records per poll, so a and b come in two different polls,
	// whichever way the broker splits its fetches.
	held := receive(out, 2)
	until <- map[TopicPartition]int64{{topic, 0}: 3}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	commit(src)
	if c := committed(t, adm, group, topic); c[0] > 0 {
		t.Fatalf("committed %v before any batch was acknowledged", c)
	}
	held[1].Ack(nil)
	commit(src)
	if c := committed(t, adm, group, topic); c[0] > 0 {
		t.Fatalf("committed %v past an unacknowledged poll", c)
	}
	held[0].Ack(nil)
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c := committed(t, adm, group, topic); c[0] != 3 {
		t.Fatalf("committed %v after every acknowledgement, want offset 3", c)
	}
	if c := src.Counts(); c.Accepted != 2 || c.DeadLetter[ReasonNotJSON] != 1 {
		t.Fatalf("counts %+v", c)
	}

	dl := consumeOne(t, dlq, kgo.SeedBrokers(brokers...))
	headers := map[string]string{}
	for _, h := range dl.Headers {
		headers[h.Key] = string(h.Value)
	}
	if string(dl.Value) != `{"broken"` || headers[HeaderReason] != ReasonNotJSON || headers["origin"] != "svc" || headers[HeaderSource] != topic+"/0@1" {
		t.Fatalf("dead letter %q headers %v", dl.Value, headers)
	}

	// A new member of the group starts at the committed offset: it reads c
	// and nothing before it.
	produce(line("c", "fraud", ts.Add(2*time.Minute), 3.0, "DE"))
	until = make(chan map[TopicPartition]int64, 1)
	until <- map[TopicPartition]int64{{topic, 0}: 4}
	src = newSource(until)
	out = make(chan Batch, 16)
	go func() { done <- src.Run(ctx, out) }()
	b := receive(out, 1)[0]
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b.Ack(nil)
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c := src.Counts(); c.Accepted != 1 || len(c.DeadLetter) != 0 {
		t.Fatalf("resumed source counts %+v, want only c", c)
	}
	if c := committed(t, adm, group, topic); c[0] != 4 {
		t.Fatalf("committed %v after the resumed source, want offset 4", c)
	}
}

// roundTrip creates a topic, produces one record and reads it back, all
// through clients with the connection options opts.
func roundTrip(t *testing.T, opts ...kgo.Opt) {
	t.Helper()
	topic := testservers.UniqueName(t, "p")
	prod := realClient(t, opts...)
	testservers.CreateTopics(t, prod, 1, topic)
	ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
	defer cancel()
	want := line("a", "fraud", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), 1.0, "DE")
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(want)}).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
	if got := consumeOne(t, topic, opts...); string(got.Value) != want {
		t.Fatalf("read %q back, want %q", got.Value, want)
	}
}

// pingFails checks that a client with opts cannot reach the broker and that
// its error satisfies is.
func pingFails(t *testing.T, is func(error) bool, opts ...kgo.Opt) {
	t.Helper()
	cl := realClient(t, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
	defer cancel()
	err := cl.Ping(ctx)
	if err == nil || !is(err) {
		t.Fatalf("ping = %v, want the connection refused for its credentials", err)
	}
}

type scramMechanism struct {
	name string
	mech func(scram.Auth) sasl.Mechanism
}

var scramMechanisms = []scramMechanism{
	{"SCRAM-SHA-256", scram.Auth.AsSha256Mechanism},
	{"SCRAM-SHA-512", scram.Auth.AsSha512Mechanism},
}

func isAuthFailed(err error) bool { return errors.Is(err, kerr.SaslAuthenticationFailed) }

// TestRealKafkaSCRAM produces and consumes a record on the SASL_PLAINTEXT
// listener with each SCRAM mechanism, and checks that a wrong password is
// refused with an authentication error.
func TestRealKafkaSCRAM(t *testing.T) {
	brokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_BROKERS"), ",")
	user, pass := testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_USER"), testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_PASSWORD")
	for _, m := range scramMechanisms {
		t.Run(m.name, func(t *testing.T) {
			roundTrip(t, kgo.SeedBrokers(brokers...), kgo.SASL(m.mech(scram.Auth{User: user, Pass: pass})))
		})
		t.Run(m.name+" wrong password", func(t *testing.T) {
			pingFails(t, isAuthFailed, kgo.SeedBrokers(brokers...), kgo.SASL(m.mech(scram.Auth{User: user, Pass: pass + "x"})))
		})
	}
}

// TestRealKafkaTLS produces and consumes a record over TLS alone and over TLS
// with SCRAM-SHA-512, trusting the broker's test certificate, and checks that
// a client that does not trust it is refused.
func TestRealKafkaTLS(t *testing.T) {
	tlsBrokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_TLS_BROKERS"), ",")
	scramBrokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_TLS_SCRAM_BROKERS"), ",")
	user, pass := testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_USER"), testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_PASSWORD")
	roots := testservers.KafkaTLSRoots(t)
	trusted := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}

	t.Run("tls", func(t *testing.T) {
		roundTrip(t, kgo.SeedBrokers(tlsBrokers...), kgo.DialTLSConfig(trusted))
	})
	t.Run("tls+SCRAM-SHA-512", func(t *testing.T) {
		roundTrip(t, kgo.SeedBrokers(scramBrokers...), kgo.DialTLSConfig(trusted),
			kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		var unknown x509.UnknownAuthorityError
		pingFails(t, func(err error) bool { return errors.As(err, &unknown) },
			kgo.SeedBrokers(tlsBrokers...), kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	})
}

// TestRealKafkaLabels is TestKafkaLabels against a real broker: predictions
// and late labels read by one group from two topics, a bad label
// dead-lettered to the labels' topic, labels offsets committed only once
// acknowledged.
func TestRealKafkaLabels(t *testing.T) {
	brokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_BROKERS"), ",")
	p, group := testservers.UniqueName(t, "p"), testservers.UniqueName(t, "g")
	tt := labelsTopics{p: p, pDLQ: p + ".dlq", l: p + ".labels", lDLQ: p + ".labels.dlq"}
	cl := realClient(t, kgo.SeedBrokers(brokers...))
	testservers.CreateTopics(t, cl, 1, tt.p, tt.pDLQ, tt.lDLQ)
	testservers.CreateTopics(t, cl, 2, tt.l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
		defer cancel()
		if resp, err := kadm.NewClient(cl).DeleteGroups(ctx, group); err != nil || resp.Error() != nil {
			t.Logf("delete group %s: %v %v", group, err, resp.Error())
		}
	})
	checkLabels(t, brokers, tt, group)
}

// dropGroupAtEnd deletes the consumer group when the test ends, so that the
// shared broker does not keep every test's group.
func dropGroupAtEnd(t *testing.T, adm *kadm.Client, group string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
		defer cancel()
		if resp, err := adm.DeleteGroups(ctx, group); err != nil || resp.Error() != nil {
			t.Logf("delete group %s: %v %v", group, err, resp.Error())
		}
	})
}
