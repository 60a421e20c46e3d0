package consumer

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
)

// DefaultBatchRecords is how many records a file source puts in one batch.
const DefaultBatchRecords = 8192

// FileConfig configures a FileSource.
type FileConfig struct {
	Baselines      map[string]*baselines.Baseline
	MaxRecordBytes int // 0: DefaultMaxRecordBytes
	BatchRecords   int // 0: DefaultBatchRecords
	DedupCapacity  int // 0: DefaultDedupCapacity
	// DeadLetter receives every rejected line as one JSON object per line
	// (see DeadLetterLine). Nil discards them; they are still counted.
	DeadLetter io.Writer
}

// DeadLetterLine is what a FileSource writes for a rejected line: where it
// was, why, and the line itself, unchanged (base64 when it is not UTF-8).
type DeadLetterLine struct {
	Source       string `json:"source"`
	Line         int64  `json:"line"`
	Reason       string `json:"reason"`
	Detail       string `json:"detail"`
	Record       string `json:"record,omitempty"`
	RecordBase64 []byte `json:"record_base64,omitempty"`
}

// FileSource reads prediction log records from JSON lines (CONTRACT.md
// section 1), one record per line, and emits them as Batches. Event time
// progress is the largest timestamp read so far: a file is one ordered
// partition. Acks are no-ops: a file can always be read again.
type FileSource struct {
	r    io.Reader
	name string
	cfg  FileConfig
	rt   *router

	mu     sync.Mutex
	counts Counts
}

// NewFileSource returns a source over r; name appears in dead-letter lines.
func NewFileSource(mem memory.Allocator, r io.Reader, name string, cfg FileConfig) *FileSource {
	if cfg.BatchRecords <= 0 {
		cfg.BatchRecords = DefaultBatchRecords
	}
	return &FileSource{
		r: r, name: name, cfg: cfg,
		rt: newRouter(mem, routerConfig{Baselines: cfg.Baselines, MaxBytes: cfg.MaxRecordBytes, DedupCap: cfg.DedupCapacity}),
	}
}

// Counts returns what the source has done so far. Safe for concurrent use.
func (s *FileSource) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// Run reads until EOF, sending batches on out, and closes out. It returns the
// first read or dead-letter write error, or ctx's error.
func (s *FileSource) Run(ctx context.Context, out chan<- Batch) error {
	defer close(out)
	defer s.rt.release()
	maxBytes := s.cfg.MaxRecordBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRecordBytes
	}
	br := bufio.NewReaderSize(s.r, 1<<16)
	var (
		wm     time.Time
		lineNo int64
		dlq    *json.Encoder
	)
	if s.cfg.DeadLetter != nil {
		dlq = json.NewEncoder(s.cfg.DeadLetter)
	}
	for {
		line, tooLong, err := readLine(br, maxBytes)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s line %d: %w", s.name, lineNo+1, err)
		}
		lineNo++
		if len(line) == 0 && !tooLong {
			continue
		}
		var derr *DecodeError
		var ts time.Time
		var ok bool
		if tooLong {
			s.rt.counts.Records++
			s.rt.counts.DeadLetter[ReasonTooBig]++
			derr = reject(ReasonTooBig, "line is longer than %d bytes", maxBytes)
		} else {
			ts, ok, derr = s.rt.add(0, line)
		}
		if derr != nil && dlq != nil {
			if err := dlq.Encode(deadLetterLine(s.name, lineNo, derr, line)); err != nil {
				return fmt.Errorf("write dead letter for %s line %d: %w", s.name, lineNo, err)
			}
		}
		if ok && ts.After(wm) {
			wm = ts
		}
		if s.rt.pending() >= s.cfg.BatchRecords {
			if err := s.emit(ctx, out, wm); err != nil {
				return err
			}
		}
	}
	return s.emit(ctx, out, wm)
}

func (s *FileSource) emit(ctx context.Context, out chan<- Batch, wm time.Time) error {
	batches := s.rt.flush(wm)
	s.mu.Lock()
	s.counts = s.rt.snapshot()
	s.mu.Unlock()
	if !send(ctx, out, batches, func(int) func(error) { return func(error) {} }) {
		return ctx.Err()
	}
	return nil
}

func deadLetterLine(source string, line int64, derr *DecodeError, raw []byte) DeadLetterLine {
	d := DeadLetterLine{Source: source, Line: line, Reason: derr.Code, Detail: derr.Detail}
	if utf8.Valid(raw) {
		d.Record = string(raw)
	} else {
		d.RecordBase64 = raw
	}
	return d
}

// readLine returns the next line without its newline. A line longer than max
// is consumed and returned truncated to max bytes with tooLong set.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > max+1 {
			tooLong = true
			if room := max - len(buf); room > 0 {
				buf = append(buf, chunk[:min(room, len(chunk))]...)
			}
		} else {
			buf = append(buf, chunk...)
		}
		switch err {
		case nil:
			return trimEOL(buf), tooLong, nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(buf) == 0 {
				return nil, false, io.EOF
			}
			return trimEOL(buf), tooLong, nil
		default:
			return nil, false, err
		}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
