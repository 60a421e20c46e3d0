package load

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
)

const rowLine = `{"model":"fraud","model_version":"1","window_start":"2026-11-20T10:00:00Z","window_end":"2026-11-20T11:00:00Z","family":"data","subject":"amount","metric":"psi","value":0.3,"p_value":null,"threshold":0.2,"drifted":true,"severity":"SEV-3","n_current":5,"n_reference":9,"baseline_id":"b","threshold_source":"static","mde":null,"deciding":true}`

const windowLine = `{"model":"fraud","model_version":"1","window_start":"2026-11-20T10:00:00Z","window_end":"2026-11-20T11:00:00Z","baseline_id":"b","records":7,"distributions":[{"family":"data","subject":"amount","kind":"numeric","edges":[0,1,2],"reference":[4,5],"current":[3,2]}]}`

func write(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	metrics := write(t, filepath.Join(dir, "rows.jsonl"), rowLine+"\n\n"+strings.Replace(rowLine, "fraud", "churn", 1)+"\n"+rowLine[:40])
	write(t, WindowsBeside(metrics), windowLine+"\n"+strings.Replace(windowLine, "fraud", "churn", 1)+"\n")
	b := &baselines.Baseline{Format: baselines.FormatVersion, ID: "fraud-b", Model: "fraud", CreatedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Rows: 1,
		Features:   []baselines.Feature{{Name: "c", Kind: baselines.Categorical, Count: 1, Categories: map[string]int64{"a": 1}}},
		Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Categorical, Count: 1, Categories: map[string]int64{"a": 1}}}
	bdir := filepath.Join(dir, "baselines")
	if err := os.Mkdir(bdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := b.Save(filepath.Join(bdir, b.ID+".json")); err != nil {
		t.Fatal(err)
	}
	in, err := Files(metrics, WindowsBeside(metrics), bdir, "fraud", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// Rows of every model (the page filters them), the torn last line skipped.
	if len(in.Rows) != 2 || !in.Rows[0].Primary {
		t.Errorf("rows %+v, want both models' rows, the deciding mark read", in.Rows)
	}
	if len(in.Windows) != 1 || in.Windows[0].Records != 7 || len(in.Windows[0].Distributions) != 1 || in.Windows[0].Distributions[0].Current[0] != 3 {
		t.Errorf("windows %+v, want fraud's one with its distribution", in.Windows)
	}
	if len(in.Baselines) != 1 || in.Baselines[0].ID != "fraud-b" {
		t.Errorf("baselines %+v", in.Baselines)
	}

	// The default windows file may be missing; a named one may not.
	os.Remove(WindowsBeside(metrics))
	if in, err := Files(metrics, WindowsBeside(metrics), "", "fraud", time.Time{}, time.Time{}); err != nil || in.Windows != nil {
		t.Errorf("without the default windows file: %v, %d windows", err, len(in.Windows))
	}
	if _, err := Files(metrics, filepath.Join(dir, "nope.jsonl"), "", "fraud", time.Time{}, time.Time{}); err == nil {
		t.Error("a named windows file that does not exist is no error")
	}
	// A line in the middle that is not a row is an error naming it.
	write(t, metrics, rowLine+"\nnot json\n"+rowLine+"\n")
	if _, err := Files(metrics, "", "", "fraud", time.Time{}, time.Time{}); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a bad line: %v", err)
	}
}
