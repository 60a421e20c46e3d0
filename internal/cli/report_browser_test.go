package cli

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftwatch/driftwatch/internal/report/browser"
	"github.com/driftwatch/driftwatch/internal/testservers"
)

var updateShots = flag.Bool("update-screenshots", false, "write the reports' screenshots into deploy/report (README shows them)")

// TestReportsInBrowser opens the reports as a person would, in headless
// Chromium: the demo's, and the report and card of a stream with fairness
// and concept drift. Each page loads with no console error or exception
// and fetches nothing, every chart is drawn (a box, something in it) with
// its axes, and the first screen says what went wrong. The screenshots
// are written to a temporary directory, or with -update-screenshots to
// deploy/report, where README shows them.
func TestReportsInBrowser(t *testing.T) {
	chromium := testservers.Chromium(t)
	if testing.Short() {
		t.Skip("runs the demo and a browser")
	}
	dir := t.TempDir()
	shots := t.TempDir()
	if *updateShots {
		shots = filepath.Join("..", "..", "deploy", "report")
	}
	demoDir := filepath.Join(dir, "demo")
	if code, _, errOut := run(t, "demo", "--out", demoDir); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}
	demoCard := filepath.Join(demoDir, "fraud-card.html")
	if code, _, errOut := run(t, "report", "--metrics", filepath.Join(demoDir, "metrics.jsonl"), "--baselines", filepath.Join(demoDir, "baselines"),
		"--model", "fraud", "--card", "--out", demoCard); code != 0 {
		t.Fatalf("report --card of the demo: exit %d: %s", code, errOut)
	}
	credit := filepath.Join(dir, "credit")
	if err := os.Mkdir(credit, 0o755); err != nil {
		t.Fatal(err)
	}
	scen, cfg := fairnessConceptScenario(t, credit)
	replayRowsConfig(t, credit, scen, 8000, cfg)
	rows := filepath.Join(credit, "rows.jsonl")
	for _, args := range [][]string{
		{"--out", filepath.Join(credit, "credit-report.html")},
		{"--card", "--out", filepath.Join(credit, "credit-card.html")},
	} {
		if code, _, errOut := run(t, append([]string{"report", "--metrics", rows, "--config", cfg, "--model", "credit"}, args...)...); code != 0 {
			t.Fatalf("report %v: exit %d: %s", args, code, errOut)
		}
	}

	for _, p := range []struct {
		path, name string
		minCharts  int
		first      []string // on the first screen
		shot       string   // which screenshot README shows: first or full
	}{
		{filepath.Join(demoDir, "report-fraud.html"), "demo-fraud", 20, []string{"SEV-2", "feature amount", "feature country"}, "first"},
		{filepath.Join(demoDir, "report-churn.html"), "demo-churn", 15, []string{"SEV-3", "feature contract", "feature monthly_charges"}, ""},
		{demoCard, "demo-fraud-card", 0, []string{"Model card: fraud"}, "full"},
		{filepath.Join(credit, "credit-report.html"), "credit-report", 12, []string{"fairness (gender)", "performance", "debt_ratio"}, "first"},
		{filepath.Join(credit, "credit-card.html"), "credit-card", 0, []string{"Model card: credit"}, "full"},
	} {
		t.Run(p.name, func(t *testing.T) {
			page, err := browser.Inspect(context.Background(), chromium, p.path, browser.Options{Shots: t.TempDir(), Name: p.name})
			if err != nil {
				t.Fatal(err)
			}
			for _, problem := range page.Problems() {
				t.Error(problem)
			}
			if len(page.SVGs) < p.minCharts {
				t.Errorf("%d charts drawn, want at least %d", len(page.SVGs), p.minCharts)
			}
			for _, s := range page.SVGs {
				if !browser.HasClass("chart")(s) {
					t.Errorf("svg %s is not one of the report's charts", s.Name())
				}
			}
			if page.Width > browser.DefaultWidth {
				t.Errorf("the page is %d px wide, wider than the %d px window: it scrolls sideways", page.Width, browser.DefaultWidth)
			}
			b, err := os.ReadFile(p.path)
			if err != nil {
				t.Fatal(err)
			}
			// The first screen: the summary, before the first version's section.
			head := string(b)
			if i := strings.Index(head, "<section id=\"v"); i > 0 {
				head = head[:i]
			}
			for _, want := range p.first {
				if !strings.Contains(head, want) {
					t.Errorf("the summary does not say %q", want)
				}
			}
			if p.shot != "" {
				keep(t, page.Shots, p.shot, filepath.Join(shots, p.name+".png"))
			}
		})
	}
}

// keep copies the screenshot of kind (first or full) to dst.
func keep(t *testing.T, shots []string, kind, dst string) {
	t.Helper()
	for _, s := range shots {
		if strings.HasSuffix(s, "-"+kind+".png") {
			in, err := os.Open(s)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			out, err := os.Create(dst)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(out, in); err != nil {
				t.Fatal(err)
			}
			if err := out.Close(); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Errorf("no %s screenshot among %v", kind, shots)
}
