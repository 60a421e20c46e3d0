package actions

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const topic = "driftwatch.actions"

// startBroker starts an embedded broker with the actions topic (one
// partition) and a producer client with opts; both stop when the test
// ends.
func startBroker(t *testing.T, opts ...kgo.Opt) ([]string, *kgo.Client) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	addrs := cluster.ListenAddrs()
	prod, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addrs...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	return addrs, prod
}

// consume reads n records from the start of the actions topic.
func consume(t *testing.T, addrs []string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d records of %d: %v", len(out), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// TestKafka: an action reaches the topic as a record keyed by model and
// version, with the body and the kind and id in headers, while the webhook
// beside it fails: a destination that is down delays no other.
func TestKafka(t *testing.T) {
	addrs, prod := startBroker(t)
	rcv := newReceiver(func(int) int { return http.StatusServiceUnavailable })
	srv := serve(t, rcv)
	clk := newClock(t0.Add(time.Hour + 1500*time.Millisecond))
	ds := newDeliveries()
	d := mustNew(t, Config{
		WebhookURL: srv.URL, Secret: testSecret, HTTPClient: httpClient(t), Topic: topic, Client: prod, Now: clk.Now,
		RetryInitial: time.Millisecond, RetryMax: 10 * time.Millisecond, FlushTimeout: 50 * time.Millisecond, OnDelivery: ds.add,
	})
	a := action(KindRollback, "fraud", "3")
	d.Trigger(a)
	stop := start(t, d)
	ds.waitFor(t, "the record", func(ds []Delivery) bool {
		for _, x := range ds {
			if x.Destination == topic && x.Err == nil {
				return true
			}
		}
		return false
	})
	ds.waitFor(t, "webhook failures", func([]Delivery) bool { return d.Stats().Destinations[0].Failed >= 2 })
	err := stop()
	if err == nil || !strings.Contains(err.Error(), "flush actions to "+srv.URL+": 1 not delivered") {
		t.Errorf("Run: %v, want the webhook's action dropped", err)
	}

	recs := consume(t, addrs, 1)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	a.At = clk.Now()
	want, err := a.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Key) != "fraud/3" || string(r.Value) != string(want) || !r.Timestamp.Equal(a.At) {
		t.Errorf("record key %q, timestamp %v, value\n%s\nwant key fraud/3, timestamp %v, value\n%s", r.Key, r.Timestamp, r.Value, a.At, want)
	}
	headers := map[string]string{}
	for _, h := range r.Headers {
		headers[h.Key] = string(h.Value)
	}
	if len(headers) != 2 || headers["driftwatch.action"] != "rollback" || headers["driftwatch.id"] != "rollback/fraud/3/2026-11-23T12:00:00Z" {
		t.Errorf("headers %v", headers)
	}
	// The webhook got the same body.
	if reqs := rcv.requests(); len(reqs) == 0 || string(reqs[0].Body) != string(want) {
		t.Errorf("webhook body differs from the record's")
	}

	st := d.Stats()
	if hook, kafka := st.Destinations[0], st.Destinations[1]; kafka != (DestinationStats{Destination: topic, Delivered: 1}) ||
		hook.Destination != srv.URL || hook.Delivered != 0 || hook.Dropped != 1 || hook.Failed < 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestKafkaPermanent: a record the client can never produce is dropped
// after one attempt.
func TestKafkaPermanent(t *testing.T) {
	cases := []struct {
		name   string
		opts   []kgo.Opt
		closed bool
		want   error
	}{
		{"too large", []kgo.Opt{kgo.ProducerBatchMaxBytes(512)}, false, kerr.MessageTooLarge},
		{"client closed", nil, true, kgo.ErrClientClosed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, prod := startBroker(t, c.opts...)
			if c.closed {
				prod.Close()
			}
			ds := newDeliveries()
			d := mustNew(t, Config{Topic: topic, Client: prod, RetryInitial: time.Millisecond, RetryMax: time.Millisecond, OnDelivery: ds.add})
			d.Trigger(action(KindRetrain, "fraud", "3"))
			start(t, d)
			ds.waitFor(t, "the drop", func(ds []Delivery) bool { return len(ds) > 0 })
			got := ds.all()[0]
			if !got.Dropped || got.Attempt != 1 || !errors.Is(got.Err, c.want) || !strings.Contains(got.Err.Error(), "produce action retrain/fraud/3/2026-11-23T12:00:00Z to driftwatch.actions") {
				t.Errorf("delivery %+v, want a drop for %v", got, c.want)
			}
			if tot := d.Stats().Total(); tot != (DestinationStats{Failed: 1, Dropped: 1}) {
				t.Errorf("stats %+v", tot)
			}
		})
	}
}
