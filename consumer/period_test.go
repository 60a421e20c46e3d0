package consumer

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReadPeriod reads, per partition, from the first record at the period's
// start to the first one past its end plus the grace, and nothing of
// another topic or produced after it began.
func TestReadPeriod(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "preds"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	opts := []kgo.Opt{kgo.SeedBrokers(cluster.ListenAddrs()...)}
	prod, err := kgo.NewClient(append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var recs []*kgo.Record
	for p := range int32(2) {
		for i := range 60 {
			recs = append(recs, &kgo.Record{Topic: "preds", Partition: p, Timestamp: t0.Add(time.Duration(i) * time.Minute), Value: fmt.Appendf(nil, "%d-%d", p, i)})
		}
	}
	if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var got []string
	err = ReadPeriod(context.Background(), opts, "preds", t0.Add(10*time.Minute), t0.Add(20*time.Minute), 5*time.Minute, func(v []byte) error {
		got = append(got, string(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for p := range 2 {
		for i := 10; i < 25; i++ {
			want = append(want, fmt.Sprintf("%d-%d", p, i))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("read %d records %v, want %d %v", len(got), got, len(want), want)
	}
	// A period at the end of the topic stops at the end offsets it found.
	got = nil
	if err := ReadPeriod(context.Background(), opts, "preds", t0.Add(55*time.Minute), t0.Add(2*time.Hour), 0, func(v []byte) error {
		got = append(got, string(v))
		return nil
	}); err != nil || len(got) != 10 {
		t.Fatalf("the last 5 minutes: %d records (%v), want 10", len(got), err)
	}
	if err := ReadPeriod(context.Background(), opts, "nosuch", t0, t0.Add(time.Hour), 0, func([]byte) error { return nil }); err == nil {
		t.Error("no error for a topic that does not exist")
	}
	if err := ReadPeriod(context.Background(), opts, "preds", t0, t0, 0, func([]byte) error { return nil }); err == nil {
		t.Error("no error for an empty period")
	}
}
