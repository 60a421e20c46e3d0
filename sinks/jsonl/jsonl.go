// Package jsonl is a sink that appends drift metric rows to a file as JSON
// lines, one row per line in the form of CONTRACT.md section 3. Replay writes
// its output through it and the demo keeps its results in it.
//
// A commit writes the batch with one write call and fsyncs the file, so a
// committed row survives a crash. It deliberately does not deduplicate: a
// window re-emitted after a restart appears again, and readers keep the last
// row per (model, model_version, window_start, family, subject, metric).
package jsonl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// Sink writes rows to one file or writer. Commits are serialized.
type Sink struct {
	mu   sync.Mutex
	w    io.Writer
	f    *os.File // nil when writing to a plain writer
	name string
	rows int64
}

// Open appends to the file at path, creating it if needed.
func Open(path string) (*Sink, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open metrics file: %w", err)
	}
	return &Sink{w: f, f: f, name: path}, nil
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
