package drift

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/windows"
)

// MetricVolumeRatio is a window's records over the records expected of it
// (family quality, subject "*"): traffic too low or too high.
const MetricVolumeRatio = "volume_ratio"

// Where a volume_ratio row's expectation came from (Row.ThresholdSource).
const (
	// SourceReference: the reference's rate, by hour of the week or of the
	// day, over the hours the window covers (a production baseline of the
	// window's model version: baselines.Baseline.Traffic).
	SourceReference = "reference"
	// SourceHistory: the median of the records of the same model
	// version's previous windows at the same time of the week (or of the
	// day), as the Evaluator remembers them (volumeHistory).
	SourceHistory = "history"
)

// The volume test. Traffic is overdispersed: bursts, campaigns and
// outages make a window's count vary far more than a Poisson count of the
// same mean, so a Poisson test alone flags a 10% swing in a window of
// 100,000 records. As the drift rows pair an effect size with a test
// (Policy.RequireSignificance), a volume_ratio row is drifted only when
// the ratio is past the factor Policy.Thresholds[MetricVolumeRatio]
// (default 1.5) either way, the material change, and a two-sided test
// that the window's rate equals the rate of the counts behind the
// expectation (ratioTest, which takes their own Poisson noise into
// account) gives a p-value below volumeAlpha, so that a window of 10
// records where 20 were expected is not an anomaly. The level is lower
// than the other tests' 0.05: every window of every model version is
// tested, one test each, with no correction across them, and in small
// windows (where the factor is within the noise) the level alone bounds
// the false alarms. The row's MDE is the factor, either way, the window
// detects with power Policy.MDE.Power at that level (normal approximation
// on the log scale); past the threshold's factor the row says
// insufficient_samples.
const volumeAlpha = 0.001

// History bounds: the windows per model version whose record counts the
// Evaluator keeps, and the model versions.
const (
	maxVolumeWindows = 2048 // four weeks of hourly windows
	maxVolumeKeys    = 10_000
)

// Lags of the history's expectation.
const (
	week          = 7 * 24 * time.Hour
	day           = 24 * time.Hour
	weeklyLags    = 4 // the same window 1 to 4 weeks before ...
	minWeekly     = 2 // ... of which at least 2
	dailyLags     = 6 // else the same window 1 to 6 days (or window lengths) before ...
	minDaily      = 3 // ... of which at least 3
	longestWindow = 7 // window lengths back, for windows of a day or longer
)

// volumeHistory is the record counts of one model version's recent
// windows, by start and length.
type volumeHistory struct {
	counts map[windowID]int64
}

type windowID struct {
	start int64 // unix ns
	size  time.Duration
}

// note keeps w's count, forgetting the oldest windows past
// maxVolumeWindows.
func (h *volumeHistory) note(w *windows.Window) {
	id := windowID{w.Start.UnixNano(), w.End.Sub(w.Start)}
	if _, ok := h.counts[id]; !ok && len(h.counts) >= maxVolumeWindows {
		ids := slices.SortedFunc(maps.Keys(h.counts), func(a, b windowID) int { return cmp.Compare(a.start, b.start) })
		for _, old := range ids[:len(ids)-maxVolumeWindows/2] {
			delete(h.counts, old)
		}
	}
	h.counts[id] = w.Records
}

