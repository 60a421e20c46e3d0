package score

import (
	"math"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/bench/detect/scenario"
	"github.com/driftwatch/driftwatch/stats/drift"
)

var t0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func row(w int, family, subject, metric string, threshold float64, src string, drifted bool) Row {
	return Row{drift.Row{
		Model: "m", ModelVersion: "1", WindowStart: t0.Add(time.Duration(w) * time.Hour),
		Family: family, Subject: subject, Metric: metric, Threshold: threshold, ThresholdSource: src, Drifted: drifted,
	}}
}

// TestScore: a hand-made stream of 4 windows. The truth: x changes in
// windows 2 and 3 (target), the prediction with it (consequence), and
// performance in window 3 (target). The rows:
//
//	w0: x psi judged, quality/x flagged (a false alarm), serving not judged
//	w1: x flagged by a SEV-4 secondary row only (a false alarm: counts),
//	    label/label insufficient data and not drifted (not judged)
//	w2: x flagged, prediction flagged (a consequence: no false alarm)
//	w3: x psi first written drifted, then re-written not drifted (the later
//	    line wins: x missed), performance flagged
//
// Judged units: w0 data/x, quality/x; w1 data/x; w2 data/x,
// prediction/prediction; w3 data/x, concept/performance = 7, of which 2
// false alarms. Changed windows: w2 (x: detected), w3 (x missed,
// performance flagged: not detected, since every target must be) = 1 of 2.
func TestScore(t *testing.T) {
	rows := []Row{
		row(0, "data", "x", "psi", 0.2, "static", false),
		row(0, "quality", "x", "null_rate", 0.1, "static", true),
		row(0, "serving", "latency_ms", "latency_p50_ms", 0, "", false),
		row(1, "data", "x", "psi", 0.2, "static", false),
		row(1, "data", "x", "hellinger", 0.1, "static", true),
		row(1, "label", "label", "psi", 0.2, "insufficient_samples", false),
		row(2, "data", "x", "psi", 0.2, "static", true),
		row(2, "prediction", "prediction", "psi", 0.2, "static", true),
		row(3, "data", "x", "psi", 0.2, "static", true),
		row(3, "concept", "performance", "accuracy", 0.8, "static", true),
		row(3, "data", "x", "psi", 0.2, "static", false), // re-written: wins
	}
	rows[4].Severity = "SEV-4"
	truth := []scenario.Change{
		{Model: "m", Window: 2, Family: "data", Subject: "x", Target: true},
		{Model: "m", Window: 2, Family: "prediction", Subject: "prediction"},
		{Model: "m", Window: 3, Family: "data", Subject: "x", Target: true},
		{Model: "m", Window: 3, Family: "prediction", Subject: "prediction"},
		{Model: "m", Window: 3, Family: "concept", Subject: "performance", Target: true},
	}
	units := FromRows(rows, t0, time.Hour)
	got := Score(truth, units, nil)
	if got.Judged != 7 || got.FalseAlarm != 2 || got.Changed != 2 || got.Detected != 1 {
		t.Fatalf("judged %d, false alarms %d, changed %d, detected %d; want 7, 2, 2, 1", got.Judged, got.FalseAlarm, got.Changed, got.Detected)
	}
	if r, f := got.Recall(), got.FalseAlarmRate(); r != 0.5 || math.Abs(f-2.0/7) > 1e-12 {
		t.Errorf("recall %v, false-alarm rate %v; want 0.5, 2/7", r, f)
	}
	if len(got.Misses) != 1 || got.Misses[0].Window != 3 || len(got.Misses[0].Subjects) != 1 || got.Misses[0].Subjects[0] != "data/x" {
		t.Errorf("misses %+v, want window 3, data/x", got.Misses)
	}
	if len(got.FalseAlarms) != 2 || got.FalseAlarms[0].Window != 0 || got.FalseAlarms[1].Window != 1 {
		t.Errorf("false alarms %+v, want windows 0 and 1", got.FalseAlarms)
	}

	// Restricted to features and prediction: quality/x and performance
	// drop out. Judged: w0 x, w1 x, w2 x, w2 prediction, w3 x = 5, one
	// false alarm (w1); changed windows w2 (detected) and w3 (missed).
	got = Score(truth, units, FeaturesAndPrediction)
	if got.Judged != 5 || got.FalseAlarm != 1 || got.Changed != 2 || got.Detected != 1 {
		t.Errorf("features and prediction: judged %d, false alarms %d, changed %d, detected %d; want 5, 1, 2, 1", got.Judged, got.FalseAlarm, got.Changed, got.Detected)
	}

	// Nothing changed, nothing judged: both rates undefined.
	got = Score(nil, nil, nil)
	if !math.IsNaN(got.Recall()) || !math.IsNaN(got.FalseAlarmRate()) {
		t.Errorf("empty: recall %v, false-alarm rate %v; want NaN, NaN", got.Recall(), got.FalseAlarmRate())
	}
}
