package clickhouse

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/stats/perf"
	"github.com/driftwatch/driftwatch/windows"
)

// Integration tests of the late-label join's tables (labeljoin.go); see
// integration_test.go for the server they need.

// joinAppender is the appender as internal/pipeline asserts it.
type joinAppender interface {
	windowAppender
	AppendPredictionKeys([]windows.PredictionKey) error
	AppendLabels([]consumer.Label) error
}

// commitJoin commits rows, window summaries, prediction keys and labels in
// one Commit.
func commitJoin(t *testing.T, s *Sink, rows []drift.Row, ws []sinks.WindowSummary, keys []windows.PredictionKey, labels []consumer.Label) {
	t.Helper()
	a, ok := s.Appender(context.Background()).(joinAppender)
	if !ok {
		t.Fatal("the appender has no AppendPredictionKeys or AppendLabels")
	}
	if err := a.Append(rows...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	for _, w := range ws {
		if err := a.AppendWindow(w); err != nil {
			t.Fatalf("AppendWindow: %v", err)
		}
	}
	if err := a.AppendPredictionKeys(keys); err != nil {
		t.Fatalf("AppendPredictionKeys: %v", err)
	}
	if err := a.AppendLabels(labels); err != nil {
		t.Fatalf("AppendLabels: %v", err)
	}
	if err := a.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// testBase is a label base of model 1.4.2's window from start, for
// baseline b (only its ID is encoded), with every part MarshalLabelBase
// keeps set.
func testBase(model string, start time.Time, b *baselines.Baseline, records int64) *windows.Window {
	w := &windows.Window{Key: windows.Key{Model: model, Version: "1.4.2"}, Start: start, End: start.Add(time.Hour),
		Baseline: b, Records: records, Decided: records - 1, Selected: 7, MaxCategories: 64}
	w.Labels = windows.Feature{Count: 12, Nulls: 1, Categories: map[string]int64{"0": 9, "1": 3}}
	w.Outcomes = perf.Confusion{TP: 2, FP: 1, TN: 8, FN: 1}
	w.ErrN = 3
	for _, x := range []float64{0.25, 1e-17, 0.5} {
		w.ErrAbs.Add(x)
		w.ErrSq.Add(x * x)
	}
	w.Groups = map[string]map[string]*windows.Group{
		"gender": {"f": {Decisions: perf.Confusion{TP: 1, TN: 2}, Outcomes: perf.Confusion{TP: 1}}, "m": {Decisions: perf.Confusion{FP: 1}}},
	}
	w.Champion = "champion"
	w.Variants = map[string]*windows.Variant{
		"champion": {Outcomes: perf.Confusion{TP: 1, TN: 5}, ErrN: 1},
		"shadow":   {Outcomes: perf.Confusion{TP: 1, FN: 5}, Paired: windows.PairOutcomes{BothRight: 1, ChampionOnly: 4, ErrN: 2}},
	}
	w.Variants["champion"].ErrAbs.Add(0.25)
	w.Variants["shadow"].Paired.ErrDiff.Add(-0.125)
	return w
}

// summaryWithBase is the WindowSummary of base's window, carrying base.
func summaryWithBase(t *testing.T, base *windows.Window) sinks.WindowSummary {
	t.Helper()
	state, err := base.MarshalLabelBase()
	if err != nil {
		t.Fatal(err)
	}
	return sinks.WindowSummary{Model: base.Model, Version: base.Version, Start: base.Start, End: base.End,
		BaselineID: base.Baseline.ID, Records: base.Records, LabelState: state}
}

// decodedBase is what UnmarshalLabelBase makes of base's encoding.
func decodedBase(t *testing.T, base *windows.Window, resolve func(model, id string) *baselines.Baseline) *windows.Window {
	t.Helper()
	state, err := base.MarshalLabelBase()
	if err != nil {
		t.Fatal(err)
	}
	w, err := windows.UnmarshalLabelBase(state, resolve)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func sortKeys(ks []windows.PredictionKey) {
	slices.SortFunc(ks, func(a, b windows.PredictionKey) int {
		return cmp.Or(cmp.Compare(a.Model, b.Model), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Variant, b.Variant))
	})
}

func sortLabels(ls []consumer.Label) {
	slices.SortFunc(ls, func(a, b consumer.Label) int {
		return cmp.Or(cmp.Compare(a.Model, b.Model), cmp.Compare(a.PredictionID, b.PredictionID), a.Time.Compare(b.Time))
	})
}

// equalKey compares keys bit for bit (a NaN prediction equals itself only
// with the same payload; 0 and -0 differ).
func equalKey(a, b windows.PredictionKey) bool {
	pa, pb := a.Prediction, b.Prediction
	a.Prediction, b.Prediction = 0, 0
	return a == b && math.Float64bits(pa) == math.Float64bits(pb)
}

func fmtKeys(ks []windows.PredictionKey) string {
	var out []string
	for _, k := range ks {
		out = append(out, fmt.Sprintf("{%s %s %d t=%d p=%#x %t %t %t %q %q}", k.Model, k.Version, k.ID, k.Time, math.Float64bits(k.Prediction), k.Decided, k.Selected, k.Inline, k.Segments, k.Variant))
	}
	return fmt.Sprint(out)
}

// equalLabel compares labels with their times in UTC to the millisecond,
// on every server (label delays are figured from them).
func equalLabel(got, want consumer.Label) bool {
	return got.Model == want.Model && got.PredictionID == want.PredictionID && got.Value == want.Value &&
		got.Time.Equal(want.Time.Truncate(time.Millisecond)) && got.Time.Location() == time.UTC
}

// TestIntegrationLabelJoin writes what the late-label join keeps in
// several commits (rows with summaries, keys and labels; an identical
// retry; keys alone; labels alone; a summary alone) with merges stopped,
// and reads it back: the newest version of each key, exactly (a NaN
// prediction bit for bit, times to the millisecond), only what is within
// the horizon of the newest window, and without the windows whose
// baseline is unknown (counted) or that have no label base (not counted).
func TestIntegrationLabelJoin(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	ctx := context.Background()
	for _, table := range []string{"window_summaries", "prediction_keys", "labels"} {
		if err := conn.Exec(ctx, "SYSTEM STOP MERGES "+table); err != nil {
			t.Fatal(err)
		}
	}
	b := testBaseline(t)
	resolve := func(model, id string) *baselines.Baseline {
		if id == b.ID {
			return b
		}
		return nil
	}
	gone := &baselines.Baseline{ID: "churn-gone"}

	h := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	const horizon = 24 * time.Hour
	cutoff := h.Add(2 * time.Hour).Add(-horizon) // the newest window ends at h+2h
	var (
		old      = testBase("fraud", h.Add(-26*time.Hour), b, 100) // ends before the cutoff
		atCutoff = testBase("fraud", cutoff.Add(-time.Hour), b, 101)
		after    = testBase("fraud", cutoff, b, 102)
		w1       = testBase("fraud", h, b, 4000)
		w2       = testBase("fraud", h.Add(time.Hour), b, 3900)
		unknown  = testBase("churn", h, gone, 50)
	)
	plain := summaryOf(h, 10) // labels not joined: no label base
	plain.Version = "1.5.0"
	summaries := []sinks.WindowSummary{summaryWithBase(t, old), summaryWithBase(t, atCutoff), summaryWithBase(t, after),
		summaryWithBase(t, w1), summaryWithBase(t, w2), summaryWithBase(t, unknown), plain}

	nan := math.Float64frombits(0x7ff8_0000_0000_0abc) // a NaN with a payload
	keys := []windows.PredictionKey{
		{Model: "fraud", Version: "1.4.2", ID: 1, Time: cutoff.UnixMilli(), Prediction: 0.25, Decided: true},
		{Model: "fraud", Version: "1.4.2", ID: 2, Time: cutoff.UnixMilli() - 1, Prediction: 0.5, Decided: true}, // before the cutoff
		{Model: "fraud", Version: "1.4.2", ID: math.MaxUint64, Time: h.Add(90*time.Minute + 123*time.Millisecond).UnixMilli(),
			Prediction: nan, Decided: true, Segments: "age_band=30-39,gender=f"},
		{Model: "churn", Version: "2.0.1", ID: 4, Time: h.Add(5 * time.Millisecond).UnixMilli(), Prediction: 0.87,
			Decided: true, Selected: true, Inline: true},
		{Model: "fraud", Version: "1.4.2", ID: 5, Time: h.Add(time.Hour + 999*time.Millisecond).UnixMilli(), Prediction: math.Copysign(0, -1)},
		// The shadow's record of key 1's prediction id: a key of its own.
		{Model: "fraud", Version: "1.4.2", ID: 1, Time: cutoff.UnixMilli() + 3, Prediction: 0.75, Decided: true, Selected: true, Variant: "shadow"},
	}
	labels := []consumer.Label{
		{PredictionID: "p-1", Model: "fraud", Time: cutoff, Value: consumer.Value{Kind: consumer.Number, Num: 1}},
		{PredictionID: "p-2", Model: "fraud", Time: cutoff.Add(-time.Millisecond), Value: consumer.Value{Kind: consumer.Number, Num: 0}}, // before the cutoff
		{PredictionID: "p-3", Model: "fraud", Time: h.Add(time.Hour + 250*time.Millisecond).In(time.FixedZone("CET", 3600)),
			Value: consumer.Value{Kind: consumer.String, Str: "fraud"}},
		{PredictionID: "p-4", Model: "fraud", Time: h.Add(3 * time.Hour), Value: consumer.Value{Kind: consumer.Bool, Num: 0, Str: "false"}},
		{PredictionID: "7d1e0c5a-61c4", Model: "churn", Time: h.Add(17 * time.Millisecond), Value: consumer.Value{Kind: consumer.Number, Num: 0.1}},
	}

	commitJoin(t, s, testRows(h, 0.25), summaries, keys, labels)
	commitJoin(t, s, testRows(h, 0.25), summaries, keys, labels) // an identical retry

	// Keys alone: one changed, one new.
	keys2 := []windows.PredictionKey{keys[2], {Model: "fraud", Version: "1.4.2", ID: 6, Time: h.UnixMilli(), Prediction: 0.1, Decided: true}}
	keys2[0].Selected = true
	commitJoin(t, s, nil, nil, keys2, nil)
	// Labels alone: a corrected label (same month of label time).
	labels2 := []consumer.Label{labels[2]}
	labels2[0].Time, labels2[0].Value = labels2[0].Time.Add(250*time.Millisecond), consumer.Value{Kind: consumer.String, Str: "legit"}
	commitJoin(t, s, nil, nil, nil, labels2)
	// A summary alone: w2 written again with another label base.
	w2again := testBase("fraud", w2.Start, b, 3950)
	w2again.Outcomes.TP = 5
	commitJoin(t, s, nil, []sinks.WindowSummary{summaryWithBase(t, w2again)}, nil, nil)

	stored := map[string]uint64{"window_summaries": 2*7 + 1, "prediction_keys": 2*6 + 2, "labels": 2*5 + 1}
	if s.Features().InsertDedupToken {
		stored = map[string]uint64{"window_summaries": 7 + 1, "prediction_keys": 6 + 2, "labels": 5 + 1}
	}
	final := map[string]uint64{"window_summaries": 7, "prediction_keys": 7, "labels": 5}
	for table, n := range stored {
		if got := count(t, conn, "SELECT count() FROM "+table); got != n {
			t.Errorf("%s stores %d rows before merges, want %d", table, got, n)
		}
		if got := count(t, conn, "SELECT count() FROM "+table+" FINAL"); got != final[table] {
			t.Errorf("%s FINAL reads %d rows, want %d", table, got, final[table])
		}
	}

	st, skipped, err := s.LoadLabelJoin(ctx, horizon, resolve)
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 1 {
		t.Errorf("skipped %d label bases, want 1 (the window whose baseline is unknown)", skipped)
	}

	slices.SortFunc(st.Bases, func(x, y *windows.Window) int { return x.Start.Compare(y.Start) })
	wantBases := []*windows.Window{decodedBase(t, after, resolve), decodedBase(t, w1, resolve), decodedBase(t, w2again, resolve)}
	if len(st.Bases) != len(wantBases) {
		t.Errorf("read %d label bases, want %d (windows ending after %s)", len(st.Bases), len(wantBases), cutoff)
	}
	for i := range min(len(st.Bases), len(wantBases)) {
		if g, w := st.Bases[i], wantBases[i]; !reflect.DeepEqual(g, w) || g.Baseline != b {
			t.Errorf("label base %d = %+v, want %+v", i, g, w)
		}
	}

	wantKeys := []windows.PredictionKey{keys[0], keys2[0], keys[3], keys[4], keys2[1], keys[5]}
	sortKeys(st.Keys)
	sortKeys(wantKeys)
	if !slices.EqualFunc(st.Keys, wantKeys, equalKey) {
		t.Errorf("prediction keys =\n%s\nwant\n%s", fmtKeys(st.Keys), fmtKeys(wantKeys))
	}

	wantLabels := []consumer.Label{labels[0], labels2[0], labels[3], labels[4]}
	sortLabels(st.Labels)
	sortLabels(wantLabels)
	if !slices.EqualFunc(st.Labels, wantLabels, equalLabel) {
		t.Errorf("labels = %+v, want %+v", st.Labels, wantLabels)
	}
	for _, l := range st.Labels {
		if l.PredictionID == "7d1e0c5a-61c4" && l.Value.Text() != "0.1" {
			t.Errorf("label text %q, want 0.1", l.Value.Text())
		}
	}

	// A horizon that reaches every window: the old ones too, and the key
	// and label before the previous cutoff.
	st, skipped, err = s.LoadLabelJoin(ctx, 30*24*time.Hour, resolve)
	if err != nil || skipped != 1 || len(st.Bases) != 5 || len(st.Keys) != 7 || len(st.Labels) != 5 {
		t.Errorf("LoadLabelJoin(30 days) = %d bases, %d keys, %d labels, %d skipped, %v; want 5, 7, 5, 1, nil",
			len(st.Bases), len(st.Keys), len(st.Labels), skipped, err)
	}
}

// TestIntegrationLabelJoinWithoutWindows: with nothing in
// window_summaries there is no cutoff: every key and label comes back, and
// no bases. Commits of only labels or only keys work. A label corrected in
// another month of label time (another partition, so no merge collapses
// the two) reads once, corrected.
func TestIntegrationLabelJoinWithoutWindows(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	ctx := context.Background()
	if err := conn.Exec(ctx, "SYSTEM STOP MERGES labels"); err != nil {
		t.Fatal(err)
	}
	st, skipped, err := s.LoadLabelJoin(ctx, time.Hour, func(string, string) *baselines.Baseline { return nil })
	if err != nil || skipped != 0 || len(st.Bases)+len(st.Keys)+len(st.Labels) != 0 {
		t.Fatalf("LoadLabelJoin of an empty database = %+v, %d, %v; want nothing", st, skipped, err)
	}

	oct := time.Date(2026, 10, 31, 23, 59, 59, 0, time.UTC)
	first := consumer.Label{PredictionID: "x", Model: "fraud", Time: oct, Value: consumer.Value{Kind: consumer.Number, Num: 1}}
	// Far beyond the horizon, but without windows nothing is.
	ancient := consumer.Label{PredictionID: "y", Model: "fraud", Time: oct.AddDate(0, -1, 0), Value: consumer.Value{Kind: consumer.Bool, Num: 1, Str: "true"}}
	commitJoin(t, s, nil, nil, nil, []consumer.Label{first, ancient})
	corrected := first
	corrected.Time, corrected.Value = oct.Add(2*time.Second), consumer.Value{Kind: consumer.Number, Num: 0} // November
	commitJoin(t, s, nil, nil, nil, []consumer.Label{corrected})
	key := windows.PredictionKey{Model: "fraud", Version: "1", ID: 42, Time: oct.AddDate(0, -2, 0).UnixMilli() + 7, Prediction: math.NaN()}
	commitJoin(t, s, nil, nil, []windows.PredictionKey{key}, nil)

	if n := count(t, conn, "SELECT count() FROM drift_metrics") + count(t, conn, "SELECT count() FROM window_summaries"); n != 0 {
		t.Errorf("commits of keys and labels alone wrote %d rows and summaries", n)
	}
	st, skipped, err = s.LoadLabelJoin(ctx, time.Hour, func(string, string) *baselines.Baseline { return nil })
	if err != nil || skipped != 0 || len(st.Bases) != 0 {
		t.Fatalf("LoadLabelJoin = %d bases, %d skipped, %v; want none, 0, nil", len(st.Bases), skipped, err)
	}
	if len(st.Keys) != 1 || !equalKey(st.Keys[0], key) {
		t.Errorf("prediction keys = %s, want %s", fmtKeys(st.Keys), fmtKeys([]windows.PredictionKey{key}))
	}
	if n := count(t, conn, "SELECT count() FROM labels"); n != 3 {
		t.Errorf("labels stores %d rows, want 3", n)
	}
	sortLabels(st.Labels)
	if want := []consumer.Label{corrected, ancient}; !slices.EqualFunc(st.Labels, want, equalLabel) {
		t.Errorf("labels = %+v, want %+v", st.Labels, want)
	}
}

// TestIntegrationLabelJoinBadBase: a label base that does not decode (a
// format from a newer driftwatch) fails the read, for good.
func TestIntegrationLabelJoinBadBase(t *testing.T) {
	cfg, _ := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	w := summaryOf(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), 1)
	w.LabelState = []byte{2, 0, 1}
	commitJoin(t, s, nil, []sinks.WindowSummary{w}, nil, nil)
	_, _, err := s.LoadLabelJoin(context.Background(), time.Hour, func(string, string) *baselines.Baseline { return testBaseline(t) })
	if err == nil || IsRetryable(err) || !strings.Contains(err.Error(), "window_summaries") {
		t.Errorf("LoadLabelJoin of an undecodable base: error = %v (retryable %t), want a permanent error naming window_summaries", err, IsRetryable(err))
	}
}

// TestIntegrationMigrationRerun: a label-join migration that failed after
// its ALTER (recorded as not applied) runs again: the column that exists
// is taken as added, on 18.16 too, where ADD COLUMN cannot say IF NOT
// EXISTS.
func TestIntegrationMigrationRerun(t *testing.T) {
	cfg, conn := freshDatabase(t)
	openSink(t, cfg)
	for _, q := range []string{
		"DROP TABLE prediction_keys",
		"DROP TABLE labels",
		"CREATE TABLE schema_migrations_kept AS schema_migrations",
		"INSERT INTO schema_migrations_kept SELECT * FROM schema_migrations WHERE version NOT IN (6, 13)", // 13 rebuilds prediction_keys
		"DROP TABLE schema_migrations",
		"RENAME TABLE schema_migrations_kept TO schema_migrations",
	} {
		if err := conn.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s := openSink(t, cfg)
	if got := s.Applied(); !slices.Equal(got, []int{6, 13}) {
		t.Errorf("Open applied %v, want [6 13] again", got)
	}
	if n := count(t, conn, "SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 'window_summaries' AND name = 'label_state'"); n != 1 {
		t.Errorf("window_summaries has %d label_state columns, want 1", n)
	}
	commitJoin(t, s, nil, nil, []windows.PredictionKey{{Model: "m", ID: 1}}, []consumer.Label{{PredictionID: "a", Model: "m", Time: time.Unix(1, 0)}})
}

// BenchmarkIntegrationLoadLabelJoin reads back 500,000 prediction keys and
// 100,000 labels (of 1,000 segment combinations and a few label classes);
// bytes are the keys' and labels' in-memory size.
func BenchmarkIntegrationLoadLabelJoin(b *testing.B) {
	cfg, _ := freshDatabase(b)
	s := openSink(b, cfg, WithClock(stepClock()))
	h := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	const nKeys, nLabels = 500_000, 100_000
	keys := make([]windows.PredictionKey, nKeys)
	for i := range keys {
		keys[i] = windows.PredictionKey{Model: "fraud", Version: "1.4.2", ID: uint64(i) * 0x9E3779B97F4A7C15, Time: h.UnixMilli() + int64(i),
			Prediction: float64(i%1000) / 1000, Decided: true, Selected: i%3 == 0, Segments: fmt.Sprintf("gender=%d,age_band=%d", i%10, i%100)}
	}
	labels := make([]consumer.Label, nLabels)
	for i := range labels {
		labels[i] = consumer.Label{PredictionID: fmt.Sprintf("%08x-61c4-4b43-9a55-5a8d3f0c2f10", i), Model: "fraud",
			Time: h.Add(time.Duration(i) * time.Millisecond), Value: consumer.Value{Kind: consumer.Number, Num: float64(i % 2)}}
	}
	a := s.Appender(context.Background()).(joinAppender)
	if err := a.AppendPredictionKeys(keys); err != nil {
		b.Fatal(err)
	}
	if err := a.AppendLabels(labels); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := a.Commit(); err != nil {
		b.Fatal(err)
	}
	b.Logf("committed %d keys and %d labels in %s", nKeys, nLabels, time.Since(start))
	b.SetBytes(int64(nKeys)*int64(unsafe.Sizeof(windows.PredictionKey{})) + int64(nLabels)*int64(unsafe.Sizeof(consumer.Label{})))
	b.ReportAllocs()
	for b.Loop() {
		st, _, err := s.LoadLabelJoin(context.Background(), time.Hour, func(string, string) *baselines.Baseline { return nil })
		if err != nil || len(st.Keys) != nKeys || len(st.Labels) != nLabels {
			b.Fatalf("LoadLabelJoin = %d keys, %d labels, %v", len(st.Keys), len(st.Labels), err)
		}
	}
}

// TestIntegrationDetectorState: detector states written in commits read
// back newest per model version, bytes unchanged, a retried commit
// changing nothing.
func TestIntegrationDetectorState(t *testing.T) {
	cfg, _ := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	ctx := context.Background()
	commit := func(states ...drift.DetectorState) {
		t.Helper()
		a := s.Appender(ctx).(interface {
			sinks.Appender
			AppendDetectorStates([]drift.DetectorState) error
		})
		if err := a.AppendDetectorStates(states); err != nil {
			t.Fatal(err)
		}
		if err := a.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	fraud, churn := windows.Key{Model: "fraud", Version: "1.4.2"}, windows.Key{Model: "churn", Version: "2.0.1"}
	commit(drift.DetectorState{Key: fraud, State: []byte{1, 0, 255, 'a'}}, drift.DetectorState{Key: churn, State: []byte{1, 2}})
	commit(drift.DetectorState{Key: fraud, State: []byte{1, 9, 0, 0}})
	commit(drift.DetectorState{Key: fraud, State: []byte{1, 9, 0, 0}}) // a retry
	got, err := s.LoadDetectorStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b drift.DetectorState) int { return strings.Compare(a.Key.Model, b.Key.Model) })
	want := []drift.DetectorState{{Key: churn, State: []byte{1, 2}}, {Key: fraud, State: []byte{1, 9, 0, 0}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("detector states %v, want %v", got, want)
	}
}

// TestIntegrationAlertHistory: the audit trail's records land in
// alert_history with their evidence; a record written again (its retry or
// delivery outcome) is one row under FINAL, the newest.
func TestIntegrationAlertHistory(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	ctx := context.Background()
	h := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	rec := sinks.AlertRecord{Model: "fraud", Version: "1.4.2", WindowStart: h, WindowEnd: h.Add(time.Hour), Family: "concept", Subject: "performance",
		Metric: "accuracy", State: "firing", Alertname: "DriftwatchAccuracyCollapse", Severity: "SEV-1", Value: 0.31, Threshold: 0.5,
		Fingerprint: "abc", Receiver: "http://127.0.0.1:39097", SentAt: h.Add(70 * time.Minute), Evidence: `[{"metric":"accuracy","value":0.31}]`}
	if err := s.WriteAlertHistory(ctx, []sinks.AlertRecord{rec}); err != nil {
		t.Fatal(err)
	}
	rec.Delivered = true
	resolved := rec
	resolved.State, resolved.Evidence = "resolved", "[]"
	if err := s.WriteAlertHistory(ctx, []sinks.AlertRecord{rec, resolved}); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "SELECT state, alertname, severity, delivered, evidence, value FROM alert_history FINAL ORDER BY state")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var state, name, sev, ev string
		var delivered uint8
		var v float64
		if err := rows.Scan(&state, &name, &sev, &delivered, &ev, &v); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(state, " ", name, " ", sev, " ", delivered, " ", ev, " ", v))
	}
	want := []string{`firing DriftwatchAccuracyCollapse SEV-1 1 [{"metric":"accuracy","value":0.31}] 0.31`, "resolved DriftwatchAccuracyCollapse SEV-1 1 [] 0.31"}
	if !slices.Equal(got, want) {
		t.Errorf("alert_history FINAL:\n%q\nwant\n%q", got, want)
	}
	// A record the table cannot hold is left out and counted: it would
	// otherwise fail every retry of the trail.
	if err := s.WriteAlertHistory(ctx, []sinks.AlertRecord{{Model: "x"}}); err != nil || s.Rejected("alert_history", RejectTimeOutOfRange) != 1 {
		t.Errorf("a record with zero times: error %v, %d rejected; want it left out and counted", err, s.Rejected("alert_history", RejectTimeOutOfRange))
	}
	if n := count(t, conn, "SELECT count() FROM alert_history WHERE model = 'x'"); n != 0 {
		t.Errorf("alert_history holds %d records with zero times, want none", n)
	}
}

