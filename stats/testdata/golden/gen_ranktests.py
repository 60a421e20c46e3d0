#!/usr/bin/env python3
"""Write ranktests.json: SciPy reference values for the binned rank tests of
package stats, AndersonDarlingBinned and CramerVonMisesBinned
(ranktests_test.go).

Run with `make golden` (pinned versions from requirements.txt beside this
file), or directly from the repository root:

    python3 stats/testdata/golden/gen_ranktests.py

Seeded (SEED below), so the same versions (recorded in the file) reproduce
it byte for byte. Conventions (NaN, "reference") are in goldenjson.py.

Each case is a pair of count vectors ref and cur over the same ordered bins.
SciPy has no binned form of these tests, so the counts are expanded into
samples of bin indices (bin j's index j repeated ref[j] and cur[j] times:
every value of a bin is one tie) and given to

  * scipy.stats.anderson_ksamp([x, y]) with its defaults (the midrank
    variant, the interpolated and capped p-value, no permutation method):
    ad_stat, ad_p;
  * the two-sample Cramér-von Mises statistic of the mid-ECDFs,
    T = nm/N^2 sum over the N pooled observations z of (F(z) - G(z))^2
    + 1/(4N) with F(z) = (#{x < z} + #{x <= z})/(2n) (likewise G), computed
    here with numpy on the expanded samples, and its p-value from scipy's
    asymptotic distribution (scipy.stats._hypotests._pval_cvm_2samp_
    asymptotic, private in the pinned scipy): cvm_stat, cvm_p. Where the
    standardized T_n exceeds 1 (p below 0.0025), scipy's 1 - CDF loses its
    relative accuracy (7e-9 at T_n = 2, and rounding noise that grows with
    T_n, 2e-6 at T_n in the thousands and 3e-5 at T_n = 5e6, against a true
    tail below 1e-300), so
    cvm_p is there the limiting tail from Smirnov's (1936) integral series
    by scipy.integrate.quad, which the script checks against scipy's series
    where that is accurate (section limiting_sf: both, on a grid of x).
    Without ties
    this is scipy.stats.cramervonmises_2samp's T (the script asserts it on
    the cases without ties); with ties scipy puts midranks into Anderson's
    rank formula instead, which rejects identical distributions of
    different sizes (see CramerVonMisesBinned's doc), so package stats
    does not use it on bins;
  * scipy.stats.cramervonmises_2samp(x, y, method='asymptotic') itself:
    scipy_cvm_stat, scipy_cvm_p, checked against the same count-based code
    (cramerVonMises's rank form, which CramerVonMises2Samp returns), and
    scipy_cvm_exact, that T computed exactly in rational arithmetic from the
    midranks (U = n sum (r_i - i)^2 + m sum (s_j - j)^2, T = U/(nmN) -
    (4nm-1)/(6N)), rounded once: scipy's float T loses digits to the
    subtraction of two terms of order N for large counts.

Cases: ties in small counts, tiny totals, empty bins, identical and
proportional distributions, mass on one side only (disjoint supports, a
window in one bin), a single non-empty bin, large counts (totals up to ten
million: the expanded samples are that long) with shifts in location,
scale and tails, and random Poisson counts. Where SciPy raises (a single
distinct value for anderson_ksamp, fewer than two values for
cramervonmises_2samp) driftwatch returns NaN and the case records what SciPy
did in "reference".
"""

import math
import os
import sys
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.integrate import quad  # noqa: E402
from scipy._lib._array_api import array_namespace  # noqa: E402
from scipy.stats._hypotests import _pval_cvm_2samp_asymptotic  # noqa: E402

from goldenjson import reference, versions, write  # noqa: E402

SEED = 20261206
rng = np.random.default_rng(SEED)
NAN = float("nan")
# The most scipy's 1 - CDF of the limiting Cramér-von Mises distribution is
# off in its tail (rounding noise), asserted on every case.
SCIPY_NOISE = 1e-4


def expand(c):
    """The sample of bin indices that the counts c describe."""
    return np.repeat(np.arange(len(c), dtype=float), np.asarray(c, dtype=np.int64))


