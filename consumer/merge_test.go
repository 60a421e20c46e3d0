package consumer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The merge tests' fold group "g": its partials topic has three
// partitions and is read in its merge group.
var (
	mergeTopic = PartialsTopic("g")
	mergeGroup = MergeGroup("g")
)

// mergeBroker starts an embedded broker with the partials topic and a
// producer that writes each record to the partition it names; both stop
// when the test ends.
func mergeBroker(t *testing.T) ([]string, *kgo.Client) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, mergeTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	addrs := cluster.ListenAddrs()
	prod, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	return addrs, prod
}

// newMergeSource creates a merge-mode source of the partials topic; it
// heartbeats often, so that rebalances take milliseconds.
func newMergeSource(t *testing.T, addrs []string, until <-chan map[TopicPartition]int64) *Kafka {
	t.Helper()
	src, err := NewKafka(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), KafkaConfig{
		Topic: mergeTopic, Group: mergeGroup, Partials: true, Until: until,
	}, kgo.SeedBrokers(addrs...), kgo.HeartbeatInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// partial is a partials record of kind (none if "") for partition p.
func partial(p int32, kind string, value []byte) *kgo.Record {
	r := &kgo.Record{Topic: mergeTopic, Partition: p, Value: value}
	if kind != "" {
		r.Headers = []kgo.RecordHeader{{Key: KindHeader, Value: []byte(kind)}}
	}
	return r
}

func delta(p int32, v string) *kgo.Record { return partial(p, KindDelta, []byte(v)) }

// mark is a mark record for partition p: source partition sp of topic
// preds (of n) is at clock at.
func mark(t *testing.T, p int32, n int32, sp int32, at time.Time) *kgo.Record {
	t.Helper()
	v, err := MarshalMark(Mark{Topic: "preds", Partitions: n, Clocks: []PartitionMark{{Partition: sp, Mark: at.UnixNano(), Newest: at.UnixNano()}}})
	if err != nil {
		t.Fatal(err)
	}
	return partial(p, KindMark, v)
}

func produceAll(t *testing.T, ctx context.Context, prod *kgo.Client, rs ...*kgo.Record) {
	t.Helper()
	if err := prod.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", mergeTopic, err)
	}
}

// merged is what a merge-mode source delivered since its last Reset batch.
type merged struct {
	resets  int
	deltas  map[int32][]string
	labels  map[int32][]Label
	wm      time.Time // the last batch's
	batches []Batch   // unacknowledged
}

func (m *merged) take(t *testing.T, b Batch) {
	t.Helper()
	if b.Reset {
		m.resets++
		m.deltas, m.labels, m.wm = nil, nil, time.Time{}
		return
	}
	if m.deltas == nil {
		m.deltas, m.labels = make(map[int32][]string), make(map[int32][]Label)
	}
	switch {
	case b.Rec != nil || b.Ack == nil || b.Model != "":
		t.Fatalf("batch %+v: want Partials or Labels, and Ack", b)
	case b.Partials != nil && b.Labels == nil:
		for _, d := range b.Partials {
			m.deltas[b.Partition] = append(m.deltas[b.Partition], string(d))
		}
	case b.Partials == nil && len(b.Labels) > 0:
		m.labels[b.Partition] = append(m.labels[b.Partition], b.Labels...)
	default:
		t.Fatalf("batch %+v: want either Partials, non-nil, or Labels", b)
	}
	if b.Watermark.Before(m.wm) {
		t.Fatalf("watermark %v after %v", b.Watermark, m.wm)
	}
	m.wm = b.Watermark
	m.batches = append(m.batches, b)
}

// ack acknowledges the batches delivered of partitions ps (all if none).
func (m *merged) ack(ps ...int32) {
	rest := m.batches[:0]
	for _, b := range m.batches {
		if len(ps) == 0 || slices.Contains(ps, b.Partition) {
			b.Ack(nil)
		} else {
			rest = append(rest, b)
		}
	}
	m.batches = rest
}

