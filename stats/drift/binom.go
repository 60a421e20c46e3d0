package drift

import "math"

// binomTails returns P(X <= k) and P(X >= k) for X binomial (n, p). The
// tail on k's side of the mean is summed term by term from k outward,
// each term from the one before, until the terms no longer count; the
// other is its complement. The first term is Loader's saddle-point
// expansion of the probability (Loader 2000, "Fast and accurate
// computation of binomial probabilities", as R's dbinom computes it),
// accurate to a few units in the last place at any n, where an
// incomplete beta function of parameters in the millions loses digits.
func binomTails(k, n int64, p float64) (lower, upper float64) {
	switch {
	case k < 0:
		return 0, 1
	case k > n:
		return 1, 0
	case p <= 0:
		return 1, b2f(k == 0)
	case p >= 1:
		return b2f(k == n), 1
	}
	q := 1 - p
	pk := dbinom(float64(k), float64(n), p, q)
	sum := pk
	if float64(k) <= float64(n)*p {
		t := pk
		for j := k; j > 0 && t > sum*1e-17; j-- {
			t *= float64(j) / float64(n-j+1) * (q / p)
			sum += t
		}
		lower = min(sum, 1)
		return lower, min(1, max(0, 1-lower+pk))
	}
	t := pk
	for j := k; j < n && t > sum*1e-17; j++ {
		t *= float64(n-j) / float64(j+1) * (p / q)
		sum += t
	}
	upper = min(sum, 1)
	return min(1, max(0, 1-upper+pk)), upper
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// dbinom is the binomial (n, p) probability of x, q = 1 - p, both in
// (0, 1): Loader's dbinom_raw.
func dbinom(x, n, p, q float64) float64 {
	switch {
	case x == 0:
		if n == 0 {
			return 1
		}
		if p < 0.1 {
			return math.Exp(-bd0(n, n*q) - n*p)
		}
		return math.Exp(n * math.Log(q))
	case x == n:
		if q < 0.1 {
			return math.Exp(-bd0(n, n*p) - n*q)
		}
		return math.Exp(n * math.Log(p))
	}
	lc := stirlerr(n) - stirlerr(x) - stirlerr(n-x) - bd0(x, n*p) - bd0(n-x, n*q)
	lf := math.Log(2*math.Pi) + math.Log(x) + math.Log1p(-x/n)
	return math.Exp(lc - 0.5*lf)
}

// stirlerr is log(n!) - log(sqrt(2 pi n) (n/e)^n), n >= 1: Stirling's
// formula's error.
func stirlerr(n float64) float64 {
	const (
		s0 = 1.0 / 12
		s1 = 1.0 / 360
		s2 = 1.0 / 1260
		s3 = 1.0 / 1680
		s4 = 1.0 / 1188
	)
	if n <= 15 {
		lg, _ := math.Lgamma(n + 1)
		return lg - (n+0.5)*math.Log(n) + n - 0.5*math.Log(2*math.Pi)
	}
	nn := n * n
	switch {
	case n > 500:
		return (s0 - s1/nn) / n
	case n > 80:
		return (s0 - (s1-s2/nn)/nn) / n
	case n > 35:
		return (s0 - (s1-(s2-s3/nn)/nn)/nn) / n
	}
	return (s0 - (s1-(s2-(s3-s4/nn)/nn)/nn)/nn) / n
}

// bd0 is x log(x/np) + np - x, computed without cancellation when x is
// near np.
func bd0(x, np float64) float64 {
	if math.Abs(x-np) < 0.1*(x+np) {
		v := (x - np) / (x + np)
		s := (x - np) * v
		if math.Abs(s) < math.SmallestNonzeroFloat64 {
			return s
		}
		ej := 2 * x * v
		v *= v
		for j := 1; j < 1000; j++ {
			ej *= v
			s1 := s + ej/float64(2*j+1)
			if s1 == s {
				return s1
			}
			s = s1
		}
	}
	return x*math.Log(x/np) + np - x
}