// TestIntegrationAlertHistoryTwoAlertsOneSubject: two alerts of one
// subject that change state in the same window (ADWIN's rule and the
// minor-anomaly rule, whose evidence starts with the same metric) are two
// records of the trail; before migration 10 they were one. A database
// migrated up to 9 with records in alert_history keeps them through 10.
func TestIntegrationAlertHistoryTwoAlertsOneSubject(t *testing.T) {
	cfg, conn := freshDatabase(t)
	s := openSink(t, cfg, WithClock(stepClock()))
	ctx := context.Background()
	h := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	rec := func(alertname, severity string) sinks.AlertRecord {
		return sinks.AlertRecord{Model: "fraud", Version: "1.4.2", WindowStart: h, WindowEnd: h.Add(time.Hour), Family: "concept", Subject: "error_stream",
			Metric: "adwin", State: "resolved", Alertname: alertname, Severity: severity, Fingerprint: alertname, SentAt: h.Add(70 * time.Minute), Evidence: "[]"}
	}
	if err := s.WriteAlertHistory(ctx, []sinks.AlertRecord{rec("DriftwatchConceptChange", "SEV-3"), rec("DriftwatchMinorAnomaly", "SEV-4")}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count() FROM alert_history FINAL WHERE subject = 'error_stream'"); n != 2 {
		t.Errorf("alert_history FINAL holds %d records of the two resolutions, want 2", n)
	}

	// The upgrade: back to the table of migration 5 and 8 with a record
	// in it, migration 10 forgotten, then Open again.
	for _, q := range []string{
		"DROP TABLE alert_history",
		"CREATE TABLE alert_history (model String, model_version String, window_start DateTime('UTC'), window_end DateTime('UTC'), family String, subject String, metric String, state String, severity String, value Float64, threshold Float64, fingerprint String, receiver String, sent_at DateTime('UTC'), delivered UInt8, error_message String, inserted_at UInt64, alertname String DEFAULT '', evidence String DEFAULT '') ENGINE = ReplacingMergeTree(inserted_at) PARTITION BY toYYYYMM(window_start) ORDER BY (model, model_version, window_start, family, subject, metric, state)",
		"INSERT INTO alert_history (model, model_version, window_start, window_end, family, subject, metric, state, severity, fingerprint, sent_at, inserted_at, alertname) SELECT 'churn', '2.0.1', toDateTime('2026-11-20 03:00:00', 'UTC'), toDateTime('2026-11-20 04:00:00', 'UTC'), 'data', 'contract', 'jensen_shannon', 'firing', 'SEV-3', 'f', toDateTime('2026-11-20 04:10:00', 'UTC'), toUInt64(1), 'DriftwatchDrift'",
		"CREATE TABLE schema_migrations_kept AS schema_migrations",
		"INSERT INTO schema_migrations_kept SELECT * FROM schema_migrations WHERE version != 10",
		"DROP TABLE schema_migrations",
		"RENAME TABLE schema_migrations_kept TO schema_migrations",
	} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s = openSink(t, cfg, WithClock(stepClock()))
	if got := s.Applied(); !slices.Equal(got, []int{10}) {
		t.Errorf("Open applied %v, want [10]", got)
	}
	if n := count(t, conn, "SELECT count() FROM alert_history FINAL WHERE model = 'churn' AND alertname = 'DriftwatchDrift'"); n != 1 {
		t.Errorf("the record written before migration 10: %d after it, want 1", n)
	}
	if err := s.WriteAlertHistory(ctx, []sinks.AlertRecord{rec("DriftwatchConceptChange", "SEV-3"), rec("DriftwatchMinorAnomaly", "SEV-4")}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count() FROM alert_history FINAL WHERE subject = 'error_stream'"); n != 2 {
		t.Errorf("after the upgrade, alert_history FINAL holds %d records of the two resolutions, want 2", n)
	}
}

