package consumer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/baselines"
)

// idFolder is a Folder whose deltas are the prediction ids it folded, per
// model: what a test needs to see that every record reached exactly one
// committed delta.
type idFolder struct {
	mu  sync.Mutex
	ids map[string][]string
}

func (f *idFolder) Add(b Batch) {
	defer b.Rec.Release()
	ids := b.Rec.Column(ColPredictionID).(*array.String)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids == nil {
		f.ids = make(map[string][]string)
	}
	for i := range ids.Len() {
		f.ids[b.Model] = append(f.ids[b.Model], ids.Value(i))
	}
}

func (f *idFolder) Open() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ids)
}

func (f *idFolder) Flush() ([]Partial, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Partial
	for _, m := range slices.Sorted(func(yield func(string) bool) {
		for k := range f.ids {
			if !yield(k) {
				return
			}
		}
	}) {
		b, err := json.Marshal(f.ids[m])
		if err != nil {
			return nil, err
		}
		out = append(out, Partial{Model: m, Value: b})
	}
	clear(f.ids)
	return out, nil
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// committedPartials reads the partials topic as the merge does (committed
// transactions only): the ids in its deltas, the marks per partition and
// the labels.
func committedPartials(t *testing.T, addrs []string, topic string) (ids []string, marks map[int32][]Mark, labels int) {
	t.Helper()
	marks = make(map[int32][]Mark)
	eachCommitted(t, addrs, topic, func(r *kgo.Record) {
		switch kind := string(r.Headers[0].Value); kind {
		case KindDelta:
			var got []string
			if err := json.Unmarshal(r.Value, &got); err != nil {
				t.Fatal(err)
			}
			if p := PartialsPartition(string(r.Key), 3); p != r.Partition {
				t.Errorf("delta of %s in partition %d, want %d", r.Key, r.Partition, p)
			}
			ids = append(ids, got...)
		case KindMark:
			m, err := UnmarshalMark(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			marks[r.Partition] = append(marks[r.Partition], m)
		case KindLabel:
			labels++
		default:
			t.Errorf("record of kind %q", kind)
		}
	})
	return ids, marks, labels
}

// eachCommitted calls fn with every record of committed transactions (and
// outside them) in topic, as a read_committed consumer gets them within 2 s.
func eachCommitted(t *testing.T, addrs []string, topic string, fn func(*kgo.Record)) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fs.EachRecord(fn)
	}
}

