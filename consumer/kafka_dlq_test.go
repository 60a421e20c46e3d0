package consumer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/testservers"
)

// createTopic creates a one-partition topic with the given configs (and
// max.message.bytes maxBytes, unless 0: the broker's default), deleted when
// the test ends.
func createTopic(t *testing.T, adm *kadm.Client, topic string, maxBytes int, configs map[string]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
	defer cancel()
	if maxBytes > 0 {
		configs = map[string]*string{"max.message.bytes": kadm.StringPtr(strconv.Itoa(maxBytes))}
	}
	resp, err := adm.CreateTopics(ctx, 1, 1, configs, topic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	// The broker answers before every part of it knows the topic: wait
	// until its configs can be read, as the tests read them.
	for {
		rcs, err := adm.DescribeTopicConfigs(ctx, topic)
		if err == nil {
			var rc kadm.ResourceConfig
			if rc, err = rcs.On(topic, nil); err == nil {
				err = rc.Err
			}
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("topic %s created, but its configs cannot be read: %v", topic, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
		defer cancel()
		if _, err := adm.DeleteTopics(ctx, topic); err != nil {
			t.Logf("delete topic %s: %v", topic, err)
		}
	})
}

// noise returns n letters and digits that do not compress: the broker
// measures batches compressed.
func noise(n int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	rng := rand.New(rand.NewPCG(uint64(n), 13))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return b
}

// bigLine is a prediction record of exactly n bytes: good, with an unknown
// field padding it out, or broken (not JSON: its padding string never
// ends).
func bigLine(t *testing.T, id string, ts time.Time, n int, good bool) []byte {
	t.Helper()
	head := line(id, "fraud", ts, 1.0, "DE")
	const pad = `{"padding":"`
	if !strings.HasPrefix(head, "{") {
		t.Fatalf("line %q is not an object", head)
	}
	var b []byte
	if good { // the record's fields, then the padding field
		b = append([]byte(head[:len(head)-1]), `,"padding":"`...)
		b = append(b, noise(n-len(b)-2)...)
		b = append(b, `"}`...)
	} else {
		b = append([]byte(pad), noise(n-len(pad))...)
	}
	if len(b) != n {
		t.Fatalf("record of %d bytes, want %d", len(b), n)
	}
	return b
}

// TestRealKafkaBigDeadLetters sends records of 1.0 MB (one good, one not
// JSON), 1.2 MB and 3 MB (too_big: over MaxRecordBytes, 1 MiB) through a
// real broker, on a topic that accepts 4 MiB, with the dead-letter topic
// accepting 4 MiB too, only the broker's default (about 1 MiB), or 4 MiB
// at start and 64 KiB by the time the dead letters are sent. The source
// must never stop: every bad record is in the dead-letter topic with its
// reason and source, whole when it fits, else with its value cut to the
// longest prefix the topic takes (or, refused for its size all the same,
// to DeadLetterRetryBytes) and headers that say so; the good records after
// them are read, and the offsets commit past them all.
func TestRealKafkaBigDeadLetters(t *testing.T) {
	brokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_BROKERS"), ",")
	admCl := realClient(t, kgo.SeedBrokers(brokers...))
	adm := kadm.NewClient(admCl)
	prod := realClient(t, kgo.SeedBrokers(brokers...), kgo.ProducerBatchMaxBytes(4<<20))
	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

	for _, tc := range []struct {
		name     string
		dlqMax   int // max.message.bytes of the dead-letter topic; 0: the broker's default
		lowerTo  int // if not 0, the dead-letter topic's max.message.bytes once the source has read it
		cut      map[int64]bool
		retryCut bool // cut to DeadLetterRetryBytes after a size refusal
	}{
		{name: "dead-letter topic of 4 MiB", dlqMax: 4 << 20},
		{name: "dead-letter topic of the broker's default", cut: map[int64]bool{3: true, 4: true}},
		{name: "dead-letter topic lowered to 64 KiB", dlqMax: 4 << 20, lowerTo: 64 << 10, cut: map[int64]bool{2: true, 3: true, 4: true}, retryCut: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic, group := testservers.UniqueName(t, "p"), testservers.UniqueName(t, "g")
			dlq := topic + ".dlq"
			createTopic(t, adm, topic, 4<<20, nil)
			createTopic(t, adm, dlq, tc.dlqMax, nil)
			dropGroupAtEnd(t, adm, group)
			ctx, cancel := context.WithTimeout(context.Background(), 2*realTimeout)
			defer cancel()
			dlqLimit := func() int {
				t.Helper()
				rcs, err := adm.DescribeTopicConfigs(ctx, dlq)
				if err != nil {
					t.Fatal(err)
				}
				rc, err := rcs.On(dlq, nil)
				if err == nil {
					err = rc.Err
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range rc.Configs {
					if c.Key == "max.message.bytes" && c.Value != nil {
						n, err := strconv.Atoi(*c.Value)
						if err != nil {
							t.Fatal(err)
						}
						return n
					}
				}
				t.Fatalf("no max.message.bytes for %s", dlq)
				return 0
			}

			until := make(chan map[TopicPartition]int64, 1)
			src, err := NewKafka(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), KafkaConfig{
				Topic: topic, DeadLetterTopic: dlq, Group: group, Until: until,
				Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()},
			}, kgo.SeedBrokers(brokers...))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(src.cl.Close)
			out := make(chan Batch, 16)
			done := make(chan error, 1)
			go func() { done <- src.Run(ctx, out) }()

			if tc.lowerTo > 0 {
				// Once the source has read the topic's limit (it does
				// before its first poll), lower it.
				for src.batchMaxBytes(dlq) != int32(tc.dlqMax) {
					if ctx.Err() != nil {
						t.Fatalf("the source did not read %s's max.message.bytes: %d", dlq, src.batchMaxBytes(dlq))
					}
					time.Sleep(10 * time.Millisecond)
				}
				resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: kadm.StringPtr(strconv.Itoa(tc.lowerTo))}}, dlq)
				if err == nil {
					_, err = resp.On(dlq, nil)
				}
				if err != nil {
					t.Fatal(err)
				}
				// The broker applies the change a moment after it reports
				// it: wait until it refuses what it took before.
				for probe := noise(2 * tc.lowerTo); ; time.Sleep(20 * time.Millisecond) {
					err := prod.ProduceSync(ctx, &kgo.Record{Topic: dlq, Key: []byte("probe"), Value: probe}).FirstErr()
					if errors.Is(err, kerr.MessageTooLarge) {
						break
					}
					if ctx.Err() != nil {
						t.Fatalf("%s still takes %d bytes after its limit was lowered to %d: %v", dlq, len(probe), tc.lowerTo, err)
					}
				}
			}
			limit := dlqLimit()

			values := [][]byte{
				[]byte(line("a", "fraud", ts, 1.0, "DE")),
				bigLine(t, "big", ts.Add(time.Second), 1_000_000, true),
				bigLine(t, "", ts, 1_000_000, false),
				bigLine(t, "", ts, 1_200_000, false),
				bigLine(t, "", ts, 3_000_000, false),
				[]byte(line("b", "fraud", ts.Add(time.Minute), 2.0, "FR")),
			}
			for i, v := range values {
				rec := &kgo.Record{Topic: topic, Key: []byte("k" + strconv.Itoa(i)), Value: v, Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("svc")}}}
				if err := prod.ProduceSync(ctx, rec).FirstErr(); err != nil {
					t.Fatalf("produce record %d (%d bytes) to %s: %v", i, len(v), topic, err)
				}
			}
			until <- map[TopicPartition]int64{{topic, 0}: int64(len(values))}
			var rows int64
			for b := range out {
				if b.Reset {
					continue
				}
				rows += b.Rec.NumRows()
				b.Rec.Release()
				b.Ack(nil)
			}
			if err := <-done; err != nil {
				t.Fatalf("run: %v", err)
			}
			if err := src.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if err := src.acks.failed(); err != nil {
				t.Fatalf("an acknowledgement failed after the run: %v", err)
			}
			if rows != 3 {
				t.Errorf("%d records in batches, want a, the 1.0 MB good one and b", rows)
			}
			if c := src.Counts(); c.Accepted != 3 || c.DeadLetter[ReasonNotJSON] != 1 || c.DeadLetter[ReasonTooBig] != 2 {
				t.Errorf("counts %+v", c)
			}
			if c := committed(t, adm, group, topic); c[0] != int64(len(values)) {
				t.Errorf("committed %v, want offset %d", c, len(values))
			}

			cons := realClient(t, kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(dlq), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			var dls []*kgo.Record
			for len(dls) < 3 {
				fs := cons.PollFetches(ctx)
				if ctx.Err() != nil {
					t.Fatalf("read %d of 3 dead letters from %s: %v", len(dls), dlq, ctx.Err())
				}
				for _, r := range fs.Records() {
					if string(r.Key) != "probe" {
						dls = append(dls, r)
					}
				}
			}
			for _, dl := range dls {
				h := map[string]string{}
				for _, x := range dl.Headers {
					h[x.Key] = string(x.Value)
				}
				off, err := strconv.ParseInt(strings.TrimPrefix(h[HeaderSource], topic+"/0@"), 10, 64)
				if err != nil || off < 2 || off > 4 {
					t.Fatalf("dead letter from %q, want %s/0@2 to 4", h[HeaderSource], topic)
				}
				orig := values[off]
				wantReason := map[int64]string{2: ReasonNotJSON, 3: ReasonTooBig, 4: ReasonTooBig}[off]
				if h[HeaderReason] != wantReason || string(dl.Key) != "k"+strconv.FormatInt(off, 10) && !tc.retryCut {
					t.Errorf("dead letter of offset %d: reason %q key %q, want %s", off, h[HeaderReason], dl.Key, wantReason)
				}
				if !tc.cut[off] {
					if !bytes.Equal(dl.Value, orig) || h[HeaderTruncated] != "" || h["origin"] != "svc" {
						t.Errorf("dead letter of offset %d: %d bytes, headers truncated=%q origin=%q; want the record whole (%d bytes)",
							off, len(dl.Value), h[HeaderTruncated], h["origin"], len(orig))
					}
					continue
				}
				if h[HeaderTruncated] != "true" || h[HeaderOriginalSize] != strconv.Itoa(len(orig)) || !bytes.HasPrefix(orig, dl.Value) {
					t.Errorf("dead letter of offset %d: truncated=%q original_size=%q, %d bytes (prefix %v); want a prefix of its %d bytes",
						off, h[HeaderTruncated], h[HeaderOriginalSize], len(dl.Value), bytes.HasPrefix(orig, dl.Value), len(orig))
				}
				switch {
				case tc.retryCut && len(dl.Value) != DeadLetterRetryBytes:
					t.Errorf("dead letter of offset %d refused for its size: %d bytes kept, want %d", off, len(dl.Value), DeadLetterRetryBytes)
				case !tc.retryCut && (len(dl.Value) > limit || len(dl.Value) < limit-4096):
					t.Errorf("dead letter of offset %d: %d bytes kept, want nearly all the %d the topic takes", off, len(dl.Value), limit)
				}
			}
			t.Logf("dead-letter topic max.message.bytes %d: dead letters of %v bytes", limit, func() []int {
				var n []int
				for _, dl := range dls {
					n = append(n, len(dl.Value))
				}
				return n
			}())
		})
	}
}

