package drift

import (
	"maps"
	"slices"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/windows"
)

// Schema-drift metrics (family quality). The records' features are
// compared by name with the baseline's: names the records carry that the
// baseline does not know (new features, which the columns otherwise leave
// out), and baseline features no record of a window carried (vanished).
const (
	// MetricUnknownFeatureRate, per name the baseline does not know
	// (subject the name): the share of the window's records that carried
	// it; drifted above its threshold (the reference had none).
	MetricUnknownFeatureRate = "unknown_feature_rate"
	// MetricNewFeatures (subject "*"): how many names the baseline does
	// not know the window's records carried in more than the
	// unknown_feature_rate threshold's share of them.
	MetricNewFeatures = "new_features"
	// MetricVanishedFeatures (subject "*"): how many of the baseline's
	// features, present in the reference (a null rate under
	// vanishedMaxNullRate there), no record of the window carried.
	MetricVanishedFeatures = "vanished_features"
	// MetricVanished (subject the feature): 1 for each feature that
	// vanished_features counts, written only for those.
	MetricVanished = "vanished"
)

// vanishedMaxNullRate: a baseline feature null (or absent) in at least
// this share of the reference may be left out of every record of a window
// by chance or by design; it is not judged as vanished.
const vanishedMaxNullRate = 0.5

// appendSchema appends the window's schema-drift rows (family quality):
// per name the records carried that the baseline does not know, in name
// order, its unknown_feature_rate; then new_features and
// vanished_features (subject "*"), and a vanished row per feature that
// vanished. stored is the baseline as stored (not a phase of it), whose
// null rates say which features the reference had.
//
// The names come from the window's capped state (windows.Window.Unknown,
// at most windows.MaxUnknownFeatures names): when more came, the names
// past the cap are not reported by name, and new_features is a lower
// bound unless those names' records are at most the threshold's share of
// the window (then none of them can be above it). So it is also drifted
// when they are more: some name past the cap may be, and the window had
// more unknown names than the cap anyway.
//
// vanished_features is judged on windows of at least p.MinSamples records
// (smaller ones may lack a feature by chance: the row says
// insufficient_samples); one record carrying the key, even as null, keeps
// a feature from vanishing. None of these rows needs a reference sample:
// the reference had none of the unknown names.
func appendSchema(rows []Row, head Row, w *windows.Window, stored *baselines.Baseline, p *Policy) []Row {
	if w.Records == 0 {
		return rows
	}
	n := float64(w.Records)
	t, judged := p.Thresholds[MetricUnknownFeatureRate]
	var newNames int64
	for _, name := range slices.Sorted(maps.Keys(w.Unknown)) {
		r := head
		r.Family, r.Subject, r.Metric = FamilyQuality, name, MetricUnknownFeatureRate
		r.Value, r.NCurrent, r.NReference = float64(w.Unknown[name])/n, w.Records, stored.Rows
		if judged {
			r.Threshold, r.ThresholdSource, r.Drifted = t, SourceStatic, r.Value > t
			if r.Drifted {
				newNames++
			}
		}
		rows = append(rows, r)
	}
	r := head
	r.Family, r.Subject, r.Metric = FamilyQuality, "*", MetricNewFeatures
	r.Value, r.NCurrent, r.NReference = float64(newNames), w.Records, int64(len(stored.Features))
	if judged {
		r.ThresholdSource = SourceStatic
		r.Drifted = newNames > 0 || float64(w.UnknownDropped)/n > t
	}
	rows = append(rows, r)

	var eligible, gone int64
	var vanished []Row
	for i := range stored.Features {
		bf, cf := &stored.Features[i], &w.Features[i]
		if bf.Count == 0 || bf.NullRate() >= vanishedMaxNullRate {
			continue
		}
		eligible++
		if cf.Absent > 0 && cf.Absent == cf.Count+cf.Nulls {
			gone++
			v := head
			v.Family, v.Subject, v.Metric, v.Value = FamilyQuality, bf.Name, MetricVanished, 1
			v.NCurrent, v.NReference = w.Records, bf.Count+bf.Nulls
			v.Drifted, v.ThresholdSource = true, SourceStatic
			vanished = append(vanished, v)
		}
	}
	r = head
	r.Family, r.Subject, r.Metric = FamilyQuality, "*", MetricVanishedFeatures
	r.Value, r.NCurrent, r.NReference = float64(gone), w.Records, eligible
	if w.Records < max(p.MinSamples, 1) {
		r.ThresholdSource = SourceInsufficient
		return append(rows, r)
	}
	r.ThresholdSource, r.Drifted = SourceStatic, gone > 0
	rows = append(rows, r)
	return append(rows, vanished...)
}

// Serving error metrics (family serving), of the records of failed
// predictions (their "error").
const (
	// MetricErrorRate (subject "errors"): failed records / all records of
	// the window; drifted above SLO.MaxErrorRate.
	MetricErrorRate = "error_rate"
	// MetricErrorShare (subject "errors=<class>"): the share of the
	// window's failed records that had the class; not judged.
	MetricErrorShare = "error_share"
)

// appendServingErrors appends the window's serving error rows: error_rate
// (subject errors), judged against slo.MaxErrorRate, and, per error class
// in class order (at most windows.MaxErrorClasses, the others under
// baselines.OtherCategory), its error_share of the failed records.
func appendServingErrors(rows []Row, head Row, w *windows.Window, slo *SLO) []Row {
	if w.Records == 0 {
		return rows
	}
	rows = append(rows, limitRow(head, FamilyServing, "errors", MetricErrorRate, float64(w.Failed)/float64(w.Records), w.Records, slo.MaxErrorRate, false))
	if w.Failed == 0 {
		return rows
	}
	for _, c := range slices.Sorted(maps.Keys(w.ErrorClasses)) {
		r := head
		r.Family, r.Subject, r.Metric = FamilyServing, "errors="+c, MetricErrorShare
		r.Value, r.NCurrent = float64(w.ErrorClasses[c])/float64(w.Failed), w.Failed
		rows = append(rows, r)
	}
	return rows
}
