package contract

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/internal/cli"
	"github.com/driftwatch/driftwatch/internal/synth"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// familyRow is one row of section 3's table of families: the subjects it
// matches and the metrics it lists.
type familyRow struct {
	family  string
	subject *regexp.Regexp
	metrics map[string]bool
}

// familyRows reads section 3's table; a subject cell without a backticked
// name ("a feature name") matches any subject, <placeholders> any text.
func familyRows(t *testing.T) []familyRow {
	t.Helper()
	s := contractSections(t)
	rows := table(t, s[3].body, "family")
	byFamily := map[string]map[string]bool{} // the first row's metrics, for "the metrics of `data`"
	var out []familyRow
	for _, r := range rows {
		fam := ticks(r[0])[0]
		var pats []string
		for _, subj := range ticks(r[1]) {
			pats = append(pats, regexp.MustCompile(`<[^>]+>`).ReplaceAllString(regexp.QuoteMeta(subj), `[^=]+`))
		}
		if !strings.HasPrefix(strings.TrimSpace(r[1]), "`") {
			pats = append(pats, `[^=*]+`) // a feature name
		}
		metrics := map[string]bool{}
		for _, m := range ticks(r[2]) {
			if of, ok := byFamily[m]; ok && strings.Contains(r[2], "the metrics of") {
				maps.Copy(metrics, of)
				continue
			}
			metrics[m] = true
		}
		if byFamily[fam] == nil {
			byFamily[fam] = metrics
		}
		out = append(out, familyRow{fam, regexp.MustCompile(`^(?:` + strings.Join(pats, "|") + `)$`), metrics})
	}
	return out
}

// TestEmittedRowsAreInTheContract replays a synthetic stream with every
// kind of row (drift on features, variants, segments, latencies, late
// labels, every metric the code can compute configured) and checks that
// each row's family, subject and metric is one section 3 lists.
func TestEmittedRowsAreInTheContract(t *testing.T) {
	dir := t.TempDir()
	scen := synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	scen.Windows, scen.RecordsPerWindow = 4, 1500
	for i := range scen.Models {
		for j := range scen.Models[i].Drifts {
			scen.Models[i].Drifts[j].FromWindow = 2
		}
		scen.Models[i].LabelShare, scen.Models[i].LabelDelay = 0.5, [2]time.Duration{time.Minute, 2 * time.Hour}
	}
	// A shadow beside the first model's champion: the paired rows.
	scen.Models[0].ShadowShare, scen.Models[0].ShadowShift, scen.Models[0].ShadowNoise = 0.3, 0.5, 0.3
	// Failed predictions, and a feature renamed (unknown to the baseline,
	// and vanished), in the first model.
	m0 := &scen.Models[0]
	m0.ErrorShare, m0.ErrorFrom, m0.ErrorTo, m0.ErrorClasses = 0.3, 1, 3, []string{"timeout", "oom"}
	m0.Drifts = append(m0.Drifts, synth.Drift{Feature: m0.Features[1].Name, Kind: synth.Renamed, Amount: 1, FromWindow: 2})
	log, labels, err := scen.Files()
	if err != nil {
		t.Fatal(err)
	}
	logPath, labelsPath := filepath.Join(dir, "log.jsonl"), filepath.Join(dir, "labels.jsonl")
	for p, b := range map[string][]byte{logPath: log, labelsPath: labels} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := cli.Main(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("driftwatch %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
	}
	baseDir := filepath.Join(dir, "baselines")
	for _, m := range scen.Models {
		var ref bytes.Buffer
		if err := scen.Reference(m.Name, 5000, &ref); err != nil {
			t.Fatal(err)
		}
		refPath := filepath.Join(dir, m.Name+".ref.jsonl")
		if err := os.WriteFile(refPath, ref.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		run("baseline", "--model", m.Name, "--input", refPath, "--out", baseDir)
	}
	// Every metric the code can compute, for the kinds it can be computed
	// for; every limit set, so that every judged row is written.
	var numeric, categorical []string
	for _, m := range slices.Sorted(maps.Keys(drift.Metrics)) {
		if drift.Computable(m, true) {
			numeric = append(numeric, m)
		}
		if drift.Computable(m, false) {
			categorical = append(categorical, m)
		}
	}
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`drift:
  metrics:
    numeric: [%s]
    categorical: [%s]
  slo: {latency_p50_ms: 50, latency_p95_ms: 80, latency_p99_ms: 100, min_throughput_rps: 0.01}
fairness:
  max_parity_difference: 0.2
  max_opportunity_difference: 0.2
  max_equalized_odds_difference: 0.2
  min_disparate_impact: 0.8
`, strings.Join(numeric, ", "), strings.Join(categorical, ", "))), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "rows.jsonl")
	run("replay", "--quiet", "--config", cfg, "--baselines", baseDir, "--input", logPath, "--labels", labelsPath, "--output", out)

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	contract := familyRows(t)
	seen := map[string]bool{}
	seenMetric := map[string]bool{}
	bad := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var r drift.Row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		n++
		key := r.Family + " / " + r.Metric
		seen[r.Family] = true
		seenMetric[r.Metric] = true
		if !slices.ContainsFunc(contract, func(c familyRow) bool {
			return c.family == r.Family && c.metrics[r.Metric] && c.subject.MatchString(r.Subject)
		}) && !bad[key+r.Subject] {
			bad[key+r.Subject] = true
			t.Errorf("replay wrote family %s, subject %q, metric %s: CONTRACT.md section 3 has no such row", r.Family, r.Subject, r.Metric)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// The stream must exercise every family, or the check above proves
	// little.
	for fam := range constStrings(t, "stats/drift", "Family") {
		if !seen[fam] {
			t.Errorf("the replay wrote no row of family %s (%d rows): the scenario misses it", fam, n)
		}
	}
	for _, m := range []string{drift.MetricAgreementRate, drift.MetricMeanAbsDiff, drift.MetricAccuracyDiff, drift.MetricMAEDiff,
		drift.MetricAccuracyDiffPaired, drift.MetricMAEDiffPaired,
		drift.MetricUnknownFeatureRate, drift.MetricNewFeatures, drift.MetricVanishedFeatures, drift.MetricVanished,
		drift.MetricVolumeRatio, drift.MetricErrorRate, drift.MetricErrorShare} {
		if !seenMetric[m] {
			t.Errorf("the replay wrote no %s row: the scenario misses it", m)
		}
	}
}
