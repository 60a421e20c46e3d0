package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/internal/synth"
)

// replayRows writes scen's log and reference data into dir, builds the
// baselines and replays the log; it returns the metric rows.
func replayRows(t *testing.T, dir string, scen synth.Config, refRecords int) []map[string]any {
	t.Helper()
	return replayRowsConfig(t, dir, scen, refRecords, "")
}

// replayRowsConfig is replayRows with a config file for replay ("" for
// none); its baselines.dir must be dir/baselines.
func replayRowsConfig(t *testing.T, dir string, scen synth.Config, refRecords int, cfg string) []map[string]any {
	t.Helper()
	log, labels, err := scen.Files()
	if err != nil {
		t.Fatal(err)
	}
	logPath, baseDir, out := filepath.Join(dir, "log.jsonl"), filepath.Join(dir, "baselines"), filepath.Join(dir, "rows.jsonl")
	if err := os.WriteFile(logPath, log, 0o644); err != nil {
		t.Fatal(err)
	}
	labelsPath := filepath.Join(dir, "labels.jsonl")
	if len(labels) > 0 {
		if err := os.WriteFile(labelsPath, labels, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range scen.Models {
		var ref bytes.Buffer
		if err := scen.Reference(m.Name, refRecords, &ref); err != nil {
			t.Fatal(err)
		}
		refPath := filepath.Join(dir, m.Name+".ref.jsonl")
		if err := os.WriteFile(refPath, ref.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := run(t, "baseline", "--model", m.Name, "--input", refPath, "--out", baseDir); code != 0 {
			t.Fatalf("baseline %s: %s", m.Name, errOut)
		}
	}
	args := []string{"replay", "--baselines", baseDir, "--input", logPath, "--output", out}
	if cfg != "" {
		args = append(args, "--config", cfg)
	}
	if len(labels) > 0 {
		args = append(args, "--labels", labelsPath)
	}
	if code, _, errOut := run(t, args...); code != 0 {
		t.Fatalf("replay: %s", errOut)
	} else {
		t.Log(errOut)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	return rows
}

// isVerdict reports whether a replay row is flagged: drifted with severity
// SEV-1 to SEV-3 (SEV-4 rows are secondary tests at 5% that false-alarm by
// design and wait for the weekly review).
func isVerdict(r map[string]any) bool { return r["drifted"] == true && r["severity"] != "SEV-4" }

// windowIndex is the 0-based window of scen that a replay row is about.
func windowIndex(r map[string]any, scen synth.Config) int {
	start, _ := time.Parse(time.RFC3339, r["window_start"].(string))
	return int(start.Sub(scen.Start) / scen.Window)
}

// TestQualityBreakageIsFlagged injects, from window 4 of 8, a null burst, a
// share of records without a feature's key, numbers sent as strings and a
// category the reference never had into four features of one model: from
// that window on exactly those quality rows are flagged (and the categorical
// feature's distribution, which the new category does change), and nothing
// before it or in the untouched model. Flagged means a verdict: a drifted
// row of severity SEV-1 to SEV-3 (secondary rows, SEV-4, are tests at 5%
// that false-alarm by design and wait for the weekly review).
func TestQualityBreakageIsFlagged(t *testing.T) {
	scen := synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	scen.Windows, scen.RecordsPerWindow, scen.BadRate, scen.DuplicateRate = 8, 2000, 0, 0
	const from = 4
	for i := range scen.Models {
		scen.Models[i].Drifts = nil
	}
	scen.Models[0].Drifts = []synth.Drift{ // fraud
		{Feature: "age", Kind: synth.Nulls, Amount: 0.5, FromWindow: from},
		{Feature: "distance_km", Kind: synth.Absent, Amount: 0.05, FromWindow: from},
		{Feature: "merchant_risk", Kind: synth.WrongType, Amount: 0.05, FromWindow: from},
		{Feature: "channel", Kind: synth.Unseen, Amount: 0.05, FromWindow: from},
	}
	want := map[string]bool{
		"quality/age/null_rate":                 true,
		"quality/distance_km/missing_rate":      true,
		"quality/merchant_risk/type_error_rate": true,
		"quality/channel/unseen_category_rate":  true,
	}
	rows := replayRows(t, t.TempDir(), scen, 5000)
	flagged := map[string]map[string]bool{} // window -> family/subject/metric
	windows := map[string]bool{}
	for _, r := range rows {
		w := fmt.Sprintf("%s %d", r["model"], windowIndex(r, scen))
		windows[w] = true
		if isVerdict(r) {
			if flagged[w] == nil {
				flagged[w] = map[string]bool{}
			}
			flagged[w][fmt.Sprintf("%s/%s/%s", r["family"], r["subject"], r["metric"])] = true
		}
	}
	if len(windows) != 2*scen.Windows {
		t.Fatalf("%d windows, want %d", len(windows), 2*scen.Windows)
	}
	for w := range scen.Windows {
		fraud, churn := flagged[fmt.Sprintf("fraud %d", w)], flagged[fmt.Sprintf("churn %d", w)]
		if len(churn) > 0 {
			t.Errorf("churn window %d (untouched): flagged %v", w, churn)
		}
		if w < from {
			if len(fraud) > 0 {
				t.Errorf("fraud window %d (before the breakage): flagged %v", w, fraud)
			}
			continue
		}
		for k := range want {
			if !fraud[k] {
				t.Errorf("fraud window %d: %s not flagged", w, k)
			}
		}
		for k := range fraud {
			if !want[k] && k[:len("data/channel/")] != "data/channel/" {
				t.Errorf("fraud window %d: %s flagged, not injected", w, k)
			}
		}
	}
}

// TestServingRowsMatchRecords: replay's latency quantiles per model and
// window are within the sketch's 1% of the exact order statistics of the
// records' latency_ms, and throughput is the window's records per second.
func TestServingRowsMatchRecords(t *testing.T) {
	scen := synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	scen.Windows, scen.RecordsPerWindow, scen.BadRate, scen.DuplicateRate = 3, 3000, 0, 0
	latencies := map[string][]float64{}
	if err := scen.Generate(func(m synth.Message) error {
		var r struct {
			Latency float64 `json:"latency_ms"`
		}
		if err := json.Unmarshal(m.Value, &r); err != nil {
			return err
		}
		k := fmt.Sprintf("%s %d", m.Model, m.Window)
		latencies[k] = append(latencies[k], r.Latency)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, r := range replayRows(t, t.TempDir(), scen, 2000) {
		if r["family"] != "serving" || r["subject"] != "latency_ms" && r["subject"] != "throughput" {
			continue // a variant's own latency rows (subject variant=<name>) are not the window's
		}
		got[fmt.Sprintf("%s %d %s", r["model"], windowIndex(r, scen), r["metric"])] = r["value"].(float64)
	}
	for k, xs := range latencies {
		slices.Sort(xs)
		for metric, q := range map[string]float64{"latency_p50_ms": 0.5, "latency_p95_ms": 0.95, "latency_p99_ms": 0.99} {
			exact := xs[int(q*float64(len(xs)-1))] // numpy's method="lower"
			v, ok := got[k+" "+metric]
			if !ok || math.Abs(v-exact) > 0.01*exact {
				t.Errorf("%s %s = %v (present %v), exact order statistic %v", k, metric, v, ok, exact)
			}
		}
		if v := got[k+" throughput_rps"]; v != float64(len(xs))/3600 {
			t.Errorf("%s throughput %v, want %d records / 3600 s", k, v, len(xs))
		}
	}
	if len(latencies) != 2*scen.Windows {
		t.Fatalf("%d model windows generated", len(latencies))
	}
}

// TestChallengerShiftIsFlagged: the challenger (10% of records) scores
// differently from window 3 of 6; its predictions are flagged against the
// champion's in the same window from then on, and not before.
func TestChallengerShiftIsFlagged(t *testing.T) {
	scen := synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	scen.Windows, scen.RecordsPerWindow, scen.BadRate, scen.DuplicateRate = 6, 4000, 0, 0
	const from = 3
	for i := range scen.Models {
		scen.Models[i].Drifts = nil
	}
	scen.Models[0].ChallengerShift, scen.Models[0].ChallengerFrom = 1.5, from // fraud
	rows := replayRows(t, t.TempDir(), scen, 5000)
	flagged := map[string]map[string]bool{}
	seen := map[string]bool{}
	for _, r := range rows {
		w := fmt.Sprintf("%s %d", r["model"], windowIndex(r, scen))
		k := fmt.Sprintf("%s/%s", r["family"], r["subject"])
		seen[w+" "+k] = true
		if isVerdict(r) {
			if flagged[w] == nil {
				flagged[w] = map[string]bool{}
			}
			flagged[w][k] = true
		}
	}
	for w := range scen.Windows {
		for _, m := range []string{"fraud", "churn"} {
			key := fmt.Sprintf("%s %d", m, w)
			if !seen[key+" prediction/variant=challenger"] {
				t.Errorf("%s: no challenger rows", key)
			}
			got := flagged[key]
			want := m == "fraud" && w >= from
			if got["prediction/variant=challenger"] != want {
				t.Errorf("%s: challenger flagged %v, want %v (flags %v)", key, got["prediction/variant=challenger"], want, got)
			}
			for k := range got {
				if k != "prediction/variant=challenger" && k != "prediction/prediction" && k != "data/*" {
					t.Errorf("%s: %s flagged, not injected", key, k)
				}
			}
		}
	}
}

// TestStableStreamFlagsNothing: 24 windows of 10,000 records of a model
// with 20 features (every kind, with nulls, a challenger variant, latency,
// segments, labels for 30% of records arriving 1 to 48 hours later on their
// own topic) and nothing changed: no family flags anything (no row of
// severity SEV-1 to SEV-3; SEV-4 rows are secondary tests at 5% and
// false-alarm by design).
func TestStableStreamFlagsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("240,000 records")
	}
	var features []synth.Feature
	for i := range 5 {
		features = append(features,
			synth.Feature{Name: fmt.Sprintf("normal_%d", i), Kind: synth.Normal, Mean: float64(10 * i), Std: 1 + float64(i), NullRate: 0.01 * float64(i)},
			synth.Feature{Name: fmt.Sprintf("lognormal_%d", i), Kind: synth.LogNormal, Mean: 1 + 0.5*float64(i), Std: 0.5 + 0.2*float64(i)},
			synth.Feature{Name: fmt.Sprintf("count_%d", i), Kind: synth.Poisson, Lambda: 1 + 2*float64(i)},
			synth.Feature{Name: fmt.Sprintf("category_%d", i), Kind: synth.Categorical,
				Categories: []string{"a", "b", "c", "d", "e"}[:2+i%4], Weights: []float64{0.4, 0.3, 0.15, 0.1, 0.05}[:2+i%4]},
		)
	}
	scen := synth.Config{
		Seed: 7, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Window: time.Hour, Windows: 24, RecordsPerWindow: 10_000,
		Models: []synth.Model{{Name: "stable", Version: "1", Classes: []string{"yes", "no"}, Features: features,
			LabelShare: 0.3, LabelDelay: [2]time.Duration{time.Hour, 48 * time.Hour}}},
		Jitter: 2 * time.Minute,
	}
	rows := replayRows(t, t.TempDir(), scen, 20_000)
	windows := map[string]bool{}
	families := map[string]bool{}
	for _, r := range rows {
		windows[r["window_start"].(string)] = true
		families[r["family"].(string)] = true
		if isVerdict(r) {
			t.Errorf("stable stream flagged: %s %s/%s/%s = %v (threshold %v)", r["window_start"], r["family"], r["subject"], r["metric"], r["value"], r["threshold"])
		}
	}
	if len(windows) != 24 {
		t.Errorf("%d windows, want 24", len(windows))
	}
	for _, f := range []string{"data", "prediction", "quality", "serving", "label", "concept", "fairness"} {
		if !families[f] {
			t.Errorf("no %s rows", f)
		}
	}
}

// TestFairnessCollapseIsFlagged: from window 3 of 6 the model scores women
// lower (their selection rate falls from about 0.4 to under 0.1); with the
// limits set, gender's demographic parity difference and disparate impact,
// and (by default) the gap's growth over the baseline's, are flagged from
// that window on and not before, and nothing else is but
// rows about the predictions, which moved.
func TestFairnessCollapseIsFlagged(t *testing.T) {
	scen := synth.Config{
		Seed: 11, Start: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), Window: time.Hour, Windows: 6, RecordsPerWindow: 4000,
		Models: []synth.Model{{Name: "credit", Version: "3", Classes: []string{"approve", "reject"},
			Features: []synth.Feature{
				{Name: "income", Kind: synth.LogNormal, Mean: 10, Std: 0.5},
				{Name: "debt_ratio", Kind: synth.Normal, Mean: 0.3, Std: 0.1, Min: 0, Max: 1},
				{Name: "purpose", Kind: synth.Categorical, Categories: []string{"car", "home", "other"}, Weights: []float64{0.3, 0.5, 0.2}},
			},
			FemaleShift: -3, FemaleShiftFrom: 3,
		}},
	}
	const from = 3
	dir := t.TempDir()
	cfg := filepath.Join(dir, "driftwatch.yml")
	if err := os.WriteFile(cfg, []byte(`
baselines:
  dir: `+filepath.Join(dir, "baselines")+`
fairness:
  decision_threshold: 0.2
  max_parity_difference: 0.1
  max_opportunity_difference: 0.1
  min_disparate_impact: 0.8
`), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := replayRowsConfig(t, dir, scen, 5000, cfg)
	flagged := map[int]map[string]bool{}
	rates := map[string]float64{}
	for _, r := range rows {
		w := windowIndex(r, scen)
		k := fmt.Sprintf("%s/%s/%s", r["family"], r["subject"], r["metric"])
		if r["metric"] == "selection_rate" {
			rates[fmt.Sprintf("%d %s", w, r["subject"])] = r["value"].(float64)
		}
		if isVerdict(r) {
			if flagged[w] == nil {
				flagged[w] = map[string]bool{}
			}
			flagged[w][k] = true
		}
	}
	for w := range scen.Windows {
		t.Logf("window %d: selection rate f %.3f, m %.3f", w, rates[fmt.Sprintf("%d gender=f", w)], rates[fmt.Sprintf("%d gender=m", w)])
		want := map[string]bool{}
		if w >= from {
			want["fairness/gender/demographic_parity_diff"] = true
			want["fairness/gender/disparate_impact"] = true
			want["fairness/gender/parity_diff_change"] = true // against the baseline's gap
		}
		got := flagged[w]
		for k := range want {
			if !got[k] {
				t.Errorf("window %d: %s not flagged", w, k)
			}
		}
		for k := range got {
			// The predictions themselves moved (women's scores fell below the
			// reference's range): rows about the prediction may flag too.
			if !want[k] && !strings.Contains(k, "/prediction/") {
				t.Errorf("window %d: %s flagged, not injected", w, k)
			}
		}
	}
}

// TestConceptFlipIsFlagged: half the records carry their label; from
// window 3 of 6 the truth flips (labels drawn with 1 - score) while inputs
// and predictions stay: accuracy against the reference's and the label
// distribution are flagged from then on, not before, and nothing else.
func TestConceptFlipIsFlagged(t *testing.T) {
	t.Run("labels in the records", func(t *testing.T) { testConceptFlip(t, [2]time.Duration{}) })
	// Labels on their own topic (here a --labels file), 1 to 48 hours
	// after their predictions: the same verdicts, and their delays.
	t.Run("labels 1-48h late", func(t *testing.T) { testConceptFlip(t, [2]time.Duration{time.Hour, 48 * time.Hour}) })
}

func testConceptFlip(t *testing.T, delay [2]time.Duration) {
	scen := synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	scen.Windows, scen.RecordsPerWindow, scen.BadRate, scen.DuplicateRate = 6, 3000, 0, 0
	const from = 3
	scen.Models = scen.Models[:1] // fraud
	scen.Models[0].Drifts = nil
	scen.Models[0].LabelShare, scen.Models[0].FlipLabelsFrom, scen.Models[0].LabelDelay = 0.5, from, delay
	rows := replayRows(t, t.TempDir(), scen, 10_000)
	// The generated labels' delays, in hours, by their prediction's window.
	generated := map[int][]float64{}
	predicted := map[string]time.Time{}
	if err := scen.Generate(func(m synth.Message) error {
		if id := string(m.Key); !m.Label {
			predicted[id] = m.Time
		} else {
			at := predicted[id]
			generated[int(at.Sub(scen.Start)/scen.Window)] = append(generated[int(at.Sub(scen.Start)/scen.Window)], m.Time.Sub(at).Hours())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	flagged := map[int]map[string]bool{}
	covered := map[int]float64{}
	delays := map[int][2]float64{}
	for _, r := range rows {
		w := windowIndex(r, scen)
		switch r["metric"] {
		case "label_coverage":
			covered[w] = r["value"].(float64)
		case "label_delay_p50_s":
			d := delays[w]
			d[0] = r["value"].(float64) / 3600
			delays[w] = d
		case "label_delay_p95_s":
			d := delays[w]
			d[1] = r["value"].(float64) / 3600
			delays[w] = d
		}

		if isVerdict(r) {
			if flagged[w] == nil {
				flagged[w] = map[string]bool{}
			}
			flagged[w][fmt.Sprintf("%s/%s/%s", r["family"], r["subject"], r["metric"])] = true
		}
	}
	for w := range scen.Windows {
		if c := covered[w]; c < 0.45 || c > 0.55 {
			t.Errorf("window %d: label coverage %v, want about 0.5", w, c)
		}
		// The delays' quantiles as numpy.quantile computes them (linear
		// between order statistics) from the generated labels; near those
		// of uniform delays on [1h, 48h]: 24.5h and 45.65h.
		if d := delays[w]; delay[1] == 0 && d != [2]float64{} {
			t.Errorf("window %d: label delays %v for labels the records carried", w, d)
		} else if delay[1] > 0 {
			q := func(xs []float64, p float64) float64 {
				h := float64(len(xs)-1) * p
				i := int(h)
				return xs[i] + (h-float64(i))*(xs[min(i+1, len(xs)-1)]-xs[i])
			}
			ds := generated[w]
			slices.Sort(ds)
			if want := [2]float64{q(ds, 0.5), q(ds, 0.95)}; math.Abs(d[0]-want[0]) > 1e-9 || math.Abs(d[1]-want[1]) > 1e-9 {
				t.Errorf("window %d: label delay p50 %.4fh, p95 %.4fh; the %d labels' are %.4fh and %.4fh", w, d[0], d[1], len(ds), want[0], want[1])
			}
			if math.Abs(d[0]-24.5) > 4 || math.Abs(d[1]-45.65) > 2 {
				t.Errorf("window %d: label delay p50 %.2fh, p95 %.2fh; far from uniform delays' 24.5h and 45.65h", w, d[0], d[1])
			}
		}
		got := flagged[w]
		if w < from {
			if len(got) > 0 {
				t.Errorf("window %d (before the flip): flagged %v", w, got)
			}
			continue
		}
		if !got["concept/performance/accuracy"] {
			t.Errorf("window %d: accuracy drop not flagged (flags %v)", w, got)
		}
		if !got["concept/performance/mae"] {
			t.Errorf("window %d: MAE rise not flagged (flags %v)", w, got)
		}
		if w == from && !got["concept/error_stream/adwin"] {
			t.Errorf("window %d: ADWIN did not signal the change point (flags %v)", w, got)
		}
		labelDrift := false
		for k := range got {
			switch {
			case strings.HasPrefix(k, "label/label/"):
				labelDrift = true
			case strings.HasPrefix(k, "concept/performance/"), k == "concept/error_stream/adwin":
			default:
				t.Errorf("window %d: %s flagged, not injected", w, k)
			}
		}
		if !labelDrift {
			t.Errorf("window %d: label distribution drift not flagged (flags %v)", w, got)
		}
	}
}
