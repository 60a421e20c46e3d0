package kserve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/testservers"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The tests in this file run against the real Kafka broker that
// deploy/servers/kafka.sh starts; they skip when DRIFTWATCH_KAFKA_BROKERS
// is not set.

const realTimeout = 30 * time.Second

// readN reads n records of topic from its start, failing the test after
// realTimeout with what the converter c (when not nil) has done.
func readN(t *testing.T, brokers []string, topic string, n int, c *Converter) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			state := ""
			if c != nil {
				state = fmt.Sprintf("; the converter: %+v, run ended with %v", c.Counts(), c.failed())
			}
			t.Fatalf("%s: %d records after %s, want %d%s", topic, len(out), realTimeout, n, state)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// endOffsets returns the committed offsets of group on topic and the
// topic's end offsets, by partition.
func offsetsOf(t *testing.T, adm *kadm.Client, group, topic string) (committed, end map[int32]int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
	defer cancel()
	co, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	eo, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	committed, end = map[int32]int64{}, map[int32]int64{}
	co.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			committed[o.Partition] = o.At
		}
	})
	eo.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
	return committed, end
}

// TestRealConverter: against a real broker, the recorded samples become
// the contract records (requests and responses in different partitions),
// the events that make none are dead-lettered unchanged with their reason
// and source, every offset is committed once its outcome is in its topic,
// and a new member of the group reads only what came after.
func TestRealConverter(t *testing.T) {
	brokers := strings.Split(testservers.KafkaEnv(t, testservers.KafkaGate), ",")
	admCl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admCl.Close)
	events, out, dlq, group := testservers.UniqueName(t, "events"), testservers.UniqueName(t, "out"), testservers.UniqueName(t, "dlq"), testservers.UniqueName(t, "g")
	testservers.CreateTopics(t, admCl, 2, events, out)
	testservers.CreateTopics(t, admCl, 1, dlq)

	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	var recs []*kgo.Record
	for _, name := range sampleFiles {
		pair := loadSamples(t, name)
		pair[0].Partition, pair[1].Partition = 1, 0 // the request after its response, in another partition
		recs = append(recs, pair...)
	}
	notEvent := &kgo.Record{Partition: 0, Key: []byte("k"), Value: []byte(`{"instances": [[1, 2, 3, 4]]}`),
		Headers: headers("content-type", "application/json", "x-trace", "t1")}
	unknown := loadSamples(t, "v1-binary.json")[0]
	for i, h := range unknown.Headers {
		if h.Key == "ce_inferenceservicename" {
			unknown.Headers[i].Value = []byte("fraud-detector")
		}
	}
	lonely := loadSamples(t, "v2-binary.json")[0]
	for i, h := range lonely.Headers {
		if h.Key == "ce_id" {
			lonely.Headers[i].Value = []byte("no-response-ever")
		}
	}
	unknown.Partition, lonely.Partition = 1, 1
	recs = append(recs, notEvent, unknown, lonely)
	for _, r := range recs {
		r.Topic = events
	}
	ctx, cancel := context.WithTimeout(context.Background(), realTimeout)
	defer cancel()
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	start := func() (*Converter, chan error) {
		c, err := NewConverter(slog.New(slog.NewTextHandler(io.Discard, nil)), ConverterConfig{
			Topic: events, DeadLetterTopic: dlq, Group: group, OutTopic: out, Models: sampleModels(),
			JoinTimeout: time.Second, MaxPending: 100,
		}, kgo.SeedBrokers(brokers...))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		return c, done
	}
	stop := func(c *Converter, done chan error, runCancel context.CancelFunc) {
		runCancel()
		if err := <-done; err != nil {
			t.Fatalf("run: %v", err)
		}
		closeCtx, cancel := context.WithTimeout(context.Background(), realTimeout)
		defer cancel()
		if err := c.Close(closeCtx); err != nil {
			t.Fatalf("close: %v", err)
		}
	}

	// Run's context is not the producer's, whose deadline counts from
	// before the topics were written.
	runCtx, runCancel := context.WithCancel(context.Background())
	defer runCancel()
	ctx = runCtx
	c, done := start()
	got := readN(t, brokers, out, 6, c)
	dead := readN(t, brokers, dlq, 3, c)

	// The records, keyed by prediction id, stamped with the event time,
	// decode as the hand-written ones.
	want := map[string]string{}
	f, err := os.Open(filepath.Join("testdata", "samples", "expected.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for sc := bufio.NewScanner(f); sc.Scan(); {
		r, _ := consumer.Decode(sc.Bytes(), 0)
		want[r.PredictionID] = fmt.Sprintf("%+v", r)
	}
	f.Close()
	for _, r := range got {
		dec, err := consumer.Decode(r.Value, 0)
		if err != nil {
			t.Fatalf("record %s: %v", r.Value, err)
		}
		if string(r.Key) != dec.PredictionID || !r.Timestamp.Equal(dec.Timestamp.Truncate(time.Millisecond)) {
			t.Errorf("record %s: key %q, timestamp %s", r.Value, r.Key, r.Timestamp)
		}
		if fmt.Sprintf("%+v", dec) != want[dec.PredictionID] {
			t.Errorf("record %s:\n got %+v\nwant %s", r.Value, dec, want[dec.PredictionID])
		}
		delete(want, dec.PredictionID)
	}
	if len(want) != 0 {
		t.Errorf("records missing: %v", want)
	}

	// The dead letters: unchanged, with reason, detail and source.
	byReason := map[string]*kgo.Record{}
	for _, r := range dead {
		hs := map[string]string{}
		for _, h := range r.Headers {
			hs[h.Key] = string(h.Value)
		}
		byReason[hs[consumer.HeaderReason]] = r
		if hs[consumer.HeaderDetail] == "" || !strings.HasPrefix(hs[consumer.HeaderSource], events+"/") {
			t.Errorf("dead letter %s: headers %v", r.Value, hs)
		}
	}
	for reason, orig := range map[string]*kgo.Record{ReasonNotCloudEvent: notEvent, ReasonUnknownModel: unknown, ReasonUnmatched: lonely} {
		d := byReason[reason]
		if d == nil {
			t.Errorf("no %s dead letter among %d", reason, len(dead))
			continue
		}
		if string(d.Value) != string(orig.Value) || string(d.Key) != string(orig.Key) || !slices.EqualFunc(d.Headers[:len(orig.Headers)], orig.Headers,
			func(a, b kgo.RecordHeader) bool { return a.Key == b.Key && string(a.Value) == string(b.Value) }) {
			t.Errorf("%s dead letter is not the record unchanged: %+v", reason, d)
		}
		if src := fmt.Sprintf("%s/%d@%d", events, orig.Partition, orig.Offset); headerOf(d, consumer.HeaderSource) != src {
			t.Errorf("%s dead letter: source %q, want %q", reason, headerOf(d, consumer.HeaderSource), src)
		}
	}
	// The counts follow the acknowledgements, which may come a moment
	// after the records can be read.
	countsDone := func(n Counts) bool {
		return n.Events == int64(len(recs)) && n.Records == 6 && n.DeadLetter[ReasonUnmatched] == 1 && n.Pending == 0
	}
	for deadline := time.Now().Add(realTimeout); !countsDone(c.Counts()); {
		if time.Now().After(deadline) {
			t.Fatalf("counts %+v", c.Counts())
		}
		time.Sleep(10 * time.Millisecond) // poll until the acknowledgements are counted
	}
	stop(c, done, runCancel)

	// Every event's outcome is durable: the group committed the ends.
	adm := kadm.NewClient(admCl)
	committed, end := offsetsOf(t, adm, group, events)
	if len(end) != 2 || committed[0] != end[0] || committed[1] != end[1] {
		t.Fatalf("committed %v, end %v", committed, end)
	}

	// A new member reads on from there: one more pair, and nothing again.
	ctx, runCancel = context.WithCancel(context.Background())
	defer runCancel()
	pair := loadSamples(t, "v1-structured.json")
	for _, r := range pair {
		r.Topic = events
		r.Value = []byte(strings.ReplaceAll(string(r.Value), "0009174a", "1119174a"))
	}
	if err := prod.ProduceSync(ctx, pair...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c, done = start()
	got = readN(t, brokers, out, 7, c)
	if last := got[len(got)-1]; !strings.HasPrefix(string(last.Key), "1119174a") {
		t.Errorf("the 7th record is %s", last.Value)
	}
	stop(c, done, runCancel)
	if _, outEnd := offsetsOf(t, adm, group, out); outEnd[0]+outEnd[1] != 7 {
		t.Errorf("%d records in %s after the restart, want 7: events were converted twice", outEnd[0]+outEnd[1], out)
	}
}

// TestOffsets: a partition's offset is marked only up to the last of the
// leading records whose outcome is acknowledged, whatever the order of
// the acknowledgements, and nothing after a reset.
func TestOffsets(t *testing.T) {
	var marks []string
	o := offsets{mark: func(rs ...*kgo.Record) {
		for _, r := range rs {
			marks = append(marks, fmt.Sprintf("%d@%d", r.Partition, r.Offset))
		}
	}}
	var es []*entry
	for i := range 4 {
		es = append(es, o.read(&kgo.Record{Partition: 0, Offset: int64(10 + i)}))
	}
	p1 := o.read(&kgo.Record{Partition: 1, Offset: 7})
	o.done(es[1]) // waits for 10
	o.done(es[3]) // waits for 10 and 12
	if len(marks) != 0 {
		t.Fatalf("marked %v before the first record was done", marks)
	}
	o.done(es[0])
	o.done(p1)
	o.done(es[2])
	if got := strings.Join(marks, " "); got != "0@11 1@7 0@13" {
		t.Fatalf("marks %q, want 0@11 1@7 0@13", got)
	}
	e := o.read(&kgo.Record{Partition: 0, Offset: 14})
	o.reset()
	o.done(e)
	if len(marks) != 3 {
		t.Fatalf("marked %v after a reset", marks[3:])
	}
}

func headerOf(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
