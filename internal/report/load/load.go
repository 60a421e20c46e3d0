// Package load gathers a report's input (html.Input) from where driftwatch
// keeps its results: the files of `driftwatch replay` (metric rows, window
// lines, a baselines directory) or a store such as ClickHouse (Store).
// It deliberately draws nothing and computes nothing.
package load

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/report/html"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/sinks/jsonl"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// Files reads metric rows (JSON lines, CONTRACT.md section 3) from
// metrics, window lines from windows ("" : none, and a missing file is no
// error when it is the default beside metrics, see WindowsBeside) and the
// baselines of baseDir (""; none) into an Input for model over [from, to).
func Files(metrics, windows, baseDir, model string, from, to time.Time) (html.Input, error) {
	in := html.Input{Model: model, From: from, To: to, Source: metrics}
	f, err := os.Open(metrics)
	if err != nil {
		return in, fmt.Errorf("open metric rows: %w", err)
	}
	defer f.Close()
	if in.Rows, err = Rows(f, metrics); err != nil {
		return in, err
	}
	if windows != "" {
		w, err := os.Open(windows)
		switch {
		case errors.Is(err, os.ErrNotExist) && windows == WindowsBeside(metrics):
		case err != nil:
			return in, fmt.Errorf("open window lines: %w", err)
		default:
			defer w.Close()
			if in.Windows, err = Windows(w, windows, model); err != nil {
				return in, err
			}
			in.Source += ", " + windows
		}
	}
	if baseDir != "" {
		bs, err := baselines.List(baseDir)
		if err != nil {
			return in, fmt.Errorf("read baselines: %w", err)
		}
		for _, b := range bs {
			if b.Model == model {
				in.Baselines = append(in.Baselines, b)
			}
		}
	}
	return in, nil
}

// WindowsBeside is where replay writes the window lines of a metrics file
// by default.
func WindowsBeside(metrics string) string { return metrics + ".windows.jsonl" }

// Rows decodes JSON lines of metric rows. Blank lines are skipped, and so
// is a torn last line (a crash mid-write: no newline at its end); any
// other line that does not decode is an error naming it.
func Rows(r io.Reader, name string) ([]drift.Row, error) {
	var out []drift.Row
	err := lines(r, name, func(b []byte, last bool, line int) error {
		var row drift.Row
		if err := json.Unmarshal(b, &row); err != nil {
			if last {
				return nil
			}
			return fmt.Errorf("%s line %d: not a metric row: %w", name, line, err)
		}
		if row.Model == "" || row.WindowStart.IsZero() {
			return fmt.Errorf("%s line %d: not a metric row: no model or window_start", name, line)
		}
		out = append(out, row)
		return nil
	})
	return out, err
}

// Windows decodes window lines (jsonl.Window) of model.
func Windows(r io.Reader, name, model string) ([]sinks.WindowSummary, error) {
	var out []sinks.WindowSummary
	err := lines(r, name, func(b []byte, last bool, line int) error {
		var w jsonl.Window
		if err := json.Unmarshal(b, &w); err != nil {
			if last {
				return nil
			}
			return fmt.Errorf("%s line %d: not a window line: %w", name, line, err)
		}
		if w.Model == model {
			out = append(out, sinks.WindowSummary{Model: w.Model, Version: w.ModelVersion, Start: w.WindowStart, End: w.WindowEnd,
				BaselineID: w.BaselineID, Records: w.Records, Distributions: w.Distributions})
		}
		return nil
	})
	return out, err
}

// lines calls f with each non-blank line; last says the line is the
// file's last and has no newline (torn).
func lines(r io.Reader, name string, f func(b []byte, last bool, line int) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(strings.TrimSpace(string(b))) > 0 {
			if ferr := f(b, err == io.EOF, line); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
	}
}

// Store is where a running driftwatch keeps its results
// (sinks/clickhouse.Sink).
type Store interface {
	Rows(ctx context.Context, f sinks.RowFilter) ([]drift.Row, error)
	Windows(ctx context.Context, model, version string, from, to time.Time) ([]sinks.WindowSummary, error)
	AlertHistory(ctx context.Context, model string, since time.Time, limit int) ([]sinks.AlertRecord, error)
	Baselines(ctx context.Context, model string) ([]*baselines.Baseline, error)
}

// MaxRows bounds the metric rows a report reads from a store.
const MaxRows = 1_000_000

// FromStore reads model's rows, windows, alerts and baselines of [from,
// to) from s; version "" reads every version.
func FromStore(ctx context.Context, s Store, model, version string, from, to time.Time) (html.Input, error) {
	in := html.Input{Model: model, From: from, To: to, Recorded: true}
	if version != "" {
		in.Versions = []string{version}
	}
	var err error
	if in.Rows, err = s.Rows(ctx, sinks.RowFilter{Model: model, Version: version, From: from, To: to, Limit: MaxRows}); err != nil {
		return in, err
	}
	if len(in.Rows) >= MaxRows {
		return in, fmt.Errorf("more than %d metric rows of %s in the period: report a shorter one", MaxRows, model)
	}
	if in.Windows, err = s.Windows(ctx, model, version, from, to); err != nil {
		return in, err
	}
	if in.Alerts, err = s.AlertHistory(ctx, model, from, 0); err != nil {
		return in, err
	}
	if in.Baselines, err = s.Baselines(ctx, model); err != nil {
		return in, err
	}
	return in, nil
}
