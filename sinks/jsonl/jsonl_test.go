package jsonl

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

func TestCommitRollback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rows.jsonl")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p := 0.01
	row := drift.Row{Model: "m", ModelVersion: "1", WindowStart: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
		Family: "data", Subject: "x", Metric: "ks", Value: 0.3, PValue: &p, Threshold: 0.05, Drifted: true, Primary: true}

	a := s.Appender(context.Background())
	if err := a.Append(row, row); err != nil {
		t.Fatal(err)
	}
	if err := a.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(row); err == nil {
		t.Fatal("append after rollback succeeded")
	}
	a = s.Appender(context.Background())
	noP := row
	noP.PValue = nil
	if err := a.Append(row, noP); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); len(data) != 0 {
		t.Fatalf("rows visible before commit: %s", data)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err == nil {
		t.Fatal("second commit succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	if len(lines) != 2 || s.Rows() != 2 {
		t.Fatalf("%d lines, %d rows counted: %s", len(lines), s.Rows(), data)
	}
	var m map[string]any
	if err := json.Unmarshal(lines[1], &m); err != nil {
		t.Fatal(err)
	}
	if v, ok := m["p_value"]; !ok || v != nil {
		t.Errorf("p_value of a row without one: %v (present %v); want null", v, ok)
	}
	if _, ok := m["Primary"]; ok {
		t.Errorf("internal field leaked into the contract row: %s", lines[1])
	}
	if m["window_start"] != "2026-11-20T10:00:00Z" {
		t.Errorf("window_start %v", m["window_start"])
	}
}

func TestReopenAfterTornWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rows.jsonl")
	end := time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)
	good := `{"model":"m","model_version":"1","window_end":"2026-11-20T11:00:00Z","metric":"psi"}` + "\n" +
		`{"model":"m","model_version":"1","window_end":"2026-11-20T10:00:00Z","metric":"psi"}` + "\n" +
		`{"model":"m","model_version":"2","window_end":"2026-11-20T12:00:00Z","metric":"psi"}` + "\n"
	if err := os.WriteFile(path, []byte(good+`{"model":"m","model_version":"1","window_end":"2026-11-20T15:00`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	done, err := s.Committed(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !done[windows.Key{Model: "m", Version: "1"}].Equal(end) || len(done) != 2 {
		t.Fatalf("committed %v: the torn line must not count", done)
	}
	a := s.Appender(context.Background())
	if err := a.Append(drift.Row{Model: "m", ModelVersion: "1", WindowEnd: end.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	data, _ := os.ReadFile(path)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	var r drift.Row
	if len(lines) != 5 || json.Unmarshal(lines[4], &r) != nil || !r.WindowEnd.Equal(end.Add(time.Hour)) {
		t.Fatalf("row after the torn line is not parseable on its own line:\n%s", data)
	}
}

// TestAppendWindowWritesNothing: the appender takes window summaries, like
// the ClickHouse one, but the file holds only metric rows.
func TestAppendWindowWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rows.jsonl")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	w := sinks.WindowSummary{Model: "m", Version: "1", Start: start, End: start.Add(time.Hour), BaselineID: "b", Records: 12}
	a, ok := s.Appender(context.Background()).(interface {
		sinks.Appender
		AppendWindow(sinks.WindowSummary) error
	})
	if !ok {
		t.Fatal("the JSON-lines appender has no AppendWindow")
	}
	if err := a.AppendWindow(w); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatalf("commit of a summary alone: %v", err)
	}
	if err := a.AppendWindow(w); err == nil {
		t.Error("AppendWindow after Commit: no error")
	}
	a = s.Appender(context.Background()).(interface {
		sinks.Appender
		AppendWindow(sinks.WindowSummary) error
	})
	row := drift.Row{Model: "m", ModelVersion: "1", WindowStart: start, WindowEnd: start.Add(time.Hour), Family: "data", Subject: "x", Metric: "psi"}
	if err := a.Append(row); err != nil {
		t.Fatal(err)
	}
	if err := a.AppendWindow(w); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	var got drift.Row
	if len(lines) != 1 || s.Rows() != 1 || json.Unmarshal(lines[0], &got) != nil || got.Subject != "x" {
		t.Errorf("file holds %q (%d rows counted), want the one metric row", data, s.Rows())
	}
}

// TestKeepWindows checks that window summaries go to the windows file, with
// their distributions, in the commit of their rows, and that a rollback
// writes neither.
func TestKeepWindows(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "m.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	wpath := filepath.Join(dir, "m.windows.jsonl")
	if err := s.KeepWindows(wpath, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	sum := sinks.WindowSummary{Model: "m", Version: "1", Start: start, End: start.Add(time.Hour), BaselineID: "b", Records: 7,
		Distributions: []drift.Distribution{{Family: "data", Subject: "x", Kind: "numeric", Edges: []float64{0, 1, 2}, Reference: []float64{5, 5}, Current: []float64{3, 4}}}}
	app := s.Appender(context.Background())
	if err := app.Append(drift.Row{Model: "m", ModelVersion: "1", WindowStart: start, WindowEnd: start.Add(time.Hour), Family: "data", Subject: "x", Metric: "psi"}); err != nil {
		t.Fatal(err)
	}
	if err := app.(interface {
		AppendWindow(sinks.WindowSummary) error
	}).AppendWindow(sum); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(wpath); len(b) != 0 {
		t.Fatalf("windows file written before commit: %q", b)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	rolled := s.Appender(context.Background())
	sum.Start = start.Add(time.Hour)
	if err := rolled.(interface {
		AppendWindow(sinks.WindowSummary) error
	}).AppendWindow(sum); err != nil {
		t.Fatal(err)
	}
	if err := rolled.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(wpath)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"m","model_version":"1","window_start":"2026-11-20T10:00:00Z","window_end":"2026-11-20T11:00:00Z","baseline_id":"b","records":7,"distributions":[{"family":"data","subject":"x","kind":"numeric","edges":[0,1,2],"reference":[5,5],"current":[3,4]}]}` + "\n"
	if string(b) != want {
		t.Errorf("windows file:\n%s\nwant\n%s", b, want)
	}
}
