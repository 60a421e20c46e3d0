package drift

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/windows"
)

// volumeGolden is testdata/golden/volume.json (gen_volume.py).
type volumeGolden struct {
	Ratio []struct {
		N, R            int64
		P0              float64
		Lower, Upper, P float64
	}
	Reference []struct {
		Name                    string
		Rows                    []int64
		From, Until, Start, End time.Time
		Mu                      float64
		N                       int64
		Weekly                  bool
	}
	History []struct {
		Name        string
		Start       time.Time
		SizeMinutes int `json:"size_minutes"`
		Windows     []struct {
			Start       time.Time
			SizeMinutes int `json:"size_minutes"`
			Records     int64
		}
		Mu float64
		N  int64
		OK bool
	}
}

func loadVolumeGolden(t *testing.T) volumeGolden {
	t.Helper()
	data, err := os.ReadFile("testdata/golden/volume.json")
	if err != nil {
		t.Fatal(err)
	}
	var g volumeGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Ratio) < 300 || len(g.Reference) < 50 || len(g.History) < 50 {
		t.Fatalf("%d, %d, %d golden cases", len(g.Ratio), len(g.Reference), len(g.History))
	}
	return g
}

// near: within 1e-9 relative, or both below 1e-300 (a tail that
// underflows differently).
func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Abs(want) || math.Abs(got) < 1e-300 && math.Abs(want) < 1e-300
}

// TestRatioTestMatchesScipy: the volume test's p-value is twice the
// smaller of scipy.stats.binom's tails, within 1e-9 relative.
func TestRatioTestMatchesScipy(t *testing.T) {
	g := loadVolumeGolden(t)
	small := 0
	for _, c := range g.Ratio {
		if got := ratioTest(c.N, c.R, c.P0); !near(got, c.P) {
			t.Errorf("n %d, r %d, p0 %v: p %v, scipy %v (tails %v, %v)", c.N, c.R, c.P0, got, c.P, c.Lower, c.Upper)
		}
		// Each tail: within 1e-9 relative, or 1e-12 absolute where it
		// is near 1 (the complement of the other).
		lower, upper := binomTails(c.N, c.N+c.R, c.P0)
		for _, tail := range [][2]float64{{lower, c.Lower}, {upper, c.Upper}} {
			if !near(tail[0], tail[1]) && math.Abs(tail[0]-tail[1]) > 1e-12 {
				t.Errorf("n %d, r %d, p0 %v: tails %v, %v; scipy %v, %v", c.N, c.R, c.P0, lower, upper, c.Lower, c.Upper)
			}
		}
		if c.P < 1e-10 {
			small++
		}
	}
	if small < 20 {
		t.Errorf("only %d cases with a tiny p-value", small)
	}
}

// TestReferenceExpectationMatchesNumpy: the records a traffic reference
// leads to expect, against an independent implementation.
func TestReferenceExpectationMatchesNumpy(t *testing.T) {
	g := loadVolumeGolden(t)
	weekly := 0
	for _, c := range g.Reference {
		b := &baselines.Baseline{Phases: make([]baselines.Phase, baselines.PhasesPerWeek), Traffic: &baselines.Traffic{From: c.From, Until: c.Until}}
		for p, n := range c.Rows {
			b.Phases[p].Rows = n
		}
		mu, n, ok := referenceExpectation(b, c.Start, c.End)
		if !ok || !near(mu, c.Mu) || n != c.N {
			t.Errorf("%s: expected %v of %d rows (%v), numpy %v of %d (weekly %v)", c.Name, mu, n, ok, c.Mu, c.N, c.Weekly)
		}
		if c.Weekly {
			weekly++
		}
	}
	if weekly < 10 || weekly > len(g.Reference)-10 {
		t.Errorf("%d of %d cases by hour of the week: both kinds must be tested", weekly, len(g.Reference))
	}
	if _, _, ok := referenceExpectation(&baselines.Baseline{}, t0, t0.Add(time.Hour)); ok {
		t.Error("an expectation without a traffic reference")
	}
}

