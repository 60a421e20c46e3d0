package testservers

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	// prometheusReady bounds waiting for a Prometheus a test started to
	// answer /-/ready.
	prometheusReady = 30 * time.Second
	// prometheusTimeout bounds one query.
	prometheusTimeout = 10 * time.Second
)

// Prometheus returns the path of the Prometheus server, which comes with
// promtool in Debian's prometheus package (deploy/servers/promtool.sh
// installs it; make test runs that). When it is not on PATH the test is
// skipped, or fails if CI is set, as in Env.
func Prometheus(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("prometheus")
	if err != nil {
		const how = "install it with bash deploy/servers/promtool.sh install (Debian's prometheus), as make test does"
		if os.Getenv("CI") != "" {
			t.Fatalf("prometheus is not on PATH in CI: %s", how)
		}
		t.Skipf("prometheus is not on PATH: %s", how)
	}
	return path
}

// StartPrometheus starts a Prometheus server of the test's own reading
// configFile (relative paths in it, such as rule_files, are relative to
// its directory), with its storage in a temporary directory, listening on
// a free loopback port, and returns its base URL (http://127.0.0.1:<port>)
// once it answers /-/ready. It is stopped, and waited for, when the test
// ends. The test is skipped under Prometheus's rule when the binary is
// missing; a server that exits or is not ready within 30 s fails it, with
// the server's log.
func StartPrometheus(t testing.TB, configFile string) string {
	t.Helper()
	bin := Prometheus(t)
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config.file="+configFile, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logf.Close()
	})
	base := "http://" + addr
	cl := http.Client{Timeout: prometheusTimeout}
	deadline := time.Now().Add(prometheusReady)
	for {
		if resp, err := cl.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("prometheus --config.file=%s exited: %v\n%s", configFile, err, log)
		case <-time.After(50 * time.Millisecond): // poll until ready
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("prometheus --config.file=%s not ready after %v:\n%s", configFile, prometheusReady, log)
		}
	}
}

// PromSample is one series of an instant query's result: its labels
// (__name__ among them when the query keeps it) and its value.
type PromSample struct {
	Metric map[string]string
	Value  float64
}

// QueryPrometheus runs the instant query expr on the Prometheus at base
// (GET /api/v1/query) and returns its series: those of a vector, or one
// sample without labels for a scalar. An error says what Prometheus
// answered, such as a query it refused.
func QueryPrometheus(base, expr string) ([]PromSample, error) {
	cl := http.Client{Timeout: prometheusTimeout}
	u := strings.TrimRight(base, "/") + "/api/v1/query?query=" + url.QueryEscape(expr)
	resp, err := cl.Get(u)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", expr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("query %q: read body: %w", expr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query %q: %s: %s", expr, resp.Status, strings.TrimSpace(string(body)))
	}
	var r struct {
		Data struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("query %q: decode %s: %w", expr, body, err)
	}
	var samples []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	switch r.Data.ResultType {
	case "vector":
		if err := json.Unmarshal(r.Data.Result, &samples); err != nil {
			return nil, fmt.Errorf("query %q: decode vector %s: %w", expr, r.Data.Result, err)
		}
	case "scalar":
		samples = make([]struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}, 1)
		if err := json.Unmarshal(r.Data.Result, &samples[0].Value); err != nil {
			return nil, fmt.Errorf("query %q: decode scalar %s: %w", expr, r.Data.Result, err)
		}
	default:
		return nil, fmt.Errorf("query %q: result type %q, want vector or scalar", expr, r.Data.ResultType)
	}
	out := make([]PromSample, 0, len(samples))
	for _, s := range samples {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64) // "NaN", "+Inf" too
		if err != nil {
			return nil, fmt.Errorf("query %q: value %v: %w", expr, s.Value[1], err)
		}
		out = append(out, PromSample{Metric: s.Metric, Value: v})
	}
	return out, nil
}