// TestIntegrationPredictionKeysVariant: a database migrated up to 12 with
// a key in prediction_keys (as a driftwatch before migration 13 wrote it)
// keeps it through 13, as a key of no variant; then the keys of a shadow
// deployment's records of one prediction id, one per variant, are rows of
// their own (under the old key they collapsed into one) and read back
// with their variants.
func TestIntegrationPredictionKeysVariant(t *testing.T) {
	cfg, conn := freshDatabase(t)
	ctx := context.Background()
	old := databaseAt11(t, cfg, conn)
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if applied, err := old.migrateTo(ctx, ms[:12]); err != nil || !slices.Equal(applied, []int{12}) {
		t.Fatalf("migration 12: applied %v, %v", applied, err)
	}
	h := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	before := windows.PredictionKey{Model: "fraud", Version: "1.4.1", ID: 7, Time: h.UnixMilli(), Prediction: 0.5, Decided: true, Segments: "gender=f"}
	const keyColumns12 = "model, model_version, id, event_time_ms, prediction, decided, selected, inline, segments, inserted_at"
	if err := old.send(ctx, "prediction_keys", keyColumns12, nil, 1, func(b driver.Batch, _ int) error {
		k := before
		return b.Append(k.Model, k.Version, k.ID, k.Time, k.Prediction, uint8(1), uint8(0), uint8(0), k.Segments, uint64(1))
	}); err != nil {
		t.Fatal(err)
	}

	s := openSink(t, cfg, WithClock(stepClock()))
	if got := s.Applied(); !slices.Equal(got, []int{13}) {
		t.Errorf("Open applied %v, want [13]", got)
	}
	keys := []windows.PredictionKey{
		{Model: "fraud", Version: "1.4.2", ID: 42, Time: h.UnixMilli(), Prediction: 0.9, Decided: true, Selected: true, Variant: "champion"},
		{Model: "fraud", Version: "1.4.2", ID: 42, Time: h.UnixMilli() + 2, Prediction: 0.2, Decided: true, Variant: "shadow"},
	}
	commitJoin(t, s, nil, nil, keys, nil)
	st, _, err := s.LoadLabelJoin(ctx, time.Hour, func(string, string) *baselines.Baseline { return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := append([]windows.PredictionKey{before}, keys...)
	sortKeys(st.Keys)
	sortKeys(want)
	if !slices.EqualFunc(st.Keys, want, equalKey) {
		t.Errorf("keys read back\n%s\nwant\n%s", fmtKeys(st.Keys), fmtKeys(want))
	}
	if n := count(t, conn, "SELECT count() FROM prediction_keys FINAL WHERE id = 42"); n != 2 {
		t.Errorf("prediction_keys FINAL holds %d keys of the shadowed prediction, want 2", n)
	}
}
