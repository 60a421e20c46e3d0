package drift

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/windows"
)

// seasonDay is the start of the reference of the seasonality tests, a
// Monday.
var seasonDay = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// cycleRow draws one record at hour h of the day: x's mean follows a daily
// cycle of 1.5 standard deviations, c's mix moves with it and the score
// too (so the positive rate cycles), plus shift on x.
func cycleRow(rng *lcg, h int, shift float64) (x float64, c string, score float64) {
	phase := math.Sin(2 * math.Pi * float64(h) / 24)
	x = normal(rng) + 1.5*phase + shift
	c = "day"
	if rng.float() < 0.5-0.35*phase {
		c = "night"
	}
	score = min(max(0.5+0.25*phase+0.15*normal(rng), 0), 1)
	return x, c, score
}

// cycleBaseline is two days of a daily cycle, 400 records an hour.
func cycleBaseline(t *testing.T) *baselines.Baseline {
	t.Helper()
	rng := newLCG(31)
	b := baselines.NewBuilder("m", baselines.BuildOptions{})
	for hour := range 48 {
		for i := range 400 {
			at := seasonDay.Add(time.Duration(hour)*time.Hour + time.Duration(i)*time.Hour/400)
			x, c, score := cycleRow(rng, hour%24, 0)
			b.SetTime(at)
			b.AddNumber("x", x)
			b.AddCategory("c", c)
			b.AddPredictionNumber(score)
			b.EndRow()
		}
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return bl
}

// cycleWindow is an hourly window at hour h of a later day, of n records.
func cycleWindow(bl *baselines.Baseline, rng *lcg, day, h, n int, shift float64) *windows.Window {
	start := seasonDay.Add(time.Duration(24*day+h) * time.Hour)
	w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, start, start.Add(time.Hour), bl, 100)
	idx := map[string]int{}
	for i, f := range bl.Features {
		idx[f.Name] = i
	}
	for range n {
		x, c, score := cycleRow(rng, h, shift)
		fx := &w.Features[idx["x"]]
		j := bl.Features[idx["x"]].Bin(x)
		fx.Counts[j]++
		fx.Sums[j] += x
		fx.Count++
		fx.Moments.Add(x)
		w.Features[idx["c"]].Categories[c]++
		w.Features[idx["c"]].Count++
		j = bl.Prediction.Bin(score)
		w.Prediction.Counts[j]++
		w.Prediction.Sums[j] += score
		w.Prediction.Count++
		w.Prediction.Moments.Add(score)
		w.Decided++
		if score >= 0.5 {
			w.Selected++
		}
	}
	w.Records = int64(n)
	return w
}

// TestSeasonality: a reference of two days with a strong daily cycle is
// found to cycle daily; 24 hourly windows of a stable later day that
// follow the same cycle raise nothing judged against the matching hours
// of the reference (seasonality auto, the default, and daily), while
// against the whole reference (none) most are drifted on x, c, the
// prediction and positive_rate; and a shift of x by one standard
// deviation on top of the cycle is still caught in every window.
func TestSeasonality(t *testing.T) {
	bl := cycleBaseline(t)
	if bl.Cycle != baselines.CycleDaily || len(bl.Phases) != baselines.PhasesPerWeek {
		t.Fatalf("cycle %q with %d phases, want daily with %d", bl.Cycle, len(bl.Phases), baselines.PhasesPerWeek)
	}
	judge := func(seasonality string, shift float64) (flagged map[string]int) {
		p := DefaultPolicy()
		p.Seasonality = seasonality
		e := NewEvaluator(p, nil)
		rng := newLCG(77)
		flagged = make(map[string]int)
		for h := range 24 {
			for _, r := range e.Evaluate(cycleWindow(bl, rng, 7, h, 1000, shift)) {
				if r.Drifted && r.Family != FamilyQuality {
					flagged[fmt.Sprintf("%s/%s/%s", r.Family, r.Subject, r.Metric)]++
				}
				if r.BaselineID != bl.ID {
					t.Fatalf("row baseline_id %q, want the stored baseline's %q", r.BaselineID, bl.ID)
				}
			}
		}
		return flagged
	}
	for _, s := range []string{SeasonalityAuto, SeasonalityDaily} {
		if got := judge(s, 0); len(got) > 0 {
			t.Errorf("seasonality %s: a stable day following the reference's cycle flagged %v", s, got)
		}
	}
	none := judge(SeasonalityNone, 0)
	t.Logf("against the whole reference: %v", none)
	for _, key := range []string{"data/x/psi", "data/c/jensen_shannon", "prediction/prediction/psi", "prediction/prediction/positive_rate"} {
		if none[key] < 12 {
			t.Errorf("seasonality none: %s flagged in %d of 24 windows; the test wants a cycle that the whole reference cannot absorb", key, none[key])
		}
	}
	if got := judge(SeasonalityAuto, 1); got["data/x/psi"] != 24 {
		t.Errorf("x shifted by one standard deviation on top of the cycle: psi flagged in %d of 24 windows (%v)", got["data/x/psi"], got)
	}
}

// TestNoCycleFound: a reference without a cycle keeps its time profile
// but finds none, and windows are judged against the whole of it.
func TestNoCycleFound(t *testing.T) {
	rng := newLCG(32)
	b := baselines.NewBuilder("m", baselines.BuildOptions{})
	for i := range 48 * 400 {
		b.SetTime(seasonDay.Add(time.Duration(i) * time.Hour / 400))
		b.AddNumber("x", normal(rng))
		b.AddPredictionNumber(rng.float())
		b.EndRow()
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if bl.Cycle != "" || len(bl.Phases) != baselines.PhasesPerWeek {
		t.Fatalf("cycle %q with %d phases, want none with %d", bl.Cycle, len(bl.Phases), baselines.PhasesPerWeek)
	}
	w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, seasonDay, seasonDay.Add(time.Hour), bl, 100)
	if got := phased(w, &Policy{Seasonality: SeasonalityAuto}); got != w {
		t.Errorf("auto without a cycle judged against %s", got.Baseline.ID)
	}
	if got := phased(w, &Policy{Seasonality: SeasonalityDaily}); got.Baseline.Rows != 2*400 {
		t.Errorf("daily: the window's reference holds %d rows, want the 800 of its hour on both days", got.Baseline.Rows)
	}
	// Weekly: Monday 00:00 has its 400 rows; Wednesday's hour has none in
	// a reference of Monday and Tuesday, so it falls back to daily.
	if got := phased(w, &Policy{Seasonality: SeasonalityWeekly}); got.Baseline.Rows != 400 {
		t.Errorf("weekly, Monday 00:00: %d rows, want 400", got.Baseline.Rows)
	}
	wed := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, seasonDay.Add(48*time.Hour), seasonDay.Add(49*time.Hour), bl, 100)
	if got := phased(wed, &Policy{Seasonality: SeasonalityWeekly}); got.Baseline.Rows != 800 {
		t.Errorf("weekly, Wednesday 00:00 (not in the reference): %d rows, want daily's 800", got.Baseline.Rows)
	}
	day := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, seasonDay, seasonDay.Add(24*time.Hour), bl, 100)
	if got := phased(day, &Policy{Seasonality: SeasonalityDaily}); got != day {
		t.Errorf("a day-long window under daily: judged against %s, want the whole reference", got.Baseline.ID)
	}
}
