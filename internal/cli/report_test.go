package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/internal/synth"
)

// fairnessConceptScenario is a credit model whose scores for women fall
// from window 3 of 8 on (fairness drift), and whose labels, half of the
// records', 1 to 6 hours late, flip from window 5 on (concept drift), with
// config that sets the fairness limits.
func fairnessConceptScenario(t *testing.T, dir string) (synth.Config, string) {
	t.Helper()
	scen := synth.Config{
		Seed: 19, Start: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC), Window: time.Hour, Windows: 8, RecordsPerWindow: 3000,
		Models: []synth.Model{{Name: "credit", Version: "3", Classes: []string{"approve", "reject"},
			Features: []synth.Feature{
				{Name: "income", Kind: synth.LogNormal, Mean: 10, Std: 0.5},
				{Name: "debt_ratio", Kind: synth.Normal, Mean: 0.3, Std: 0.1, Min: 0, Max: 1},
				{Name: "purpose", Kind: synth.Categorical, Categories: []string{"car", "home", "other"}, Weights: []float64{0.3, 0.5, 0.2}},
			},
			Drifts:      []synth.Drift{{Feature: "debt_ratio", Kind: synth.Shift, Amount: 1, FromWindow: 5}},
			FemaleShift: -3, FemaleShiftFrom: 3,
			LabelShare: 0.5, FlipLabelsFrom: 5, LabelDelay: [2]time.Duration{time.Hour, 6 * time.Hour},
		}},
	}
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
	return scen, cfg
}

// TestReportFromReplay: the report of a replay's files tells, on its first
// lines, that fairness, performance and one feature drifted, draws the
// feature's distributions from the window lines, and its card has the
// gender table with the disparate impact failing the four-fifths rule.
func TestReportFromReplay(t *testing.T) {
	dir := t.TempDir()
	scen, cfg := fairnessConceptScenario(t, dir)
	replayRowsConfig(t, dir, scen, 8000, cfg)
	rows := filepath.Join(dir, "rows.jsonl")
	if _, err := os.Stat(rows + ".windows.jsonl"); err != nil {
		t.Fatalf("replay wrote no window lines beside its output: %v", err)
	}
	page := filepath.Join(dir, "credit.html")
	code, out, errOut := run(t, "report", "--metrics", rows, "--config", cfg, "--model", "credit", "--out", page)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "wrote the report of credit") || !strings.Contains(out, "8 windows with distributions") {
		t.Errorf("report said %q", out)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	headline := html[strings.Index(html, `<div class="headline">`):]
	headline = headline[:strings.Index(headline, "</div>")]
	for _, want := range []string{"1 of 3 features (debt_ratio)", "performance", "fairness (gender)", "since Nov 16 03:00 UTC"} {
		if !strings.Contains(headline, want) {
			t.Errorf("headline lacks %q: %s", want, headline)
		}
	}
	for _, want := range []string{"debt_ratio: baseline and window", "<td>f</td>", "<td>m</td>", "FAILS (", "Performance: accuracy"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	// The card alone; the page is replaced whole.
	if code, _, errOut := run(t, "report", "--metrics", rows, "--config", cfg, "--model", "credit", "--card", "--out", page); code != 0 {
		t.Fatalf("report --card: %s", errOut)
	}
	if b, _ := os.ReadFile(page); !strings.Contains(string(b), "Model card: credit") || strings.Contains(string(b), "What to look at") {
		t.Error("--card did not write the card alone")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".credit.html.*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
	// Into a directory: named by model and period, for an archive.
	archive := t.TempDir()
	if code, _, errOut := run(t, "report", "--metrics", rows, "--config", cfg, "--model", "credit", "--from", "2026-11-16", "--to", "2026-11-16T06:00:00Z", "--out", archive); code != 0 {
		t.Fatalf("report --out DIR: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(archive, "credit-report-2026-11-16-2026-11-16T0600Z.html")); err != nil {
		t.Errorf("report into a directory: %v", err)
	}
}

func TestReportUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report", "--metrics", "x.jsonl"}, 2, "--model is required"},
		{[]string{"report", "--model", "m"}, 2, "give --metrics FILE"},
		{[]string{"report", "--model", "m", "--metrics", "x.jsonl", "--from", "last week"}, 2, `--from "last week": want RFC 3339`},
		{[]string{"report", "--model", "m", "--metrics", filepath.Join(t.TempDir(), "none.jsonl")}, 1, "open metric rows"},
	} {
		code, _, errOut := run(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}
