package alertmanager

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkPostBatch100 posts one batch of 100 firing alerts (the labels
// and annotations of a drift alert each) to an httptest server that
// discards it: encoding, the request and the response, per batch.
func BenchmarkPostBatch100(b *testing.B) {
	srv := startServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}), "127.0.0.1:0")
	c := mustNew(b, Config{URLs: []string{srv.URL}, HTTPClient: realHTTPClient(b)})
	s := c.senders[0]
	now := time.Now()
	items := make([]item, 100)
	for i := range items {
		a := alert("FeatureDrift", fmt.Sprintf("SEV-%d", 1+i%4), fmt.Sprintf("feature_%03d", i))
		a.StartsAt = now
		items[i] = item{e: &entry{fp: fingerprint(a.Labels), alert: a}}
	}
	ctx := context.Background()
	if err := s.post(ctx, items); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(s.buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.post(ctx, items); err != nil {
			b.Fatal(err)
		}
	}
}
