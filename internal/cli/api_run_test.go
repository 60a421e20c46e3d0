package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/internal/testservers"
)

// TestRunServesTheAPI: `driftwatch run` with the ClickHouse sink and
// tokens serves the API over what it committed: verdicts, metric rows and
// the models it saw, to a viewer's token and not without one.
func TestRunServesTheAPI(t *testing.T) {
	ch := testservers.ClickHouseServer(t)
	db := ch.CreateDatabase(t, "dwapi")
	t.Setenv("DW_TEST_CH_PASSWORD", ch.Password)
	t.Setenv("DW_TEST_API_TOKEN", "api-viewer-7c1e")
	dir := t.TempDir()
	_, scen := scenario(t, dir)
	baseDir := buildBaselines(t, dir, scen)
	scen.BadRate, scen.DuplicateRate = 0, 0
	broker, prod := embeddedBroker(t)
	produceWindows(t, prod, scen)
	httpAddr := freeAddr(t)
	cfg := filepath.Join(dir, "driftwatch.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
kafka:
  brokers: [%q]
baselines:
  dir: %q
sinks:
  clickhouse: {enabled: true, addr: [%q], database: %q, username: %q, password_env: DW_TEST_CH_PASSWORD}
http:
  listen: %q
  auth:
    tokens: [{name: test, role: viewer, token_env: DW_TEST_API_TOKEN}]
log:
  level: info # every refusal and write is logged: none may hold a token
`, broker, baseDir, ch.Addr[0], db, ch.User, httpAddr)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := startRun(ctx, cfg)
	get := func(path, token string, v any) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/api/v1"+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0 // not listening yet
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if v != nil && resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(body, v); err != nil {
				t.Fatalf("GET %s: %v: %s", path, err, body)
			}
		}
		return resp.StatusCode
	}
	// Windows 0-2 of the 4 close (the last stays open): wait for them.
	var verdicts []struct {
		ModelVersion    string   `json:"model_version"`
		Records         int64    `json:"records"`
		DriftedSubjects []string `json:"drifted_subjects"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		verdicts = nil
		if code := get("/verdicts/fraud", "api-viewer-7c1e", &verdicts); code == http.StatusOK && len(verdicts) > 0 && verdicts[0].Records > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no verdict of fraud through the API within 60 s: %+v", verdicts)
		}
		select {
		case r := <-done:
			t.Fatalf("run exited %d: %s", r.code, r.stderr)
		case <-time.After(100 * time.Millisecond): // poll until the first window is committed
		}
	}
	if code := get("/verdicts/fraud", "", nil); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", code)
	}
	var rows []struct {
		Model, Family, Subject, Metric string
		NCurrent                       int64 `json:"n_current"`
	}
	if code := get("/rows?model=fraud&family=data", "api-viewer-7c1e", &rows); code != http.StatusOK || len(rows) == 0 {
		t.Fatalf("rows: %d, %d rows", code, len(rows))
	}
	for _, r := range rows {
		if r.Model != "fraud" || r.Family != "data" || r.Subject == "" || r.Metric == "" {
			t.Fatalf("a row the filter does not select: %+v", r)
		}
	}
	// The report, through the API and the command, from ClickHouse:
	// windows 0 and 1 are committed (the verdict above), with their
	// distributions, and the baselines in use are in the baselines table.
	var page string
	deadline = time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/api/v1/report?model=fraud&from=2026-11-20&to=2026-11-21", nil)
		req.Header.Set("Authorization", "Bearer api-viewer-7c1e")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("GET /report: %d %s: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		if page = string(b); strings.Contains(page, "amount: baseline and window Nov 20 02:00") || time.Now().After(deadline) {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("run exited %d: %s", r.code, r.stderr)
		case <-time.After(100 * time.Millisecond): // poll until window 2 is committed
		}
	}
	for _, want := range []string{"driftwatch report: fraud", "feature amount", "amount: baseline and window Nov 20 02:00", "<h3>Baseline fraud-", "data: ClickHouse"} {
		if !strings.Contains(page, want) {
			t.Errorf("the API's report lacks %q", want)
		}
	}
	out := filepath.Join(dir, "fraud.html")
	if code, _, errOut := run(t, "report", "--config", cfg, "--model", "fraud", "--card", "--from", "2026-11-20", "--to", "2026-11-21", "--out", out); code != 0 {
		t.Fatalf("report --config: exit %d: %s", code, errOut)
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), "Model card: fraud") || !strings.Contains(string(b), "<h3>Baseline fraud-") {
		t.Errorf("report --config --card: %v, %.300s", err, b)
	}
	var models []struct {
		Model string `json:"model"`
	}
	if code := get("/models", "api-viewer-7c1e", &models); code != http.StatusOK || len(models) == 0 {
		t.Errorf("models: %d %+v", code, models)
	}
	// Neither the token nor a wrong one shows in /metrics, the log or an
	// answer.
	if code := get("/models", "api-viewer-wrong-9d2c", nil); code != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d, want 401", code)
	}
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "driftwatch_drift_score") {
		t.Fatalf("/metrics without the model gauges:\n%.500s", metrics)
	}
	cancel()
	r := <-done
	if r.code != 0 {
		t.Fatalf("run exited %d: %s", r.code, r.stderr)
	}
	for _, secret := range []string{"api-viewer-7c1e", "api-viewer-wrong-9d2c"} {
		if strings.Contains(string(metrics), secret) || strings.Contains(r.stderr, secret) {
			t.Errorf("%s is in /metrics or the log", secret)
		}
	}
}