def cvm_exact(a, b):
    """T of cramervonmises_2samp from the counts, in rational arithmetic."""
    n, m = sum(a), sum(b)
    N = n + m
    A = B = 0
    ux = uy = Fraction(0)
    for aj, bj in zip(a, b):
        # Midrank of the cell: A + B + (aj + bj + 1)/2; x's ranks in it
        # minus their indices A + t sum to aj (B + bj/2)^2 + aj (aj^2-1)/12.
        ux += aj * (Fraction(2 * B + bj, 2)) ** 2 + Fraction(aj * (aj * aj - 1), 12)
        uy += bj * (Fraction(2 * A + aj, 2)) ** 2 + Fraction(bj * (bj * bj - 1), 12)
        A += aj
        B += bj
    u = n * ux + m * uy
    return float(u / (n * m * N) - Fraction(4 * n * m - 1, 6 * N))


def cvm_inf_sf(x):
    """P(W^2 > x) of the limiting Cramér-von Mises distribution by Smirnov's
    series, sum_k (-1)^(k+1)/pi integral over [((2k-1) pi)^2, (2k pi)^2] of
    sqrt(-sqrt(y)/sin(sqrt(y))) exp(-x y/2) / y dy: no cancellation in the
    upper tail. With y = u^2, u = (2k-1) pi + t, each integral is
    2 sqrt(u/sin t) exp(-x u^2/2) / u dt over [0, pi], whose 1/sqrt
    singularities at both ends quad's algebraic weight takes exactly."""
    tot = 0.0
    for k in range(1, 60):
        def smooth(t, k=k):
            u = (2 * k - 1) * math.pi + t
            s = math.sin(t) if t <= math.pi / 2 else math.sin(math.pi - t)
            ratio = t * (math.pi - t) / s if s > 0 else math.pi  # its limit at both ends
            return 2 * math.sqrt(u * ratio) * math.exp(-x * u * u / 2) / u

        v, _ = quad(smooth, 0, math.pi, weight="alg", wvar=(-0.5, -0.5), epsabs=0, epsrel=1e-13, limit=200)
        tot += (-1) ** (k + 1) * v / math.pi
        if v <= 1e-17 * abs(tot):
            break
    return tot


def cvm_tn(t, n, m):
    """scipy's standardized statistic T_n of T for samples of n and m."""
    N, k = n + m, n * m
    et = (1 + 1 / N) / 6
    vt = (N + 1) * (4 * k * N - 3 * (n * n + m * m) - 2 * k) / (45 * N * N * 4 * k)
    return 1 / 6 + (t - et) / math.sqrt(45 * vt)


# Smirnov's tail agrees with scipy's series where that is accurate (up to
# x = 1.5), and with its rounding noise beyond.
limiting = []
for x in [0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.168, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0, 50.0,
          100.0, 140.0, 149.0]:
    sf = cvm_inf_sf(x)
    scipy_sf = 1 - float(stats._hypotests._cdf_cvm_inf(np.asarray(x)))
    assert abs(sf - scipy_sf) <= (1e-11 * sf if x <= 1 else 1e-9 * sf if x <= 1.5 else 2e-6), (x, sf, scipy_sf)
    limiting.append({"name": f"x={x}", "x": x, "sf": sf, "scipy_sf": scipy_sf})


def cvm_mid(x, y):
    """The mid-ECDF Cramér-von Mises T of the samples x and y and its
    asymptotic p-value."""
    xs, ys = np.sort(x), np.sort(y)
    n, m = len(x), len(y)
    N = n + m
    z = np.concatenate([xs, ys])
    f = (np.searchsorted(xs, z, "left") + np.searchsorted(xs, z, "right")) / (2 * n)
    g = (np.searchsorted(ys, z, "left") + np.searchsorted(ys, z, "right")) / (2 * m)
    t = n * m / N**2 * np.sum((f - g) ** 2) + 1 / (4 * N)
    t = np.asarray(t, dtype=np.float64)
    p = float(_pval_cvm_2samp_asymptotic(t, N, n, m, n * m, xp=array_namespace(t)))
    tn = cvm_tn(float(t), n, m)
    if tn > 1:
        tail = cvm_inf_sf(tn)
        assert abs(p - tail) <= SCIPY_NOISE, (tn, p, tail)
        p = tail
    return float(t), p


