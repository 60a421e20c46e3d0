package cli

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestSampleTopicsLagAndSize(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	for i := range 10 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Partition: int32(i % 2), Value: []byte("0123456789")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := kadm.NewClient(cl)
	offsets := make(kadm.Offsets)
	offsets.Add(kadm.Offset{Topic: "t", Partition: 0, At: 4, LeaderEpoch: -1})
	offsets.Add(kadm.Offset{Topic: "t", Partition: 1, At: 1, LeaderEpoch: -1})
	if _, err := adm.CommitOffsets(ctx, "g", offsets); err != nil {
		t.Fatal(err)
	}
	g := newTopicGauges(prometheus.NewRegistry())
	if err := sampleTopics(ctx, adm, []watchedTopic{{"g", "t"}}, g); err != nil {
		t.Fatal(err)
	}
	if lag := testutil.ToFloat64(g.lag.WithLabelValues("g", "t")); lag != 1+4 {
		t.Errorf("lag %v, want 5 (5-4 and 5-1)", lag)
	}
	for p, want := range map[string]float64{"0": 1, "1": 4} {
		if lag := testutil.ToFloat64(g.partitionLag.WithLabelValues("g", "t", p)); lag != want {
			t.Errorf("partition %s lag %v, want %v", p, lag, want)
		}
	}
	if size := testutil.ToFloat64(g.size.WithLabelValues("t")); size < 100 {
		t.Errorf("size %v bytes, want at least the 100 bytes of values", size)
	}
}
