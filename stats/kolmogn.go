package stats

import "math"

// Constants of scipy.stats._ksstats, which KolmogorovN ports.
const (
	kn128       = 128
	knMinLog    = -708.0                     // _MIN_LOG: exp underflows below
	knMinLogSm  = -7.451332191019412076235e2 // cephes MINLOG (IEEE, subnormals), used by smirnov
	knSmirnovN  = 1000000                    // xsf SMIRNOV_MAX_COMPUTE_N
	knSmallN    = 140                        // exact algorithms up to this n
	knDMTWBound = 0.754693                   // n x^2 below which Durbin/MTW is used
)

var (
	kEP128 = math.Ldexp(1, kn128)
	kEM128 = math.Ldexp(1, -kn128)
)

// KolmogorovN returns the survival function P(D_n > d) (a probability in
// [0, 1]) of the exact finite-sample two-sided Kolmogorov-Smirnov statistic
// D_n = sup_t |F_n(t) - F(t)| for a sample of size n from a continuous F; it
// equals scipy.stats.kstwo.sf(d, n) (scipy.stats._ksstats._kolmogn with
// cdf=False), whose algorithm selection it ports:
//
//	n*d <= 1/2             sf = 1
//	1/2 < n*d <= 1         Ruben & Gambino: cdf = n!/n^n (2nd - 1)^n
//	n*d >= n - 1           sf = 2 (1 - d)^n
//	d >= 1/2               sf = 2 * Smirnov one-sided sf (Birnbaum & Tingey)
//	n <= 140:  n d^2 <= 0.754693  Durbin matrix (Marsaglia, Tsang & Wang)
//	           n d^2 <= 4         Pomeranz recursion
//	           otherwise          2 * Smirnov one-sided sf
//	n > 140:   n d^2 >= 370       sf = 0
//	           n d^2 >= 2.2       2 * Smirnov one-sided sf
//	           n <= 1e5 and n d^1.5 <= 1.4  Durbin matrix, sf = 1 - cdf
//	           otherwise          Pelz-Good asymptotic series, sf = 1 - cdf
//
// The one-sided Smirnov sf, scipy.special.smirnov(n, d) =
// d sum_{j=0}^{floor(n(1-d))} C(n,j) (1-d-j/n)^(n-j) (d+j/n)^(j-1), is summed
// here in float64 log space rather than in xsf's double-double arithmetic;
// for n > 1e6 it uses xsf's approximation exp(-(6nd+1)^2/(18n)).
//
// KolmogorovN returns NaN if n <= 0 or d is NaN, 1 for d <= 0 and 0 for
// d >= 1. It does not allocate for n*d^2 outside the Durbin and Pomeranz
// ranges; those allocate O(n*d) and O((n*d)^2) float64s.
//
// References: Simard, R. and L'Ecuyer, P. (2011), Computing the two-sided
// Kolmogorov-Smirnov distribution, J. Stat. Softw. 39(11); Durbin, J. (1973),
// Distribution theory for tests based on the sample distribution function,
// SIAM; Marsaglia, G., Tsang, W. W. and Wang, J. (2003), J. Stat. Softw.
// 8(18); Pomeranz, J. (1974), Exact cumulative distribution of the
// Kolmogorov-Smirnov statistic for small samples, Comm. ACM 17(12); Pelz, W.
// and Good, I. J. (1976), Approximating the lower tail-areas of the
// Kolmogorov-Smirnov one-sample statistic, J. R. Stat. Soc. B 38(2);
// Birnbaum, Z. W. and Tingey, F. H. (1951), One-sided confidence contours for
// probability distribution functions, Ann. Math. Stat. 22(4).
func KolmogorovN(n int, d float64) (sf float64) {
	if n <= 0 || math.IsNaN(d) {
		return math.NaN()
	}
	x := d
	if x >= 1 {
		return 0
	}
	if x <= 0 {
		return 1
	}
	fn := float64(n)
	t := fn * x
	if t <= 1 {
		if t <= 0.5 {
			return 1
		}
		var prob float64
		if n <= knSmallN {
			prob = 1
			for i := 1; i <= n; i++ {
				prob *= float64(i) * (1 / fn) * (2*t - 1)
			}
		} else {
			prob = math.Exp(logNFactorialDivNPowN(fn) + fn*math.Log(2*t-1))
		}
		return clip01(1 - prob)
	}
	if t >= fn-1 {
		return clip01(2 * math.Pow(1-x, fn))
	}
	if x >= 0.5 {
		return clip01(2 * smirnovSF(n, x))
	}
	nxsq := t * x
	if n <= knSmallN {
		switch {
		case nxsq <= knDMTWBound:
			return clip01(1 - kolmogDMTW(n, x))
		case nxsq <= 4:
			return clip01(1 - kolmogPomeranz(n, x))
		}
		return clip01(2 * smirnovSF(n, x))
	}
	if nxsq >= 370 {
		return 0
	}
	if nxsq >= 2.2 {
		return clip01(2 * smirnovSF(n, x))
	}
	var cdf float64
	if n <= 100000 && fn*math.Pow(x, 1.5) <= 1.4 {
		cdf = kolmogDMTW(n, x)
	} else {
		cdf = kolmogPelzGood(n, x)
	}
	return clip01(1 - clip01(cdf))
}

