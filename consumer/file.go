package consumer

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
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
// costs no fresh pages (1 KB records: about 1,000 per batch).
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

// maxFileDecoders bounds the chunks a file source decodes at once: each
// holds up to BatchRecords lines and about chunkBytes.
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

// fileChunk holds the lines of one task: copies of them, since the reader
// reuses its buffer, and their line numbers.
type fileChunk struct {
	buf   []byte
	ends  []int
	lines []int64
}

// read fills t with up to max lines, returning io.EOF at the end of the
// input.
func (c *fileChunk) read(lr *lineReader, t *task, max int) error {
	if c.buf == nil {
		// Room for chunkBytes and the line that crosses it, mostly: the
		// buffer grows by doubling, in fresh pages, only past that.
		c.buf = make([]byte, 0, chunkBytes+chunkBytes/8)
	}
	c.buf, c.ends, c.lines = c.buf[:0], c.ends[:0], c.lines[:0]
	var err error
	for len(c.lines) < max && len(c.buf) < chunkBytes {
		var line []byte
		var lineNo int64
		var tooLong *DecodeError
		if line, lineNo, tooLong, err = lr.next(); err != nil {
			break
		}
		if tooLong != nil {
			if t.tooLong == nil {
				t.tooLong = make(map[int]*DecodeError)
			}
			t.tooLong[len(c.lines)] = tooLong
		}
		c.buf = append(c.buf, line...)
		c.ends = append(c.ends, len(c.buf))
		c.lines = append(c.lines, lineNo)
	}
	start := 0
	for _, end := range c.ends {
		t.values = append(t.values, c.buf[start:end:end])
		start = end
	}
	return err
}

// lineReader reads the non-empty lines of JSON lines input.
type lineReader struct {
	br     *bufio.Reader
	buf    []byte // a line longer than br's buffer
	name   string
	max    int
	lineNo int64
}

func newLineReader(r io.Reader, name string, maxBytes int) *lineReader {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRecordBytes
	}
	return &lineReader{br: bufio.NewReaderSize(r, 1<<16), name: name, max: maxBytes}
}

// next returns the next non-empty line, valid until the next call, and its
// number; a line longer than the limit comes truncated with the too_big
// rejection it earned. At the end of the input it returns io.EOF.
func (lr *lineReader) next() (line []byte, lineNo int64, tooLong *DecodeError, err error) {
	for {
		lr.lineNo++
		line, long, err := readLine(lr.br, lr.max, &lr.buf)
		if err == io.EOF {
			return nil, 0, nil, io.EOF
		}
		if err != nil {
			return nil, 0, nil, fmt.Errorf("read %s line %d: %w", lr.name, lr.lineNo, err)
		}
		if long {
			return line, lr.lineNo, reject(ReasonTooBig, "line is longer than %d bytes", lr.max), nil
		}
		if len(line) > 0 {
			return line, lr.lineNo, nil, nil
		}
	}
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
	for {
		line, lineNo, long, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		derr, err := add(line, long)
		if derr != nil && dlq != nil {
			if err := dlq.Encode(deadLetterLine(name, lineNo, derr, line)); err != nil {
				return fmt.Errorf("write dead letter for %s line %d: %w", name, lineNo, err)
			}
		}
		if err != nil {
			return err
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

// readLine returns the next line without its newline, valid until the next
// read: a slice of the reader's buffer when the line fits in it, else
// assembled in *buf. A line longer than max is consumed and returned
// truncated to max bytes with tooLong set.
func readLine(br *bufio.Reader, max int, buf *[]byte) (line []byte, tooLong bool, err error) {
	chunk, err := br.ReadSlice('\n')
	if err == nil && len(chunk) <= max+1 {
		return trimEOL(chunk), false, nil
	}
	b := (*buf)[:0]
	defer func() { *buf = b[:0] }()
	for {
		if len(b)+len(chunk) > max+1 {
			tooLong = true
			if room := max - len(b); room > 0 {
				b = append(b, chunk[:min(room, len(chunk))]...)
			}
		} else {
			b = append(b, chunk...)
		}
		switch err {
		case nil:
			return trimEOL(b), tooLong, nil
		case bufio.ErrBufferFull:
			chunk, err = br.ReadSlice('\n')
			continue
		case io.EOF:
			if len(b) == 0 {
				return nil, false, io.EOF
			}
			return trimEOL(b), tooLong, nil
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
