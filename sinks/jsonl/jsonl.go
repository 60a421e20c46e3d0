// Package jsonl is a sink that appends drift metric rows to a file as JSON
// lines, one row per line in the form of CONTRACT.md section 3. Replay writes
// its output through it and the demo keeps its results in it.
//
// A commit writes the batch with one write call and fsyncs the file, so a
// committed row survives a crash. On restart, Committed tells the pipeline
// which windows the file already holds, so they are not emitted again. It
// deliberately does not deduplicate rows: readers keep the last row per
// (model, model_version, window_start, family, subject, metric).
//
// With KeepWindows it also writes each closed window's summary, with the
// distributions behind its rows, to a second file of JSON lines (Window,
// CONTRACT.md section 3, "Window lines"), for reports. A commit writes the
// rows first: after a crash a window may have rows and no summary line
// (its distributions are then missing from a report), never the reverse.
package jsonl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// Sink writes rows to one file or writer. Commits are serialized.
type Sink struct {
	mu   sync.Mutex
	w    io.Writer
	f    *os.File // nil when writing to a plain writer
	name string
	rows int64

	wins     io.Writer // KeepWindows' writer, or nil
	winsFile *os.File  // nil when wins is a plain writer
	winsName string
}

// Window is one line of the windows file (KeepWindows): a closed window of
// a model version, its baseline, how many records it held, and the
// distributions of its judged features and prediction against the
// baseline's.
type Window struct {
	Model         string               `json:"model"`
	ModelVersion  string               `json:"model_version"`
	WindowStart   time.Time            `json:"window_start"`
	WindowEnd     time.Time            `json:"window_end"`
	BaselineID    string               `json:"baseline_id"`
	Records       int64                `json:"records"`
	Distributions []drift.Distribution `json:"distributions"`
}

// KeepWindows makes the sink write window summaries to the file at path
// (appending; created if needed) or, with a nil file, to w. Call it before
// the first Appender.
func (s *Sink) KeepWindows(path string, w io.Writer) error {
	if w != nil {
		s.wins, s.winsName = w, path
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open windows file: %w", err)
	}
	if err := endTornLine(f, path); err != nil {
		f.Close()
		return err
	}
	s.wins, s.winsFile, s.winsName = f, f, path
	return nil
}

// Open appends to the file at path, creating it if needed. If a crash left
// the last line unfinished, Open ends it with a newline so that later rows
// stay parseable (readers skip the torn line).
func Open(path string) (*Sink, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open metrics file: %w", err)
	}
	if err := endTornLine(f, path); err != nil {
		f.Close()
		return nil, err
	}
	return &Sink{w: f, f: f, name: path}, nil
}

// endTornLine ends f with a newline if a crash left its last line
// unfinished.
func endTornLine(f *os.File, name string) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, st.Size()-1); err != nil {
		return fmt.Errorf("read end of %s: %w", name, err)
	}
	if last[0] != '\n' {
		if _, err := f.Write([]byte{'\n'}); err != nil {
			return fmt.Errorf("end torn line of %s: %w", name, err)
		}
	}
	return nil
}

// Committed returns, per model version, the end of the newest window with
// rows in the file, read from its start. Lines that do not parse (a torn
// last line) are skipped.
func (s *Sink) Committed(context.Context) (map[windows.Key]time.Time, error) {
	out := make(map[windows.Key]time.Time)
	if s.f == nil {
		return out, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := bufio.NewScanner(io.NewSectionReader(s.f, 0, 1<<62))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var r struct {
			Model        string    `json:"model"`
			ModelVersion string    `json:"model_version"`
			WindowEnd    time.Time `json:"window_end"`
		}
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.Model == "" {
			continue
		}
		k := windows.Key{Model: r.Model, Version: r.ModelVersion}
		if r.WindowEnd.After(out[k]) {
			out[k] = r.WindowEnd
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read committed windows from %s: %w", s.name, err)
	}
	return out, nil
}

// New writes to w (for example standard output); Close does not close it.
func New(w io.Writer, name string) *Sink { return &Sink{w: w, name: name} }

// Rows is the number of rows committed so far.
func (s *Sink) Rows() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rows
}

// Appender returns a new appender; ctx is unused (writes are local).
// Besides sinks.Appender it has AppendWindow(sinks.WindowSummary) error,
// which keeps nothing.
func (s *Sink) Appender(context.Context) sinks.Appender { return &appender{s: s} }

// Close closes the files the sink opened.
func (s *Sink) Close() error {
	var errs []error
	if s.winsFile != nil {
		if err := s.winsFile.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", s.winsName, err))
		}
	}
	if s.f != nil {
		if err := s.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", s.name, err))
		}
	}
	return errors.Join(errs...)
}

type appender struct {
	s    *Sink
	buf  bytes.Buffer
	wins bytes.Buffer // window lines, with KeepWindows
	n    int64
	done bool
}

func (a *appender) Append(rows ...drift.Row) error {
	if a.done {
		return fmt.Errorf("append to %s: appender already committed or rolled back", a.s.name)
	}
	enc := json.NewEncoder(&a.buf)
	for i := range rows {
		if err := enc.Encode(&rows[i]); err != nil {
			return fmt.Errorf("encode row %s/%s/%s: %w", rows[i].Model, rows[i].Subject, rows[i].Metric, err)
		}
	}
	a.n += int64(len(rows))
	return nil
}

// AppendWindow adds the summary of a closed window to the windows file
// (KeepWindows); without one it writes nothing: the metrics file holds
// only metric rows (CONTRACT.md section 3). A window without rows leaves
// no trace in the metrics file, and Committed does not see it.
func (a *appender) AppendWindow(w sinks.WindowSummary) error {
	if a.done {
		return fmt.Errorf("append window to %s: appender already committed or rolled back", a.s.name)
	}
	if a.s.wins == nil {
		return nil
	}
	line := Window{Model: w.Model, ModelVersion: w.Version, WindowStart: w.Start.UTC(), WindowEnd: w.End.UTC(),
		BaselineID: w.BaselineID, Records: w.Records, Distributions: w.Distributions}
	if line.Distributions == nil {
		line.Distributions = []drift.Distribution{}
	}
	if err := json.NewEncoder(&a.wins).Encode(&line); err != nil {
		return fmt.Errorf("encode window %s %s@%s: %w", w.Model, w.Version, w.Start.Format(time.RFC3339), err)
	}
	return nil
}

func (a *appender) Commit() error {
	if a.done {
		return fmt.Errorf("commit to %s: appender already committed or rolled back", a.s.name)
	}
	a.done = true
	if a.n == 0 && a.wins.Len() == 0 {
		return nil
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	if a.n > 0 {
		if err := write(a.s.w, a.s.f, a.buf.Bytes()); err != nil {
			return fmt.Errorf("write %d rows to %s: %w", a.n, a.s.name, err)
		}
		a.s.rows += a.n
	}
	if a.wins.Len() > 0 {
		if err := write(a.s.wins, a.s.winsFile, a.wins.Bytes()); err != nil {
			return fmt.Errorf("write window summaries to %s: %w", a.s.winsName, err)
		}
	}
	return nil
}

// write writes b to w in one call and, when w is the file f, syncs it.
func write(w io.Writer, f *os.File, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return err
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sync: %w", err)
		}
	}
	return nil
}

func (a *appender) Rollback() error {
	a.done = true
	a.buf.Reset()
	a.wins.Reset()
	return nil
}