func clip01(p float64) float64 { return min(max(p, 0), 1) }

// stirlingCoeffs are the Stirling-series coefficients of _ksstats, highest
// power first.
var stirlingCoeffs = [...]float64{-2.955065359477124183e-2, 6.4102564102564102564e-3,
	-1.9175269175269175269e-3, 8.4175084175084175084e-4,
	-5.952380952380952381e-4, 7.9365079365079365079e-4,
	-2.7777777777777777778e-3, 8.3333333333333333333e-2}

// logNFactorialDivNPowN returns log(n!/n^n) by Stirling's series.
func logNFactorialDivNPowN(n float64) float64 {
	rn := 1 / n
	u := rn / n
	var poly float64
	for _, c := range stirlingCoeffs {
		poly = poly*u + c
	}
	return math.Log(n)/2 - n + math.Log(2*math.Pi)/2 + rn*poly
}

// kolmogDMTW returns P(D_n <= d) by the Durbin matrix method as organized by
// Marsaglia, Tsang and Wang (2003), with power-of-two rescaling.
func kolmogDMTW(n int, d float64) float64 {
	if d >= 1 {
		return 1
	}
	nd := float64(n) * d
	if nd <= 0.5 {
		return 0
	}
	k := int(math.Ceil(nd))
	h := float64(k) - nd
	m := 2*k - 1
	H := make([]float64, m*m)
	v := make([]float64, m)
	w := make([]float64, m)
	fac := 1.0
	for j := 1; j <= m; j++ {
		v[j-1] = 1 - math.Pow(h, float64(j))
		w[j-1] = fac
		fac /= float64(j)
		v[j-1] *= fac
	}
	tt := math.Pow(max(2*h-1, 0), float64(m)) - 2*math.Pow(h, float64(m))
	v[m-1] = (1 + tt) * fac
	for i := 1; i < m; i++ {
		for r := i - 1; r < m; r++ {
			H[r*m+i] = w[r-(i-1)]
		}
	}
	for r := 0; r < m; r++ {
		H[r*m] = v[r]
	}
	for c := 0; c < m; c++ {
		H[(m-1)*m+c] = v[m-1-c]
	}
	P := make([]float64, m*m)
	for i := 0; i < m; i++ {
		P[i*m+i] = 1
	}
	tmp := make([]float64, m*m)
	nn := n
	expnt, hexpnt := 0, 0
	for nn > 0 {
		if nn%2 == 1 {
			matMul(tmp, P, H, m)
			P, tmp = tmp, P
			expnt += hexpnt
		}
		matMul(tmp, H, H, m)
		H, tmp = tmp, H
		hexpnt *= 2
		if math.Abs(H[(k-1)*m+k-1]) > kEP128 {
			for i := range H {
				H[i] /= kEP128
			}
			hexpnt += kn128
		}
		nn /= 2
	}
	p := P[(k-1)*m+k-1]
	fn := float64(n)
	for i := 1; i <= n; i++ {
		p = float64(i) * p / fn
		if math.Abs(p) < kEM128 {
			p *= kEP128
			expnt -= kn128
		}
	}
	if expnt != 0 {
		p = math.Ldexp(p, expnt)
	}
	return clip01(p)
}

// matMul sets dst = a*b for m x m row-major matrices; dst must not alias.
func matMul(dst, a, b []float64, m int) {
	clear(dst)
	for i := 0; i < m; i++ {
		for l := 0; l < m; l++ {
			ail := a[i*m+l]
			if ail == 0 {
				continue
			}
			row := b[l*m : l*m+m]
			out := dst[i*m : i*m+m]
			for j, bv := range row {
				out[j] += ail * bv
			}
		}
	}
}

