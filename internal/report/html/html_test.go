package html

import (
	"bytes"
	"encoding/xml"
	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// row is one metric row of model "fraud" in the window starting at hour h.
func row(version string, h int, family, subject, metric string, value, threshold float64, drifted bool, sev string, n int64) drift.Row {
	src := drift.SourceStatic
	if threshold == 0 {
		src = ""
	}
	return drift.Row{Model: "fraud", ModelVersion: version, WindowStart: t0.Add(time.Duration(h) * time.Hour), WindowEnd: t0.Add(time.Duration(h+1) * time.Hour),
		Family: family, Subject: subject, Metric: metric, Value: value, Threshold: threshold, Drifted: drifted, Severity: sev,
		NCurrent: n, NReference: 2000, BaselineID: "fraud-b1", ThresholdSource: src}
}

// scenario: 4 windows of version 2; amount drifts from window 2 on (SEV-3),
// accuracy drops in window 3 (SEV-2), country never drifts; gender groups
// with known counts; a window summary with amount's distributions.
func scenario() Input {
	var rows []drift.Row
	for h := range 4 {
		amount := row("2", h, drift.FamilyData, "amount", drift.MetricPSI, 0.01, 0.2, false, "", 500)
		if h >= 2 {
			amount.Value, amount.Drifted, amount.Severity = 0.9, true, "SEV-3"
		}
		amount.Primary = true
		country := row("2", h, drift.FamilyData, "country", drift.MetricJensenShannon, 0.02, 0.1, false, "", 500)
		country.Primary = true
		// A ks row of amount that is not deciding, drifted everywhere:
		// the deciding mark, not the worst row, gives the verdict.
		ks := row("2", h, drift.FamilyData, "amount", drift.MetricKS, 0.3, 0.05, true, "", 500)
		share := row("2", h, drift.FamilyData, "*", drift.MetricWeightedDrift, float64(min(h/2, 1))*0.5, 0.5, h >= 2, "", 500)
		acc := row("2", h, drift.FamilyConcept, "performance", drift.MetricAccuracy, 0.8, 0.75, false, "", 100)
		rec := row("2", h, drift.FamilyConcept, "performance", drift.MetricRecall, 0.8, 0.75, false, "", 50)
		if h == 3 {
			acc.Value, acc.Drifted, acc.Severity = 0.6, true, "SEV-2"
			rec.Value, rec.Drifted, rec.Severity = 0.5, true, "SEV-3"
		}
		rows = append(rows, rec)
		// gender=f: 100 records with 10 selected, then 300 with 90;
		// gender=m: 300 records, 30 selected.
		f := row("2", h, drift.FamilyFairness, "gender=f", drift.MetricSelectionRate, 0.1, 0, false, "", 100)
		if h >= 2 {
			f.Value, f.NCurrent = 0.3, 300
		}
		m := row("2", h, drift.FamilyFairness, "gender=m", drift.MetricSelectionRate, 0.1, 0, false, "", 300)
		// Labelled: f's true positive rate 0.5 over 40 positives, false
		// positive rate 0.1 over 60 negatives; m's 0.7 and 0.05.
		ftpr := row("2", h, drift.FamilyFairness, "gender=f", drift.MetricTruePositiveRate, 0.5, 0, false, "", 40)
		ffpr := row("2", h, drift.FamilyFairness, "gender=f", drift.MetricFalsePositiveRate, 0.1, 0, false, "", 60)
		mtpr := row("2", h, drift.FamilyFairness, "gender=m", drift.MetricTruePositiveRate, 0.7, 0, false, "", 40)
		mfpr := row("2", h, drift.FamilyFairness, "gender=m", drift.MetricFalsePositiveRate, 0.05, 0, false, "", 60)
		rows = append(rows, amount, country, ks, share, acc, f, m, ftpr, ffpr, mtpr, mfpr)
	}
	b := &baselines.Baseline{ID: "fraud-b1", Model: "fraud", Source: "training.csv", Rows: 2000, CreatedAt: t0.Add(-48 * time.Hour),
		Features: []baselines.Feature{{Name: "amount", Kind: baselines.Numeric, Count: 2000, Min: 1, Max: 900, Mean: 50, Std: 20},
			{Name: "country", Kind: baselines.Categorical, Count: 2000, Categories: map[string]int64{"DE": 1500, "FR": 500}}},
		Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Numeric, Count: 2000, Min: 0, Max: 1},
		Groups:     map[string]map[string][]int64{"gender": {"f": scores(100, 20), "m": scores(300, 30)}},
		// The labelled reference: f's positives 10 of 20 selected (TPR
		// 0.5), negatives 10 of 80 (FPR 0.125); m's 20 of 50 (0.4) and
		// 10 of 250 (0.04).
		GroupOutcomes: map[string]map[string]map[string][]int64{"gender": {
			"f": {"1": scores(20, 10), "0": scores(80, 10)},
			"m": {"1": scores(50, 20), "0": scores(250, 10)},
		}},
	}
	win := sinks.WindowSummary{Model: "fraud", Version: "2", Start: t0.Add(3 * time.Hour), End: t0.Add(4 * time.Hour), Records: 400,
		Distributions: []drift.Distribution{{Family: drift.FamilyData, Subject: "amount", Kind: "numeric", Edges: []float64{1, 10, 100, 900},
			Reference: []float64{700, 700, 600}, Current: []float64{50, 150, 300}}}}
	p := drift.DefaultPolicy()
	p.Fairness.MinGroupSize = 50
	return Input{Model: "fraud", Rows: rows, Windows: []sinks.WindowSummary{win}, Baselines: []*baselines.Baseline{b}, Policy: p,
		Generated: t0.Add(100 * time.Hour), Source: "test"}
}

