package deploy

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"github.com/driftwatch/driftwatch/internal/config"
	"github.com/driftwatch/driftwatch/internal/testservers"
)

const (
	composeFile         = "compose.yaml"
	composeConfigFile   = "compose/driftwatch.yml"
	prometheusFile      = "prometheus/prometheus.yml"
	grafanaDatasources  = "grafana/provisioning/datasources/*.yml"
	composeStackService = "driftwatch"
)

// loadCompose loads compose.yaml as `docker compose config` does: the
// Compose specification's schema, interpolation (from env alone, no .env
// file) and normalization, with paths resolved against this directory.
func loadCompose(t *testing.T, env []string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{composeFile}, cli.WithWorkingDirectory("."), cli.WithEnv(env), cli.WithDiscardEnvFile, cli.WithName("driftwatch"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	return p
}

// TestComposeStack: compose.yaml is a valid Compose file (the
// specification's schema, as `docker compose config` checks it) with the
// stack issue 17 names; every file it mounts is in the repository, and the
// services agree with each other: driftwatch's configuration (which the
// image also carries) loads, names the stack's Kafka, ClickHouse and
// Alertmanager where they listen, and finds its password in its
// environment; Grafana has every variable its data source reads;
// Prometheus scrapes driftwatch where it serves /metrics.
func TestComposeStack(t *testing.T) {
	p := loadCompose(t, nil)
	var names []string
	for name := range p.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"alertmanager", "clickhouse", composeStackService, "grafana", "kafka", "prometheus"}; !slices.Equal(names, want) {
		t.Fatalf("services %v, want %v", names, want)
	}
	abs, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if !strings.HasPrefix(v.Source, filepath.Dir(abs)) {
				t.Errorf("%s mounts %s, outside the repository", s.Name, v.Source)
			} else if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s: %v", s.Name, v.Source, err)
			}
			if !v.ReadOnly {
				t.Errorf("%s mounts %s writable: the repository's files are configuration, mount them :ro", s.Name, v.Source)
			}
		}
	}

	dw := p.Services[composeStackService]
	if dw.Build == nil || filepath.Join(dw.Build.Context, dw.Build.Dockerfile) != filepath.Join(filepath.Dir(abs), "Dockerfile") {
		t.Errorf("driftwatch is not built from the repository's Dockerfile: %+v", dw.Build)
	}
	mount := mountOf(t, dw, "/etc/driftwatch/driftwatch.yml")
	if mount != filepath.Join(abs, composeConfigFile) {
		t.Errorf("driftwatch's configuration is %s, want %s (the image's own)", mount, composeConfigFile)
	}
	cfg, err := config.Load(composeConfigFile)
	if err != nil {
		t.Fatalf("%s: %v", composeConfigFile, err)
	}
	hostPort := func(addr string) (string, string) {
		h, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("%q: %v", addr, err)
		}
		return h, port
	}
	if env := cfg.Sinks.ClickHouse.PasswordEnv; env == "" || dw.Environment[env] == nil || *dw.Environment[env] == "" {
		t.Errorf("the ClickHouse password: password_env %q is not set in driftwatch's environment %v", env, dw.Environment)
	}
	ch := p.Services["clickhouse"]
	if h, _ := hostPort(cfg.Sinks.ClickHouse.Addr[0]); h != "clickhouse" || !cfg.Sinks.ClickHouse.Enabled {
		t.Errorf("sinks.clickhouse %+v: want the clickhouse service, enabled", cfg.Sinks.ClickHouse)
	}
	for key, want := range map[string]string{"CLICKHOUSE_DB": cfg.Sinks.ClickHouse.Database, "CLICKHOUSE_USER": cfg.Sinks.ClickHouse.Username,
		"CLICKHOUSE_PASSWORD": *dw.Environment[cfg.Sinks.ClickHouse.PasswordEnv]} {
		if got := ch.Environment[key]; got == nil || *got != want {
			t.Errorf("clickhouse's %s is %s, driftwatch's configuration wants %q", key, deref(got), want)
		}
	}
	kafka := p.Services["kafka"]
	if adv := kafka.Environment["KAFKA_ADVERTISED_LISTENERS"]; adv == nil || !strings.Contains(*adv, "//"+cfg.Kafka.Brokers[0]) {
		t.Errorf("kafka advertises %s; driftwatch dials %v", deref(adv), cfg.Kafka.Brokers)
	}
	if len(cfg.Alerts.Alertmanager.URLs) != 1 || !strings.HasPrefix(cfg.Alerts.Alertmanager.URLs[0], "http://alertmanager:9093") {
		t.Errorf("alerts.alertmanager.urls %v: want the alertmanager service", cfg.Alerts.Alertmanager.URLs)
	}
	_, metricsPort := hostPort(cfg.HTTP.Listen)
	if !publishes(dw, metricsPort) {
		t.Errorf("driftwatch does not publish its http.listen port %s: %+v", metricsPort, dw.Ports)
	}

	// Grafana: every $VARIABLE of its data sources is in its environment,
	// and every dashboard is mounted where the provider reads them.
	gf := p.Services["grafana"]
	sources, err := filepath.Glob(grafanaDatasources)
	if err != nil || len(sources) < 2 {
		t.Fatalf("data sources %v: %v", sources, err)
	}
	for _, file := range sources {
		ds, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range strings.FieldsFunc(string(ds), func(r rune) bool { return !(r == '$' || r == '_' || r >= 'A' && r <= 'Z') }) {
			if name, ok := strings.CutPrefix(f, "$"); ok && name != "" {
				if v := gf.Environment[name]; v == nil || *v == "" {
					t.Errorf("grafana's data source %s reads $%s, which its environment does not set", file, name)
				}
			}
		}
	}
	if u := gf.Environment["DRIFTWATCH_PROMETHEUS_URL"]; u == nil || *u != "http://prometheus:9090" {
		t.Errorf("grafana's Prometheus is %s, want the prometheus service", deref(u))
	}
	dashboards, _ := filepath.Glob("grafana/*.json")
	for _, d := range dashboards {
		mountOf(t, gf, "/var/lib/grafana/dashboards/driftwatch/"+filepath.Base(d))
	}
	if h := gf.Environment["DRIFTWATCH_CLICKHOUSE_DATABASE"]; h == nil || *h != cfg.Sinks.ClickHouse.Database {
		t.Errorf("grafana reads database %s, driftwatch writes to %q", deref(h), cfg.Sinks.ClickHouse.Database)
	}
	mountOf(t, gf, "/etc/grafana/provisioning")
	mountOf(t, gf, "/var/lib/grafana/dashboards/driftwatch/driftwatch.json")

	// Prometheus scrapes driftwatch's http.listen port, in the job the
	// rules select.
	var prom struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	b, err := os.ReadFile(prometheusFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &prom); err != nil {
		t.Fatal(err)
	}
	scraped := false
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			scraped = scraped || sc.JobName == "driftwatch" && sc.MetricsPath == "/metrics" && slices.Contains(st.Targets, "driftwatch:"+metricsPort)
		}
	}
	if !scraped {
		t.Errorf("%s does not scrape driftwatch:%s/metrics in job driftwatch: %+v", prometheusFile, metricsPort, prom.ScrapeConfigs)
	}
	mountOf(t, p.Services["prometheus"], "/etc/prometheus/prometheus.yml")
	mountOf(t, p.Services["prometheus"], "/etc/prometheus/driftwatch-rules.yml")
	mountOf(t, p.Services["alertmanager"], "/etc/alertmanager/alertmanager.yml")
}

