package stream

import (
	"sync"
	"testing"

	"github.com/driftwatch/driftwatch/bench/stats/samples"
)

// BenchmarkDetector times each detector, built with its default
// configuration, consuming a whole error stream of n values
// (samples.Errors: Bernoulli errors at rate 0.1, 0.3 in every fourth block
// of 5,000) at n = 1e3, 1e5, 1e6 and 1e7. One op is constructing the
// detector and calling Update on every value; bench/stats/peers.py times
// River's detectors on the same stream in the same run (make bench-stats).
// The number of drifts signalled is reported as the "drifts" metric, which
// must equal River's count. The stream is built only if a sub-benchmark of
// its size runs.
func BenchmarkDetector(b *testing.B) {
	for _, n := range samples.StreamSizes {
		stream := sync.OnceValue(func() []float64 { return samples.Errors(n) })
		for _, d := range []struct {
			name string
			mk   func() Detector
		}{
			{"ADWIN", func() Detector { return NewADWIN(DefaultADWINConfig()) }},
			{"PageHinkley", func() Detector { return NewPageHinkley(DefaultPageHinkleyConfig()) }},
			{"DDM", func() Detector { return NewDDM(DefaultDDMConfig()) }},
			{"EDDM", func() Detector { return NewEDDM(DefaultEDDMConfig()) }},
			{"KSWIN", func() Detector { return NewKSWIN(DefaultKSWINConfig()) }},
		} {
			b.Run(d.name+"/n="+samples.Name(n), func(b *testing.B) {
				xs := stream()
				b.ReportAllocs()
				b.SetBytes(int64(8 * n))
				drifts := 0
				for b.Loop() {
					det := d.mk()
					drifts = 0
					for _, x := range xs {
						if det.Update(x) {
							drifts++
						}
					}
				}
				b.ReportMetric(float64(drifts), "drifts")
			})
		}
	}
}