// scores returns score bins (baselines.OutcomeBins) with n scores, sel of
// them at 0.9 and the rest at 0.1.
func scores(n, sel int64) []int64 {
	bins := make([]int64, baselines.OutcomeBins)
	bins[baselines.OutcomeBin(0.9)] = sel
	bins[baselines.OutcomeBin(0.1)] = n - sel
	return bins
}

func render(t *testing.T, in Input) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReport(t *testing.T) {
	page := render(t, scenario())
	for _, bad := range []string{"<script", "https://", "<link", "<img", "@import", "url(", "ZgotmplZ"} {
		if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("page contains %q: it must be self-contained, and its SVG not escaped", bad)
		}
	}
	if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), "http://") {
		t.Error("page names an http:// address")
	}
	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(page, -1)
	if len(svgs) != 7 {
		t.Errorf("%d charts; want 7: the share, heat map, amount's distribution and score, accuracy, recall, gender's selection rates (no gap rows: no gap chart)", len(svgs))
	}
	for i, s := range svgs {
		d := xml.NewDecoder(strings.NewReader(s))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("chart %d is not well-formed: %v\n%s", i, err, s)
			}
		}
	}
	// The summary comes first and says what, since when, how bad.
	summary := page[:strings.Index(page, `<section id="v2`)]
	for _, want := range []string{
		`<span class="sev sev-2">SEV-2</span><span class="ver">fraud 2</span>`,
		"1 of 2 features (amount)", "since Nov 20 02:00 UTC", "worst: performance: accuracy (and recall), accuracy 0.6 &lt; 0.75",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	// The worst first: the SEV-2 accuracy before the SEV-3 amount.
	if a, b := strings.Index(summary, "performance: accuracy (and recall)</a>"), strings.Index(summary, "feature amount</a>"); a < 0 || b < 0 || a > b {
		t.Errorf("findings out of order (accuracy at %d, amount at %d):\n%s", a, b, summary)
	}
	// One line for the model's performance, naming recall too.
	if !strings.Contains(summary, "performance: accuracy (and recall)</a>") || strings.Contains(summary, "performance: recall") {
		t.Errorf("accuracy and recall are not folded into one finding:\n%s", summary)
	}
	if strings.Contains(summary, "feature country") {
		t.Error("country never drifted but is a finding")
	}
	// Every link of the page leads to an id on it.
	for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(page, `id="`+m[1]+`"`) {
			t.Errorf("link #%s leads nowhere", m[1])
		}
	}
	// amount's distribution is drawn from the window summary, as shares.
	if !strings.Contains(page, "amount: baseline and window Nov 20 03:00") || !strings.Contains(page, "10–100") {
		t.Error("no distribution chart of amount with its cells")
	}
	// Would-be alerts are grouped into episodes: amount in windows 2 and 3.
	if !strings.Contains(page, "Nov 20 02:00 → Nov 20 03:00 (2 windows)") {
		t.Error("amount's alerts are not one episode of 2 windows")
	}
}

// TestCard checks the model card's figures: period rates are the windows'
// rates weighted by their denominators, the differences over the groups,
// the baseline's selection rates from its score bins.
func TestCard(t *testing.T) {
	in := scenario()
	in.CardOnly = true
	page := render(t, in)
	if strings.Contains(page, `<section id="v2`) || strings.Contains(page, "What to look at") {
		t.Error("the card alone has the report's sections")
	}
	// f: (10+10+90+90)/800 = 0.25 (the mean of the windows' rates would
	// be 0.2); m: 0.1 over 1,200; baseline f 0.2, m 0.1.
	for _, want := range []string{
		"<td>f</td><td>800</td><td>0.250 (0.200)</td><td>0.500 (0.500)</td><td>0.100 (0.125)</td>",
		"<td>m</td><td>1,200</td><td>0.100 (0.100)</td><td>0.700 (0.400)</td><td>0.050 (0.040)</td>",
		"<td>demographic parity difference</td><td>0.15</td><td>0.1</td>",
		"<td>disparate impact (four-fifths rule)</td><td>FAILS (0.4 &lt; 0.8)</td><td>FAILS (0.5 &lt; 0.8)</td>",
		// Equalized odds: the larger of the TPR and FPR gaps.
		"<td>equal opportunity difference</td><td>0.2</td><td>0.1</td>",
		"<td>equalized odds difference</td><td>0.2</td><td>0.1</td>",
		"<td>training.csv</td>", "<td>DE 75%, FR 25%</td>",
		// accuracy: (0.8*3 + 0.6)*100 / 400 = 0.75; baseline 0.75 + 0.05.
		"<td>2</td><td>accuracy</td><td>0.75</td><td>0.8</td><td>400</td>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("card lacks %q", want)
		}
	}
}