// expect returns the median of the records of the windows of w's length
// that started at the lags before w: weekly lags when at least minWeekly
// of them are known, else daily lags (window lengths, for windows of a
// day or longer) when at least minDaily are; n is their records' sum and
// k how many they are.
func (h *volumeHistory) expect(w *windows.Window) (mu float64, n int64, k int, ok bool) {
	size := w.End.Sub(w.Start)
	at := func(lag time.Duration, k int) []float64 {
		var xs []float64
		for i := 1; i <= k; i++ {
			if c, found := h.counts[windowID{w.Start.Add(-time.Duration(i) * lag).UnixNano(), size}]; found {
				xs = append(xs, float64(c))
				n += c
			}
		}
		return xs
	}
	xs := at(week, weeklyLags)
	if len(xs) < minWeekly {
		n = 0
		if size < day {
			xs = at(day, dailyLags)
		} else {
			xs = at(size, longestWindow)
		}
		if len(xs) < minDaily {
			return 0, 0, 0, false
		}
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 0 {
		return (xs[m-1] + xs[m]) / 2, n, len(xs), true
	}
	return xs[m], n, len(xs), true
}

// volumeHistory returns k's history, making it; e.mu is held.
func (e *Evaluator) volumeHistory(k windows.Key) *volumeHistory {
	h := e.volumes[k]
	if h == nil {
		if len(e.volumes) >= maxVolumeKeys {
			clear(e.volumes) // model versions come and go; never grow without bound
		}
		h = &volumeHistory{counts: make(map[windowID]int64)}
		e.volumes[k] = h
	}
	return h
}

// WindowVolume is a closed window's record count as a sink keeps it
// (sinks/clickhouse's window_summaries), for RestoreVolumes.
type WindowVolume struct {
	Key        windows.Key
	Start, End time.Time
	Records    int64
}

// RestoreVolumes gives the Evaluator the record counts of windows that
// closed before it started (a restarted job's, or another instance's
// before a hand-over), as if it had evaluated them, so that the volume
// expectation from history goes on from them; a window it evaluated
// itself keeps its own count.
func (e *Evaluator) RestoreVolumes(vs []WindowVolume) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range vs {
		if !v.End.After(v.Start) || v.Records < 0 {
			continue
		}
		h := e.volumeHistory(v.Key)
		if _, ok := h.counts[windowID{v.Start.UnixNano(), v.End.Sub(v.Start)}]; !ok {
			h.note(&windows.Window{Start: v.Start, End: v.End, Records: v.Records})
		}
	}
}

// phaseHours returns, per hour of the week (baselines.PhaseOf), how many
// hours of [from, until) fall in it.
func phaseHours(from, until time.Time) (h [baselines.PhasesPerWeek]float64) {
	for t := from; t.Before(until); {
		if until.Sub(t) >= week && t.Equal(t.Truncate(time.Hour)) { // a whole week: an hour of each
			for p := range h {
				h[p]++
			}
			t = t.Add(week)
			continue
		}
		end := t.Truncate(time.Hour).Add(time.Hour)
		if end.After(until) {
			end = until
		}
		h[baselines.PhaseOf(t)] += end.Sub(t).Hours()
		t = end
	}
	return h
}

// referenceExpectation is the records a production reference's rate
// leads to expect in [start, end): per hour of the week the window
// covers, the reference's rows of that hour over the hours the reference
// spent in it, times the window's hours in it. When some hour the window
// covers was not in the reference for a whole hour (a reference shorter
// than a week), the rates are by hour of the day (the reference spans at
// least a day); n is the reference's rows behind the rates used. ok is
// false without a traffic reference.
func referenceExpectation(b *baselines.Baseline, start, end time.Time) (mu float64, n int64, ok bool) {
	if b.Traffic == nil || len(b.Phases) != baselines.PhasesPerWeek || !b.Traffic.Until.After(b.Traffic.From) {
		return 0, 0, false
	}
	exposure := phaseHours(b.Traffic.From, b.Traffic.Until)
	cover := phaseHours(start, end)
	weekly := true
	for p, c := range cover {
		if c > 0 && exposure[p] < 1 {
			weekly = false
		}
	}
	if weekly {
		for p, c := range cover {
			if c > 0 {
				mu += c * float64(b.Phases[p].Rows) / exposure[p]
				n += b.Phases[p].Rows
			}
		}
		return mu, n, true
	}
	var rows [24]int64
	var hours, covered [24]float64
	for p := range cover {
		rows[p%24] += b.Phases[p].Rows
		hours[p%24] += exposure[p]
		covered[p%24] += cover[p]
	}
	for h, c := range covered {
		if c == 0 {
			continue
		}
		if hours[h] == 0 {
			return 0, 0, false // cannot be with a reference of a day or more
		}
		mu += c * float64(rows[h]) / hours[h]
		n += rows[h]
	}
	return mu, n, true
}

