package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"go.uber.org/goleak"

	"github.com/driftwatch/driftwatch/internal/synth"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runResult is how a `driftwatch run` that startRun started ended.
type runResult struct {
	code   int
	stderr string
}

// startRun runs `driftwatch run --config cfg` in a goroutine until ctx is
// done. The returned channel, buffered, receives the exit code and the log
// once Main returns, so the goroutine ends whether or not it is read.
func startRun(ctx context.Context, cfg string) <-chan runResult {
	done := make(chan runResult, 1)
	go func() {
		var o, e bytes.Buffer
		code := Main(ctx, []string{"run", "--config", cfg}, &o, &e)
		done <- runResult{code, e.String()}
	}()
	return done
}

// psiRows counts, per "model window", the rows of one numeric feature's psi
// in the metrics file, and returns their n_current.
func psiRows(t *testing.T, path string, scen synth.Config) map[string][]int64 {
	t.Helper()
	out := map[string][]int64{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct {
			Model, Subject, Metric string
			WindowStart            time.Time `json:"window_start"`
			NCurrent               int64     `json:"n_current"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("metrics line %q: %v", sc.Text(), err)
		}
		if r.Metric == "null_rate" && (r.Subject == "amount" || r.Subject == "monthly_charges") {
			k := fmt.Sprintf("%s %d", r.Model, int(r.WindowStart.Sub(scen.Start)/scen.Window))
			out[k] = append(out[k], r.NCurrent)
		}
	}
	return out
}

// TestRunResumesAfterRestart runs the daemon against an embedded broker,
// stops it once some windows are committed, and starts it again: every
// window is committed exactly once, with all its records, and the group's
// offsets end at the end of the topic.
func TestRunResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	_, scen := scenario(t, dir)
	baseDir := buildBaselines(t, dir, scen)
	scen.BadRate, scen.DuplicateRate = 0, 0
	broker, prod := embeddedBroker(t)
	// produce sends the records of the given windows and returns, per
	// partition, the offset of the first one.
	produce := func(windows ...int) map[int32]int64 {
		first := map[int32]int64{}
		for _, r := range produceWindows(t, prod, scen, windows...) {
			if o, ok := first[r.Record.Partition]; !ok || r.Record.Offset < o {
				first[r.Record.Partition] = r.Record.Offset
			}
		}
		return first
	}
	metrics := filepath.Join(dir, "metrics.jsonl")
	cfg := filepath.Join(dir, "driftwatch.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
kafka:
  brokers: [%q]
baselines:
  dir: %q
sinks:
  jsonl:
    path: %q
http:
  listen: 127.0.0.1:0
log:
  level: warn
`, broker, baseDir, metrics)), 0o644); err != nil {
		t.Fatal(err)
	}

	// daemon runs `driftwatch run` until the metrics file has every window
	// in want, then stops it as SIGTERM would.
	daemon := func(want ...string) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := startRun(ctx, cfg)
		deadline := time.Now().Add(60 * time.Second)
		for {
			rows := psiRows(t, metrics, scen)
			all := true
			for _, w := range want {
				all = all && len(rows[w]) > 0
			}
			if all {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("windows %v not committed within 60s; have %v", want, rows)
			}
			select {
			case r := <-done:
				t.Fatalf("run exited %d before committing %v: %s", r.code, want, r.stderr)
			case <-time.After(50 * time.Millisecond):
			}
		}
		cancel()
		if r := <-done; r.code != 0 {
			t.Fatalf("run exited %d: %s", r.code, r.stderr)
		}
	}

	// Run 1: windows 0-2 are in the topic; 0 and 1 close, 2 stays open.
	produce(0, 1, 2)
	daemon("fraud 0", "fraud 1", "churn 0", "churn 1")
	// Run 2: window 3 arrives and closes 2; 0 and 1 must not come back.
	firstOpen := produce(3)
	daemon("fraud 2", "churn 2")

	rows := psiRows(t, metrics, scen)
	for _, m := range scen.Models {
		for w := range 3 {
			got := rows[fmt.Sprintf("%s %d", m.Name, w)]
			if len(got) != 1 || got[0] != int64(scen.RecordsPerWindow) {
				t.Errorf("%s window %d: rows with n_current %v, want one row with %d", m.Name, w, got, scen.RecordsPerWindow)
			}
		}
		if got := rows[fmt.Sprintf("%s 3", m.Name)]; len(got) != 0 {
			t.Errorf("%s window 3 committed while open: %v", m.Name, got)
		}
	}
	// Window 3 is open: no offset may be committed past its first record.
	offsets, err := kadm.NewClient(prod).FetchOffsets(context.Background(), "driftwatch")
	if err != nil {
		t.Fatal(err)
	}
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.Topic == "predictions" && o.At > firstOpen[o.Partition] {
			t.Errorf("partition %d committed at %d, past the open window's first record at %d", o.Partition, o.At, firstOpen[o.Partition])
		}
	})
}