func TestReportErrors(t *testing.T) {
	in := scenario()
	in.Model = "churn"
	if err := Write(io.Discard, in); err == nil || !strings.Contains(err.Error(), `no metric rows of model "churn"`) {
		t.Errorf("a model without rows: %v", err)
	}
	in = scenario()
	in.From = t0.Add(10 * time.Hour)
	if err := Write(io.Discard, in); err == nil || !strings.Contains(err.Error(), "in the period from 2026-11-20 10:00 UTC") {
		t.Errorf("a period without rows: %v", err)
	}
}

// TestRecordedAlerts: with an audit trail, the alerts are its records,
// actions included, with their evidence and where they went; what fired
// counts them by severity and name.
func TestRecordedAlerts(t *testing.T) {
	in := scenario()
	in.Recorded = true
	at := t0.Add(3 * time.Hour)
	evidence := `[{"model":"fraud","model_version":"2","window_start":"2026-11-20T03:00:00Z","window_end":"2026-11-20T04:00:00Z","family":"concept","subject":"performance","metric":"accuracy","value":0.6,"p_value":0.001,"threshold":0.75,"drifted":true,"severity":"SEV-2","n_current":100,"n_reference":2000,"baseline_id":"fraud-b1","threshold_source":"static","mde":null,"deciding":false}]`
	in.Alerts = []sinks.AlertRecord{
		{Model: "fraud", Version: "2", WindowStart: at, WindowEnd: at.Add(time.Hour), Family: "concept", Subject: "performance", Metric: "accuracy",
			State: "firing", Alertname: "DriftwatchPerformanceDrop", Severity: "SEV-2", Value: 0.6, Threshold: 0.75,
			Receiver: "http://alertmanager:9093", SentAt: at.Add(70 * time.Minute), Delivered: true, Evidence: evidence},
		{Model: "fraud", Version: "2", WindowStart: at, WindowEnd: at.Add(time.Hour), Family: "concept", Subject: "performance", Metric: "accuracy",
			State: "action:rollback", Alertname: "DriftwatchPerformanceDrop", Severity: "SEV-2", Value: 0.6, Threshold: 0.75,
			Receiver: "https://ci.example/hooks/rollback", SentAt: at.Add(71 * time.Minute), Error: "503 Service Unavailable", Evidence: evidence},
		{Model: "churn", Version: "1", WindowStart: at, State: "firing", Alertname: "DriftwatchDrift", Severity: "SEV-3"},
	}
	page := render(t, in)
	for _, want := range []string{
		"SEV-2 DriftwatchPerformanceDrop ×1, SEV-2 rollback triggered ×1",
		"<td>action:rollback</td><td>DriftwatchPerformanceDrop</td>",
		"performance accuracy 0.6 (threshold 0.75, n 100)",
		"https://ci.example/hooks/rollback (not delivered: 503 Service Unavailable)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "DriftwatchDrift") {
		t.Error("another model's alert is on the page")
	}
}

// TestFindingWhatNamesTheVariant: a variant's difference from the champion
// is named as the variant's, not as the model's performance.
func TestFindingWhatNamesTheVariant(t *testing.T) {
	for _, tc := range []struct {
		f    finding
		want string
	}{
		{finding{Family: drift.FamilyConcept, Subject: "variant=canary", Metric: drift.MetricAccuracyDiff}, "variant canary against the champion: accuracy diff"},
		{finding{Family: drift.FamilyConcept, Subject: "performance", Metric: drift.MetricAccuracy}, "performance: accuracy"},
	} {
		if got := tc.f.What(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
}

// TestEstimatedFinding: a drop of the performance estimated without labels
// is told apart from the realized one.
func TestEstimatedFinding(t *testing.T) {
	f := finding{Family: drift.FamilyConcept, Subject: drift.SubjectEstimated, Metric: drift.MetricAccuracy, Also: []string{"roc auc"}}
	if got, want := f.What(), "performance estimated without labels: accuracy (and roc auc)"; got != want {
		t.Errorf("What() = %q, want %q", got, want)
	}
}