// receive takes batches from out into m until done holds (checked after
// each), failing the test when ctx ends first.
func receive(t *testing.T, ctx context.Context, out <-chan Batch, m *merged, done func() bool) {
	t.Helper()
	for !done() {
		select {
		case b, ok := <-out:
			if !ok {
				t.Fatal("the source stopped")
			}
			m.take(t, b)
		case <-ctx.Done():
			t.Fatalf("waiting for batches, got %d resets, deltas %v, labels %v: %v", m.resets, m.deltas, m.labels, ctx.Err())
		}
	}
}

// TestKafkaMerge reads a partials topic of three partitions, written by
// two fold instances of a source topic of two partitions, each with the
// clock of one: the batches carry each partition's deltas in order and
// its labels after them; the watermark stays zero until both source
// partitions have a mark in every partials partition, then is the oldest
// over the partials partitions, moved by marks alone too; bad records are
// counted and skipped; offsets are committed only once acknowledged,
// partition by partition.
func TestKafkaMerge(t *testing.T) {
	addrs, prod := mergeBroker(t)
	adm := kadm.NewClient(prod)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	at := func(min int) time.Time { return time.Date(2026, 12, 5, 10, min, 0, 0, time.UTC) }
	x := func(p int32, min int) *kgo.Record { return mark(t, p, 2, 0, at(min)) } // fold instance x owns source partition 0
	y := func(p int32, min int) *kgo.Record { return mark(t, p, 2, 1, at(min)) } // and y partition 1

	until := make(chan map[TopicPartition]int64, 1)
	src := newMergeSource(t, addrs, until)
	defer src.cl.Close() // after a failure; a second close is a no-op
	out := make(chan Batch, 16)
	runDone := make(chan error, 1)
	go func() { runDone <- src.Run(ctx, out) }()
	var m merged
	// wait receives until the deltas and labels are want's. Every step
	// ends each partition it writes to with a delta, so nothing of the
	// step is left to deliver then.
	wait := func(want merged) {
		t.Helper()
		receive(t, ctx, out, &m, func() bool {
			return reflect.DeepEqual(m.deltas, want.deltas) && reflect.DeepEqual(m.labels, want.labels)
		})
	}

	label := `{"prediction_id":"7d1e0c5a","model":"fraud","timestamp":"2026-12-05T10:20:00Z","label":1}`
	produceAll(t, ctx, prod,
		delta(0, "a0"), x(0, 60), partial(0, KindLabel, []byte(label)), delta(0, "a1"),
		delta(1, "b0"), x(1, 60), y(1, 40), delta(1, "b1"),
		x(2, 60), delta(2, "c0"))
	want := merged{
		deltas: map[int32][]string{0: {"a0", "a1"}, 1: {"b0", "b1"}, 2: {"c0"}},
		labels: map[int32][]Label{0: {{PredictionID: "7d1e0c5a", Model: "fraud", Time: at(20), Value: Value{Kind: Number, Num: 1}}}},
	}
	wait(want)
	if !m.wm.IsZero() {
		t.Fatalf("watermark %v with source partition 1 unheard of in partials partitions 0 and 2, want none", m.wm)
	}
	produceAll(t, ctx, prod, y(0, 30), delta(0, "a2"))
	want.deltas[0] = append(want.deltas[0], "a2")
	wait(want)
	if !m.wm.IsZero() {
		t.Fatalf("watermark %v with source partition 1 unheard of in partials partition 2, want none", m.wm)
	}

	// Marks alone: one record, one batch, without deltas.
	markOnly := func(r *kgo.Record, wantWM time.Time, why string) {
		t.Helper()
		produceAll(t, ctx, prod, r)
		n := len(m.batches)
		receive(t, ctx, out, &m, func() bool { return len(m.batches) > n })
		if b := m.batches[n]; b.Partition != r.Partition || b.Partials == nil || len(b.Partials) > 0 || !b.Watermark.Equal(wantWM) {
			t.Fatalf("batch of partition %d, %d deltas, watermark %v; want partition %d, no deltas, watermark %v: %s",
				b.Partition, len(b.Partials), b.Watermark, r.Partition, wantWM, why)
		}
	}
	markOnly(y(2, 50), at(30), "partials partition 0's, the oldest of 30, 40 and 50")
	markOnly(y(0, 45), at(40), "partials partition 1's, the oldest of 45, 40 and 50")

	// Bad records: no kind, an unknown kind, a mark and a label that do
	// not decode.
	produceAll(t, ctx, prod, partial(2, "", []byte("x")), partial(2, "bogus", []byte("x")),
		partial(2, KindMark, []byte("not json")), partial(2, KindLabel, []byte(`{"model":"fraud"}`)), delta(2, "c1"))
	want.deltas[2] = append(want.deltas[2], "c1")
	wait(want)
	if !m.wm.Equal(at(40)) {
		t.Fatalf("watermark %v after bad records, want %v still", m.wm, at(40))
	}

	end := map[TopicPartition]int64{{mergeTopic, 0}: 7, {mergeTopic, 1}: 4, {mergeTopic, 2}: 8}
	until <- end
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	commit := func() map[int32]int64 {
		t.Helper()
		if err := src.cl.CommitMarkedOffsets(ctx); err != nil {
			t.Fatal(err)
		}
		return committed(t, adm, mergeGroup, mergeTopic)
	}
	if c := commit(); len(c) > 0 {
		t.Fatalf("committed %v before any batch was acknowledged", c)
	}
	m.ack(1)
	if c := commit(); c[1] != 4 || len(c) != 1 {
		t.Fatalf("committed %v after acknowledging partition 1's batches, want 1 at 4 only", c)
	}
	m.ack()
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c := committed(t, adm, mergeGroup, mergeTopic); c[0] != 7 || c[1] != 4 || c[2] != 8 {
		t.Fatalf("committed %v after every acknowledgement, want 0 at 7, 1 at 4, 2 at 8", c)
	}
	if c := src.Counts(); c.Deltas != 7 || c.Labels != 1 || c.Marks != 7 || c.PartialsBad != 4 || c.Records != 19 {
		t.Fatalf("counts %+v, want 7 deltas, 1 label, 7 marks, 4 bad, 19 records", c)
	}
}

