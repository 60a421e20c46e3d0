package consumer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/testservers"
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

	until := make(chan map[TopicPartition]int64, 1)
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
		if b.Reset {
			continue // the assignment's
		}
		b.Rec.Release()
		held = append(held, b)
	}
	until <- map[TopicPartition]int64{{"p", 0}: 3}
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
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, Until: make(chan map[TopicPartition]int64),
	}, kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan Batch, 1)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()
	b := <-out
	for b.Reset { // the assignment's
		b = <-out
	}
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

// TestAcksPerPartition: a partition's share of a poll is marked once it and
// the partition's earlier shares are acknowledged, whatever other
// partitions (of the same topic or another) still wait for; a forgotten
// (revoked) partition marks nothing.
func TestAcksPerPartition(t *testing.T) {
	var marked []string
	var markedRecs []*kgo.Record
	a := acks{mark: func(rs ...*kgo.Record) {
		for _, r := range rs {
			marked = append(marked, fmt.Sprintf("%d@%d", r.Partition, r.Offset))
			markedRecs = append(markedRecs, r)
		}
	}}
	open := func(topic string, p int32, o int64) *pollAck {
		return a.open(TopicPartition{topic, p}, &kgo.Record{Topic: topic, Partition: p, Offset: o})
	}
	p0a := open("p", 0, 9)   // poll 1, partition 0: a window of it stays open
	p1a := open("p", 1, 4)   // poll 1, partition 1
	l0a := open("l", 0, 7)   // poll 1, labels partition 0: its batch not acknowledged yet
	p0b := open("p", 0, 19)  // poll 2, partition 0
	p1b := open("p", 1, 14)  // poll 2, partition 1
	p2a := open("p", 2, 100) // poll 2, partition 2
	l0b := open("l", 0, 8)   // poll 2, labels partition 0
	a.add(p0a)               // the open window's hold
	a.add(l0a)               // the labels batch's
	for _, p := range []*pollAck{p0a, p1a, l0a, p0b, p1b, l0b} {
		a.done(p, nil) // the entries' own references
	}
	if fmt.Sprint(marked) != "[1@4 1@14]" {
		t.Fatalf("marked %v, want partition 1 through offset 14 and nothing of partition 0 nor of the labels", marked)
	}
	a.done(l0a, nil) // the labels batch is acknowledged: labels partition 0, not predictions partition 0
	if fmt.Sprint(marked) != "[1@4 1@14 0@8]" {
		t.Fatalf("marked %v, want labels partition 0 through 8 and nothing of predictions partition 0", marked)
	}
	if r := markedRecs[len(markedRecs)-1]; r.Topic != "l" {
		t.Fatalf("marked %s/%d@%d, want the labels topic", r.Topic, r.Partition, r.Offset)
	}
	a.forget([]TopicPartition{{"p", 2}})
	a.done(p2a, nil)
	a.done(p0a, nil) // the window closes: partition 0 through both polls
	if fmt.Sprint(marked) != "[1@4 1@14 0@8 0@19]" {
		t.Fatalf("marked %v, want partition 0 through 19 and nothing of the forgotten partition 2", marked)
	}
}

