package testservers

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaGate is the variable whose presence says a Kafka broker is
// configured (Env's gate).
const KafkaGate = "DRIFTWATCH_KAFKA_BROKERS"

// kafkaTimeout bounds creating, and deleting, a test's topics, and waiting
// for a record.
const kafkaTimeout = 30 * time.Second

// KafkaEnv is Env for a DRIFTWATCH_KAFKA_* variable, gated by KafkaGate.
func KafkaEnv(t testing.TB, key string) string {
	t.Helper()
	return Env(t, KafkaGate, key)
}

// UniqueName returns a topic or group name unique to this test and run:
// driftwatch-<test name>-<what>-<unix ns>, with every character that is not
// a letter, digit or '-' of the test name (such as a subtest's '/') made a
// '-'. Names within one test differ by what.
func UniqueName(t testing.TB, what string) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, t.Name())
	return fmt.Sprintf("driftwatch-%s-%s-%d", name, what, time.Now().UnixNano())
}

// CreateTopics creates topics, each with partitions partitions and one
// replica, through cl, and deletes them when the test ends (logging, not
// failing, when that does not work). cl must stay open until then: close it
// in a cleanup registered before CreateTopics.
func CreateTopics(t testing.TB, cl *kgo.Client, partitions int32, topics ...string) {
	t.Helper()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	resp, err := adm.CreateTopics(ctx, partitions, 1, nil, topics...)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("create topics %v: %v", topics, err)
	}
	// The broker answers before every partition's leader is in its
	// metadata: a consumer that starts now may see a topic with fewer
	// partitions, and rebalance when the rest appear, reading again what
	// it had read. Wait for the metadata to show them all.
	for {
		md, err := adm.Metadata(ctx, topics...)
		if err == nil && topicsReady(md, partitions, topics) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("topics %v: partitions without a leader after %v (last metadata error: %v)", topics, kafkaTimeout, err)
		case <-time.After(20 * time.Millisecond): // a poll interval, not a wait for a guessed duration
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
		defer cancel()
		if resp, err := adm.DeleteTopics(ctx, topics...); err != nil || resp.Error() != nil {
			t.Logf("delete topics %v: %v %v", topics, err, resp.Error())
		}
	})
}

// FirstRecord polls cl, a client that consumes topic, until it returns
// records, and returns the first. Fetch errors are logged and retried; the
// test fails when no record arrives within 30 s.
func FirstRecord(t testing.TB, cl *kgo.Client, topic string) *kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	for {
		fetches := cl.PollRecords(ctx, 1)
		if err := ctx.Err(); err != nil {
			t.Fatalf("no record in %s after %v", topic, kafkaTimeout)
		}
		fetches.EachError(func(topic string, p int32, err error) {
			t.Logf("fetch %s/%d: %v", topic, p, err) // retried until the deadline
		})
		if recs := fetches.Records(); len(recs) > 0 {
			return recs[0]
		}
	}
}

// topicsReady reports whether md shows each of topics with its partitions,
// each with a leader.
func topicsReady(md kadm.Metadata, partitions int32, topics []string) bool {
	for _, name := range topics {
		td, ok := md.Topics[name]
		if !ok || td.Err != nil || int32(len(td.Partitions)) != partitions {
			return false
		}
		for _, p := range td.Partitions {
			if p.Err != nil || p.Leader < 0 {
				return false
			}
		}
	}
	return true
}

// KafkaTLSRoots returns a pool holding the test broker's CA certificate
// (DRIFTWATCH_KAFKA_TLS_CA), for clients of its TLS listeners.
func KafkaTLSRoots(t testing.TB) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(KafkaEnv(t, "DRIFTWATCH_KAFKA_TLS_CA"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in DRIFTWATCH_KAFKA_TLS_CA")
	}
	return roots
}
