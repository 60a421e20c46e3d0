package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/sinks"
)

// TestIntegrationSilences: a silence written is read back while it lasts;
// written again with an earlier end (expired), its newest state counts.
func TestIntegrationSilences(t *testing.T) {
	cfg, _ := freshDatabase(t)
	s := openSink(t, cfg)
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	x := sinks.Silence{ID: "s1", Matchers: map[string]string{"model": "fraud", "subject": "amount"}, StartsAt: now, EndsAt: now.Add(2 * time.Hour),
		CreatedBy: "ops", Comment: "retraining", UpdatedAt: now}
	other := sinks.Silence{ID: "s2", Matchers: map[string]string{"model": "churn"}, StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "ops", UpdatedAt: now}
	for _, w := range []sinks.Silence{x, other} {
		if err := s.WriteSilence(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.LoadSilences(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].ID != "s1" || got[1].Matchers["subject"] != "amount" || !got[1].EndsAt.Equal(x.EndsAt) || got[1].Comment != "retraining" || !got[1].UpdatedAt.Equal(now) {
		t.Fatalf("silences %+v", got)
	}
	expired := x
	expired.EndsAt, expired.UpdatedAt = now.Add(10*time.Minute), now.Add(10*time.Minute)
	if err := s.WriteSilence(ctx, expired); err != nil {
		t.Fatal(err)
	}
	if got, err = s.LoadSilences(ctx, now.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "s2" {
		t.Fatalf("after s1 expired at +10m, at +30m: %+v, want s2 only", got)
	}
}

// TestIntegrationAPIWrites: the API's audit trail reads back newest first,
// from a time on.
func TestIntegrationAPIWrites(t *testing.T) {
	cfg, _ := freshDatabase(t)
	s := openSink(t, cfg)
	ctx := context.Background()
	at := time.Date(2026, 12, 5, 12, 0, 0, 123456789, time.UTC)
	writes := []sinks.APIWrite{
		{At: at, Who: "ops", Role: "operator", Action: "promote_baseline", Target: "fraud-1", Detail: `{"model":"fraud"}`},
		{At: at.Add(time.Millisecond), Who: "ops", Role: "operator", Action: "create_silence", Target: "s1"},
		{At: at.Add(time.Hour), Who: "admin", Role: "admin", Action: "expire_silence", Target: "s1"},
	}
	for _, w := range writes {
		if err := s.WriteAPIWrite(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.APIWrites(ctx, at.Add(time.Millisecond), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != writes[2] || got[1] != writes[1] {
		t.Fatalf("writes since the second: %+v", got)
	}
	if got, err = s.APIWrites(ctx, at, 1); err != nil || len(got) != 1 || got[0].Action != "expire_silence" {
		t.Fatalf("limit 1: %+v, %v", got, err)
	}
}
