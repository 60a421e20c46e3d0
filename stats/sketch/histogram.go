package sketch

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Histogram counts values in fixed bins given by strictly increasing finite
// edges e_0 < e_1 < ... < e_k: bin j (0 <= j < k) holds e_j <= x < e_{j+1},
// the last bin also holds x == e_k. Values below e_0 or above e_k are
// counted in Under and Over, NaN in NaNs; ±Inf count as under/over. Each bin
// keeps its count and the float64 sum of its values.
//
// Counts merge exactly (associative and commutative); Sums are float64 and
// merge up to rounding, so merged sums may differ in the last bits with the
// merge order. The edges are owned by the Histogram (copied by
// NewHistogram) and must not change. A Histogram is not safe for concurrent
// mutation. Counts can be passed to stats.KSBinned, stats.PSI and friends.
type Histogram struct {
	edges  []float64
	counts []uint64
	sums   []float64
	under  uint64
	over   uint64
	nan    uint64
}

// NewHistogram returns an empty histogram over a copy of edges (at least 2,
// finite, strictly increasing).
func NewHistogram(edges []float64) (*Histogram, error) {
	if len(edges) < 2 {
		return nil, fmt.Errorf("sketch: histogram needs at least 2 edges, got %d", len(edges))
	}
	for i, e := range edges {
		if math.IsNaN(e) || math.IsInf(e, 0) || (i > 0 && !(e > edges[i-1])) {
			return nil, fmt.Errorf("sketch: histogram edge %d (%g) not finite and strictly increasing", i, e)
		}
	}
	k := len(edges) - 1
	return &Histogram{edges: slices.Clone(edges), counts: make([]uint64, k), sums: make([]float64, k)}, nil
}

// Add counts x in its bin in O(log k) time, without allocating.
func (h *Histogram) Add(x float64) {
	k := len(h.counts)
	switch {
	case x != x:
		h.nan++
	case x < h.edges[0]:
		h.under++
	case x > h.edges[k]:
		h.over++
	default:
		// First edge > x, minus one; x == e_k goes to the last bin.
		j := min(sort.SearchFloat64s(h.edges, math.Nextafter(x, math.Inf(1)))-1, k-1)
		h.counts[j]++
		h.sums[j] += x
	}
}

// Merge adds the counts and sums of o to h. It returns an error, and leaves h
// unchanged, unless both have identical edges.
func (h *Histogram) Merge(o *Histogram) error {
	if !slices.Equal(h.edges, o.edges) {
		return fmt.Errorf("merge histograms with %d and %d different edges: %w", len(o.edges), len(h.edges), ErrIncompatible)
	}
	for j := range h.counts {
		h.counts[j] += o.counts[j]
		h.sums[j] += o.sums[j]
	}
	h.under += o.under
	h.over += o.over
	h.nan += o.nan
	return nil
}

// Edges returns the bin edges (shared, read only).
func (h *Histogram) Edges() []float64 { return h.edges }

// Counts returns the per-bin counts (shared, read only, valid until the next
// Add or Merge).
func (h *Histogram) Counts() []uint64 { return h.counts }

// Sums returns the per-bin sums of values (shared, read only).
func (h *Histogram) Sums() []float64 { return h.sums }

// Under, Over and NaNs return the counts of values below the first edge,
// above the last edge, and NaN.
func (h *Histogram) Under() uint64 { return h.under }

// Over returns the count of values above the last edge (including +Inf).
func (h *Histogram) Over() uint64 { return h.over }

// NaNs returns the count of NaN values.
func (h *Histogram) NaNs() uint64 { return h.nan }
