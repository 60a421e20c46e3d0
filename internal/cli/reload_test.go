package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/config"
	"github.com/driftwatch/driftwatch/internal/synth"
)

// windowBaselines reads the metrics file: per window start of model, the
// baseline ids its rows name.
func windowBaselines(t *testing.T, path, model string) map[time.Time]map[string]bool {
	t.Helper()
	out := map[time.Time]map[string]bool{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Model       string    `json:"model"`
			WindowStart time.Time `json:"window_start"`
			BaselineID  string    `json:"baseline_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue // a line being written
		}
		if r.Model != model {
			continue
		}
		if out[r.WindowStart] == nil {
			out[r.WindowStart] = map[string]bool{}
		}
		out[r.WindowStart][r.BaselineID] = true
	}
	return out
}

// operatorConfig writes a config of run on broker with the baselines of
// baseDir (looked at every reload), the JSON lines sink, and the API with
// the operator token of DW_TEST_OPERATOR; it returns the API's address,
// the metrics file and the config file.
func operatorConfig(t *testing.T, dir, broker, baseDir, reload string) (httpAddr, metrics, cfg string) {
	t.Helper()
	httpAddr = freeAddr(t)
	metrics = filepath.Join(dir, "metrics.jsonl")
	cfg = filepath.Join(dir, "driftwatch.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
kafka:
  brokers: [%q]
  max_future: 0s
baselines:
  dir: %q
  reload: %s
sinks:
  jsonl: {path: %q}
http:
  listen: %q
  auth:
    tokens: [{name: ops, role: operator, token_env: DW_TEST_OPERATOR}]
log:
  level: warn
`, broker, baseDir, reload, metrics, httpAddr)), 0o644); err != nil {
		t.Fatal(err)
	}
	return httpAddr, metrics, cfg
}