// TestKafkaMergeReadCommitted: the merge reads committed transactions
// only, and a bounded run ends at the end offsets, past the commit markers,
// which the commit goes past too.
func TestKafkaMergeReadCommitted(t *testing.T) {
	addrs, _ := mergeBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	txn, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionalID("fold"))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	adm := kadm.NewClient(txn)
	write := func(commit kgo.TransactionEndTry, rs ...*kgo.Record) {
		t.Helper()
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := txn.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := txn.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	write(kgo.TryCommit, delta(0, "t1"), delta(1, "u1"), delta(2, "v1"), mark(t, 0, 1, 0, at), mark(t, 1, 1, 0, at), mark(t, 2, 1, 0, at))
	write(kgo.TryAbort, delta(0, "aborted"), mark(t, 0, 1, 0, at.Add(time.Hour)), mark(t, 1, 1, 0, at.Add(time.Hour)), mark(t, 2, 1, 0, at.Add(time.Hour)))
	write(kgo.TryCommit, delta(0, "t2"))
	ends, err := adm.ListEndOffsets(ctx, mergeTopic)
	if err != nil || ends.Error() != nil {
		t.Fatalf("end offsets: %v %v", err, ends.Error())
	}
	end := make(map[TopicPartition]int64)
	ends.Each(func(o kadm.ListedOffset) { end[TopicPartition{o.Topic, o.Partition}] = o.Offset })

	until := make(chan map[TopicPartition]int64, 1)
	until <- end
	src := newMergeSource(t, addrs, until)
	defer src.cl.Close()
	out := make(chan Batch, 16)
	runDone := make(chan error, 1)
	go func() { runDone <- src.Run(ctx, out) }()
	var m merged
	for b := range out {
		m.take(t, b)
	}
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	if want := map[int32][]string{0: {"t1", "t2"}, 1: {"u1"}, 2: {"v1"}}; !reflect.DeepEqual(m.deltas, want) {
		t.Fatalf("deltas %v, want %v: the committed transactions' only", m.deltas, want)
	}
	if !m.wm.Equal(at) {
		t.Fatalf("watermark %v, want %v: the aborted marks' must not count", m.wm, at)
	}
	// The first transaction's marks pass its deltas' windows, and the
	// watermark needs partition 2's. A poll's batches come in partition
	// order, and only its last batch of deltas may carry the watermark its
	// marks make, or the deltas of the partitions after it would be late:
	// every batch before partition 2's first carries none.
	for _, b := range m.batches {
		if b.Partition == 2 {
			break
		}
		if !b.Watermark.IsZero() {
			t.Fatalf("batch of partition %d with watermark %v before partition 2's deltas", b.Partition, b.Watermark)
		}
	}
	m.ack()
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got := committed(t, adm, mergeGroup, mergeTopic)
	for tp, o := range end {
		if got[tp.Partition] != o {
			t.Fatalf("committed %v, want the end offsets %v", got, end)
		}
	}
	if c := src.Counts(); c.Records != 7 || c.Deltas != 4 || c.Marks != 3 {
		t.Fatalf("counts %+v, want 7 records: 4 deltas, 3 marks", c)
	}
}