// TestRealKafkaDeadLetterFails checks that a dead letter the broker refuses
// for a reason other than its size stops the source with an error naming
// the record and the dead-letter topic, and that its offset is never
// committed: the dead-letter topic is compacted, and the bad record has no
// key, which a compacted topic refuses (INVALID_RECORD).
func TestRealKafkaDeadLetterFails(t *testing.T) {
	brokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_BROKERS"), ",")
	topic, group := testservers.UniqueName(t, "p"), testservers.UniqueName(t, "g")
	dlq := topic + ".dlq"
	prod := realClient(t, kgo.SeedBrokers(brokers...))
	testservers.CreateTopics(t, prod, 1, topic)
	adm := kadm.NewClient(prod)
	createTopic(t, adm, dlq, 0, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")})
	dropGroupAtEnd(t, adm, group)
	ctx, cancel := context.WithTimeout(context.Background(), 2*realTimeout)
	defer cancel()
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(`{"broken"`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	src, err := NewKafka(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), KafkaConfig{
		Topic: topic, DeadLetterTopic: dlq, Group: group,
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()},
	}, kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan Batch, 16)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()
	for range out {
	}
	err = <-done
	if err == nil || !strings.Contains(err.Error(), "produce dead letter for "+topic+"/0@0 to "+dlq) {
		t.Fatalf("run ended with %v, want the dead letter's produce error", err)
	}
	t.Logf("run: %v", err)
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c := committed(t, adm, group, topic); c[0] > 0 {
		t.Fatalf("committed %v past a record not dead-lettered", c)
	}
}
