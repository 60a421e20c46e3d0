package producer

import (
	"context"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/consumer"
)

// benchPrediction is a typical record: a dozen features of mixed kinds.
func benchPrediction() Prediction {
	p := sample("7d1e0c5a-61c4-4b43-9a55-5a8d3f0c2f10")
	for k, v := range map[string]any{"account_age_days": 412, "n_transactions_24h": 3, "hour_of_day": 14, "distance_km": 12.25,
		"merchant_risk": 0.31, "channel": "web", "device": "ios", "card_type": "visa"} {
		p.Features[k] = v
	}
	return p
}

// BenchmarkLogPrediction is the serving path's cost: encoding, the
// consumer's checks and the hand-over to the client, against an
// in-process broker. Records the buffer had no room for (the broker
// falling behind) are reported as drops/op; the drop path is cheaper.
func BenchmarkLogPrediction(b *testing.B) {
	c := fake(b)
	p, _ := start(b, c, Config{Buffer: 100_000})
	pr := benchPrediction()
	enc, _ := appendPrediction(nil, &pr, pr.Time)
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	drops := 0
	for b.Loop() {
		if err := p.LogPrediction(pr); err == ErrBufferFull {
			drops++
		} else if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(drops)/float64(b.N), "drops/op")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCheck is the part of LogPrediction before the client: encoding
// and the consumer's checks.
func BenchmarkCheck(b *testing.B) {
	pr := benchPrediction()
	enc, _ := appendPrediction(nil, &pr, pr.Time)
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf, _ = appendPrediction(buf[:0], &pr, pr.Time)
		if _, err := consumer.Check(buf, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCheckAllocs: encoding into a reused buffer and the consumer's
// checks allocate nothing; what LogPrediction allocates is the record it
// hands over (BenchmarkLogPrediction).
func TestCheckAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	pr := benchPrediction()
	var buf []byte
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = appendPrediction(buf[:0], &pr, pr.Time)
		if _, err := consumer.Check(buf, 0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per record, want 0", allocs)
	}
}
