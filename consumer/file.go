package consumer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
)

// DefaultBatchRecords is how many lines a file source reads into one
// batch (per model and baseline), unless chunkBytes comes first.
const DefaultBatchRecords = 8192

// chunkBytes bounds the bytes of lines a file source reads into one batch:
// each decoder's chunk buffer is reused, and a small one stays in cache and
// costs no fresh pages (1 KB records: about 3,600 per batch).
const chunkBytes = 4 << 20

// FileConfig configures a FileSource.
type FileConfig struct {
	Baselines      map[string]*baselines.Baseline
	MaxRecordBytes int // 0: DefaultMaxRecordBytes
	BatchRecords   int // lines per batch; 0: DefaultBatchRecords
	DedupCapacity  int // 0: DefaultDedupCapacity
	// DeadLetter receives every rejected line as one JSON object per line
	// (see DeadLetterLine). Nil discards them; they are still counted.
	DeadLetter io.Writer
	// WatermarkOutliers is how many of the newest event times the
	// watermark ignores, as KafkaConfig.WatermarkOutliers for one
	// partition; 0: the newest. Values outside 0 to MaxWatermarkOutliers
	// are clamped into it.
	WatermarkOutliers int
}

// maxFileDecoders bounds the chunks a file source decodes at once; Run
// keeps two chunks in flight per decoder, each of up to BatchRecords lines
// and about chunkBytes.
const maxFileDecoders = 8

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
// section 1), one record per line, and emits them as Batches. A file is one
// partition: the watermark follows its event clock (the
// (WatermarkOutliers+1)-th newest timestamp read so far, see eventClock),
// as a Kafka partition's does, and the last batch, at the end of the file,
// carries the newest timestamp read, as an idle Kafka source's would. Acks
// are no-ops: a file can always be read again.
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
		rt: newRouter(mem, routerConfig{Baselines: cfg.Baselines, MaxBytes: cfg.MaxRecordBytes, DedupCap: cfg.DedupCapacity,
			Decoders: min(runtime.GOMAXPROCS(0), maxFileDecoders)}),
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
//
// It reads the file in chunks of up to BatchRecords lines on one goroutine,
// decodes each chunk on one of the router's decoders, a goroutine each, and
// settles the chunks in the order read on the calling goroutine, sending
// each chunk's good records as one batch per model and baseline: reading,
// decoding and settling overlap, with a few chunks in flight.
func (s *FileSource) Run(ctx context.Context, out chan<- Batch) error {
	defer close(out)
	defer s.rt.release() // after the goroutines below are done with the decoders
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	jobs := make([]fileJob, 2*len(s.rt.decoders))
	free := make(chan *fileJob, len(jobs))
	for i := range jobs {
		jobs[i].task = new(task)
		free <- &jobs[i]
	}
	order := make(chan *fileJob, len(jobs)) // as read
	work := make(chan *fileJob, len(jobs))
	lines := newLineReader(s.r, s.name, s.cfg.MaxRecordBytes)
	wg.Add(1 + len(s.rt.decoders))
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(work)
		for {
			var j *fileJob
			select {
			case j = <-free:
			case <-ctx.Done():
				return
			}
			j.task.reset(0)
			j.err = j.chunk.read(lines, j.task, s.cfg.BatchRecords)
			j.done = make(chan struct{})
			order <- j // room for every job: never blocks
			work <- j
			if j.err != nil {
				return
			}
		}
	}()
	for _, d := range s.rt.decoders {
		go func() {
			defer wg.Done()
			for j := range work {
				if ctx.Err() == nil {
					s.rt.prepare(j.task)
					d.decode(j.task)
				}
				close(j.done)
			}
		}()
	}

	clock := eventClock{outliers: min(max(s.cfg.WatermarkOutliers, 0), MaxWatermarkOutliers)}
	var dlq *json.Encoder
	if s.cfg.DeadLetter != nil {
		dlq = json.NewEncoder(s.cfg.DeadLetter)
	}
	for j := range order {
		select {
		case <-j.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if j.err != nil && j.err != io.EOF {
			return j.err
		}
		var werr error
		s.rt.settle(j.task, func(i int, o *outcome, ok bool) {
			if ok {
				clock.observeNanos(o.ts)
			}
			if o.derr != nil && dlq != nil && werr == nil {
				line := j.chunk.lines[i]
				if werr = dlq.Encode(deadLetterLine(s.name, line, o.derr, j.task.values[i])); werr != nil {
					werr = fmt.Errorf("write dead letter for %s line %d: %w", s.name, line, werr)
				}
			}
		})
		if werr != nil {
			return werr
		}
		wm := clock.mark()
		if j.err == io.EOF {
			wm = clock.newest // the end: as an idle source's
		}
		if err := s.emit(ctx, out, wm); err != nil {
			return err
		}
		if j.err == io.EOF {
			return nil
		}
		free <- j // room for every job: never blocks
	}
	return ctx.Err()
}

// fileJob is one chunk of a file on its way through FileSource.Run: read,
// decoded (done is closed), settled, then reused.
type fileJob struct {
	chunk fileChunk
	task  *task
	err   error // of reading the chunk: io.EOF for the last
	done  chan struct{}
}

// fileChunk holds the lines of one task, each a slice of the buffer the
// input is read into (its newline cut off), and their line numbers.
type fileChunk struct {
	buf    []byte
	starts []int
	ends   []int
	lines  []int64
}

