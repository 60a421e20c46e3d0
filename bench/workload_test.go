package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/valyala/fastjson"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/bench/workload"
	"github.com/driftwatch/driftwatch/consumer"
)

// The Workload benchmarks measure issue 14's figures side by side on the
// same records: N records of package workload (about 1 KB, 40 features),
// N from DRIFTWATCH_BENCH_RECORDS (default 100,000), held in memory. One op
// is one pass over all N records; records/s and allocs/record are per
// record. They are in the order bench/pipeline/run.sh wants them to run
// (go test runs benchmarks in source order): the two figures a target
// compares one right after the other. Run the pipeline with -cpu=1,2 for the
// per-core and two-core figures.

// workloadRecords is the default N of the Workload benchmarks.
const workloadRecords = 100_000

type workloadFixture struct {
	log     []byte
	lines   [][]byte // the records of log, without their newlines
	base    *baselines.Baseline
	records int
}

var (
	wlOnce sync.Once
	wl     workloadFixture
	wlErr  error
)

func loadWorkload(tb testing.TB) *workloadFixture {
	tb.Helper()
	wlOnce.Do(func() {
		n := workloadRecords
		if s := os.Getenv("DRIFTWATCH_BENCH_RECORDS"); s != "" {
			if n, wlErr = strconv.Atoi(s); wlErr != nil || n <= 0 {
				wlErr = fmt.Errorf("DRIFTWATCH_BENCH_RECORDS=%q: want a positive integer", s)
				return
			}
		}
		if wl.log, wlErr = workload.Records(workload.DefaultSeed, n); wlErr != nil {
			return
		}
		wl.lines = bytes.SplitAfter(wl.log, []byte{'\n'})
		wl.lines = wl.lines[:len(wl.lines)-1] // after the last newline
		for i, l := range wl.lines {
			wl.lines[i] = l[:len(l)-1]
		}
		wl.records = len(wl.lines)
		dir, err := os.MkdirTemp("", "driftwatch-bench-baseline")
		if err != nil {
			wlErr = err
			return
		}
		defer os.RemoveAll(dir)
		wl.base, wlErr = workload.Baseline(workload.DefaultSeed, workload.ReferenceRecords, dir)
	})
	if wlErr != nil {
		tb.Fatal(wlErr)
	}
	return &wl
}

// measure runs b.N passes of pass over the fixture and reports records/s,
// bytes/s (SetBytes) and heap allocations per record.
func measure(b *testing.B, f *workloadFixture, pass func()) {
	b.SetBytes(int64(len(f.log)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		pass()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(f.records) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/record")
}

// BenchmarkWorkloadParseFastjson is the parsing floor: each record parsed by
// fastjson (a fast Go JSON parser, the one consumer.Decode used before its
// own scanner) with one reused parser, and nothing else.
func BenchmarkWorkloadParseFastjson(b *testing.B) {
	f := loadWorkload(b)
	var p fastjson.Parser
	measure(b, f, func() {
		for _, line := range f.lines {
			if _, err := p.ParseBytes(line); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWorkloadSource is decode as replay's source stage runs it:
// consumer.FileSource over the records (line splitting, decode, routing per
// model, duplicate check, Arrow batches), each batch released and acked as
// soon as it arrives; no windows, no statistics. It measures whatever
// decoder the source uses, with no benchmark code in between.
func BenchmarkWorkloadSource(b *testing.B) {
	f := loadWorkload(b)
	base := map[string]*baselines.Baseline{workload.Model: f.base}
	measure(b, f, func() {
		src := consumer.NewFileSource(memory.DefaultAllocator, bytes.NewReader(f.log), "bench", consumer.FileConfig{Baselines: base})
		out := make(chan consumer.Batch, 4)
		done := make(chan error, 1)
		go func() { done <- src.Run(context.Background(), out) }()
		for batch := range out {
			if batch.Rec != nil {
				batch.Rec.Release()
			}
			if batch.Ack != nil {
				batch.Ack(nil)
			}
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkWorkloadParseEncodingJSON decodes each record with encoding/json
// into a struct of the same record with 40 typed feature fields (structRecord):
// what a Go service that knows its schema would write.
func BenchmarkWorkloadParseEncodingJSON(b *testing.B) {
	f := loadWorkload(b)
	measure(b, f, func() {
		for _, line := range f.lines {
			var r structRecord
			if err := json.Unmarshal(line, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWorkloadDecode is decode alone, on one goroutine: every record
// from its bytes into the model's Arrow batch (consumer.Decoder), a batch
// cut every consumer.DefaultBatchRecords records and released, as the file
// source does; no duplicate filter, windows or statistics.
func BenchmarkWorkloadDecode(b *testing.B) {
	f := loadWorkload(b)
	dec := consumer.NewDecoder(map[string]*baselines.Baseline{workload.Model: f.base}, 0)
	flush := func() {
		for _, batch := range dec.Flush() {
			batch.Rec.Release()
		}
	}
	measure(b, f, func() {
		for i, line := range f.lines {
			if err := dec.Add(line); err != nil {
				b.Fatal(err)
			}
			if (i+1)%consumer.DefaultBatchRecords == 0 {
				flush()
			}
		}
		flush()
	})
}

// BenchmarkWorkloadPipeline is decode + windows + statistics: replay's
// pipeline (file source, windows, evaluator, a discarding JSON-lines sink)
// with replay's default configuration, over the records.
func BenchmarkWorkloadPipeline(b *testing.B) {
	f := loadWorkload(b)
	base := map[string]*baselines.Baseline{workload.Model: f.base}
	var rows int64
	measure(b, f, func() {
		n, err := workload.Replay(bytes.NewReader(f.log), base, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		rows = n
	})
	b.ReportMetric(float64(rows), "rows")
}
