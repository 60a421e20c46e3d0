// Package jsonl is a sink that appends drift metric rows to a file as JSON
// lines, one row per line in the form of CONTRACT.md section 3. Replay writes
// its output through it and the demo keeps its results in it.
//
// A commit writes the batch with one write call and fsyncs the file, so a
// committed row survives a crash. On restart, Committed tells the pipeline
// which windows the file already holds, so they are not emitted again. It
// deliberately does not deduplicate rows: readers keep the last row per
// (model, model_version, window_start, family, subject, metric).
package jsonl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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
}

// Open appends to the file at path, creating it if needed. If a crash left
// the last line unfinished, Open ends it with a newline so that later rows
// stay parseable (readers skip the torn line).
func Open(path string) (*Sink, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open metrics file: %w", err)
	}
	s := &Sink{w: f, f: f, name: path}
	if err := s.endTornLine(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *Sink) endTornLine() error {
	st, err := s.f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := s.f.ReadAt(last, st.Size()-1); err != nil {
		return fmt.Errorf("read end of %s: %w", s.name, err)
	}
	if last[0] != '\n' {
		if _, err := s.f.Write([]byte{'\n'}); err != nil {
			return fmt.Errorf("end torn line of %s: %w", s.name, err)
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

// Close closes the file, if the sink opened one.
func (s *Sink) Close() error {
	if s.f == nil {
		return nil
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.name, err)
	}
	return nil
}

type appender struct {
	s    *Sink
	buf  bytes.Buffer
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

// AppendWindow accepts the summary of a closed window and writes nothing:
// the file holds only metric rows (CONTRACT.md section 3). It exists so
// that callers can treat this sink like sinks/clickhouse. A window without
// rows therefore leaves no trace in the file, and Committed does not see
// it.
func (a *appender) AppendWindow(sinks.WindowSummary) error {
	if a.done {
		return fmt.Errorf("append window to %s: appender already committed or rolled back", a.s.name)
	}
	return nil
}

func (a *appender) Commit() error {
	if a.done {
		return fmt.Errorf("commit to %s: appender already committed or rolled back", a.s.name)
	}
	a.done = true
	if a.n == 0 {
		return nil
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	if _, err := a.s.w.Write(a.buf.Bytes()); err != nil {
		return fmt.Errorf("write %d rows to %s: %w", a.n, a.s.name, err)
	}
	if a.s.f != nil {
		if err := a.s.f.Sync(); err != nil {
			return fmt.Errorf("sync %d rows to %s: %w", a.n, a.s.name, err)
		}
	}
	a.s.rows += a.n
	return nil
}

func (a *appender) Rollback() error {
	a.done = true
	a.buf.Reset()
	return nil
}
