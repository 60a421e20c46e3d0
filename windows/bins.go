package windows

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// edgeIndex finds values' bins among a baseline feature's edges (the
// number of edges at or below a value, as baselines.BinIndex) in a fixed
// few steps whatever the bin, where a binary search takes log2(edges)
// dependent steps.
//
// cell(x) cuts [edges[0], edges[last]] into cells of equal width, and
// start[c] counts the edges of the cells before c. cell is the same
// float64 arithmetic at build and lookup and monotone in x, so an edge in
// a cell before x's is below x and one in a cell after it above: x's bin
// is start[c] plus the number of edges of its own cell at or below x. A
// cell holds at most k edges (the table has as many cells as it takes,
// up to binMaxCellsPerEdge per edge, for quantile edges, which are
// densest where the values are); the edges are followed by k +Inf, so that
// counting the k edges from start[c] that are at or below x, without a
// branch, counts the cell's. Where a cell would still hold more than
// binMaxPerCell edges (heavy tails), the cell's edges are binary-searched.
type edgeIndex struct {
	edges     []float64 // the baseline's edges, then k +Inf with a table
	n         int       // the baseline's edges
	lo, scale float64
	last      float64 // the last cell, as a float64
	start     []int32 // len cells+1; nil: no table, binary search
	k         int     // most edges in one cell
}

const (
	minTableEdges      = 8 // fewer edges are binary-searched
	binMaxCellsPerEdge = 8 // at 4 bytes a cell: 3.2 KB a feature of 100 bins at most
	binMaxPerCell      = 3 // more edges in a cell are binary-searched
)

func newEdgeIndex(edges []float64) edgeIndex {
	n := len(edges)
	ix := edgeIndex{edges: edges, n: n}
	if n < minTableEdges || !(edges[n-1]-edges[0] < math.MaxFloat64) {
		return ix
	}
	for per := 2; per <= binMaxCellsPerEdge; per *= 2 {
		cells := per * n
		t := edgeIndex{edges: edges, n: n, lo: edges[0], scale: float64(cells) / (edges[n-1] - edges[0]), last: float64(cells - 1)}
		if !(t.scale < math.MaxFloat64) { // edges a few subnormals apart
			return ix
		}
		t.start = make([]int32, cells+1)
		for _, e := range edges {
			t.start[t.cell(e)+1]++
		}
		for c := 1; c <= cells; c++ {
			t.k = max(t.k, int(t.start[c]))
			t.start[c] += t.start[c-1]
		}
		ix = t
		if t.k <= binMaxPerCell {
			break
		}
	}
	pad := min(ix.k, binMaxPerCell)
	ix.edges = append(edges[:n:n], make([]float64, pad)...)
	for i := n; i < len(ix.edges); i++ {
		ix.edges[i] = math.Inf(1)
	}
	return ix
}

// cell is the cell of x, clamped to the table.
func (ix *edgeIndex) cell(x float64) int {
	f := (x - ix.lo) * ix.scale
	if !(f < ix.last) {
		f = ix.last
	}
	if !(f > 0) {
		f = 0
	}
	return int(f)
}

// bins sets bs[j] to the bin of xs[j], finite, for every j.
func (ix *edgeIndex) bins(xs []float64, bs []int) {
	bs = bs[:len(xs)]
	switch {
	case ix.start == nil:
		for j, x := range xs {
			bs[j] = binIndex(ix.edges, x)
		}
	case ix.k > binMaxPerCell:
		for j, x := range xs {
			c := ix.cell(x)
			s, e := int(ix.start[c]), int(ix.start[c+1])
			bs[j] = s + binIndex(ix.edges[s:e], x)
		}
	default:
		k := ix.k
		for j, x := range xs {
			s := int(ix.start[ix.cell(x)])
			b := s
			for _, e := range ix.edges[s : s+k] {
				b += b2i(e <= x)
			}
			bs[j] = b
		}
	}
}

// binIndex is baselines.BinIndex: the number of edges (ascending) at or
// below x. It halves the range without a branch on the comparison (a
// conditional move), which no branch predictor could guess for values
// spread over the bins.
func binIndex(edges []float64, x float64) int {
	n := len(edges)
	if n == 0 {
		return 0
	}
	base := 0 // the answer is in [base, base+n]
	for n > 1 {
		half := n >> 1
		base += half * b2i(edges[base+half] <= x)
		n -= half
	}
	return base + b2i(edges[base] <= x)
}

// b2i is 1 for true and 0 for false, without a branch.
func b2i(c bool) int {
	if c {
		return 1
	}
	return 0
}

// dictIndex reads the indices of a dictionary-encoded column: from the
// int32 values consumer writes them as, directly, or through
// GetValueIndex (a switch on the index type per row) for another type.
type dictIndex struct {
	c   *array.Dictionary
	i32 []int32
}

func newDictIndex(c *array.Dictionary) dictIndex {
	d := dictIndex{c: c}
	if ix, ok := c.Indices().(*array.Int32); ok {
		d.i32 = ix.Int32Values()
	}
	return d
}

// at is the dictionary index of row i (valid rows only).
func (d dictIndex) at(i int) int {
	if d.i32 != nil {
		return int(d.i32[i])
	}
	return d.c.GetValueIndex(i)
}