// read fills t with up to max lines (and about chunkBytes), reading the
// input straight into c's buffer. It returns io.EOF once the input is
// used up, with the last lines.
func (c *fileChunk) read(lr *lineReader, t *task, max int) error {
	if c.buf == nil {
		// Room for chunkBytes and the line that crosses it, mostly: the
		// buffer grows by doubling, in fresh pages, only past that.
		c.buf = make([]byte, 0, chunkBytes+chunkBytes/8)
	}
	c.buf = append(c.buf[:0], lr.carry...)
	lr.carry = lr.carry[:0]
	c.starts, c.ends, c.lines = c.starts[:0], c.ends[:0], c.lines[:0]
	start, scanned := 0, 0 // the line's start, and how much of it has no newline
	var err error
	for len(c.lines) < max && start < chunkBytes {
		if i := bytes.IndexByte(c.buf[start+scanned:], '\n'); i >= 0 {
			end := start + scanned + i
			c.line(lr, t, start, end, false)
			start, scanned = end+1, 0
			continue
		}
		scanned = len(c.buf) - start
		if scanned > lr.max {
			// Too long: keep its first max bytes, drop the rest of it.
			c.buf = c.buf[:start+lr.max]
			lr.skipLine(&c.buf)
			c.line(lr, t, start, start+lr.max, true)
			start, scanned = start+lr.max, 0
			continue
		}
		if !lr.fill(&c.buf) {
			if lr.err != io.EOF {
				err = fmt.Errorf("read %s line %d: %w", lr.name, lr.lineNo+1, lr.err)
				break
			}
			if start < len(c.buf) { // the last line, without a newline
				c.line(lr, t, start, len(c.buf), false)
				start = len(c.buf)
			}
			break
		}
	}
	lr.carry = append(lr.carry, c.buf[start:]...)
	for j, s := range c.starts {
		e := c.ends[j]
		t.values = append(t.values, c.buf[s:e:e])
	}
	if err == nil && lr.err != nil && len(lr.carry) == 0 {
		err = io.EOF
	}
	return err
}

// line takes buf[s:e] as the next line, cut to the reader's limit (a line
// longer than it, or long, comes truncated with the too_big rejection it
// earned) and without a carriage return before its newline; an empty line
// is counted, not kept.
func (c *fileChunk) line(lr *lineReader, t *task, s, e int, long bool) {
	lr.lineNo++
	if e-s > lr.max {
		e, long = s+lr.max, true
	}
	if e > s && c.buf[e-1] == '\r' {
		e--
	}
	if long {
		if t.tooLong == nil {
			t.tooLong = make(map[int]*DecodeError)
		}
		t.tooLong[len(c.lines)] = reject(ReasonTooBig, "line is longer than %d bytes", lr.max)
	} else if e == s {
		return
	}
	c.starts = append(c.starts, s)
	c.ends = append(c.ends, e)
	c.lines = append(c.lines, lr.lineNo)
}

// lineReader cuts JSON lines input into the lines of chunks: it reads into
// a chunk's buffer, and hands a line the chunk does not end on to the next.
type lineReader struct {
	r      io.Reader
	name   string
	max    int
	lineNo int64
	carry  []byte // the start of a line the last chunk did not take
	err    error  // of the last read; io.EOF at the end
}

// readBlock is the most read at once: a chunk's last read is copied into
// the next chunk from the end of its last line on.
const readBlock = 64 << 10

func newLineReader(r io.Reader, name string, maxBytes int) *lineReader {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRecordBytes
	}
	return &lineReader{r: r, name: name, max: maxBytes}
}

// fill reads more of the input onto the end of *buf, growing it when it
// has less than readBlock of room, and reports whether there may be more:
// false once a read failed or the input ended (see lr.err).
func (lr *lineReader) fill(buf *[]byte) bool {
	if lr.err != nil {
		return false
	}
	b := *buf
	if cap(b)-len(b) < readBlock {
		b = slices.Grow(b, readBlock)
	}
	n, err := lr.r.Read(b[len(b) : len(b)+readBlock])
	*buf = b[:len(b)+n]
	lr.err = err
	return n > 0 || err == nil
}

// skipLine reads past the rest of a line, up to and including its newline,
// dropping it; what follows the newline is appended to *buf.
func (lr *lineReader) skipLine(buf *[]byte) {
	b := *buf
	n := len(b)
	for lr.fill(&b) {
		if i := bytes.IndexByte(b[n:], '\n'); i >= 0 {
			b = b[:n+copy(b[n:], b[n+i+1:])]
			break
		}
		b = b[:n]
	}
	*buf = b
}

// eachLine reads JSON lines from r (name names it in errors and dead
// letters) and hands each non-empty line to add; a line longer than
// maxBytes (0: DefaultMaxRecordBytes) comes truncated with the too_big
// rejection it earned. The rejection add returns, if any, is written to
// deadLetter as a DeadLetterLine (nil discards it). It stops at the first
// error of reading, of writing a dead letter, or of add.
func eachLine(r io.Reader, name string, maxBytes int, deadLetter io.Writer, add func(line []byte, tooLong *DecodeError) (*DecodeError, error)) error {
	var dlq *json.Encoder
	if deadLetter != nil {
		dlq = json.NewEncoder(deadLetter)
	}
	lr := newLineReader(r, name, maxBytes)
	var c fileChunk
	var t task
	for {
		t.reset(0)
		rerr := c.read(lr, &t, DefaultBatchRecords)
		for i, line := range t.values {
			derr, err := add(line, t.tooLong[i])
			if derr != nil && dlq != nil {
				if err := dlq.Encode(deadLetterLine(name, c.lines[i], derr, line)); err != nil {
					return fmt.Errorf("write dead letter for %s line %d: %w", name, c.lines[i], err)
				}
			}
			if err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
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
