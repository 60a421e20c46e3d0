package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/internal/synth"
)

// TestOutliersAheadKeepWindowsOpen backfills 100,000 records of ten hourly
// windows, with ten good records stamped 14 hours ahead of the data
// produced right after the first window, spread over every partition, as
// a clock-skewed producer would send them. The watermark must not follow
// them: every data window holds every one of its records (window_summaries
// counts them all, no late_records row), ClickHouse matches replay, and the
// ten records are windowed in their own future windows, which close once
// enough later records (closersPerPartition per partition, 15 h ahead)
// move the watermark past them.
func TestOutliersAheadKeepWindowsOpen(t *testing.T) {
	r := newRigWith(t, "", func(s *synth.Config) { s.RecordsPerWindow = 5000 })
	const nOutliers, ahead = 10, 14 * time.Hour
	ahead1 := r.scen
	ahead1.Seed += 7
	ahead1.Start, ahead1.Windows, ahead1.RecordsPerWindow, ahead1.BadRate, ahead1.DuplicateRate = r.scen.Start.Add(ahead), 1, 50, 0, 0
	for i := range ahead1.Models {
		ahead1.Models[i].Drifts = nil
	}
	var outliers []synth.Message
	if err := ahead1.Generate(func(m synth.Message) error {
		if len(outliers) < nOutliers && !m.Label {
			m.Window = -1 // in no data window: r.produce leaves them out
			outliers = append(outliers, m)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Replay reads them where the broker has them: after window 0.
	at := slices.IndexFunc(r.msgs, func(m synth.Message) bool { return m.Window == 1 })
	r.msgs = slices.Insert(r.msgs, at, outliers...)

	r.produce(0)
	var recs []*kgo.Record
	for i, m := range outliers {
		recs = append(recs, &kgo.Record{Topic: r.topic, Partition: int32(i % faultPartitions), Key: m.Key, Value: m.Value,
			Context: context.WithValue(context.Background(), msgKey{}, i)})
	}
	if err := r.send(r.manual, recs, outliers); err != nil {
		t.Fatal(err)
	}
	r.produce(seq(r.scen.Windows)[1:]...)
	r.produceClosers()

	d := r.start()
	data := map[windowID]bool{}
	for _, m := range r.msgs {
		if !m.Bad && !m.Label && m.Window >= 0 {
			data[windowID{m.Model, r.version(m.Model), m.Time.Truncate(r.scen.Window)}] = true
		}
	}
	r.waitSummaries(d, data)
	r.waitDeadLetters(d)

	// Records of the hour after the outliers' close their windows.
	later := r.scen
	later.Seed += 8
	later.Start, later.Windows, later.RecordsPerWindow, later.BadRate, later.DuplicateRate = r.scen.Start.Add(ahead+r.scen.Window), 1, 400, 0, 0
	var closers []synth.Message
	if err := later.Generate(func(m synth.Message) error {
		if len(closers) < faultPartitions*closersPerPartition && !m.Label && !m.Time.Before(later.Start.Add(faultLateness+time.Minute)) {
			closers = append(closers, m)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	recs = nil
	for i, m := range closers {
		recs = append(recs, &kgo.Record{Topic: r.topic, Partition: int32(i % faultPartitions), Key: m.Key, Value: m.Value,
			Context: context.WithValue(context.Background(), msgKey{}, i)})
	}
	if err := r.send(r.manual, recs, closers); err != nil {
		t.Fatal(err)
	}
	future := map[windowID]bool{}
	for _, m := range outliers {
		future[windowID{m.Model, r.version(m.Model), m.Time.Truncate(r.scen.Window)}] = true
	}
	r.waitSummaries(d, future)
	r.stop(d)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var late uint64
	if err := r.ch.QueryRow(ctx, "SELECT count() FROM drift_metrics FINAL WHERE metric = 'late_records'").Scan(&late); err != nil {
		t.Fatal(err)
	}
	if late != 0 {
		t.Errorf("%d late_records rows: the records ahead closed windows before their records arrived", late)
	}
	var ahead2 int64
	if err := r.ch.QueryRow(ctx, "SELECT sum(records) FROM window_summaries FINAL WHERE window_start >= ? AND window_start < ?",
		r.scen.Start.Add(ahead), later.Start).Scan(&ahead2); err != nil {
		t.Fatal(err)
	}
	if ahead2 != nOutliers {
		t.Errorf("the records ahead's windows hold %d records, want %d", ahead2, nOutliers)
	}
	r.mustCheckCommitted()
	r.verify()
}

// waitSummaries waits until window_summaries holds every window of want.
func (r *rig) waitSummaries(d *daemon, want map[windowID]bool) {
	r.t.Helper()
	deadline := time.Now().Add(faultTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got := 0
		rows, err := r.ch.Query(ctx, "SELECT DISTINCT model, model_version, window_start FROM window_summaries")
		if err == nil {
			for rows.Next() {
				var w windowID
				if err = rows.Scan(&w.model, &w.version, &w.start); err != nil {
					break
				}
				w.start = w.start.UTC()
				if want[w] {
					got++
				}
			}
			rows.Close()
		}
		cancel()
		if got == len(want) {
			return
		}
		if d.exited() {
			r.t.Fatalf("driftwatch exited (%v) with %d of %d windows summarized; log:\n%s", d.err, got, len(want), r.logTail())
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d of %d windows summarized after %s (%v); log:\n%s", got, len(want), faultTimeout, err, r.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
