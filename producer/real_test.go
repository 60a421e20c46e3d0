package producer

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/testservers"
)

// TestRealKafka: against the Apache Kafka broker make test starts, over
// plaintext and over TLS with SCRAM-SHA-512 (connection options given as
// Config.Opts), predictions and labels reach their topics keyed by
// prediction id, every record of an id in one partition, in zstd
// batches, each as the consumer reads it; Close delivers them all and
// they are counted as sent. It skips when DRIFTWATCH_KAFKA_BROKERS is not
// set (`deploy/servers/kafka.sh env` prints what it reads).
func TestRealKafka(t *testing.T) {
	plain := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_BROKERS"), ",")
	secure := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_TLS_SCRAM_BROKERS"), ",")
	user, pass := testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_USER"), testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_PASSWORD")
	roots := testservers.KafkaTLSRoots(t)
	t.Run("plaintext", func(t *testing.T) { realRoundTrip(t, plain) })
	t.Run("tls+SCRAM-SHA-512", func(t *testing.T) {
		realRoundTrip(t, secure, kgo.DialTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}),
			kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()))
	})
}

func realRoundTrip(t *testing.T, brokers []string, opts ...kgo.Opt) {
	preds, labels := testservers.UniqueName(t, "p"), testservers.UniqueName(t, "l")
	adm, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(adm.Close)
	testservers.CreateTopics(t, adm, 3, preds, labels)
	reg := prometheus.NewRegistry()
	p, err := New(Config{Brokers: brokers, Topic: preds, LabelsTopic: labels, Opts: opts, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	const n, nLabels = 300, 30
	ids := make([]string, 0, n)
	for i := range n {
		id := NewID()
		if i%10 == 9 {
			id = ids[i-5] // a resent id: the same key, the same partition
		}
		ids = append(ids, id)
		pr := sample(id)
		pr.Time = at.Add(time.Duration(i) * time.Second)
		if err := p.LogPrediction(pr); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range ids[:nLabels] {
		if err := p.LogLabel(Label{PredictionID: id, Model: "fraud", Value: "fraud"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	sameCounts(t, "predictions", counts(t, reg, preds), map[string]float64{"sent": n, "invalid": 0, "dropped": 0, "failed": 0})
	sameCounts(t, "labels", counts(t, reg, labels), map[string]float64{"sent": nLabels, "invalid": 0, "dropped": 0, "failed": 0})

	read := append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)
	partition := map[string]int32{}
	for _, r := range readAll(t, preds, n, read...) {
		rec, err := consumer.Decode(r.Value, 0)
		if err != nil || string(r.Key) != rec.PredictionID {
			t.Fatalf("record key %q value %s: %v", r.Key, r.Value, err)
		}
		if q, ok := partition[rec.PredictionID]; ok && q != r.Partition {
			t.Errorf("key %q in partitions %d and %d", r.Key, q, r.Partition)
		}
		partition[rec.PredictionID] = r.Partition
		if c := r.Attrs.CompressionType(); c != 4 {
			t.Fatalf("record %q in a batch of compression %d, want 4 (zstd)", r.Key, c)
		}
	}
	for _, r := range readAll(t, labels, nLabels, read...) {
		l, err := consumer.DecodeLabel(r.Value, 0)
		if err != nil || string(r.Key) != l.PredictionID || l.Value.Text() != "fraud" {
			t.Fatalf("label key %q value %s: %+v, %v", r.Key, r.Value, l, err)
		}
	}
}