// TestPartitionClocks: the watermark waits for every assigned partition's
// first record, is the oldest of the partitions' newest times, stops waiting
// for a partition silent past the idle timeout, and does not count time the
// source spent blocked downstream as silence.
func TestPartitionClocks(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	c := newPartitionClocks(time.Minute, 0, func() time.Time { return now })
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	c.assign([]int32{0, 1, 2})
	c.observe(0, t0.Add(3*time.Hour), true)
	c.observe(1, t0.Add(2*time.Hour), true)
	if wm := c.watermark(); !wm.IsZero() {
		t.Fatalf("watermark %v before partition 2's first record, want none", wm)
	}
	c.observe(2, time.Time{}, false) // a bad record: heard from, but no time
	if wm := c.watermark(); !wm.IsZero() {
		t.Fatalf("watermark %v with no good record from partition 2, want none", wm)
	}
	c.observe(2, t0.Add(5*time.Hour), true)
	if wm := c.watermark(); !wm.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("watermark %v, want the oldest newest time, +2h", wm)
	}
	// Blocked downstream for five minutes, then partitions 0 and 2 deliver:
	// partition 1 has been readable for 30 s only, so it still counts.
	now = now.Add(5 * time.Minute)
	c.stalled(4*time.Minute + 30*time.Second)
	c.observe(0, t0.Add(4*time.Hour), true)
	c.observe(2, t0.Add(6*time.Hour), true)
	if wm := c.watermark(); !wm.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("watermark %v after a stall, want partition 1's +2h still", wm)
	}
	// A minute of readable silence: partition 1 is idle.
	now = now.Add(time.Minute)
	c.observe(0, t0.Add(4*time.Hour), true)
	c.observe(2, t0.Add(6*time.Hour), true)
	if wm := c.watermark(); !wm.Equal(t0.Add(4 * time.Hour)) {
		t.Fatalf("watermark %v with partition 1 idle, want +4h", wm)
	}
	c.revoke([]int32{0})
	if wm := c.watermark(); !wm.Equal(t0.Add(6 * time.Hour)) {
		t.Fatalf("watermark %v after revoking partition 0, want +6h", wm)
	}
	now = now.Add(time.Hour) // everything idle: nothing is arriving
	if wm := c.watermark(); !wm.Equal(t0.Add(6 * time.Hour)) {
		t.Fatalf("watermark %v with every partition idle, want the newest, +6h", wm)
	}
}

// labelsTopics names the topics of a labels test: predictions p (one
// partition) and their dead letters pDLQ, labels l (two partitions) and
// theirs lDLQ.
type labelsTopics struct{ p, pDLQ, l, lDLQ string }