def normal_bins(total, shift=0.0, scale=1.0, tail=0.0, bins=100):
    """Counts of `total` draws of N(shift, scale^2) (a share `tail` of them
    from a t distribution with 2 degrees of freedom instead) over the
    standard normal's `bins` quantile bins."""
    edges = stats.norm.ppf(np.linspace(0, 1, bins + 1)[1:-1])
    k = rng.binomial(total, tail) if tail else 0
    x = np.concatenate([rng.normal(shift, scale, total - k), rng.standard_t(2, k)])
    return np.bincount(np.searchsorted(edges, x, side="right"), minlength=bins)


def poisson(k, lam, zero_frac):
    c = rng.poisson(lam, k)
    c[rng.random(k) < zero_frac] = 0
    return c


pairs = [
    ("ties-small", [3, 0, 2, 5, 1], [1, 4, 0, 2, 3]),
    ("two-and-two", [1, 1, 0], [0, 1, 1]),
    ("four-observations", [2, 0], [1, 1]),
    ("three-observations", [1, 1, 0], [0, 0, 1]),
    ("one-current-value", [40, 25, 10, 5], [0, 1, 0, 0]),
    ("empty-bins", [0, 0, 12, 0, 7, 0, 0, 30, 0, 4, 0, 0], [0, 3, 10, 0, 9, 0, 0, 22, 0, 0, 5, 0]),
    ("identical-small", [5, 9, 14, 9, 5], [5, 9, 14, 9, 5]),
    ("disjoint-supports", [10, 20, 5, 0, 0, 0], [0, 0, 0, 7, 12, 3]),
    ("interleaved-supports", [10, 0, 10, 0, 10, 0], [0, 10, 0, 10, 0, 10]),
    ("cur-in-one-bin", [50, 80, 120, 80, 50], [0, 0, 200, 0, 0]),
    ("cur-in-last-bin", [50, 80, 120, 80, 50], [0, 0, 0, 0, 60]),
    ("single-bin-both", [0, 7, 0], [0, 5, 0]),
    ("two-bins", [30, 70], [45, 55]),
    ("two-bins-swapped", [5, 0], [0, 5]),
    ("proportional-small", [4, 4, 4, 4], [12, 12, 12, 12]),
    ("no-ties-interleaved-30", [1, 0] * 30, [0, 1] * 30),
]
# Without ties: every bin holds at most one observation.
for n, m in [(25, 30), (40, 120), (300, 200)]:
    cells = rng.permutation(np.repeat([1, 2, 0], [n, m, n + m]))
    pairs.append((f"no-ties-{n}-{m}", (cells == 1).astype(int), (cells == 2).astype(int)))
pairs.append(("no-ties-shifted-60-60", [1] * 60 + [0] * 60 + [0] * 40, [0] * 40 + [1] * 60 + [0] * 60))
fine = normal_bins(200000)
pairs += [
    ("identical-large", fine, fine),
    ("proportional-large", fine, 3 * fine),
    ("same-distribution-200k-50k", normal_bins(200000), normal_bins(50000)),
    ("same-distribution-1m-1m", normal_bins(1000000), normal_bins(1000000)),
    ("shift-0.01-1m", normal_bins(1000000), normal_bins(1000000, shift=0.01)),
    ("shift-0.1-20k", normal_bins(20000), normal_bins(5000, shift=0.1)),
    ("shift-1-5k", normal_bins(5000), normal_bins(3000, shift=1.0)),
    ("scale-1.1-10k", normal_bins(10000), normal_bins(10000, scale=1.1)),
    ("scale-0.9-100k", normal_bins(100000), normal_bins(30000, scale=0.9)),
    ("heavy-tails-5pc-20k", normal_bins(20000), normal_bins(20000, tail=0.05)),
    ("shift-0.005-5m-3m", normal_bins(5000000), normal_bins(3000000, shift=0.005)),
    ("same-distribution-7m-3m", normal_bins(7000000), normal_bins(3000000)),
    ("imbalance-1m-vs-2", normal_bins(1000000), np.eye(100, dtype=np.int64)[37] * 2),
    ("imbalance-3-vs-500k", [0] * 20 + [1, 1, 1] + [0] * 77, normal_bins(500000)),
    ("ten-bins-1m", normal_bins(1000000, bins=10), normal_bins(800000, shift=0.02, bins=10)),
]
for i in range(30):
    k = int(rng.integers(2, 121))
    lam = [0.5, 3, 40, 2000, 50000][i % 5]
    ref = poisson(k, lam, 0.15)
    cur = poisson(k, lam * rng.uniform(0.2, 3), 0.15)
    if i % 3 == 0:  # a tilt: more mass towards one end
        cur = np.round(cur * np.linspace(0.5, 1.5, k)).astype(np.int64)
    pairs.append((f"poisson-{i}-k{k}-lam{lam}", ref, cur))