// TestPromoteSwitchesWithoutRestart: a baseline promoted through the API
// while `driftwatch run` runs is what the windows starting at the
// applies_from it answers are compared with; earlier windows keep the
// baseline they had. No restart.
func TestPromoteSwitchesWithoutRestart(t *testing.T) {
	t.Setenv("DW_TEST_OPERATOR", "operator-token-5d2a")
	dir := t.TempDir()
	_, scen := scenario(t, dir)
	scen.BadRate, scen.DuplicateRate = 0, 0
	baseDir := buildBaselines(t, dir, scen)
	all, err := baselines.List(baseDir)
	if err != nil {
		t.Fatal(err)
	}
	var first string // fraud's baseline built with the others
	for _, b := range all {
		if b.Model == "fraud" {
			first = b.ID
		}
	}
	// A second baseline of fraud, from part of the training data, promoted
	// before the start: the one run begins with.
	if code, _, errOut := run(t, "baseline", "--model", "fraud", "--input", filepath.Join(dir, "fraud.ref.jsonl"), "--first-records", "2000", "--out", baseDir); code != 0 {
		t.Fatalf("second baseline: %s", errOut)
	}
	if all, err = baselines.List(baseDir); err != nil {
		t.Fatal(err)
	}
	var second string
	for _, b := range all {
		if b.Model == "fraud" && b.ID != first {
			second = b.ID
		}
	}
	if code, _, errOut := run(t, "baseline", "promote", "--dir", baseDir, "--id", second); code != 0 {
		t.Fatalf("promote: %s", errOut)
	}

	broker, prod := embeddedBroker(t)
	httpAddr, metrics, cfg := operatorConfig(t, dir, broker, baseDir, "1s")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := startRun(ctx, cfg)

	// Promote the first baseline back once the API answers.
	var promoted struct {
		ID          string    `json:"id"`
		AppliesFrom time.Time `json:"applies_from"`
		SwitchError string    `json:"switch_error"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPost, "http://"+httpAddr+"/api/v1/baselines/"+first+"/promote", nil)
		req.Header.Set("Authorization", "Bearer operator-token-5d2a")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("promote: %d %s", resp.StatusCode, body)
			}
			if err := json.Unmarshal(body, &promoted); err != nil {
				t.Fatalf("promote: %v: %s", err, body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API did not answer within 60 s: %v", err)
		}
		select {
		case r := <-done:
			t.Fatalf("run exited %d: %s", r.code, r.stderr)
		case <-time.After(50 * time.Millisecond): // poll until run listens
		}
	}
	if promoted.ID != first || promoted.SwitchError != "" || promoted.AppliesFrom.IsZero() {
		t.Fatalf("promote answered %+v, want %s applying from a window start", promoted, first)
	}
	if promoted.AppliesFrom.Truncate(time.Hour) != promoted.AppliesFrom {
		t.Errorf("applies_from %s is not a window start (1h windows)", promoted.AppliesFrom)
	}

	// The scenario's windows (long before applies_from), then three more
	// from applies_from on: those close all but the last.
	produceWindows(t, prod, scen)
	later := scen
	later.Start, later.Windows, later.Seed = promoted.AppliesFrom, 3, scen.Seed+1 // other prediction ids
	produceWindows(t, prod, later)
	want := map[time.Time]string{}
	for w := range scen.Windows {
		want[scen.Start.Add(time.Duration(w)*scen.Window)] = second
	}
	for w := range later.Windows - 1 {
		want[later.Start.Add(time.Duration(w)*later.Window)] = first
	}
	var got map[time.Time]map[string]bool
	for {
		got = windowBaselines(t, metrics, "fraud")
		n := 0
		for start := range want {
			if len(got[start]) > 0 {
				n++
			}
		}
		if n == len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("windows not committed within 60 s: have %v", got)
		}
		select {
		case r := <-done:
			t.Fatalf("run exited %d: %s", r.code, r.stderr)
		case <-time.After(50 * time.Millisecond): // poll until the windows are committed
		}
	}
	for start, id := range want {
		if ids := got[start]; len(ids) != 1 || !ids[id] {
			t.Errorf("window %s compared with %v, want %s", start.Format(time.RFC3339), ids, id)
		}
	}
	cancel()
	if r := <-done; r.code != 0 {
		t.Fatalf("run exited %d: %s", r.code, r.stderr)
	}
}

// The reloader takes a baseline copied into the directory, and leaves
// the baselines in use as they are while a file does not load.
func TestReloaderSeesNewBaselines(t *testing.T) {
	dir := t.TempDir()
	_, scen := scenario(t, dir)
	baseDir := buildBaselines(t, dir, scen)
	cfg := config.Default()
	cfg.Baselines.Dir, cfg.Baselines.Reload = baseDir, time.Minute
	stamp, _, err := dirStamp(baseDir)
	if err != nil {
		t.Fatal(err)
	}
	set, err := loadBaselines(cfg)
	if err != nil {
		t.Fatal(err)
	}
	live := baselines.NewLive(set)
	var logged strings.Builder
	r := newBaselineReloader(cfg, live, time.Hour, slog.New(slog.NewTextHandler(&logged, nil)), stamp)
	var recorded []string
	r.recordWith(func(_ context.Context, set map[string]*baselines.Baseline) error {
		recorded = append(recorded, set["fraud"].ID)
		return nil
	})
	if from, err := r.Check(context.Background()); err != nil || !from.IsZero() {
		t.Fatalf("nothing changed: from %s, err %v", from, err)
	}
	old := live.Load()["fraud"]

	// A file half copied: not loaded, the set stays, and it is tried again.
	half := filepath.Join(baseDir, "fraud-copy.json")
	if err := os.WriteFile(half, []byte(`{"format": 1, "id": "fraud-co`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Check(context.Background()); err == nil {
		t.Fatal("no error for a baseline that does not load")
	}
	if live.Load()["fraud"] != old {
		t.Fatal("the set changed on a file that does not load")
	}
	// Finished: a newer baseline of fraud is the one in use from the
	// first window start at or after its time plus the reload interval.
	if code, _, errOut := run(t, "baseline", "--model", "fraud", "--input", filepath.Join(dir, "fraud.ref.jsonl"), "--first-records", "1000", "--out", baseDir); code != 0 {
		t.Fatalf("baseline: %s", errOut)
	}
	if err := os.Remove(half); err != nil {
		t.Fatal(err)
	}
	from, err := r.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	now := live.Load()["fraud"]
	if now == old || len(recorded) != 1 || recorded[0] != now.ID {
		t.Fatalf("fraud uses %s (was %s), recorded %v", now.ID, old.ID, recorded)
	}
	if live.At("fraud", "v1", from.Add(-time.Hour)) != old || live.At("fraud", "v1", from) != now {
		t.Errorf("windows before %s should keep %s, from it use %s", from, old.ID, now.ID)
	}
	if !strings.Contains(logged.String(), "baseline switched") {
		t.Errorf("no log line of the switch: %s", logged.String())
	}
}

// TestBuildBaselineFromTheTopic: a first deployment, with no baseline,
// builds one through POST /api/v1/baselines from the records of its first
// production period on run's topic: the same one `driftwatch baseline
// --from --until` builds from those records in a file, and what run
// compares the next windows with, without a restart.
func TestBuildBaselineFromTheTopic(t *testing.T) {
	t.Setenv("DW_TEST_OPERATOR", "operator-token-91b3")
	dir := t.TempDir()
	logPath, scen := scenario(t, dir)
	baseDir := filepath.Join(dir, "baselines")
	if err := os.Mkdir(baseDir, 0o755); err != nil {
		t.Fatal(err)
	}
	broker, prod := embeddedBroker(t)
	var recs []*kgo.Record
	if err := scen.Generate(func(m synth.Message) error {
		// Producers stamp records about when the event happened.
		recs = append(recs, &kgo.Record{Topic: "predictions", Key: m.Key, Value: m.Value, Timestamp: m.Time})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	httpAddr, metrics, cfg := operatorConfig(t, dir, broker, baseDir, "10s")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := startRun(ctx, cfg)
	from, until := scen.Start.Add(scen.Window), scen.Start.Add(3*scen.Window) // windows 1 and 2
	call := func(method, path, body string, v any) int {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+httpAddr+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer operator-token-91b3")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if v != nil && resp.StatusCode < 300 {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, b)
			}
		}
		return resp.StatusCode
	}
	var build struct {
		ID, State, Error string
		BaselineID       string `json:"baseline_id"`
		RecordsRead      int64  `json:"records_read"`
	}
	body := fmt.Sprintf(`{"model": "fraud", "from": %q, "until": %q}`, from.Format(time.RFC3339), until.Format(time.RFC3339))
	deadline := time.Now().Add(60 * time.Second)
	for call("POST", "/baselines", body, &build) != http.StatusAccepted {
		if time.Now().After(deadline) {
			t.Fatal("the API did not take the build within 60 s")
		}
		select {
		case r := <-done:
			t.Fatalf("run exited %d: %s", r.code, r.stderr)
		case <-time.After(50 * time.Millisecond): // poll until run listens
		}
	}
	for build.State == "running" {
		if time.Now().After(deadline) {
			t.Fatalf("build still running after 60 s: %+v", build)
		}
		time.Sleep(50 * time.Millisecond) // poll the build's state
		call("GET", "/baselines/builds/"+build.ID, "", &build)
	}
	if build.State != "done" || build.RecordsRead == 0 {
		t.Fatalf("build %+v", build)
	}
	got, err := baselines.Load(filepath.Join(baseDir, build.BaselineID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	// The same period of the same records, from the file.
	fileDir := filepath.Join(dir, "from-file")
	if code, _, errOut := run(t, "baseline", "--model", "fraud", "--input", logPath, "--from", from.Format(time.RFC3339), "--until", until.Format(time.RFC3339), "--out", fileDir); code != 0 {
		t.Fatalf("baseline from the file: %s", errOut)
	}
	all, err := baselines.List(fileDir)
	if err != nil || len(all) != 1 {
		t.Fatalf("baselines from the file: %v %v", all, err)
	}
	want := all[0]
	if got.Rows != want.Rows || got.Rows == 0 || len(got.Features) != len(want.Features) || !strings.HasPrefix(got.Source, "production kafka predictions") {
		t.Fatalf("from the topic: %d rows, %d features, source %q; from the file: %d rows, %d features", got.Rows, len(got.Features), got.Source, want.Rows, len(want.Features))
	}
	for i := range got.Features {
		g, w := got.Features[i], want.Features[i]
		if g.Name != w.Name || !slices.Equal(g.Edges, w.Edges) || !slices.Equal(g.Counts, w.Counts) || !maps.Equal(g.Categories, w.Categories) {
			t.Errorf("feature %s differs from the file's %s", g.Name, w.Name)
		}
	}
	if got.Rows >= int64(scen.RecordsPerWindow)*int64(scen.Windows) {
		t.Errorf("%d rows: more than the period's two windows hold", got.Rows)
	}
	// The next windows are compared with it.
	later := scen
	later.Start, later.Windows, later.Seed = scen.Start.Add(time.Duration(scen.Windows)*scen.Window), 3, scen.Seed+1
	produceWindows(t, prod, later)
	for {
		rows := windowBaselines(t, metrics, "fraud")
		if ids := rows[later.Start]; len(ids) > 0 {
			if len(ids) != 1 || !ids[got.ID] {
				t.Fatalf("the first window after the build compared with %v, want %s", ids, got.ID)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no window of fraud committed after the build: %v", rows)
		}
		time.Sleep(50 * time.Millisecond) // poll until the window is committed
	}
	cancel()
	if r := <-done; r.code != 0 {
		t.Fatalf("run exited %d: %s", r.code, r.stderr)
	}
}