// checkLabels is the late-labels test against a broker at addrs with
// topics tt and an empty group: label batches arrive after the predictions,
// one per labels partition, with the predictions' watermark; a bad label
// goes to the labels' dead-letter topic (and the audit) with its reason;
// the labels topic's offsets are committed only once their batches are
// acknowledged, partition by partition.
func checkLabels(t *testing.T, addrs []string, tt labelsTopics, group string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	adm := kadm.NewClient(prod)
	produce := func(topic string, partition int32, values ...string) {
		t.Helper()
		for _, v := range values {
			rec := &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v), Headers: []kgo.RecordHeader{{Key: "origin", Value: []byte("svc")}}}
			if err := prod.ProduceSync(ctx, rec).FirstErr(); err != nil {
				t.Fatalf("produce to %s/%d: %v", topic, partition, err)
			}
		}
	}
	commit := func(src *Kafka) {
		t.Helper()
		if err := src.cl.Flush(ctx); err != nil { // the dead letter's acknowledgement
			t.Fatal(err)
		}
		if err := src.cl.CommitMarkedOffsets(ctx); err != nil {
			t.Fatal(err)
		}
	}
	receive := func(out <-chan Batch, done func(Batch) bool) []Batch {
		t.Helper()
		var got []Batch
		for {
			select {
			case b := <-out:
				if b.Reset {
					continue // the assignment's
				}
				if b.Rec != nil {
					b.Rec.Release()
				}
				got = append(got, b)
				if done(b) {
					return got
				}
			case <-ctx.Done():
				t.Fatalf("received %d batches: %v", len(got), ctx.Err())
			}
		}
	}

	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	later := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) // labels' time, far past every prediction's
	label := func(id string, v any) string {
		b, _ := json.Marshal(map[string]any{"prediction_id": id, "model": "fraud", "timestamp": later.Format(time.RFC3339), "label": v})
		return string(b)
	}
	produce(tt.p, 0, line("a", "fraud", ts, 1.0, "DE"), line("b", "fraud", ts.Add(time.Minute), 2.0, "FR"))

	audited := make(chan DeadLetter, 4)
	until := make(chan map[TopicPartition]int64, 1)
	src, err := NewKafka(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), KafkaConfig{
		Topic: tt.p, DeadLetterTopic: tt.pDLQ, LabelsTopic: tt.l, Group: group,
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, Until: until,
		Audit: func(d DeadLetter, done func(error)) { audited <- d; done(nil) },
	}, kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer src.cl.Close() // after a failure; a second close is a no-op
	if src.cfg.LabelsDeadLetterTopic != tt.l+".dlq" {
		t.Fatalf("labels dead-letter topic %q, want the default %q", src.cfg.LabelsDeadLetterTopic, tt.l+".dlq")
	}
	out := make(chan Batch, 16)
	runDone := make(chan error, 1)
	go func() { runDone <- src.Run(ctx, out) }()

	// The predictions first, so that every label is read after them.
	rows := int64(0)
	preds := receive(out, func(b Batch) bool {
		if b.Rec == nil {
			t.Fatalf("a batch without records before any label was produced: %+v", b)
		}
		rows += b.Rec.NumRows()
		return rows == 2
	})
	wm := preds[len(preds)-1].Watermark
	if !wm.Equal(ts.Add(time.Minute)) {
		t.Fatalf("prediction watermark %v, want %v: the idle labels topic must not hold it back", wm, ts.Add(time.Minute))
	}

	produce(tt.l, 0, label("a", 1), `{"prediction_id":"b","model":"fraud","timestamp":"2026-11-27T08:00:00Z"}`)
	produce(tt.l, 1, label("b", "fraud"))
	n := 0
	labelBatches := receive(out, func(b Batch) bool { n += len(b.Labels); return n == 2 })
	until <- map[TopicPartition]int64{{tt.p, 0}: 2, {tt.l, 0}: 2, {tt.l, 1}: 1}
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	byPartition := map[int32]Batch{}
	for _, b := range labelBatches {
		if b.Rec != nil || b.Model != "" || b.Reset || b.Ack == nil || len(b.Labels) == 0 {
			t.Fatalf("labels batch %+v: want Labels and Ack only", b)
		}
		if !b.Watermark.Equal(wm) {
			t.Fatalf("labels batch watermark %v, want the predictions' %v: labels must not move it", b.Watermark, wm)
		}
		if _, dup := byPartition[b.Partition]; dup {
			t.Fatalf("two labels batches of partition %d from one poll each", b.Partition)
		}
		byPartition[b.Partition] = b
	}
	want := map[int32][]Label{
		0: {{PredictionID: "a", Model: "fraud", Time: later, Value: Value{Kind: Number, Num: 1}}},
		1: {{PredictionID: "b", Model: "fraud", Time: later, Value: Value{Kind: String, Str: "fraud"}}},
	}
	for p, ls := range want {
		if got := byPartition[p].Labels; !reflect.DeepEqual(got, ls) {
			t.Fatalf("labels of partition %d: %+v, want %+v", p, got, ls)
		}
	}

	// Nothing acknowledged: nothing committed, though the dead letter is
	// durable.
	commit(src)
	if c := committed(t, adm, group, tt.l); len(c) > 0 {
		t.Fatalf("committed %v of %s before any batch was acknowledged", c, tt.l)
	}
	for _, b := range preds {
		b.Ack(nil)
	}
	commit(src)
	if c := committed(t, adm, group, tt.p); c[0] != 2 {
		t.Fatalf("committed %v of %s, want offset 2", c, tt.p)
	}
	if c := committed(t, adm, group, tt.l); len(c) > 0 {
		t.Fatalf("committed %v of %s after acknowledging the predictions only", c, tt.l)
	}
	byPartition[1].Ack(nil)
	commit(src)
	if c := committed(t, adm, group, tt.l); c[1] != 1 || c[0] > 0 {
		t.Fatalf("committed %v of %s, want partition 1 at 1 and nothing of partition 0", c, tt.l)
	}
	byPartition[0].Ack(nil)
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c := committed(t, adm, group, tt.l); c[0] != 2 || c[1] != 1 {
		t.Fatalf("committed %v of %s after every acknowledgement, want 0 at 2 (past the dead letter) and 1 at 1", c, tt.l)
	}

	c := src.Counts()
	if c.Records != 2 || c.Accepted != 2 || len(c.DeadLetter) != 0 || c.Labels != 2 ||
		len(c.LabelDeadLetter) != 1 || c.LabelDeadLetter[ReasonMissingField] != 1 {
		t.Fatalf("counts %+v", c)
	}
	select {
	case d := <-audited:
		if d.Topic != tt.l || d.Partition != 0 || d.Offset != 1 || d.DeadLetterTopic != tt.lDLQ || d.Reason != ReasonMissingField {
			t.Fatalf("audited %+v", d)
		}
	default:
		t.Fatal("the bad label was not audited")
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(tt.lDLQ), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	dl := testservers.FirstRecord(t, cons, tt.lDLQ)
	headers := map[string]string{}
	for _, h := range dl.Headers {
		headers[h.Key] = string(h.Value)
	}
	if !strings.Contains(string(dl.Value), `"prediction_id":"b"`) || headers[HeaderReason] != ReasonMissingField ||
		!strings.Contains(headers[HeaderDetail], "label") || headers["origin"] != "svc" || headers[HeaderSource] != tt.l+"/0@1" {
		t.Fatalf("dead letter %q headers %v", dl.Value, headers)
	}
	if c := committed(t, adm, group, tt.pDLQ); len(c) > 0 {
		t.Fatalf("test bug: group committed %v of %s", c, tt.pDLQ)
	}
	if end, err := adm.ListEndOffsets(ctx, tt.pDLQ); err != nil || end.Error() != nil {
		t.Fatalf("end offsets of %s: %v %v", tt.pDLQ, err, end.Error())
	} else if o, _ := end.Lookup(tt.pDLQ, 0); o.Offset != 0 {
		t.Fatalf("%d records in %s, want none: a bad label is not a bad prediction", o.Offset, tt.pDLQ)
	}
}

