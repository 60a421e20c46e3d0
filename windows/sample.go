package windows

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
)

// DefaultSampleRows is Config.SampleRows' default.
const DefaultSampleRows = 500

// MaxSampleRows bounds Config.SampleRows.
const MaxSampleRows = 10_000

// Sample is a bounded sample of a window's records as whole rows, for
// multivariate drift: the K records of smallest hash of their
// prediction_id (baselines.RowHash), each with its values of the
// baseline's multivariate features (baselines.Multivariate: a number, a
// category's code, NaN for a missing value). Taking the K smallest hashes
// (bottom-k sampling) gives a uniform sample of the window's records that
// does not depend on the order they arrived in or on how they were split
// among instances: the sample of a union is the K smallest of the union of
// the samples, so Merge is exact. Records of one hash (a prediction logged
// twice past the dedup memory) are ordered by their values, so the choice
// is still one.
//
// Memory: 8 bytes of hash and 8 per value for each row, K rows once
// sealed and at most twice that in between (500 rows of 10 features: 44
// KB, at most 88 KB, per open window).
type Sample struct {
	// K is how many rows the sample keeps.
	K int
	// Width is how many values a row has: the baseline's multivariate
	// features.
	Width int
	// Hashes holds each row's hash and Values its Width values,
	// row-major; sealed (Window.Seal), the rows are the K of smallest
	// (hash, values), in that order.
	Hashes []uint64
	Values []float64

	cut  uint64 // rows hashing above it cannot be among the K kept
	full bool   // cut is set
	cols []int  // per value: the baseline feature's column index
}

// newSample returns an empty sample of k rows of base's multivariate
// features, or nil when base has no multivariate model or k <= 0.
func newSample(base *baselines.Baseline, k int) *Sample {
	mv := base.Multivariate
	if mv == nil || k <= 0 {
		return nil
	}
	s := &Sample{K: k, Width: mv.Width(), cols: make([]int, mv.Width())}
	for j, f := range mv.Features {
		s.cols[j] = -1
		for i := range base.Features {
			if base.Features[i].Name == f.Name {
				s.cols[j] = i
				break
			}
		}
	}
	return s
}

// Len is the number of rows the sample holds.
func (s *Sample) Len() int { return len(s.Hashes) }

// Row returns row i's values (the sample's; not to be modified).
func (s *Sample) Row(i int) []float64 { return s.Values[i*s.Width : (i+1)*s.Width] }

// add samples rows of rec, laid out as base's batches.
func (s *Sample) add(rec arrow.RecordBatch, rows []int, base *baselines.Baseline) {
	ids := rec.Column(consumer.ColPredictionID).(*array.String)
	mv := base.Multivariate
	for _, i := range rows {
		h := baselines.RowHash(ids.Value(i))
		if s.full && h > s.cut {
			continue
		}
		s.Hashes = append(s.Hashes, h)
		for j, c := range s.cols {
			v := math.NaN()
			if c >= 0 {
				switch col := rec.Column(consumer.FirstFeatureCol + c).(type) {
				case *array.Float64:
					if x := col.Value(i); col.IsValid(i) && !math.IsInf(x, 0) {
						v = x
					}
				case *array.Dictionary:
					if col.IsValid(i) {
						v = mv.Code(j, col.Dictionary().(*array.String).Value(col.GetValueIndex(i)))
					}
				}
			}
			s.Values = append(s.Values, v)
		}
		if len(s.Hashes) >= 2*s.K {
			s.prune()
		}
	}
}

// merge adds o's rows to s (the same baseline's), pruning past twice K.
func (s *Sample) merge(o *Sample) {
	for i, h := range o.Hashes {
		if s.full && h > s.cut {
			continue
		}
		s.Hashes = append(s.Hashes, h)
		s.Values = append(s.Values, o.Row(i)...)
		if len(s.Hashes) >= 2*s.K {
			s.prune()
		}
	}
}

// prune keeps the K rows of smallest (hash, values), in that order.
func (s *Sample) prune() {
	n := len(s.Hashes)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(s.Hashes[a], s.Hashes[b]); c != 0 {
			return c
		}
		ra, rb := s.Row(a), s.Row(b)
		for j := range ra {
			if c := cmp.Compare(math.Float64bits(ra[j]), math.Float64bits(rb[j])); c != 0 {
				return c
			}
		}
		return 0
	})
	keep := min(n, s.K)
	hashes := make([]uint64, keep, s.K)
	values := make([]float64, 0, s.K*s.Width)
	for k, i := range order[:keep] {
		hashes[k] = s.Hashes[i]
		values = append(values, s.Row(i)...)
	}
	s.Hashes, s.Values = hashes, values
	if keep == s.K {
		s.cut, s.full = hashes[keep-1], true
	}
}

// check validates a decoded sample against its window's baseline: its
// shape, and every value a feature's kind allows (a category's code in
// range, no infinity).
func (s *Sample) check(base *baselines.Baseline) error {
	mv := base.Multivariate
	switch {
	case mv == nil:
		return fmt.Errorf("a sample of rows, and baseline %q has no multivariate model", base.ID)
	case s.K <= 0 || s.K > MaxSampleRows || s.Width != mv.Width():
		return fmt.Errorf("sample of %d rows of %d values, the baseline's rows have %d (at most %d rows)", s.K, s.Width, mv.Width(), MaxSampleRows)
	case len(s.Hashes) > 2*s.K || len(s.Values) != len(s.Hashes)*s.Width:
		return fmt.Errorf("sample of %d rows holds %d hashes and %d values", s.K, len(s.Hashes), len(s.Values))
	}
	for i, v := range s.Values {
		f := &mv.Features[i%s.Width]
		switch {
		case math.IsInf(v, 0):
			return fmt.Errorf("sample value %v of %s", v, f.Name)
		case f.Kind == baselines.Categorical && !math.IsNaN(v) && (v != math.Trunc(v) || v < -1 || v >= float64(len(f.Categories))):
			return fmt.Errorf("sample value %v of %s is not one of its %d codes", v, f.Name, len(f.Categories))
		}
	}
	return nil
}