// TestHistoryExpectationMatchesNumpy: the records the previous windows
// lead to expect, against an independent implementation.
func TestHistoryExpectationMatchesNumpy(t *testing.T) {
	g := loadVolumeGolden(t)
	judged := 0
	for _, c := range g.History {
		h := &volumeHistory{counts: make(map[windowID]int64)}
		for _, w := range c.Windows {
			size := time.Duration(w.SizeMinutes) * time.Minute
			h.note(&windows.Window{Start: w.Start, End: w.Start.Add(size), Records: w.Records})
		}
		w := &windows.Window{Start: c.Start, End: c.Start.Add(time.Duration(c.SizeMinutes) * time.Minute)}
		mu, n, _, ok := h.expect(w)
		if ok != c.OK || ok && (mu != c.Mu || n != c.N) {
			t.Errorf("%s: %v of %d (%v), numpy %v of %d (%v)", c.Name, mu, n, ok, c.Mu, c.N, c.OK)
		}
		if c.OK {
			judged++
		}
	}
	if judged < 10 || judged > len(g.History)-3 {
		t.Errorf("%d of %d cases have an expectation: both kinds must be tested", judged, len(g.History))
	}
}

// volumeWindow is a window of model version v from start, of length size,
// holding n records.
func volumeWindow(b *baselines.Baseline, version string, start time.Time, size time.Duration, n int64) *windows.Window {
	w := windows.NewWindow(windows.Key{Model: b.Model, Version: version}, start, start.Add(size), b, 100)
	w.Records = n
	return w
}

// TestVolumeRows: the first windows of a model version are not judged;
// from the third day on each is judged against the median of the same
// hour's windows of the days before, then of the weeks before; a traffic
// reference of the same version is the expectation from the first window;
// a reference of another version is not.
func TestVolumeRows(t *testing.T) {
	b := baseline()
	e := NewEvaluator(DefaultPolicy(), nil)
	row := func(start time.Time, n int64) Row {
		t.Helper()
		return find(t, e.Evaluate(volumeWindow(b, "1", start, time.Hour, n)), FamilyQuality, "*", MetricVolumeRatio)
	}
	// Days 0 to 2, 10:00: 1000, 1100, 1300 records.
	for d, n := range []int64{1000, 1100} {
		if r := row(t0.Add(time.Duration(d)*day), n); r.ThresholdSource != SourceInsufficient || r.Value != 1 || r.Drifted || r.PValue != nil {
			t.Errorf("day %d: %+v, want no expectation yet", d, r)
		}
	}
	row(t0.Add(2*day), 1300)
	// Day 3: the median of 1000, 1100 and 1300; 500 is less than half of it.
	if r := row(t0.Add(3*day), 500); r.ThresholdSource != SourceHistory || r.Value != 500.0/1100 || r.NReference != 3400 || !r.Drifted ||
		r.Threshold != 1.5 || *r.PValue > 1e-10 {
		t.Errorf("day 3: %+v, want 500/1100 from history, drifted", r)
	}
	// Day 4: 1000, 1100, 1300, 500: median 1050; 1200 is not far from it.
	if r := row(t0.Add(4*day), 1200); r.Value != 1200.0/1050 || r.Drifted {
		t.Errorf("day 4: %+v, want 1200/1050, not drifted", r)
	}
	for d := 5; d < 14; d++ {
		row(t0.Add(time.Duration(d)*day), 1000+int64(d))
	}
	// Day 14: weeks 0 and 1 before it (days 7 and 0): 1000 and 1007.
	if r := row(t0.Add(14*day), 3000); r.ThresholdSource != SourceHistory || r.Value != 3000/1003.5 || r.NReference != 2007 || !r.Drifted {
		t.Errorf("day 14: %+v, want 3000/1003.5 from weeks 0 and 1, drifted", r)
	}
	// Few records: half of what windows of 20 lead to expect is not
	// significant; a tenth is.
	for _, c := range []struct {
		n       int64
		drifted bool
	}{{10, false}, {2, true}} {
		small := NewEvaluator(DefaultPolicy(), nil)
		for d := range 3 {
			small.Evaluate(volumeWindow(b, "1", t0.Add(time.Duration(d)*day), time.Hour, 20))
		}
		r := find(t, small.Evaluate(volumeWindow(b, "1", t0.Add(3*day), time.Hour, c.n)), FamilyQuality, "*", MetricVolumeRatio)
		if r.Value != float64(c.n)/20 || r.Drifted != c.drifted || (*r.PValue < volumeAlpha) != c.drifted {
			t.Errorf("%d records where 20 were expected: %+v, want drifted %v", c.n, r, c.drifted)
		}
	}

	// A production reference of version 2: two days of 100 records an
	// hour, 50 on Saturdays... the window's hours at its rate.
	ref := baseline()
	ref.ModelVersion = "2"
	from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday
	ref.Traffic = &baselines.Traffic{From: from, Until: from.Add(14 * day)}
	ref.Phases = make([]baselines.Phase, baselines.PhasesPerWeek)
	for p := range ref.Phases {
		ref.Phases[p].Rows = 200 // two weeks of 100 an hour
	}
	e = NewEvaluator(DefaultPolicy(), nil)
	monday := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	r := find(t, e.Evaluate(volumeWindow(ref, "2", monday, 15*time.Minute, 60)), FamilyQuality, "*", MetricVolumeRatio)
	if r.ThresholdSource != SourceReference || r.Value != 60.0/25 || r.NReference != 200 || !r.Drifted {
		t.Errorf("reference: %+v, want 60 of 25 expected, drifted", r)
	}
	r = find(t, e.Evaluate(volumeWindow(ref, "3", monday, 15*time.Minute, 60)), FamilyQuality, "*", MetricVolumeRatio)
	if r.ThresholdSource != SourceInsufficient {
		t.Errorf("another version's traffic reference: %+v, want no expectation", r)
	}
}

