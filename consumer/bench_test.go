package consumer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
)

// wideRecords returns n records of about 1 KB with 30 numeric and 10
// categorical features, and a baseline that knows them: the shape of
// issue 14's benchmark stream.
func wideRecords(n int) ([][]byte, *baselines.Baseline) {
	rng := rand.New(rand.NewPCG(7, 8))
	base := &baselines.Baseline{Format: 1, ID: "wide", Model: "wide", Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Numeric}}
	for i := range 30 {
		base.Features = append(base.Features, baselines.Feature{Name: fmt.Sprintf("num_%02d", i), Kind: baselines.Numeric})
	}
	for i := range 10 {
		base.Features = append(base.Features, baselines.Feature{Name: fmt.Sprintf("cat_%02d", i), Kind: baselines.Categorical})
	}
	recs := make([][]byte, n)
	for r := range recs {
		b := fmt.Appendf(nil, `{"prediction_id":"%016x-%08x","model":"wide","model_version":"2.3.1","timestamp":"2026-11-20T10:%02d:%02d.%03dZ","features":{`,
			rng.Uint64(), r, r/60%60, r%60, r%1000)
		for i := range 30 {
			b = fmt.Appendf(b, `"num_%02d":%.6g,`, i, rng.NormFloat64()*float64(1+i))
		}
		for i := range 10 {
			b = fmt.Appendf(b, `"cat_%02d":"v%d",`, i, rng.IntN(5+i))
		}
		b = b[:len(b)-1]
		b = fmt.Appendf(b, `},"prediction":%.4f,"scores":{"yes":0.5,"no":0.5},"segments":{"region":"eu","tier":"gold"},"variant":"champion","latency_ms":%.2f}`,
			rng.Float64(), rng.ExpFloat64()*20)
		recs[r] = b
	}
	return recs, base
}

// BenchmarkRouter times decoding records into Arrow batches: tasks of
// 1024 records (scan, contract checks, baseline route, appendScanned) on
// GOMAXPROCS decoders, settled (duplicate filter, counts) and flushed.
func BenchmarkRouter(b *testing.B) { benchmarkRouter(b, nil) }

// benchmarkRouter is BenchmarkRouter on wideRecords, each changed by edit
// (nil: as they are).
func benchmarkRouter(b *testing.B, edit func([]byte) []byte) {
	const perTask = 1024
	recs, base := wideRecords(16 * perTask)
	size := 0
	for i := range recs {
		if edit != nil {
			recs[i] = edit(recs[i])
		}
		size += len(recs[i])
	}
	r := newRouter(memory.NewGoAllocator(), routerConfig{Baselines: map[string]*baselines.Baseline{"wide": base}, DedupCap: 1 << 30})
	defer r.release()
	workers := len(r.decoders)
	b.ReportAllocs()
	b.SetBytes(int64(size / len(recs) * perTask * workers))
	run := routeAll(r, recs, perTask)
	cpu := startCPU()
	for b.Loop() {
		run()
	}
	cpu.report(b, perTask*workers)
}

// BenchmarkScan times the scanner and contract checks alone.
func BenchmarkScan(b *testing.B) {
	recs, _ := wideRecords(4096)
	var s scanner
	b.ReportAllocs()
	b.SetBytes(int64(len(recs[0])))
	cpu := startCPU()
	i := 0
	for b.Loop() {
		if err := s.scan(recs[i%len(recs)], 0, fieldOf); err != nil {
			b.Fatal(err)
		}
		if err := s.checkRecord(); err != nil {
			b.Fatal(err)
		}
		i++
	}
	cpu.report(b, 1)
}

// cpuClock measures the process's CPU time, which a busy machine inflates
// less than the wall clock that ns/op is.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

// report adds records/s (wall) and CPU time per record, for ops of
// perOp records.
func (c cpuClock) report(b *testing.B, perOp int) {
	n := float64(b.N) * float64(perOp)
	b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(processCPU()-c.start)/n, "cpu-ns/record")
}

// BenchmarkRouterUnknown is BenchmarkRouter on records that also carry
// three features their baseline does not know (kept by name in the
// unknown_features column).
func BenchmarkRouterUnknown(b *testing.B) {
	benchmarkRouter(b, func(r []byte) []byte {
		return bytes.Replace(r, []byte(`"features":{`), []byte(`"features":{"x_new":1,"x_other":"a","x_more":true,`), 1)
	})
}
