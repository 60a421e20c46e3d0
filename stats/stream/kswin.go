package stream

import (
	"fmt"
	"slices"
)

// KSWINConfig configures a KSWIN detector. Field names and defaults follow
// river.drift.KSWIN.
type KSWINConfig struct {
	// Alpha is the significance level of the Kolmogorov-Smirnov test, in
	// [0, 1]. Default 0.005.
	Alpha float64
	// WindowSize is the number of most recent values kept. Default 100.
	WindowSize int
	// StatSize is the number r of most recent values compared against r
	// values sampled from the older part of the window; 2·StatSize must not
	// exceed WindowSize (River raises at the first full window otherwise).
	// Default 30.
	StatSize int
	// Seed seeds the sampler exactly as random.Random(Seed) in Python.
	// River's default is None (seeded from the OS, not reproducible); the
	// Go default is 0.
	Seed int64
}

// DefaultKSWINConfig returns River's defaults (Alpha 0.005, WindowSize
// 100, StatSize 30) with Seed 0 in place of River's unseeded None.
func DefaultKSWINConfig() KSWINConfig {
	return KSWINConfig{Alpha: 0.005, WindowSize: 100, StatSize: 30, Seed: 0}
}

// kswinMaxWindow bounds WindowSize so that sampling indices fit the 32-bit
// fast path of Python's getrandbits.
const kswinMaxWindow = 1 << 30

// kswinMaxStat is SciPy's MAX_AUTO_N: ks_2samp(method="auto") uses the
// exact p-value only up to this sample size, and only the exact p-value is
// implemented here.
const kswinMaxStat = 10000

// Validate reports whether c can build a detector.
func (c KSWINConfig) Validate() error {
	switch {
	case !(c.Alpha >= 0 && c.Alpha <= 1):
		return fmt.Errorf("kswin: alpha %v outside [0, 1]", c.Alpha)
	case c.StatSize < 1:
		return fmt.Errorf("kswin: stat_size %d < 1", c.StatSize)
	case c.WindowSize < 2*c.StatSize:
		return fmt.Errorf("kswin: window_size %d < 2*stat_size %d", c.WindowSize, 2*c.StatSize)
	case c.StatSize > kswinMaxStat:
		return fmt.Errorf("kswin: stat_size %d > %d", c.StatSize, kswinMaxStat)
	case c.WindowSize > kswinMaxWindow:
		return fmt.Errorf("kswin: window_size %d > %d", c.WindowSize, kswinMaxWindow)
	}
	return nil
}

// KSWIN is the Kolmogorov-Smirnov WINdowing detector of Raab, Heusinger &
// Schleif 2020, as implemented by River. It keeps the last n = WindowSize
// values; once the window is full, every update compares the r = StatSize
// most recent values R with r values S drawn without replacement from the
// n − r older ones (random.sample with Python's generator) by the
// two-sample Kolmogorov-Smirnov test, and signals drift if
//
//	p ≤ Alpha  and  D > 0.1,  D = sup_x |F_R(x) − F_S(x)|,
//
// with p the exact two-sided p-value of SciPy's ks_2samp for equal sample
// sizes (Hodges 1958, method of _compute_prob_outside_square). As in River,
// the detector restarts from an empty window (and a re-seeded sampler) on
// the update after a drift.
//
// A KSWIN is not safe for concurrent use.
type KSWIN struct {
	cfg KSWINConfig
	rng pyRandom

	ring       []float64 // window, oldest at head once full
	head, size int
	pValue     float64
	stat       float64

	idx          []int // sampled indices
	pool         []int
	seen         []bool
	sample, last []float64

	pendingReset bool
}

// NewKSWIN returns a KSWIN detector. It panics if cfg is invalid.
func NewKSWIN(cfg KSWINConfig) *KSWIN {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	older := cfg.WindowSize - cfg.StatSize
	k := &KSWIN{
		cfg:    cfg,
		ring:   make([]float64, cfg.WindowSize),
		idx:    make([]int, cfg.StatSize),
		pool:   make([]int, older),
		seen:   make([]bool, older),
		sample: make([]float64, cfg.StatSize),
		last:   make([]float64, cfg.StatSize),
	}
	k.Reset()
	return k
}

// Reset empties the window and re-seeds the sampler.
func (k *KSWIN) Reset() {
	k.head, k.size = 0, 0
	k.pValue, k.stat = 0, 0
	k.rng.seed(k.cfg.Seed)
	k.pendingReset = false
}

// PValue returns the p-value of the last test, or 0 before the window
// first fills (as River's p_value).
func (k *KSWIN) PValue() float64 { return k.pValue }

// Statistic returns the Kolmogorov-Smirnov statistic D of the last test,
// or 0 before the window first fills.
func (k *KSWIN) Statistic() float64 { return k.stat }

// Update appends x to the window and reports whether drift is signalled.
// NaN, ±Inf and |x| > MaxAbs are ignored.
func (k *KSWIN) Update(x float64) bool {
	if ignored(x) {
		return false
	}
	if k.pendingReset {
		k.Reset()
	}
	w := k.cfg.WindowSize
	if k.size < w {
		k.ring[(k.head+k.size)%w] = x
		k.size++
	} else {
		k.ring[k.head] = x
		k.head = (k.head + 1) % w
	}
	if k.size < w {
		return false
	}
	r := k.cfg.StatSize
	k.rng.sample(w-r, k.idx, k.pool, k.seen)
	for i, j := range k.idx {
		k.sample[i] = k.ring[(k.head+j)%w]
	}
	for i := range r {
		k.last[i] = k.ring[(k.head+w-r+i)%w]
	}
	h := ksMaxCountDiff(k.sample, k.last)
	k.stat = float64(h) / float64(r)
	k.pValue = ksExactEqualN(r, h)
	drift := k.pValue <= k.cfg.Alpha && k.stat > 0.1
	k.pendingReset = drift
	return drift
}

// ksMaxCountDiff sorts a and b in place (equal lengths) and returns
// n·D = max over x of |#{a ≤ x} − #{b ≤ x}|, the integer form of the
// two-sample statistic that scipy.stats.ks_2samp rounds to before its
// exact p-value.
func ksMaxCountDiff(a, b []float64) int {
	slices.Sort(a)
	slices.Sort(b)
	i, j, h := 0, 0, 0
	for i < len(a) || j < len(b) {
		// Advance past the next distinct value in either sample.
		var v float64
		switch {
		case i == len(a):
			v = b[j]
		case j == len(b):
			v = a[i]
		default:
			v = min(a[i], b[j])
		}
		for i < len(a) && a[i] <= v {
			i++
		}
		for j < len(b) && b[j] <= v {
			j++
		}
		h = max(h, i-j, j-i)
	}
	return h
}

// ksExactEqualN is SciPy's _compute_prob_outside_square(n, h): the exact
// two-sided p-value P(D ≥ h/n) of the two-sample Kolmogorov-Smirnov
// statistic for two samples of size n,
//
//	P = 2 Σ_{k≥1} (−1)^{k+1} C(2n, n−kh)/C(2n, n),
//
// evaluated by SciPy's alternating recursion in the same operation order,
// then clipped to [0, 1]. It returns 1 for h = 0.
func ksExactEqualN(n, h int) float64 {
	if h == 0 {
		return 1
	}
	p := 0.0
	for k := n / h; k >= 0; k-- {
		p1 := 1.0
		for j := range h {
			p1 = float64(n-k*h-j) * p1 / float64(n+k*h+j+1)
		}
		p = p1 * (1 - p)
	}
	return min(max(2*p, 0), 1)
}