// TestVolumeProperty: on hourly windows of Poisson traffic following a
// daily cycle (200 to 2,000 records an hour), over many seeds, no
// stationary window is flagged once judged (from the fourth day, against
// the same hour of the days before, and from the third week against the
// same hour of the weeks before); with a weekly cycle as well (weekends
// 200 to 1,000) none is once the weeks before are known. From the 19th day
// on the traffic halves (or doubles): at least 90% of those windows are
// flagged as too few (too many). At a tenth of the traffic (20 to 200
// records an hour) the test measures how often Poisson noise alone is
// flagged, and logs it.
func TestVolumeProperty(t *testing.T) {
	b := baseline()
	const days, seeds, changeDay = 21, 30, 18
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday
	type tally struct{ judged, small, flagged, changed, caught int }
	run := func(seed uint64, level float64, weekly bool, factor float64, judgeFrom int) tally {
		var c tally
		rng := rand.New(rand.NewPCG(seed, 77))
		e := NewEvaluator(DefaultPolicy(), nil)
		for h := range days * 24 {
			// Weekdays level/5 to 2 level, a tenfold daily swing;
			// weekends (with the weekly cycle) level/5 to level.
			swing := (1 + math.Sin(2*math.Pi*float64(h%24)/24)) / 2
			mean := level * (0.2 + 1.8*swing)
			if weekly && h/24%7 >= 5 {
				mean = level * (0.2 + 0.8*swing)
			}
			changed := factor != 1 && h >= changeDay*24
			if changed {
				mean *= factor
			}
			r := find(t, e.Evaluate(volumeWindow(b, "1", start.Add(time.Duration(h)*time.Hour), time.Hour, poissonDraw(rng, mean))),
				FamilyQuality, "*", MetricVolumeRatio)
			switch {
			case changed:
				c.changed++
				if r.Drifted && (r.Value < 1) == (factor < 1) {
					c.caught++
				}
			case h >= judgeFrom*24:
				switch r.ThresholdSource {
				case SourceHistory:
					c.judged++
				case SourceInsufficient: // a window too small to see the factor
					if r.MDE == nil || *r.MDE <= r.Threshold {
						t.Fatalf("hour %d: %+v, want an expectation from history", h, r)
					}
					c.small++
				default:
					t.Fatalf("hour %d: %+v, want an expectation from history", h, r)
				}
				if r.Drifted {
					c.flagged++
				}
			}
		}
		return c
	}
	var stationary, halved, doubled tally
	add := func(a *tally, c tally) {
		a.judged, a.small, a.flagged, a.changed, a.caught = a.judged+c.judged, a.small+c.small, a.flagged+c.flagged, a.changed+c.changed, a.caught+c.caught
	}
	for seed := range uint64(seeds) {
		add(&stationary, run(seed, 1000, false, 1, 3))
		add(&stationary, run(seed+100, 1000, true, 1, 14))
		add(&halved, run(seed+200, 1000, false, 0.5, 3))
		add(&halved, run(seed+300, 1000, true, 0.5, 14))
		add(&doubled, run(seed+400, 1000, false, 2, 3))
	}
	if stationary.flagged > 0 || stationary.judged < seeds*(15+4)*24*3/4 {
		t.Errorf("%d of %d stationary windows flagged (%d too small to judge), want none", stationary.flagged, stationary.judged, stationary.small)
	}
	for name, c := range map[string]tally{"halved": halved, "doubled": doubled} {
		if c.caught < c.changed*9/10 || c.changed == 0 {
			t.Errorf("%s: %d of %d changed windows flagged, want at least 90%%", name, c.caught, c.changed)
		}
	}
	var small tally
	for seed := range uint64(seeds) {
		add(&small, run(seed+500, 100, false, 1, 3))
	}
	t.Logf("stationary: %d of %d windows judged flagged (%d too small); halved: %d of %d caught; doubled: %d of %d; at 20 to 200 records an hour: %d of %d flagged (%d too small)",
		stationary.flagged, stationary.judged, stationary.small, halved.caught, halved.changed, doubled.caught, doubled.changed, small.flagged, small.judged+small.small, small.small)
}

