package multivariate

import (
	"errors"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// PCA is a principal component analysis of d columns: the rows' mean and
// every principal axis, in decreasing order of variance.
type PCA struct {
	// Mean is the rows' mean, per column.
	Mean []float64
	// Components are the d principal axes, unit vectors of d values each,
	// ordered by decreasing Variances; each axis's sign makes its largest
	// entry (in absolute value) positive.
	Components [][]float64
	// Variances are the rows' variances along each axis (the covariance
	// matrix's eigenvalues, divisor n-1: sklearn's explained_variance_).
	Variances []float64
}

// FitPCA returns the principal components of n rows of d values (x,
// row-major), from the eigendecomposition of their covariance matrix. It
// needs at least two rows and finite values.
func FitPCA(x []float64, n, d int) (PCA, error) {
	if d <= 0 || n < 2 || len(x) != n*d {
		return PCA{}, errors.New("pca: need at least 2 rows of at least one column")
	}
	mean := make([]float64, d)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	cov := make([]float64, d*d)
	c := make([]float64, d)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			c[j] = v - mean[j]
		}
		for a := range d {
			ca := c[a]
			row := cov[a*d : (a+1)*d]
			for b := a; b < d; b++ {
				row[b] += ca * c[b]
			}
		}
	}
	for a := range d {
		for b := a; b < d; b++ {
			v := cov[a*d+b] / float64(n-1)
			cov[a*d+b], cov[b*d+a] = v, v
		}
	}
	for _, v := range cov {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return PCA{}, errors.New("pca: values are not finite")
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(mat.NewSymDense(d, cov), true) {
		return PCA{}, errors.New("pca: eigendecomposition did not converge")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	p := PCA{Mean: mean, Components: make([][]float64, d), Variances: make([]float64, d)}
	for k, i := range order {
		v := mat.Col(nil, i, &vecs)
		big := 0
		for j := range v {
			if math.Abs(v[j]) > math.Abs(v[big]) {
				big = j
			}
		}
		if v[big] < 0 {
			for j := range v {
				v[j] = -v[j]
			}
		}
		p.Components[k] = v
		p.Variances[k] = max(vals[i], 0) // rounding can make a zero eigenvalue negative
	}
	return p, nil
}

// Keep returns the fewest leading components whose explained variance
// ratios (Variances over their sum) add up to more than share, 0 < share
// < 1: sklearn's PCA(n_components=share). When every variance is 0 it
// returns every component (nothing varies, nothing is lost).
func (p *PCA) Keep(share float64) int {
	var total float64
	for _, v := range p.Variances {
		total += v
	}
	if !(total > 0) {
		return len(p.Variances)
	}
	// sklearn: searchsorted(cumsum(ratio), share, side="right") + 1.
	var cum float64
	for k, v := range p.Variances {
		cum += v / total
		if cum > share {
			return k + 1
		}
	}
	return len(p.Variances)
}

// ReconstructionError returns the Euclidean norm of what the first q
// components leave out of row z (d values): ||c - sum_k (V_k . c) V_k||
// with c = z - Mean. scratch, if it has room for d values, is used instead
// of allocating.
func (p *PCA) ReconstructionError(z []float64, q int, scratch []float64) float64 {
	d := len(p.Mean)
	if cap(scratch) < d {
		scratch = make([]float64, d)
	}
	r := scratch[:d]
	for j := range r {
		r[j] = z[j] - p.Mean[j]
	}
	// Each component's part is taken from what the earlier ones left (the
	// same dot product, as the components are orthogonal, with less
	// rounding).
	for k := range min(q, d) {
		v := p.Components[k]
		var dot float64
		for j, x := range r {
			dot += v[j] * x
		}
		for j := range r {
			r[j] -= dot * v[j]
		}
	}
	var ss float64
	for _, x := range r {
		ss += x * x
	}
	return math.Sqrt(ss)
}