// ratioTest is the two-sided p-value of the test that a window's count n
// and a count r behind its expectation (the reference's rows, or the
// previous windows' records) are Poisson counts of rates in the
// proportion p0 : 1-p0, which they are when the window's traffic is as
// expected: conditionally on n + r, n is then binomial (n + r, p0) (the
// conditional test of two Poisson rates, Przyborowski and Wilenski 1940).
// The p-value is twice the smaller tail, P(X <= n) or P(X >= n), at most 1
// (scipy.stats.binom.cdf and .sf; checked against them in
// testdata/golden/volume.json).
func ratioTest(n, r int64, p0 float64) float64 {
	lower, upper := binomTails(n, n+r, p0)
	return min(1, 2*min(lower, upper))
}

// appendVolume appends the window's volume_ratio row (family quality,
// subject "*"): its records over those expected, from a production
// reference of its model version (SourceReference) or else from the
// previous windows the Evaluator saw of it (SourceHistory); then notes the
// window's records in the history. Drifted when the ratio is at least the
// factor t (Policy.Thresholds[MetricVolumeRatio]) or at most 1/t, and the
// p-value of ratioTest (PValue) is below volumeAlpha; Threshold holds t.
// NReference is the count behind the expectation: the reference's rows in
// the hours used, or the previous windows' records. With no expectation
// yet, Value is 1 and the row says insufficient_samples: not judged; so
// does a row not drifted whose window is too small to see a change by
// the factor t (MDE above t). stored is the baseline as stored, with its
// time profile.
func (e *Evaluator) appendVolume(rows []Row, head Row, w *windows.Window, stored *baselines.Baseline, p *Policy) []Row {
	e.mu.Lock()
	h := e.volumeHistory(w.Key)
	mu, nref, ok := 0.0, int64(0), false
	var p0 float64 // the window's share of its records and those behind mu, as expected
	source := SourceReference
	if stored.ModelVersion == w.Version {
		if mu, nref, ok = referenceExpectation(stored, w.Start, w.End); ok && mu > 0 {
			p0 = mu / (mu + float64(nref))
		}
	}
	if !ok {
		source = SourceHistory
		var k int
		if mu, nref, k, ok = h.expect(w); ok {
			p0 = 1 / float64(k+1)
		}
	}
	h.note(w)
	e.mu.Unlock()

	r := head
	r.Family, r.Subject, r.Metric = FamilyQuality, "*", MetricVolumeRatio
	r.Value, r.NCurrent = 1, w.Records
	t, judged := p.Thresholds[MetricVolumeRatio]
	if !ok {
		r.ThresholdSource = SourceInsufficient
		return append(rows, r)
	}
	pv := ratioTest(w.Records, nref, p0)
	r.PValue, r.NReference, r.ThresholdSource = &pv, nref, source
	switch {
	case mu > 0:
		r.Value = float64(w.Records) / mu
	case w.Records > 0: // the reference had no traffic in these hours
		r.Value = math.MaxFloat64
	}
	if judged && t > 1 {
		r.Threshold = t
		r.Drifted = (r.Value >= t || r.Value <= 1/t) && pv < volumeAlpha
	}
	if mu > 0 && nref > 0 {
		se := math.Sqrt(1/mu + 1/float64(nref)) // of log(records/mu) under no change
		mde := math.Exp((distuv.UnitNormal.Quantile(1-volumeAlpha/2) + distuv.UnitNormal.Quantile(p.MDE.Power)) * se)
		r.MDE = &mde
		if judged && !r.Drifted && mde > t {
			r.ThresholdSource = SourceInsufficient
		}
	}
	return append(rows, r)
}
