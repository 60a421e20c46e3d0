package grafana

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/driftwatch/driftwatch/internal/testservers"
)

const prometheusDashboard = "driftwatch-prometheus.json"

// promTargets are the PromQL expressions of a dashboard's panels and
// variables, with the variables replaced as Grafana replaces them.
func promTargets(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(prometheusDashboard)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", prometheusDashboard, err)
	}
	vars := strings.NewReplacer("$model_version", "1.4.2", "$model", "fraud")
	var out []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, vars.Replace(tg.Expr))
		}
	}
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(map[string]any); ok && v.Type == "query" {
			// label_values(expr, label) is Grafana's: the series selector is
			// the query Prometheus answers.
			m := regexp.MustCompile(`^label_values\((.*), *\w+\)$`).FindStringSubmatch(q["query"].(string))
			if m == nil {
				t.Errorf("variable query %v is not label_values(selector, label)", q["query"])
				continue
			}
			out = append(out, vars.Replace(m[1]))
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d queries in %s", len(out), prometheusDashboard)
	}
	return out
}

// exportedMetrics are the metric names driftwatch's code can register: the
// "driftwatch_..." string literals of its Go files that use Prometheus's
// client (with a histogram's series). A name the dashboard uses that is
// not among them is certainly not exported.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	name := regexp.MustCompile(`"(driftwatch_[a-z0-9_]+)"`)
	const root = "../.."
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bench") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), "client_golang/prometheus") {
			return nil
		}
		for _, m := range name.FindAllSubmatch(b, -1) {
			n := string(m[1])
			names[n] = true
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[n+s] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestPrometheusDashboard: every query of the Prometheus-only dashboard
// names only metrics driftwatch exports, and a real Prometheus (Debian's,
// which make test installs with promtool) accepts each one.
func TestPrometheusDashboard(t *testing.T) {
	queries := promTargets(t)
	exported := exportedMetrics(t)
	metric := regexp.MustCompile(`driftwatch_\w+`)
	for _, q := range queries {
		for _, m := range metric.FindAllString(q, -1) {
			if !exported[m] {
				t.Errorf("query %q: driftwatch exports no metric %s", q, m)
			}
		}
	}
	base := startPrometheus(t)
	for _, q := range queries {
		if _, err := testservers.QueryPrometheus(base, q); err != nil {
			t.Errorf("Prometheus refuses it: %v", err)
		}
	}
}

// startPrometheus starts Prometheus on loopback with an empty
// configuration and returns its URL once it is ready; it is stopped when
// the test ends.
func startPrometheus(t *testing.T) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 15s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return testservers.StartPrometheus(t, cfg)
}