// poissonDraw draws a Poisson count of mean mu: by inversion of the CDF
// for small means, else by the normal approximation with continuity
// correction.
func poissonDraw(r *rand.Rand, mu float64) int64 {
	if mu > 500 {
		return max(0, int64(math.Floor(mu+math.Sqrt(mu)*r.NormFloat64()+0.5)))
	}
	u, k := r.Float64(), int64(0)
	p := math.Exp(-mu)
	for cdf := p; u > cdf; cdf += p {
		k++
		p *= mu / float64(k)
	}
	return k
}

// TestVolumeRestore: an Evaluator given the record counts of the windows
// another one evaluated (RestoreVolumes, a restarted job's) writes the
// same volume rows from then on; counts it evaluated itself stand.
func TestVolumeRestore(t *testing.T) {
	b := baseline()
	first := NewEvaluator(DefaultPolicy(), nil)
	var kept []WindowVolume
	for d := range 4 {
		w := volumeWindow(b, "1", t0.Add(time.Duration(d)*day), time.Hour, int64(1000+100*d))
		first.Evaluate(w)
		kept = append(kept, WindowVolume{Key: w.Key, Start: w.Start, End: w.End, Records: w.Records})
	}
	next := volumeWindow(b, "1", t0.Add(4*day), time.Hour, 400)
	want := find(t, first.Evaluate(next), FamilyQuality, "*", MetricVolumeRatio)
	restarted := NewEvaluator(DefaultPolicy(), nil)
	own := volumeWindow(b, "1", t0.Add(3*day), time.Hour, 1300) // evaluated after the restart, before the restore
	restarted.Evaluate(own)
	kept[3].Records = 5 // a stale count of it, which does not replace its own
	restarted.RestoreVolumes(append(kept, WindowVolume{Key: next.Key, Start: t0, End: t0, Records: 9}))
	got := find(t, restarted.Evaluate(volumeWindow(b, "1", t0.Add(4*day), time.Hour, 400)), FamilyQuality, "*", MetricVolumeRatio)
	if got.ThresholdSource != SourceHistory || got.Value != want.Value || got.NReference != want.NReference || !got.Drifted {
		t.Errorf("restored: %+v\nwant %+v", got, want)
	}
}
