package cli

import (
	"context"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/internal/synth"
)

// freeAddr returns a loopback address nothing listens on (one that did a
// moment ago): for a server a test starts, or for a peer that refuses.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// embeddedBroker starts an in-process broker with the topics predictions
// (2 partitions) and predictions.dlq, and a producer on it; both end with
// the test.
func embeddedBroker(t *testing.T) (addr string, prod *kgo.Client) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "predictions"), kfake.SeedTopics(1, "predictions.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	prod, err = kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	return cluster.ListenAddrs()[0], prod
}

// produceWindows sends scen's records of the given windows (every window
// when none is given) to predictions, and returns the results.
func produceWindows(t *testing.T, prod *kgo.Client, scen synth.Config, windows ...int) kgo.ProduceResults {
	t.Helper()
	var recs []*kgo.Record
	if err := scen.Generate(func(m synth.Message) error {
		for _, w := range windows {
			if m.Window == w {
				recs = append(recs, &kgo.Record{Topic: "predictions", Key: m.Key, Value: m.Value})
				return nil
			}
		}
		if len(windows) == 0 {
			recs = append(recs, &kgo.Record{Topic: "predictions", Key: m.Key, Value: m.Value})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	res := prod.ProduceSync(context.Background(), recs...)
	if err := res.FirstErr(); err != nil {
		t.Fatal(err)
	}
	return res
}
