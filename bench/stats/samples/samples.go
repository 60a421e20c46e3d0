// Package samples makes the deterministic inputs of the statistics
// benchmarks. The Go benchmarks in stats, stats/stream and windows build their
// inputs here, and Write stores the same values as raw little-endian float64
// files, so that the SciPy and River timings of bench/stats/peers.py run on
// byte-identical data in the same run.
//
// It deliberately does not time anything or know the statistics: it only
// draws numbers (math/rand/v2, PCG with fixed seeds) and bins them.
package samples

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
)

// Sizes are the numbers of observations n every statistic is benchmarked at.
var Sizes = []int{1e3, 1e5, 1e7}

// StreamSizes are the stream lengths the drift detectors are benchmarked at:
// Sizes plus 1e6, the largest size River is timed at.
var StreamSizes = []int{1e3, 1e5, 1e6, 1e7}

// Bin counts of the histogram inputs: CoarseBins reference-quantile groups
// (what PSI and Jensen-Shannon see in the pipeline), FineBins baseline bins or
// categories (what KS on bins and chi-squared see).
const (
	CoarseBins = 10
	FineBins   = 100
)

// seed is the first PCG seed word of every generator; the second is the size
// (or a stream tag), so each size has its own, reproducible values.
const seed = 20260918

// Name returns the short name of a size used in benchmark and file names:
// 1000 is "1e3", 1000000 is "1e6"; other sizes are printed in full.
func Name(n int) string {
	for e, p := 0, 1; p <= n && e <= 18; e, p = e+1, p*10 {
		if p == n {
			return fmt.Sprintf("1e%d", e)
		}
	}
	return fmt.Sprint(n)
}

// Pair returns two samples of n values each: x from N(0, 1) and y from
// N(0.1, 1.1^2), a small shift in location and scale, as a reference and a
// current window of one numeric feature.
func Pair(n int) (x, y []float64) {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	x, y = make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	for i := range y {
		y[i] = 0.1 + 1.1*r.NormFloat64()
	}
	return x, y
}

// Edges returns the bins-1 interior edges that cut the standard normal
// distribution into bins groups of equal probability: the quantiles i/bins,
// i = 1..bins-1, so that x of Pair falls evenly into them.
func Edges(bins int) []float64 {
	e := make([]float64, bins-1)
	for i := range e {
		e[i] = math.Sqrt2 * math.Erfinv(2*float64(i+1)/float64(bins)-1)
	}
	return e
}

// Counts returns the histogram of x on edges: len(edges)+1 counts, where
// bin i holds the values with exactly i edges less than or equal to them
// (the convention of baselines.BinIndex).
func Counts(x, edges []float64) []float64 {
	c := make([]float64, len(edges)+1)
	for _, v := range x {
		c[sort.Search(len(edges), func(i int) bool { return edges[i] > v })]++
	}
	return c
}

// Errors returns a stream of n per-prediction errors (0 or 1): Bernoulli with
// rate 0.1, rising to 0.3 in every fourth block of 5,000 values, so that the
// detectors see repeated abrupt drifts and reset.
func Errors(n int) []float64 {
	r := rand.New(rand.NewPCG(seed, 1<<40|uint64(n)))
	xs := make([]float64, n)
	for i := range xs {
		p := 0.1
		if (i/5000)%4 == 3 {
			p = 0.3
		}
		if r.Float64() < p {
			xs[i] = 1
		}
	}
	return xs
}

// Positives returns the number of values of x above 0: the successes of the
// two-proportion test.
func Positives(x []float64) float64 {
	var k float64
	for _, v := range x {
		if v > 0 {
			k++
		}
	}
	return k
}

// KolmogorovD returns the statistic at which KolmogorovN is benchmarked for n:
// 1/sqrt(n), where sqrt(n) D = 1 and the p-value is about 0.27, a typical
// value under no drift.
func KolmogorovD(n int) float64 { return 1 / math.Sqrt(float64(n)) }

// Manifest describes the files Write stores; peers.py reads it.
type Manifest struct {
	Sizes       []int     `json:"sizes"`
	StreamSizes []int     `json:"stream_sizes"`
	CoarseBins  int       `json:"coarse_bins"`
	FineBins    int       `json:"fine_bins"`
	Files       []string  `json:"files"`
	FineEdges   []float64 `json:"fine_edges"`
}

// Write stores the inputs of every size of sizes (and, for the error
// streams, of streamSizes; the benchmarks use Sizes and StreamSizes) in dir
// as raw little-endian float64 files, named <what>_<size>.f64 with the size
// as Name gives it:
//
//	x, y          Pair
//	ref10, cur10  Counts of x and y on Edges(CoarseBins)
//	ref100, cur100 Counts of x and y on Edges(FineBins)
//	prop          Positives(x), n, Positives(y), n
//	kolmogn       n, KolmogorovD(n)
//	errors        Errors (for every size of streamSizes)
//
// and manifest.json, a Manifest.
func Write(dir string, sizes, streamSizes []int) error {
	m := Manifest{Sizes: sizes, StreamSizes: streamSizes, CoarseBins: CoarseBins, FineBins: FineBins, FineEdges: Edges(FineBins)}
	put := func(what string, n int, v []float64) error {
		name := what + "_" + Name(n) + ".f64"
		b := make([]byte, 0, 8*len(v))
		for _, f := range v {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("write benchmark input %s: %w", name, err)
		}
		m.Files = append(m.Files, name)
		return nil
	}
	coarse, fine := Edges(CoarseBins), Edges(FineBins)
	for _, n := range sizes {
		x, y := Pair(n)
		fn := float64(n)
		for _, f := range []struct {
			what string
			v    []float64
		}{
			{"x", x}, {"y", y},
			{"ref10", Counts(x, coarse)}, {"cur10", Counts(y, coarse)},
			{"ref100", Counts(x, fine)}, {"cur100", Counts(y, fine)},
			{"prop", []float64{Positives(x), fn, Positives(y), fn}},
			{"kolmogn", []float64{fn, KolmogorovD(n)}},
		} {
			if err := put(f.what, n, f.v); err != nil {
				return err
			}
		}
	}
	for _, n := range streamSizes {
		if err := put("errors", n, Errors(n)); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode benchmark manifest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write benchmark manifest: %w", err)
	}
	return nil
}