// TestKafkaMergeGroup: two sources in one merge group split the partials
// partitions, each reading its own from the committed offsets with the
// watermark of its own; when one leaves, the other resets and reads every
// partition again from the committed offsets, without the marks it had
// read of the others before they were taken from it.
func TestKafkaMergeGroup(t *testing.T) {
	addrs, prod := mergeBroker(t)
	adm := kadm.NewClient(prod)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	at := func(p int32) time.Time { return time.Date(2026, 12, 5, 10, 10*int(p), 0, 0, time.UTC) }
	all := []int32{0, 1, 2}
	for _, p := range all {
		produceAll(t, ctx, prod, delta(p, fmt.Sprint("d", p)), mark(t, p, 1, 0, at(p)), delta(p, fmt.Sprint("e", p)))
	}
	type member struct {
		src  *Kafka
		out  chan Batch
		done chan error
		stop context.CancelFunc
		m    merged
	}
	start := func() *member {
		mb := &member{src: newMergeSource(t, addrs, nil), out: make(chan Batch, 16), done: make(chan error, 1)}
		var runCtx context.Context
		runCtx, mb.stop = context.WithCancel(ctx)
		go func() { mb.done <- mb.src.Run(runCtx, mb.out) }()
		return mb
	}
	leave := func(mb *member) {
		t.Helper()
		mb.stop()
		for range mb.out {
		}
		if err := <-mb.done; err != nil {
			t.Error(err)
		}
		if err := mb.src.Close(ctx); err != nil {
			t.Error(err)
		}
	}
	// receiveBoth takes batches of both members until done holds.
	receiveBoth := func(a, b *member, done func() bool) {
		t.Helper()
		for !done() {
			select {
			case x := <-a.out:
				a.m.take(t, x)
			case x := <-b.out:
				b.m.take(t, x)
			case <-ctx.Done():
				t.Fatalf("a got %v (%d resets), b %v (%d resets): %v", a.m.deltas, a.m.resets, b.m.deltas, b.m.resets, ctx.Err())
			}
		}
	}
	owned := func(m *merged) []int32 { return slices.Sorted(maps.Keys(m.deltas)) }
	complete := func(m *merged, p int32) bool {
		return slices.Equal(m.deltas[p], []string{fmt.Sprint("d", p), fmt.Sprint("e", p)})
	}

	a := start()
	defer a.src.cl.Close()
	receive(t, ctx, a.out, &a.m, func() bool {
		return len(owned(&a.m)) == 3 && complete(&a.m, 0) && complete(&a.m, 1) && complete(&a.m, 2)
	})
	if !a.m.wm.Equal(at(0)) {
		t.Fatalf("a alone: watermark %v, want %v", a.m.wm, at(0))
	}

	// b joins: every partition is revoked from a, which acknowledged
	// nothing; each re-reads its share from the start.
	b := start()
	defer b.src.cl.Close()
	receiveBoth(a, b, func() bool {
		if len(a.m.deltas) == 0 || len(b.m.deltas) == 0 || len(a.m.deltas)+len(b.m.deltas) != 3 {
			return false
		}
		for _, p := range all {
			if complete(&a.m, p) == complete(&b.m, p) {
				return false
			}
		}
		return true
	})
	sa, sb := owned(&a.m), owned(&b.m)
	if !a.m.wm.Equal(at(sa[0])) || !b.m.wm.Equal(at(sb[0])) {
		t.Fatalf("a owns %v, watermark %v; b owns %v, watermark %v; want each its partitions' oldest", sa, a.m.wm, sb, b.m.wm)
	}
	if c := committed(t, adm, mergeGroup, mergeTopic); len(c) > 0 {
		t.Fatalf("committed %v before any acknowledgement", c)
	}

	// b acknowledges everything and leaves: its partitions are committed
	// at their ends; a takes them over after a Reset, re-reading its own
	// from the start, b's from the end.
	b.m.ack()
	leave(b)
	c := committed(t, adm, mergeGroup, mergeTopic)
	for _, p := range all {
		if want := int64(3 * btoi(slices.Contains(sb, p))); c[p] != want {
			t.Fatalf("committed %v after b (of %v) acknowledged and left, want %d for partition %d", c, sb, want, p)
		}
	}
	resets := a.m.resets
	for _, p := range all {
		produceAll(t, ctx, prod, delta(p, fmt.Sprint("f", p)))
	}
	want := make(map[int32][]string)
	for _, p := range all {
		want[p] = []string{fmt.Sprint("f", p)}
		if slices.Contains(sa, p) {
			want[p] = []string{fmt.Sprint("d", p), fmt.Sprint("e", p), fmt.Sprint("f", p)}
		}
	}
	receive(t, ctx, a.out, &a.m, func() bool { return a.m.resets > resets && reflect.DeepEqual(a.m.deltas, want) })
	if !a.m.wm.IsZero() {
		t.Fatalf("watermark %v with b's partitions %v read past their marks, want none until their next marks", a.m.wm, sb)
	}
	a.m.ack()
	leave(a)
	if c := committed(t, adm, mergeGroup, mergeTopic); c[0] != 4 || c[1] != 4 || c[2] != 4 {
		t.Fatalf("committed %v after a acknowledged everything, want every partition at 4", c)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestKafkaMergeConfig: the merge has no labels topic, dead letters or
// audit.
func TestKafkaMergeConfig(t *testing.T) {
	for _, cfg := range []KafkaConfig{
		{LabelsTopic: "l"}, {DeadLetterTopic: "p.dlq"}, {LabelsDeadLetterTopic: "l.dlq"},
		{Audit: func(DeadLetter, func(error)) {}},
	} {
		cfg.Topic, cfg.Group, cfg.Partials = mergeTopic, mergeGroup, true
		_, err := NewKafka(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg, kgo.SeedBrokers("127.0.0.1:1"))
		if err == nil || !strings.Contains(err.Error(), "dead-letter") {
			t.Errorf("config %+v: err %v, want a refusal", cfg, err)
		}
	}
}
