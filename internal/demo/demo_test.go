package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/driftwatch/driftwatch/stats/drift"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestDemoEndToEnd runs the whole demo through the embedded broker on a
// smaller stream and checks the verdicts against the injected truth: exactly
// the drifted features are flagged, in every window from the first drifted
// one on, and nowhere before; bad records are all in the dead-letter topic.
func TestDemoEndToEnd(t *testing.T) {
	dir := t.TempDir()
	var out strings.Builder
	o, err := Run(context.Background(), &out, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{
		Out: dir, RecordsPerWindow: 1000, ReferenceRecords: 10_000,
	})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	scen := o.Scenario
	expected := scen.Expected()
	for _, m := range scen.Models {
		from := driftFrom(m)
		if from <= 0 || from >= scen.Windows {
			t.Fatalf("scenario drift starts at window %d of %d: nothing to test", from, scen.Windows)
		}
		for idx := 0; idx < scen.Windows; idx++ {
			var features []string
			for _, s := range o.Flagged[m.Name][idx] {
				switch {
				case s == drift.SubjectMultivariate:
					// All the features together: the drifted features may
					// move them, nothing before does.
					if idx < from {
						t.Errorf("%s window %d: %s flagged before the drift", m.Name, idx, s)
					}
				case s != "prediction":
					features = append(features, s)
				}
			}
			sort.Strings(features)
			var want []string
			if idx >= from {
				want = expected[m.Name]
			}
			if !slices.Equal(features, want) {
				t.Errorf("%s window %d: flagged %v, want %v", m.Name, idx, features, want)
			}
		}
	}

	c := o.Counts
	if c.Windows.Closed != int64(scen.Windows*len(scen.Models)) {
		t.Errorf("closed %d windows, want %d", c.Windows.Closed, scen.Windows*len(scen.Models))
	}
	if c.Windows.Late != 0 || c.Windows.Overflow != 0 {
		t.Errorf("late %d, overflow %d: the stream's jitter is within the allowed lateness", c.Windows.Late, c.Windows.Overflow)
	}
	var dead int64
	for reason, n := range c.Source.DeadLetter {
		dead += n
		if o.DeadLetters[reason] != n {
			t.Errorf("dead letters %s: counted %d, found %d in the topic", reason, n, o.DeadLetters[reason])
		}
	}
	if dead == 0 || c.Source.Duplicates == 0 {
		t.Errorf("the scenario injects bad and duplicate records; counted %d and %d", dead, c.Source.Duplicates)
	}
	if c.Source.Accepted+c.Source.Duplicates+dead != c.Source.Records {
		t.Errorf("records do not add up: %+v", c.Source)
	}

	// Performance estimated without labels: in every window of both
	// models (binary classifiers), with its band around it; beside it the
	// value fraud's late labels realized, inside the band in most windows;
	// churn has no labels. The drift moves the estimate in drifted windows.
	for _, m := range scen.Models {
		var inside, realized int
		for idx := range scen.Windows {
			est := o.Estimated[m.Name][idx]
			a, lo, hi := est[drift.MetricAccuracy], est[drift.MetricAccuracyLower], est[drift.MetricAccuracyUpper]
			if a.Metric == "" || lo.Metric == "" || !(lo.Value < a.Value && a.Value < hi.Value) {
				t.Errorf("%s window %d: estimated accuracy %+v, band %v to %v", m.Name, idx, a, lo.Value, hi.Value)
			}
			if r, ok := est[drift.MetricAccuracyRealized]; ok {
				realized++
				if lo.Value <= r.Value && r.Value <= hi.Value {
					inside++
				}
			}
		}
		switch {
		case m.LabelShare > 0 && (realized != scen.Windows || inside < scen.Windows-2):
			t.Errorf("%s: realized accuracy in %d windows, inside the band in %d (want all windows, all but 2 inside)", m.Name, realized, inside)
		case m.LabelShare == 0 && realized != 0:
			t.Errorf("%s: realized accuracy without labels in %d windows", m.Name, realized)
		}
		if line := estimatedLine(o.Estimated[m.Name], driftFrom(m), scen.Windows); !strings.Contains(line, "without labels") {
			t.Errorf("%s: no estimated summary (%q)", m.Name, line)
		}
	}

	// Alerts: each model's two drifted features fire a drift alert (two
	// breaching windows), once.
	if n := o.Alerts["SEV-3 DriftwatchDrift"]; n < 4 {
		t.Errorf("%d drift alerts fired (%v), want at least the 4 injected features'", n, o.Alerts)
	}

	// Late labels: every one joined its prediction, most after its window
	// closed, which re-emitted the window's label-derived rows.
	if l := c.Windows.Labels; l.Received == 0 || l.Received != c.Source.Labels || l.Joined != l.Received || l.Relabelled == 0 || l.Held != 0 {
		t.Errorf("late labels: %+v (consumer read %d)", l, c.Source.Labels)
	}

	// The metrics file holds contract rows, one per window, subject and
	// metric, and newer versions of label-derived rows.
	f, err := os.Open(o.MetricsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type key struct{ model, start, family, subject, metric string }
	// The fairness metrics computed from labels.
	labelledFairness := map[string]bool{
		drift.MetricTruePositiveRate: true, drift.MetricFalsePositiveRate: true, drift.MetricAccuracy: true,
		drift.MetricPrecision: true, drift.MetricOpportunityDiff: true, drift.MetricEqualizedOddsDiff: true,
	}
	seen := map[key]bool{}
	sc := bufio.NewScanner(f)
	var rows, reemitted int64
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("row %d: %v", rows, err)
		}
		for _, col := range []string{"model", "model_version", "window_start", "window_end", "family", "subject", "metric",
			"value", "p_value", "threshold", "drifted", "severity", "n_current", "n_reference", "baseline_id"} {
			if _, ok := r[col]; !ok {
				t.Fatalf("row %d has no %s: %s", rows, col, sc.Text())
			}
		}
		k := key{r["model"].(string), r["window_start"].(string), r["family"].(string), r["subject"].(string), r["metric"].(string)}
		if seen[k] {
			// Late labels re-emit a closed window's label-derived rows: a
			// newer version, later in the file. Nothing else repeats.
			switch {
			case k.family == "label", k.family == "concept", k.family == "fairness" && labelledFairness[k.metric]:
				reemitted++
			default:
				t.Fatalf("row %v twice", k)
			}
		}
		seen[k] = true
		if start, _ := time.Parse(time.RFC3339, k.start); !start.Truncate(time.Hour).Equal(start) {
			t.Fatalf("window start %s not aligned", k.start)
		}
		if r["drifted"] == true && r["severity"] == "" {
			t.Fatalf("drifted row without severity: %s", sc.Text())
		}
		rows++
	}
	if rows != o.Rows || rows == 0 || reemitted == 0 {
		t.Errorf("file has %d rows (%d newer versions of label-derived rows), sink committed %d", rows, reemitted, o.Rows)
	}
	if !seen[key{"fraud", scen.Start.Format(time.RFC3339), drift.FamilyData, "amount", drift.MetricPSI}] {
		t.Errorf("no psi row for fraud.amount in the first window")
	}
	// Every window has its multivariate rows (1,000 records, 500 sampled).
	for _, m := range scen.Models {
		for idx := range scen.Windows {
			start := scen.Start.Add(time.Duration(idx) * scen.Window).Format(time.RFC3339)
			for _, metric := range []string{drift.MetricReconstructionError, drift.MetricDomainClassifierAUC} {
				if !seen[key{m.Name, start, drift.FamilyData, drift.SubjectMultivariate, metric}] {
					t.Errorf("%s window %d: no %s row", m.Name, idx, metric)
				}
			}
		}
	}
	if !strings.Contains(out.String(), "DRIFT") || !strings.Contains(out.String(), o.MetricsPath) {
		t.Errorf("narration lacks verdicts or the file path:\n%s", out.String())
	}
}