// TestFoldExactlyOnceAcrossHandOver: two instances fold a 4-partition topic
// in one group, one of them leaves mid-stream with a transaction open
// (what it read since its last commit is aborted), and the committed
// deltas hold every good record exactly once; dead letters too; every
// partials partition gets marks of every source partition.
func TestFoldExactlyOnceAcrossHandOver(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "p"), kfake.SeedTopics(1, "p.dlq"), kfake.SeedTopics(1, "l"), kfake.SeedTopics(1, "l.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	addrs := cluster.ListenAddrs()
	prod, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	ctx := context.Background()
	if err := EnsurePartialsTopic(ctx, prod, "g", 3, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := EnsurePartialsTopic(ctx, prod, "g", 5, time.Hour); err != nil { // exists: left as it is
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var want []string
	produce := func(from, to int) {
		for i := from; i < to; i++ {
			id := fmt.Sprintf("r%04d", i)
			v := line(id, "fraud", ts.Add(time.Duration(i)*time.Second), float64(i), "DE")
			if i%50 == 7 {
				v = `{"broken"` // a dead letter
			} else {
				want = append(want, id)
			}
			if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "p", Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		label := fmt.Sprintf(`{"prediction_id":"r%04d","model":"fraud","timestamp":"2026-11-20T12:00:00Z","label":1}`, from)
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "l", Value: []byte(label)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func(name string) (*Fold, func() error) {
		f, err := NewFold(memory.DefaultAllocator, log, FoldConfig{
			Topic: "p", DeadLetterTopic: "p.dlq", LabelsTopic: "l", Group: "g", MaxPollRecords: 25, FlushInterval: 20 * time.Millisecond,
			Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, TransactionalID: "g-fold-" + name,
		}, &idFolder{}, kgo.SeedBrokers(addrs...))
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- f.Run(runCtx) }()
		return f, func() error {
			cancel()
			err := <-done
			f.Close()
			return err
		}
	}
	a, stopA := start("a")
	produce(0, 300)
	waitFor(t, "a's first commit", func() bool { return a.Counts().Commits > 0 })
	b, stopB := start("b")
	produce(300, 600)
	waitFor(t, "b's first commit", func() bool { return b.Counts().Commits > 0 })
	if err := stopA(); err != nil { // mid-stream: what a read since its last commit is aborted
		t.Fatal(err)
	}
	produce(600, 900)
	waitFor(t, "b to read everything", func() bool {
		c := b.Counts()
		return c.Commits > 0 && c.Records+a.Counts().Records >= 900 // read, not yet necessarily committed
	})
	// b commits what it read: wait until the committed deltas hold every
	// record, then check none is there twice.
	var ids []string
	var marks map[int32][]Mark
	var labels int
	waitFor(t, "every record in a committed delta", func() bool {
		ids, marks, labels = committedPartials(t, addrs, PartialsTopic("g"))
		return len(ids) >= len(want)
	})
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, want) {
		t.Errorf("committed deltas hold %d ids, want each of %d once", len(ids), len(want))
		for i := 1; i < len(ids); i++ {
			if ids[i] == ids[i-1] {
				t.Errorf("%s twice", ids[i])
				break
			}
		}
	}
	if a.Counts().Aborts == 0 {
		t.Error("no transaction of a aborted: b's arrival did not revoke any of its partitions")
	}
	if labels != 3 {
		t.Errorf("%d labels forwarded, want 3", labels)
	}
	for p := range int32(3) {
		seen := make(map[int32]bool)
		for _, m := range marks[p] {
			if m.Topic != "p" || m.Partitions != 4 {
				t.Fatalf("mark %+v", m)
			}
			for _, c := range m.Clocks {
				seen[c.Partition] = true
			}
		}
		if len(seen) != 4 {
			t.Errorf("partials partition %d has marks of source partitions %v, want all 4", p, seen)
		}
	}
	dl := 0
	eachCommitted(t, addrs, "p.dlq", func(*kgo.Record) { dl++ })
	if dl != 18 {
		t.Errorf("%d dead letters committed, want 18", dl)
	}
}

// TestFoldWaitsForAudits: a transaction with a dead letter commits only
// once the dead letter is audited, and Run still returns when it is
// stopped with an audit that never ends.
func TestFoldWaitsForAudits(t *testing.T) {
	addrs, prod := startBroker(t)
	ctx := context.Background()
	if err := EnsurePartialsTopic(ctx, prod, "g", 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for _, v := range []string{`{"broken"`, line("a", "fraud", ts, 1.0, "DE")} {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "p", Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	audited := make(chan func(error), 1)
	run := func(group string) (*Fold, context.CancelFunc, chan error) {
		f, err := NewFold(memory.DefaultAllocator, slog.New(slog.NewTextHandler(io.Discard, nil)), FoldConfig{
			Topic: "p", DeadLetterTopic: "p.dlq", Group: group, FlushInterval: 10 * time.Millisecond,
			Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()},
			Audit:     func(_ DeadLetter, done func(error)) { audited <- done },
		}, &idFolder{}, kgo.SeedBrokers(addrs...))
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- f.Run(runCtx) }()
		return f, cancel, done
	}
	committedAt := func() int64 {
		offs, err := kadm.NewClient(prod).FetchOffsets(ctx, "g")
		if err != nil {
			t.Fatal(err)
		}
		o, _ := offs.Lookup("p", 0)
		return o.At
	}
	f, stop, done := run("g")
	finish := <-audited
	// The fold flushes every 10 ms; with both records read, its next
	// commit must wait for the audit.
	waitFor(t, "both records read", func() bool { return f.Counts().Records == 2 })
	if at := committedAt(); at > 0 {
		t.Fatalf("offset %d committed before the dead letter was audited", at)
	}
	finish(nil)
	waitFor(t, "the offsets committed once audited", func() bool { return committedAt() == 2 })
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.Close()

	// A fold stopped while an audit never ends returns all the same.
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "p", Value: []byte(`{"broken"`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	f, stop, done = run("g")
	<-audited
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.Close()
	if at := committedAt(); at != 2 {
		t.Errorf("committed at %d, want 2: the unaudited dead letter's offset stays uncommitted", at)
	}
}
