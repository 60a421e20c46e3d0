// Package workload is the stream of issue 14's pipeline benchmarks: one
// binary classifier, "ranker" 3.2.0, whose prediction records (CONTRACT.md
// section 1) are about 1 KB with 40 features, 30 numeric and 10
// categorical, as a serving fleet logs them: prediction_id, model and
// version, an RFC 3339 timestamp, the features (some nulls), a score with
// its two class probabilities, "label": null, segments (gender, age band),
// the variant (10% challenger) and the serving latency.
//
// It is a scenario of internal/synth (the generator of the demo's streams),
// so the same seed and record count always give byte-identical records, and
// Reference gives the training records a user would build the model's
// baseline from (`driftwatch baseline --model ranker --input FILE`, or
// Baseline in process). Six features drift from window DriftFrom on (three
// shifts, a scale change, two category mixes), so the drift statistics find
// something and every window computes all of them.
//
// It deliberately has no bad records, duplicates or late labels: every
// benchmark, the Go floors and the Python peers alike, reads every record
// of the same file.
package workload

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/reference"
	"github.com/driftwatch/driftwatch/internal/synth"
)

// Shape of the stream.
const (
	Model            = "ranker"
	Version          = "3.2.0"
	RecordsPerWindow = 25_000 // per one-hour window
	DriftFrom        = 2      // 0-based window from which six features drift
	DefaultSeed      = 14
	// ReferenceRecords is the size of the training reference the
	// benchmarks build the baseline from.
	ReferenceRecords = 20_000
	// BaselineBins and BaselineMaxCategories are the defaults of
	// `driftwatch baseline`, which Baseline uses too.
	BaselineBins          = 100
	BaselineMaxCategories = 1000
)

// Start is the start of the first window.
var Start = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// Config returns the scenario of n records (n > 0): n/RecordsPerWindow
// windows of RecordsPerWindow records, rounded up, so Generate yields at
// least n records; Stream stops at n.
func Config(seed int64, n int) synth.Config {
	per := min(RecordsPerWindow, max(n, 1))
	return synth.Config{
		Seed:             seed,
		Start:            Start,
		Window:           time.Hour,
		Windows:          (max(n, 1) + per - 1) / per,
		RecordsPerWindow: per,
		Models:           []synth.Model{ranker()},
		Jitter:           2 * time.Minute,
	}
}

// Stream writes the first n records of the scenario to w as JSON lines,
// generating them as it goes (it holds about two windows in memory, not n
// records), and returns the bytes written.
func Stream(seed int64, n int, w io.Writer) (int64, error) {
	var (
		written int64
		count   int
		buf     = make([]byte, 0, 1<<20)
	)
	errDone := fmt.Errorf("done")
	flush := func() error {
		k, err := w.Write(buf)
		written += int64(k)
		buf = buf[:0]
		return err
	}
	err := Config(seed, n).Generate(func(m synth.Message) error {
		if count == n {
			return errDone
		}
		count++
		buf = append(buf, m.Value...)
		buf = append(buf, '\n')
		if len(buf) >= 1<<20-4096 {
			return flush()
		}
		return nil
	})
	if err != nil && err != errDone {
		return written, fmt.Errorf("generate %d records: %w", n, err)
	}
	if err := flush(); err != nil {
		return written, fmt.Errorf("write records: %w", err)
	}
	return written, nil
}

// Records returns the first n records of the scenario as JSON lines.
func Records(seed int64, n int) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(n * 1100)
	_, err := Stream(seed, n, &b)
	return b.Bytes(), err
}

// Reference writes n training records of the model to w as JSON lines
// (undrifted draws, labelled, timestamped in the week before Start).
func Reference(seed int64, n int, w io.Writer) error {
	return Config(seed, RecordsPerWindow).Reference(Model, n, w)
}

// Baseline builds the model's baseline from n Reference records the way
// `driftwatch baseline` does with its default flags, through a temporary
// file in dir.
func Baseline(seed int64, n int, dir string) (*baselines.Baseline, error) {
	path := filepath.Join(dir, "reference-"+Model+".jsonl")
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create reference file: %w", err)
	}
	if err := Reference(seed, n, f); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write reference file: %w", err)
	}
	b, _, err := reference.Build(path, Model, baselines.BuildOptions{
		Bins: BaselineBins, MaxCategories: BaselineMaxCategories, Source: path, ModelVersion: Version,
	})
	return b, err
}
