package clickhouse

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// TestIntegrationWindowVolumes: the record counts of the windows committed
// read back per model version, the newest write of a window counting, at
// most volumeWindows of the newest per model version.
func TestIntegrationWindowVolumes(t *testing.T) {
	cfg, _ := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	ctx := context.Background()
	h := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	commitWindows := func(ws ...sinks.WindowSummary) {
		t.Helper()
		a := s.Appender(ctx).(windowAppender)
		for _, w := range ws {
			if err := a.AppendWindow(w); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	var many []sinks.WindowSummary
	for i := range volumeWindows + 3 {
		many = append(many, sinks.WindowSummary{Model: "churn", Version: "2.0.1", Start: h.Add(time.Duration(i-volumeWindows) * time.Hour),
			End: h.Add(time.Duration(i-volumeWindows+1) * time.Hour), BaselineID: "b", Records: int64(i)})
	}
	commitWindows(many...)
	commitWindows(summaryOf(h, 4000), summaryOf(h.Add(time.Hour), 3990))
	commitWindows(summaryOf(h.Add(time.Hour), 12)) // written again: the newest counts
	got, err := s.LoadWindowVolumes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fraud := windows.Key{Model: "fraud", Version: "1.4.2"}
	var fraudGot []drift.WindowVolume
	var churn int
	for _, v := range got {
		switch v.Key.Model {
		case "fraud":
			fraudGot = append(fraudGot, v)
		case "churn":
			churn++
			if v.Records < 3 || v.End.Sub(v.Start) != time.Hour || v.Start.Location() != time.UTC {
				t.Errorf("churn window %+v: not among the newest %d", v, volumeWindows)
			}
		}
	}
	slices.SortFunc(fraudGot, func(a, b drift.WindowVolume) int { return a.Start.Compare(b.Start) })
	want := []drift.WindowVolume{{Key: fraud, Start: h, End: h.Add(time.Hour), Records: 4000}, {Key: fraud, Start: h.Add(time.Hour), End: h.Add(2 * time.Hour), Records: 12}}
	if !slices.Equal(fraudGot, want) || churn != volumeWindows {
		t.Errorf("fraud %+v, want %+v; %d churn windows, want %d", fraudGot, want, churn, volumeWindows)
	}
}