// pomeranzJ1J2 returns the column range of row i of the Pomeranz recursion.
func pomeranzJ1J2(i, n, ll, ceilf, roundf int) (int, int) {
	var j1, j2 int
	if i == 0 {
		j1, j2 = -ll-ceilf-1, ll+ceilf-1
	} else {
		ip1div2, ip1mod2 := (i+1)/2, (i+1)%2
		if ip1mod2 == 0 {
			if ip1div2 == n+1 {
				j1, j2 = n-ll-ceilf-1, n+ll+ceilf-1
			} else {
				j1, j2 = ip1div2-1-ll-roundf-1, ip1div2+ll-1+ceilf-1
			}
		} else {
			j1, j2 = ip1div2-1-ll-1, ip1div2+ll+roundf-1
		}
	}
	return max(j1+2, 0), min(j2, n)
}

// kolmogPomeranz returns P(D_n <= d) by Pomeranz's (1974) recursion.
func kolmogPomeranz(n int, x float64) float64 {
	fn := float64(n)
	t := fn * x
	ll := int(math.Floor(t))
	f := t - float64(ll)
	g := min(f, 1-f)
	ceilf, roundf := 0, 0
	if f > 0 {
		ceilf = 1
	}
	if f > 0.5 {
		roundf = 1
	}
	npwrs := 2 * (ll + 1)
	gpower := make([]float64, npwrs)
	twogpower := make([]float64, npwrs)
	onem2gpower := make([]float64, npwrs)
	gpower[0], twogpower[0], onem2gpower[0] = 1, 1, 1
	gn, g2n, omg := g/fn, 2*g/fn, (1-2*g)/fn
	for m := 1; m < npwrs; m++ {
		fm := float64(m)
		gpower[m] = gpower[m-1] * gn / fm
		twogpower[m] = twogpower[m-1] * g2n / fm
		onem2gpower[m] = onem2gpower[m-1] * omg / fm
	}
	V0 := make([]float64, npwrs)
	V1 := make([]float64, npwrs)
	conv := make([]float64, 2*npwrs)
	V1[0] = 1
	V0s, V1s := 0, 0
	expnt := 0
	j1, _ := pomeranzJ1J2(0, n, ll, ceilf, roundf)
	var j2 int
	for i := 1; i < 2*n+2; i++ {
		k1 := j1
		V0, V1 = V1, V0
		V0s, V1s = V1s, V0s
		clear(V1)
		j1, j2 = pomeranzJ1J2(i, n, ll, ceilf, roundf)
		pwrs := onem2gpower
		switch {
		case i == 1 || i == 2*n+1:
			pwrs = gpower
		case i%2 == 1:
			pwrs = twogpower
		}
		ln2 := j2 - k1 + 1
		if ln2 <= 0 {
			continue
		}
		lo := k1 - V0s
		a := V0[lo:min(lo+ln2, npwrs)]
		b := pwrs[:min(ln2, npwrs)]
		cl := len(a) + len(b) - 1
		c := conv[:cl]
		clear(c)
		for p, av := range a {
			if av == 0 {
				continue
			}
			for q, bv := range b {
				c[p+q] += av * bv
			}
		}
		start := j1 - k1
		clen := j2 - j1 + 1
		copy(V1[:clen], c[start:min(start+clen, cl)])
		mx := V1[0]
		for _, e := range V1 {
			mx = max(mx, e)
		}
		if 0 < mx && mx < kEM128 {
			for q := range V1 {
				V1[q] *= kEP128
			}
			expnt -= kn128
		}
		V1s = V0s + j1 - k1
	}
	ans := V1[n-V1s]
	for m := 1; m <= n; m++ {
		if math.Abs(ans) > kEP128 {
			ans *= kEM128
			expnt += kn128
		}
		ans *= float64(m)
	}
	if expnt != 0 {
		ans = math.Ldexp(ans, expnt)
	}
	return clip01(ans)
}

