package multivariate

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Logistic fits L2-regularized logistic regressions on a fixed design: n
// rows of p features (row-major), with an unpenalized intercept. It keeps
// the factorized bound of its Hessian and the scratch its fits reuse; not
// safe for concurrent use.
type Logistic struct {
	// C is the inverse of the penalty's strength, as sklearn's: the fit
	// minimizes 1/2 ||w||^2 + C sum_i logloss_i.
	C float64
	// Tol: a fit has converged when no coefficient moved by more than Tol
	// in its last step. 0 means DefaultTol.
	Tol float64

	x    blas64.General
	n, p int

	g, step, w   []float64 // gradient, step and coefficients: intercept first, then p
	z            []float64 // per row: its logit, then its residual
	bound        mat.Cholesky
	boundOK      bool
	hess         *mat.SymDense
	chol         mat.Cholesky
	stepV, gradV *mat.VecDense
}

// DefaultTol is Logistic.Tol's default: coefficients within about 1e-7
// of the optimum, far below what moves a held-out AUC.
const DefaultTol = 1e-7

// Iteration bounds of Logistic.Fit: MMIterations bound steps before Newton
// takes over; a fit stops after maxNewton Newton steps whatever its
// progress (it has then converged to the precision float64 allows).
const (
	MMIterations = 50
	maxNewton    = 100
)

// NewLogistic returns a Logistic on the n x p design x (not copied: the
// caller keeps it unchanged while the Logistic is used), n > 0, p > 0,
// with its Hessian's bound X^T X/4 + diag(0, 1/C, ..., 1/C) factorized.
func NewLogistic(x []float64, n, p int, c float64) *Logistic {
	k := p + 1
	l := &Logistic{C: c, x: blas64.General{Rows: n, Cols: p, Stride: p, Data: x}, n: n, p: p,
		g: make([]float64, k), step: make([]float64, k), w: make([]float64, k), z: make([]float64, n),
		hess: mat.NewSymDense(k, nil)}
	l.stepV = mat.NewVecDense(k, l.step)
	l.gradV = mat.NewVecDense(k, l.g)
	h := l.hess.RawSymmetric().Data
	for i := range n {
		addOuter(h, x[i*p:(i+1)*p], 0.25)
	}
	for j := 1; j < k; j++ {
		h[j*k+j] += 1 / c
	}
	l.boundOK = l.bound.Factorize(l.hess)
	return l
}

// addOuter adds v (1, x)(1, x)^T to the upper triangle of the (p+1) x (p+1)
// row-major h.
func addOuter(h, x []float64, v float64) {
	k := len(x) + 1
	h[0] += v
	for b, xb := range x {
		h[1+b] += v * xb
	}
	for a, xa := range x {
		row := h[(1+a)*k+1:]
		va := v * xa
		for b := a; b < len(x); b++ {
			row[b] += va * x[b]
		}
	}
}

// Fit fits the model to 0/1 labels y (one per row), starting from zero,
// and returns the coefficients (intercept first; the slice is the
// Logistic's, valid until the next Fit) and whether it converged. y must
// hold both labels: with one, the unpenalized intercept has no optimum.
func (l *Logistic) Fit(y []float64) ([]float64, bool) {
	tol := l.Tol
	if tol <= 0 {
		tol = DefaultTol
	}
	clear(l.w)
	if !l.boundOK {
		return l.w, false
	}
	for range MMIterations {
		l.gradient(y)
		if err := l.bound.SolveVecTo(l.stepV, l.gradV); err != nil {
			return l.w, false
		}
		if l.apply(1) <= tol {
			return l.w, true
		}
	}
	// Newton with step halving: the MM steps shrink where the rows are
	// well separated (p(1-p) far below 1/4).
	f := l.objective(y)
	for range maxNewton {
		l.gradient(y)
		l.hessian()
		if !l.chol.Factorize(l.hess) {
			return l.w, false
		}
		if err := l.chol.SolveVecTo(l.stepV, l.gradV); err != nil {
			return l.w, false
		}
		t := 1.0
		moved := l.apply(t)
		for range 30 {
			nf := l.objective(y)
			if nf <= f {
				f = nf
				break
			}
			l.apply(-t / 2) // back half way
			t /= 2
			moved /= 2
		}
		if moved <= tol {
			return l.w, true
		}
	}
	return l.w, true
}

// apply moves the coefficients by -t*step and returns the largest move.
func (l *Logistic) apply(t float64) float64 {
	var most float64
	for j, s := range l.step {
		l.w[j] -= t * s
		most = max(most, math.Abs(t*s))
	}
	return most
}

// logits sets z to the rows' logits, w0 + x_i . w.
func (l *Logistic) logits() {
	for i := range l.z {
		l.z[i] = l.w[0]
	}
	blas64.Gemv(blas.NoTrans, 1, l.x, blas64.Vector{N: l.p, Inc: 1, Data: l.w[1:]}, 1, blas64.Vector{N: l.n, Inc: 1, Data: l.z})
}

// gradient sets g to the objective's gradient, sum_i (sigma(z_i) - y_i)
// (1, x_i) + (0, w)/C, and z to the residuals sigma(z_i) - y_i.
func (l *Logistic) gradient(y []float64) {
	l.logits()
	var g0 float64
	for i, z := range l.z {
		r := sigmoid(z) - y[i]
		l.z[i] = r
		g0 += r
	}
	l.g[0] = g0
	g := l.g[1:]
	for j := range g {
		g[j] = l.w[1+j] / l.C
	}
	blas64.Gemv(blas.Trans, 1, l.x, blas64.Vector{N: l.n, Inc: 1, Data: l.z}, 1, blas64.Vector{N: l.p, Inc: 1, Data: g})
}

// hessian sets hess to sum_i p_i(1-p_i) (1,x_i)(1,x_i)^T + diag(0, 1/C...)
// at the current coefficients.
func (l *Logistic) hessian() {
	k, p := l.p+1, l.p
	l.logits()
	h := l.hess.RawSymmetric().Data
	clear(h)
	for i, z := range l.z {
		s := sigmoid(z)
		addOuter(h, l.x.Data[i*p:(i+1)*p], s*(1-s))
	}
	for j := 1; j < k; j++ {
		h[j*k+j] += 1 / l.C
	}
}

// objective is sum_i logloss_i + ||w||^2/(2C) at the current coefficients.
func (l *Logistic) objective(y []float64) float64 {
	l.logits()
	var f float64
	for i, z := range l.z {
		f += logloss(z, y[i])
	}
	var ww float64
	for _, v := range l.w[1:] {
		ww += v * v
	}
	return f + ww/(2*l.C)
}

// Scores sets out to the logits of the m x p rows x with coefficients w
// (intercept first, as Fit returns them).
func Scores(x []float64, m, p int, w, out []float64) {
	for i := range out[:m] {
		out[i] = w[0]
	}
	blas64.Gemv(blas.NoTrans, 1, blas64.General{Rows: m, Cols: p, Stride: p, Data: x}, blas64.Vector{N: p, Inc: 1, Data: w[1:]}, 1, blas64.Vector{N: m, Inc: 1, Data: out})
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// logloss is -log sigma(z) for y = 1 and -log(1 - sigma(z)) for y = 0,
// without overflow: log(1 + exp(-s z)), s = 2y - 1.
func logloss(z, y float64) float64 {
	m := z
	if y == 1 {
		m = -z
	}
	if m > 0 {
		return m + math.Log1p(math.Exp(-m))
	}
	return math.Log1p(math.Exp(m))
}

// errNoRows is returned for designs too small to test.
var errNoRows = errors.New("classifier test: too few rows")