cases = []
branches = {"capped": 0, "interpolated": 0, "floored": 0}
for name, ref, cur in pairs:
    ref = np.asarray(ref, dtype=np.int64)
    cur = np.asarray(cur, dtype=np.int64)
    x, y = expand(ref), expand(cur)
    c = {"name": name, "ref": ref, "cur": cur}
    refs = {}

    default, err = reference(stats.anderson_ksamp, [x, y])
    if err is None:
        mid, _ = reference(stats.anderson_ksamp, [x, y], variant="midrank")
        same = np.array_equal([mid.statistic, mid.pvalue], [default.statistic, default.pvalue], equal_nan=True)
        assert same, (name, mid, default)
    if err is not None or np.count_nonzero(ref + cur) < 2:
        c.update(ad_stat=NAN, ad_p=NAN)
        if err is not None or not math.isnan(default.statistic):
            refs["anderson_ksamp"] = err or f"statistic {float(default.statistic)!r}, p {float(default.pvalue)!r}"
    else:
        c.update(ad_stat=float(default.statistic), ad_p=float(default.pvalue))
        p = float(default.pvalue)
        branches["capped" if p == 0.25 else "floored" if p == 0.001 else "interpolated"] += 1

    r, err = reference(stats.cramervonmises_2samp, x, y, method="asymptotic")
    if len(x) < 2 or len(y) < 2:
        # scipy returns NaN for fewer than two values, as driftwatch.
        assert err is None and math.isnan(r.statistic) and math.isnan(r.pvalue), (name, r, err)
        c.update(cvm_stat=NAN, cvm_p=NAN, scipy_cvm_stat=NAN, scipy_cvm_p=NAN, scipy_cvm_exact=NAN)
    else:
        assert err is None, (name, err)
        t, p = cvm_mid(x, y)
        exact = cvm_exact(ref.tolist(), cur.tolist())
        # scipy's T is the exact one up to its rounding, which grows with N.
        assert abs(float(r.statistic) - exact) <= 1e-15 * (len(x) + len(y)) + 1e-12 * abs(exact), (name, r.statistic, exact)
        tn = cvm_tn(exact, len(x), len(y))
        if tn > 1:
            assert abs(float(r.pvalue) - cvm_inf_sf(tn)) <= SCIPY_NOISE, (name, tn, r.pvalue)
        if (ref + cur).max() <= 1:  # no ties: the mid-ECDF T is scipy's
            assert abs(t - float(r.statistic)) <= 1e-12 * t, (name, t, r.statistic)
            assert abs(p - float(r.pvalue)) <= 1e-12, (name, p, r.pvalue)
        c.update(cvm_stat=t, cvm_p=p, scipy_cvm_stat=float(r.statistic), scipy_cvm_p=float(r.pvalue),
                 scipy_cvm_exact=exact)
    if refs:
        c["reference"] = refs
    cases.append(c)

# Every branch of anderson_ksamp's p-value is covered.
assert all(branches.values()), branches

write(__file__, {"versions": versions("numpy", "scipy"), "seed": SEED}, {"binned": cases, "limiting_sf": limiting})