// kolmogPelzGood returns the Pelz-Good (1976) approximation of
// P(D_n <= x).
func kolmogPelzGood(n int, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	fn := float64(n)
	z := math.Sqrt(fn) * x
	z2, z3, z4, z6 := z*z, z*z*z, z*z*z*z, math.Pow(z, 6)
	pi2, pi4, pi6 := math.Pi*math.Pi, math.Pow(math.Pi, 4), math.Pow(math.Pi, 6)
	qlog := -pi2 / 8 / z2
	if qlog < knMinLog {
		return 0
	}
	q := math.Exp(qlog)
	k1a, k1b := -z2, pi2/4
	k2a := 6*z6 + 2*z4
	k2b := (2*z4 - 5*z2) * pi2 / 4
	k2c := pi4 * (1 - 2*z2) / 16
	k3d := pi6 * (5 - 30*z2) / 64
	k3c := pi4 * (-60*z2 + 212*z4) / 16
	k3b := pi2 * (135*z4 - 96*z6) / 4
	k3a := -30*z6 - 90*math.Pow(z, 8)
	var K [4]float64
	maxk := int(math.Ceil(16 * z / math.Pi))
	for k := maxk; k > 0; k-- {
		m := float64(2*k - 1)
		m2, m4, m6 := m*m, m*m*m*m, math.Pow(m, 6)
		qp := math.Pow(q, float64(8*k))
		c := [4]float64{1, k1a + k1b*m2, k2a + k2b*m2 + k2c*m4, k3a + k3b*m2 + k3c*m4 + k3d*m6}
		for i := range K {
			K[i] = K[i]*qp + c[i]
		}
	}
	sq2pi := math.Sqrt(2 * math.Pi)
	den := [4]float64{z, 6 * z4, 72 * math.Pow(z, 7), 6480 * math.Pow(z, 10)}
	for i := range K {
		K[i] = K[i] * q * sq2pi / den[i]
	}
	q = math.Exp(-pi2 / 2 / z2)
	var k2extra, k3extra float64
	sqrt3z := math.Sqrt(3) * z
	for k := maxk; k > 0; k-- {
		fk := float64(k)
		ks := fk * fk
		qp := math.Pow(q, ks)
		k2extra += ks * qp
		kspi := math.Pi * fk
		k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks * qp
	}
	K[2] += k2extra * pi2 * sq2pi / (-36 * z3)
	K[3] += k3extra * pi2 * sq2pi / (216 * z6)
	var sum float64
	for i := range K {
		sum += K[i] / math.Pow(fn, float64(i)/2)
	}
	return sum
}

// smirnovSF returns the one-sided Smirnov survival function P(D+_n >= x),
// scipy.special.smirnov(n, x), by the Birnbaum-Tingey lower sum.
func smirnovSF(n int, x float64) float64 {
	if !(n > 0 && x >= 0 && x <= 1) {
		return math.NaN()
	}
	fn := float64(n)
	switch {
	case n == 1:
		return x
	case x == 0:
		return 1
	case x == 1:
		return 0
	}
	// floor(n*x) and its fractional part from the exact product
	// nx + nxErr (xsf uses double-double arithmetic for the same purpose).
	nx := fn * x
	nxErr := math.FMA(fn, x, -nx)
	fl := math.Floor(nx)
	alpha := (nx - fl) + nxErr
	if alpha < 0 {
		fl--
		alpha++
	} else if alpha >= 1 {
		fl++
		alpha--
	}
	nxfl := int(fl)
	if nxfl == 0 || (nxfl == 1 && alpha == 0) {
		return 1 - x*math.Pow(1+x, fn-1)
	}
	if -2*fn*x*x < knMinLogSm {
		return 0
	}
	if nxfl >= n-1 {
		return math.Pow(1-x, fn)
	}
	if n > knSmirnovN {
		logp := -math.Pow(6*nx+1, 2) / 18 / fn
		if logp < -math.Ln2 {
			return math.Exp(logp)
		}
		return 1 + math.Expm1(logp)
	}
	// Terms v = 0 .. nTerms-1 with 1 - x - v/n > 0.
	nTerms := n - nxfl
	// Running sum s * exp(ref) of A_v = C(n,v) (1-x-v/n)^(n-v) (x+v/n)^(v-1).
	ref := fn*math.Log1p(-x) - math.Log(x) // log A_0
	s := 1.0
	// log C(n, v), summed with Neumaier compensation: it grows to about
	// n ln 2, and plain summation of n rounded terms would lose ~1e-8.
	logC, logCComp := 0.0, 0.0
	const eps = 0x1p-52
	for v := 1; v < nTerms; v++ {
		fv := float64(v)
		term := math.Log((fn - fv + 1) / fv)
		sum := logC + term
		if math.Abs(logC) >= math.Abs(term) {
			logCComp += (logC - sum) + term
		} else {
			logCComp += (term - sum) + logC
		}
		logC = sum
		lo := ((float64(n-v) - nx) - nxErr) / fn // 1 - x - v/n
		hi := ((fv + nx) + nxErr) / fn           // x + v/n
		la := logC + ((fn-fv)*math.Log(lo) + (fv-1)*math.Log(hi) + logCComp)
		if la > ref {
			s = s*math.Exp(ref-la) + 1
			ref = la
			continue
		}
		a := math.Exp(la - ref)
		s += a
		if 4*float64(nTerms-v)*a < eps*s && v != nTerms-1 {
			break
		}
	}
	return clip01(math.Exp(ref + math.Log(x*s)))
}