// TestKafkaLabels runs checkLabels against the embedded broker.
func TestKafkaLabels(t *testing.T) {
	tt := labelsTopics{p: "p", pDLQ: "p.dlq", l: "l", lDLQ: "l.dlq"}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, tt.p, tt.pDLQ, tt.lDLQ), kfake.SeedTopics(2, tt.l))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	checkLabels(t, cluster.ListenAddrs(), tt, "g")
}

// TestSingleOwnerBalancerTwoTopics: the owner gets every partition of both
// topics it consumes (predictions and labels); the standby gets nothing.
func TestSingleOwnerBalancerTwoTopics(t *testing.T) {
	b := SingleOwnerBalancer()
	topics := []string{"p", "l"}
	members := []kmsg.JoinGroupResponseMember{
		{MemberID: "a", ProtocolMetadata: b.JoinGroupMetadata(topics, nil, -1)},
		{MemberID: "b", ProtocolMetadata: b.JoinGroupMetadata(topics, map[string][]int32{"p": {0, 1, 2}}, 4)},
	}
	mb, interests, err := b.MemberBalancer(members)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := interests["l"]; !ok || len(interests) != 2 {
		t.Fatalf("topics of interest %v, want p and l", interests)
	}
	plan, err := mb.(kgo.GroupMemberBalancerOrError).BalanceOrError(map[string]int32{"p": 3, "l": 2})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string][]int32{}
	for _, a := range plan.IntoSyncAssignment() {
		parts, err := b.ParseSyncAssignment(a.MemberAssignment)
		if err != nil {
			t.Fatal(err)
		}
		for _, ps := range parts {
			slices.Sort(ps)
		}
		got[a.MemberID] = parts
	}
	want := map[string][]int32{"p": {0, 1, 2}, "l": {0, 1}}
	if !reflect.DeepEqual(got["b"], want) || len(got["a"]) != 0 {
		t.Fatalf("assignment %v, want b (the previous owner) to own %v and a nothing", got, want)
	}
}
