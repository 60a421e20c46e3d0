package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/pipeline"
	"github.com/driftwatch/driftwatch/internal/synth"
	"github.com/driftwatch/driftwatch/sinks/jsonl"
	"github.com/driftwatch/driftwatch/stats/drift"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// scenario writes a small demo-like log and training data into dir.
func scenario(t *testing.T, dir string) (logPath string, scen synth.Config) {
	t.Helper()
	scen = synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	scen.RecordsPerWindow = 500
	scen.Windows = 4
	for i := range scen.Models {
		for j := range scen.Models[i].Drifts {
			scen.Models[i].Drifts[j].FromWindow = 2
		}
	}
	var log bytes.Buffer
	if err := scen.Generate(func(m synth.Message) error {
		log.Write(m.Value)
		log.WriteByte('\n')
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	logPath = filepath.Join(dir, "log.jsonl")
	if err := os.WriteFile(logPath, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, m := range scen.Models {
		var ref bytes.Buffer
		if err := scen.Reference(m.Name, 5000, &ref); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, m.Name+".ref.jsonl"), ref.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return logPath, scen
}

// buildBaselines builds every model's baseline from the training data
// scenario wrote into dir, into dir/baselines, which it returns.
func buildBaselines(t *testing.T, dir string, scen synth.Config) string {
	t.Helper()
	baseDir := filepath.Join(dir, "baselines")
	for _, m := range scen.Models {
		if code, _, errOut := run(t, "baseline", "--model", m.Name, "--input", filepath.Join(dir, m.Name+".ref.jsonl"), "--out", baseDir); code != 0 {
			t.Fatalf("baseline %s: %s", m.Name, errOut)
		}
	}
	return baseDir
}

func TestBaselineThenReplayIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	logPath, scen := scenario(t, dir)
	baseDir := filepath.Join(dir, "baselines")
	for _, m := range scen.Models {
		code, out, errOut := run(t, "baseline", "--model", m.Name, "--input", filepath.Join(dir, m.Name+".ref.jsonl"), "--out", baseDir)
		if code != 0 {
			t.Fatalf("baseline %s: exit %d: %s", m.Name, code, errOut)
		}
		if !strings.Contains(out, "written") || !strings.Contains(out, "features  "+strconv.Itoa(len(m.Features))) {
			t.Errorf("baseline output:\n%s", out)
		}
	}

	outs := make([][]byte, 2)
	for i := range outs {
		path := filepath.Join(dir, "rows"+strconv.Itoa(i)+".jsonl")
		code, _, errOut := run(t, "replay", "--baselines", baseDir, "--input", logPath, "--output", path)
		if code != 0 {
			t.Fatalf("replay: exit %d: %s", code, errOut)
		}
		if !strings.Contains(errOut, "dead-lettered") {
			t.Errorf("replay summary does not mention dead letters: %s", errOut)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = data
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("two replays of the same input differ")
	}

	// The verdicts are the injected ones: window 2 and 3 of each model have
	// exactly the expected features drifted.
	drifted := map[string]map[string]bool{}
	for _, line := range bytes.Split(bytes.TrimSpace(outs[0]), []byte("\n")) {
		var r struct {
			Model, Family, Subject, Metric, Severity string
			WindowStart                              time.Time `json:"window_start"`
			Drifted                                  bool
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if r.Family == "data" && r.Drifted && r.Severity == "SEV-3" {
			idx := int(r.WindowStart.Sub(scen.Start) / time.Hour)
			if r.Subject == drift.SubjectMultivariate {
				// The rows of all features together: the drifted features
				// move them, and nothing before.
				if idx < 2 {
					t.Errorf("%s window %d: %s flagged before any drift", r.Model, idx, r.Subject)
				}
				continue
			}
			key := r.Model + "@" + strconv.Itoa(idx)
			if drifted[key] == nil {
				drifted[key] = map[string]bool{}
			}
			drifted[key][r.Subject] = true
		}
	}
	for _, m := range scen.Models {
		for idx := range scen.Windows {
			got := drifted[m.Name+"@"+strconv.Itoa(idx)]
			want := 0
			if idx >= 2 {
				want = len(scen.Expected()[m.Name])
				for _, f := range scen.Expected()[m.Name] {
					if !got[f] {
						t.Errorf("%s window %d: %s not flagged", m.Name, idx, f)
					}
				}
			}
			if len(got) != want {
				t.Errorf("%s window %d: flagged %v", m.Name, idx, got)
			}
		}
	}

	// Rejected lines are kept beside the output, with their reasons.
	dlq, err := os.ReadFile(filepath.Join(dir, "rows0.jsonl.dlq.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(dlq, []byte(`"reason":"not_json"`)) {
		t.Errorf("dead-letter file lacks reasons:\n%.300s", dlq)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"baseline"}, 2, "--model and --input are required"},
		{[]string{"run"}, 2, "--config is required"},
		{[]string{"replay", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"replay", "--baselines", "/nonexistent"}, 1, "no baselines found"},
		{[]string{"baseline", "--model", "m", "--input", "x.parquet"}, 1, "parquet"},
		{[]string{"run", "--config", "/nonexistent.yml"}, 1, "read config"},
	}
	for _, c := range cases {
		code, _, errOut := run(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d containing %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

func TestProgressPrintsUntilStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := consumer.NewFileSource(memory.DefaultAllocator, strings.NewReader(""), "empty", consumer.FileConfig{})
		p := &pipeline.Pipeline{Source: src, Sink: jsonl.New(io.Discard, "discard")}
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer // read only after stop, which waits for the writer
		stop := progress(&out, p, time.Now(), 5*time.Second)
		time.Sleep(11 * time.Second) // the bubble's clock: two ticks
		synctest.Wait()
		stop()
		want := strings.Repeat("replay: 0 records (0/s), 0 windows closed, 0 open\n", 2)
		if got := out.String(); got != want {
			t.Fatalf("progress printed %q, want %q", got, want)
		}
	})
}

// TestProductionBaselineListPromote: a baseline from the first hours of a
// production log, listed beside a training baseline; the newest is in use
// until the other is promoted, and replay then compares with the promoted.
func TestProductionBaselineListPromote(t *testing.T) {
	dir := t.TempDir()
	logPath, scen := scenario(t, dir)
	baseDir := filepath.Join(dir, "baselines")
	m := scen.Models[0]
	code, out, errOut := run(t, "baseline", "--model", m.Name, "--input", filepath.Join(dir, m.Name+".ref.jsonl"), "--out", baseDir)
	if code != 0 {
		t.Fatalf("training baseline: %s", errOut)
	}
	training := strings.Fields(out)[1]
	time.Sleep(1100 * time.Millisecond) // ids and creation times are per second
	code, out, errOut = run(t, "baseline", "--model", m.Name, "--input", logPath, "--out", baseDir,
		"--only-version", m.Version, "--first", "2h")
	if code != 0 {
		t.Fatalf("production baseline: %s", errOut)
	}
	production := strings.Fields(out)[1]
	if !strings.Contains(out, "selected  ") || !strings.Contains(out, "left out") {
		t.Errorf("production baseline output does not say what it selected:\n%s", out)
	}
	list := func() string {
		code, out, errOut := run(t, "baseline", "list", "--dir", baseDir)
		if code != 0 {
			t.Fatalf("list: %s", errOut)
		}
		return out
	}
	inUse := func(listing string) string {
		for _, line := range strings.Split(listing, "\n") {
			if strings.HasPrefix(line, "* ") {
				return strings.Fields(line)[1]
			}
		}
		return ""
	}
	l := list()
	if !strings.Contains(l, training) || !strings.Contains(l, "production "+logPath) || inUse(l) != production {
		t.Fatalf("list before promote (want %s in use):\n%s", production, l)
	}
	if code, _, errOut := run(t, "baseline", "promote", "--dir", baseDir, "--id", training); code != 0 {
		t.Fatalf("promote: %s", errOut)
	}
	if got := inUse(list()); got != training {
		t.Fatalf("in use after promote: %s, want %s", got, training)
	}
	if code, _, _ := run(t, "baseline", "promote", "--dir", baseDir, "--id", "no-such-baseline"); code == 0 {
		t.Error("promoted a baseline that does not exist")
	}
	rows := filepath.Join(dir, "rows.jsonl")
	if code, _, errOut := run(t, "replay", "--baselines", baseDir, "--input", logPath, "--output", rows, "--quiet"); code != 0 {
		t.Fatalf("replay: %s", errOut)
	}
	data, err := os.ReadFile(rows)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"baseline_id":"`+training+`"`) || strings.Contains(string(data), production) {
		t.Error("replay did not compare with the promoted baseline")
	}
	// A config selects a baseline by id, whatever is promoted.
	cfg := filepath.Join(dir, "driftwatch.yml")
	if err := os.WriteFile(cfg, []byte("baselines:\n  dir: "+baseDir+"\nmodels:\n  "+m.Name+":\n    baseline_id: "+production+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "replay", "--config", cfg, "--input", logPath, "--output", rows, "--quiet"); code != 0 {
		t.Fatalf("replay: %s", errOut)
	}
	if data, _ = os.ReadFile(rows); !strings.Contains(string(data), `"baseline_id":"`+production+`"`) {
		t.Error("replay did not compare with the baseline the config selects by id")
	}
}

// TestBaselinePerModelVersion: each model version is compared with its own
// baseline (built with --model-version), a version without one with the
// model's newest, and a promoted baseline serves every version.
func TestBaselinePerModelVersion(t *testing.T) {
	dir := t.TempDir()
	baseDir := filepath.Join(dir, "baselines")
	var log bytes.Buffer
	ids := map[string]string{}
	for i, version := range []string{"1.0", "2.0", "3.0"} {
		scen := synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
		scen.Seed += int64(i)
		scen.Windows, scen.RecordsPerWindow, scen.BadRate, scen.DuplicateRate = 2, 300, 0, 0
		scen.Models = scen.Models[:1]
		scen.Models[0].Version = version
		if err := scen.Generate(func(m synth.Message) error { log.Write(m.Value); log.WriteByte('\n'); return nil }); err != nil {
			t.Fatal(err)
		}
		if version == "3.0" {
			continue // no baseline of its own
		}
		var ref bytes.Buffer
		if err := scen.Reference("fraud", 2000, &ref); err != nil {
			t.Fatal(err)
		}
		refPath := filepath.Join(dir, version+".ref.jsonl")
		if err := os.WriteFile(refPath, ref.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := run(t, "baseline", "--model", "fraud", "--model-version", version, "--input", refPath, "--out", baseDir)
		if code != 0 {
			t.Fatalf("baseline %s: %s", version, errOut)
		}
		ids[version] = strings.Fields(out)[1]
		time.Sleep(1100 * time.Millisecond) // creation times are per second: 2.0's is the newest
	}
	logPath := filepath.Join(dir, "log.jsonl")
	if err := os.WriteFile(logPath, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	used := func() map[string]string {
		t.Helper()
		rows := filepath.Join(dir, "rows.jsonl")
		if code, _, errOut := run(t, "replay", "--baselines", baseDir, "--input", logPath, "--output", rows, "--quiet"); code != 0 {
			t.Fatalf("replay: %s", errOut)
		}
		data, err := os.ReadFile(rows)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var r struct {
				Version  string `json:"model_version"`
				Baseline string `json:"baseline_id"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			if prev, ok := out[r.Version]; ok && prev != r.Baseline {
				t.Fatalf("version %s compared with %s and %s", r.Version, prev, r.Baseline)
			}
			out[r.Version] = r.Baseline
		}
		return out
	}
	got := used()
	if got["1.0"] != ids["1.0"] || got["2.0"] != ids["2.0"] || got["3.0"] != ids["2.0"] {
		t.Errorf("baselines used %v; want 1.0 -> %s, 2.0 and 3.0 -> %s", got, ids["1.0"], ids["2.0"])
	}
	if code, _, errOut := run(t, "baseline", "promote", "--dir", baseDir, "--id", ids["1.0"]); code != 0 {
		t.Fatal(errOut)
	}
	for v, id := range used() {
		if id != ids["1.0"] {
			t.Errorf("after promoting %s, version %s compared with %s", ids["1.0"], v, id)
		}
	}
}

// TestReplayUsesConfiguredSeverityRules: replay's rows carry the
// severities of the config's alerts.rules, as run's do.
func TestReplayUsesConfiguredSeverityRules(t *testing.T) {
	dir := t.TempDir()
	logPath, scen := scenario(t, dir)
	baseDir := buildBaselines(t, dir, scen)
	cfg := filepath.Join(dir, "driftwatch.yml")
	if err := os.WriteFile(cfg, []byte("alerts:\n  rules:\n    - {name: everything, severity: SEV-1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "rows.jsonl")
	if code, _, errOut := run(t, "replay", "--config", cfg, "--baselines", baseDir, "--input", logPath, "--output", out, "--quiet"); code != 0 {
		t.Fatalf("replay: %s", errOut)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var drifted int
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var r struct {
			Drifted  bool   `json:"drifted"`
			Severity string `json:"severity"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if r.Drifted {
			drifted++
		}
		if want := map[bool]string{true: "SEV-1", false: ""}[r.Drifted]; r.Severity != want {
			t.Fatalf("row %s: severity %q, want %q by the one configured rule", line, r.Severity, want)
		}
	}
	if drifted == 0 {
		t.Fatal("no drifted row: the scenario injects drift")
	}
}