// TestComposeRejectsMistakes: the loader TestComposeStack relies on does
// refuse what is not a Compose file (so a typo cannot pass it).
func TestComposeRejectsMistakes(t *testing.T) {
	good, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string][2]string{
		"unknown key":      {"    restart: unless-stopped", "    restart: unless-stopped\n    restrat: always"},
		"wrong type":       {`      retries: 12`, `      retries: twelve`},
		"undefined volume": {"      - baselines:/var/lib/driftwatch/baselines", "      - baseline:/var/lib/driftwatch/baselines"},
	} {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(string(good), edit[0]) {
				t.Fatalf("%q not in %s", edit[0], composeFile)
			}
			dir := t.TempDir()
			bad := strings.Replace(string(good), edit[0], edit[1], 1)
			if err := os.WriteFile(filepath.Join(dir, composeFile), []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, composeFile)}, cli.WithWorkingDirectory(dir), cli.WithDiscardEnvFile, cli.WithName("driftwatch"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := opts.LoadProject(context.Background()); err == nil {
				t.Errorf("loaded with %s", name)
			}
		})
	}
}

// TestPrometheusConfig: promtool accepts the stack's Prometheus
// configuration, with the rules it loads.
func TestPrometheusConfig(t *testing.T) {
	promtool := testservers.Promtool(t)
	if out, err := exec.Command(promtool, "check", "config", prometheusFile).CombinedOutput(); err != nil {
		t.Errorf("promtool check config %s: %v\n%s", prometheusFile, err, out)
	}
}

// mountOf returns the host path bound at target in s, failing if none is.
func mountOf(t *testing.T, s types.ServiceConfig, target string) string {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Target == target {
			return v.Source
		}
	}
	t.Errorf("%s mounts nothing at %s", s.Name, target)
	return ""
}

// publishes reports whether s publishes its container port port.
func publishes(s types.ServiceConfig, port string) bool {
	for _, p := range s.Ports {
		if strconv.Itoa(int(p.Target)) == port {
			return true
		}
	}
	return false
}

// deref is *s, or "unset".
func deref(s *string) string {
	if s == nil {
		return "unset"
	}
	return strconv.Quote(*s)
}
