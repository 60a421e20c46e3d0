#!/usr/bin/env python3
"""Write core.json: SciPy reference values for the first functions of
package stats (golden_test.go): kstwobign, PSI, binned and raw two-sample KS
with the asymptotic p-value, chi-squared homogeneity, Jensen-Shannon and
Wasserstein-1.

Run with `make golden` (pinned versions from requirements.txt beside this
file), or directly from the repository root:

    python3 stats/testdata/golden/gen_core.py

Seeded, so the same versions (recorded in the file) reproduce it byte for
byte. Conventions (NaN, run-length samples, "reference") are in goldenjson.py.

Notes on what is compared:
  * KS p-values are the asymptotic kstwobign.sf(sqrt(en) * D) of KS2Samp,
    not ks_2samp's own p (which uses kstwo at round(en); gen_stats.py checks
    that one). D is scipy.stats.ks_2samp's statistic, except for fractional
    weights, which ks_2samp cannot take (D from numpy cumulative sums).
  * PSI has no SciPy implementation; it is computed here in numpy with the
    same eps rule (zero proportions replaced by eps, default 1e-4).
  * chi2_contingency rejects empty columns, so categories empty in both rows
    are dropped before calling it, as package stats does.
  * Data problems (empty input, zero total, negative or NaN counts, NaN
    values): driftwatch returns NaN (stats/doc.go). Where SciPy raises or
    returns something else, the case records that in "reference".
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from scipy.spatial.distance import jensenshannon  # noqa: E402
from scipy.stats import chi2_contingency, ks_2samp, kstwobign, wasserstein_distance  # noqa: E402

from goldenjson import pack, reference, sig, versions, write  # noqa: E402

SEED = 20240611
rng = np.random.default_rng(SEED)
NAN = float("nan")


def counts(k, zero_frac=0.2, lam=None, weights=False):
    """Random non-negative count vector of length k with some zeros."""
    if weights:
        c = sig(rng.gamma(0.8, 3.0, size=k), 4)
    else:
        lam = lam if lam is not None else rng.uniform(0.5, 200)
        c = rng.poisson(lam, size=k).astype(float)
    c[rng.random(k) < zero_frac] = 0.0
    if c.sum() == 0:
        c[rng.integers(k)] = 1.0
    return c


def shaped(kind, n):
    """A random sample of n values of the named shape, 4 significant digits."""
    if kind == "normal":
        x = rng.normal(rng.uniform(-0.3, 0.3), rng.uniform(0.8, 1.3), n)
    elif kind == "lognormal":
        x = rng.lognormal(0, 1.5, n)
    elif kind == "uniform":
        x = rng.uniform(-2, 5, n)
    elif kind == "bimodal":
        x = np.where(rng.random(n) < 0.3, rng.normal(-3, 0.5, n), rng.normal(2, 1, n))
    elif kind == "discrete":
        x = rng.poisson(3, n).astype(float)
    elif kind == "cauchy":
        x = rng.standard_cauchy(n)
    else:
        raise ValueError(kind)
    return sig(x, 4)


def ks_asymp_p(d, n, m):
    if n == 0 or m == 0 or math.isnan(d):
        return NAN
    en = n * m / (n + m)
    return float(kstwobign.sf(math.sqrt(en) * d))


# --- Kolmogorov distribution ------------------------------------------------
xs = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.82,
      0.9, 1.0, 1.1, 1.17, 1.18, 1.19, 1.2, 1.3, 1.358, 1.5, 1.75, 2.0, 2.5,
      3.0, 3.5, 4.0, 5.0, 6.0, 8.0]
xs += [float(v) for v in np.round(np.linspace(0.03, 4.0, 41), 6)]
xs = sorted(set(xs))
kolmogorov = [{"x": x, "sf": float(kstwobign.sf(x)), "cdf": float(kstwobign.cdf(x))}
              for x in xs]


# --- PSI (numpy, same eps rule) ----------------------------------------------
def psi(ref, cur, eps):
    ref, cur = np.asarray(ref, float), np.asarray(cur, float)
    if len(ref) == 0 or not (np.all(ref >= 0) and np.all(cur >= 0)) or \
            not (np.isfinite(ref).all() and np.isfinite(cur).all()) or ref.sum() == 0 or cur.sum() == 0:
        return NAN
    e = eps if eps > 0 else 1e-4
    r = ref / ref.sum()
    c = cur / cur.sum()
    r = np.where(r == 0, e, r)
    c = np.where(c == 0, e, c)
    return float(np.sum((c - r) * np.log(c / r)))


psi_cases = []
for i in range(40):
    k = int(rng.integers(1, 40))
    w = i % 5 == 4
    ref, cur = counts(k, weights=w), counts(k, weights=w)
    eps = [0.0, 1e-4, 1e-3, 1e-6][i % 4]
    psi_cases.append({"name": f"random-{i}", "ref": ref, "cur": cur,
                      "eps": eps, "want": psi(ref, cur, eps)})
shared = counts(12)
for name, a, b, eps in [
    ("identical", shared, shared, 0.0),
    ("scaled-identical", shared, 3 * shared, 0.0),
    ("disjoint", [5.0, 3, 0, 0], [0.0, 0, 4, 1], 0.0),
    ("single-bin", [7.0], [3.0], 0.0),
    ("unseen-category-in-cur", [50.0, 30, 20, 0], [45.0, 35, 15, 5], 0.0),
    ("category-gone-from-cur", [50.0, 30, 20, 5], [45.0, 35, 15, 0], 0.0),
    ("empty-in-both", [50.0, 0, 30], [40.0, 0, 25], 0.0),
    ("imbalance-1-in-100000", [99999.0, 1], [99000.0, 1000], 0.0),
    ("imbalance-0.999-0.001", [999.0, 1], [990.0, 10], 1e-6),
]:
    psi_cases.append({"name": name, "ref": a, "cur": b, "eps": eps,
                      "want": psi(np.array(a, float), np.array(b, float), eps)})
# Data problems: driftwatch returns NaN (there is no SciPy PSI; psi() above
# encodes that rule).
for name, a, b in [
    ("empty", [], []),
    ("zero-total-ref", [0.0, 0], [1.0, 2]),
    ("zero-total-cur", [1.0, 2], [0.0, 0]),
    ("nan-count", [1.0, NAN], [1.0, 2]),
    ("inf-count", [1.0, 2], [math.inf, 2]),
    ("negative-count", [3.0, -1, 2], [1.0, 2, 2]),
]:
    psi_cases.append({"name": name, "ref": a, "cur": b, "eps": 0.0, "want": psi(a, b, 0.0)})

# --- KS ----------------------------------------------------------------------
ks_binned, ks_samp = [], []


def add_discrete(name, x, y):
    """Each distinct value gets its own bin, so binned D is exact."""
    support = np.union1d(x, y)
    ref = np.array([np.sum(x == s) for s in support], dtype=float)
    cur = np.array([np.sum(y == s) for s in support], dtype=float)
    d = float(ks_2samp(x, y).statistic)
    p = ks_asymp_p(d, len(x), len(y))
    ks_binned.append({"name": name, "ref": ref, "cur": cur, "d": d, "p": p})
    ks_samp.append({"name": name, "x": pack(np.sort(x)), "y": pack(np.sort(y)), "d": d, "p": p})


for i in range(15):
    n, m = int(rng.integers(1, 300)), int(rng.integers(1, 300))
    lam = rng.uniform(1, 15)
    x = np.sort(rng.poisson(lam, n).astype(float))
    y = np.sort(rng.poisson(lam * rng.uniform(0.8, 1.3), m).astype(float))
    add_discrete(f"discrete-poisson-{i}", x, y)
add_discrete("discrete-identical", np.array([1.0, 2, 2, 3, 5]), np.array([1.0, 2, 2, 3, 5]))
add_discrete("discrete-disjoint", np.array([1.0, 2, 2]), np.array([7.0, 8, 9, 9]))
add_discrete("discrete-single-value", np.array([4.0, 4, 4]), np.array([4.0, 4]))
add_discrete("discrete-imbalance-1-vs-100000",
             np.array([3.0]), np.sort(rng.poisson(3, 100000).astype(float)))
x = np.sort(rng.binomial(1, 0.001, 100000).astype(float))
add_discrete("discrete-proportion-0.999-0.001", x, np.sort(rng.binomial(1, 0.003, 20000).astype(float)))

# Random count vectors (zeros included): expand to samples whose values are
# the bin indices, so ks_2samp's D is the binned D.
for i in range(15):
    k = int(rng.integers(1, 30))
    ref, cur = counts(k, lam=rng.uniform(0.5, 40)), counts(k, lam=rng.uniform(0.5, 40))
    x = np.repeat(np.arange(k, dtype=float), ref.astype(int))
    y = np.repeat(np.arange(k, dtype=float), cur.astype(int))
    d = float(ks_2samp(x, y).statistic)
    ks_binned.append({"name": f"counts-{i}", "ref": ref, "cur": cur,
                      "d": d, "p": ks_asymp_p(d, ref.sum(), cur.sum())})

# Fractional weights: D from numpy cumulative proportions.
for i in range(5):
    k = int(rng.integers(2, 25))
    ref, cur = counts(k, weights=True), counts(k, weights=True)
    d = float(np.max(np.abs(np.cumsum(ref) / ref.sum() - np.cumsum(cur) / cur.sum())))
    ks_binned.append({"name": f"weights-{i}", "ref": ref, "cur": cur,
                      "d": d, "p": ks_asymp_p(d, ref.sum(), cur.sum())})
for name, a, b in [("empty", [], []), ("zero-total-ref", [0.0, 0], [1.0, 2]),
                   ("nan-count", [1.0, NAN], [1.0, 2]), ("negative-count", [1.0, -1], [1.0, 2])]:
    ks_binned.append({"name": name, "ref": a, "cur": b, "d": NAN, "p": NAN})

# Continuous samples of many sizes and shapes; some rounded further to
# create ties.
kinds = ["normal", "lognormal", "uniform", "bimodal", "discrete", "cauchy"]
for i, (n, m) in enumerate([(1, 1), (1, 5), (3, 4), (10, 10), (25, 40), (100, 80),
                            (250, 500), (1000, 700), (60, 2000), (400, 400), (7, 300), (2, 2)]):
    kind = kinds[i % len(kinds)]
    x, y = shaped(kind, n), shaped(kind, m)
    if i % 3 == 2:
        x, y = np.round(x, 1), np.round(y, 1)
    d = float(ks_2samp(x, y).statistic)
    ks_samp.append({"name": f"{kind}-{n}-{m}", "x": x, "y": y,
                    "d": d, "p": ks_asymp_p(d, n, m)})
for name, x, y in [("empty-x", [], [1.0, 2]), ("nan-in-y", [1.0, 2, 3], [2.0, NAN]),
                   ("constant-both", [2.5] * 4, [2.5] * 3),
                   ("inf-values", [-math.inf, 1.0, 2, math.inf], [0.5, 1.5, math.inf])]:
    r, err = reference(ks_2samp, x, y)
    d = float(r.statistic)
    ks_samp.append({"name": name, "x": x, "y": y, "d": d, "p": ks_asymp_p(d, len(x), len(y))})


# --- Chi-squared -------------------------------------------------------------
def add_chi2(name, ref, cur):
    ref, cur = np.asarray(ref, float), np.asarray(cur, float)
    table = np.array([ref, cur]).reshape(2, -1)
    kept = table[:, table.sum(axis=0) > 0] if np.isfinite(table).all() else table
    res, err = reference(chi2_contingency, kept, correction=False)
    case = {"name": name, "ref": ref, "cur": cur}
    if err is None and not math.isnan(res.statistic):
        case.update(stat=float(res.statistic), p=float(res.pvalue), dof=int(res.dof))
    else:
        # driftwatch: homogeneity with an empty or invalid row is NaN.
        case.update(stat=NAN, p=NAN, dof=0)
        if err is not None:
            case["reference"] = err
        elif int(res.dof) != 0:
            case["reference"] = f"statistic NaN, dof {int(res.dof)}"
    chi2_cases.append(case)


chi2_cases = []
for i in range(30):
    k = int(rng.integers(1, 20))
    lam = rng.uniform(1, 500)
    ref = counts(k, lam=lam)
    cur = counts(k, lam=lam * rng.uniform(0.5, 2.0))
    if i % 3 == 0:  # a category present in both, drifting
        cur[0] += rng.integers(0, 50)
    add_chi2(f"random-{i}", ref, cur)
add_chi2("unseen-in-ref", [50.0, 30, 20, 0], [45.0, 35, 15, 5])
add_chi2("unseen-in-cur", [50.0, 30, 20, 5], [45.0, 35, 15, 0])
add_chi2("unseen-both-ways", [50.0, 0, 20, 5], [45.0, 12, 15, 0])
add_chi2("empty-both-dropped", [50.0, 0, 30, 20], [40.0, 0, 25, 35])
add_chi2("single-category", [7.0, 0], [3.0, 0])
add_chi2("identical-proportions", [10.0, 20, 30], [20.0, 40, 60])
add_chi2("large-drift-small-p", [5000.0, 3000, 2000], [2000.0, 3000, 5000])
add_chi2("imbalance-1-in-100000", [99999.0, 1], [99990.0, 10])
add_chi2("imbalance-0.999-0.001", [999.0, 1], [990.0, 10])
add_chi2("rare-unseen-in-100000", [100000.0, 0], [99999.0, 1])
add_chi2("empty", [], [])
add_chi2("zero-total-cur", [3.0, 4], [0.0, 0])
add_chi2("nan-count", [3.0, NAN], [1.0, 2])
add_chi2("negative-count", [3.0, -1], [1.0, 2])

# --- Jensen-Shannon ----------------------------------------------------------
js_cases = []


def add_js(name, p, q):
    r, err = reference(jensenshannon, np.asarray(p, float), np.asarray(q, float))
    p, q = np.asarray(p, float), np.asarray(q, float)
    bad = len(p) == 0 or not (np.all(p >= 0) and np.all(q >= 0)) or \
        not (np.isfinite(p).all() and np.isfinite(q).all()) or p.sum() == 0 or q.sum() == 0
    case = {"name": name, "p": p, "q": q, "want": NAN if bad else float(r)}
    if bad and (err is not None or not math.isnan(r)):
        case["reference"] = err or f"scipy returns {float(r)!r}"
    js_cases.append(case)


for i in range(30):
    k = int(rng.integers(1, 40))
    w = i % 3 == 2
    add_js(f"random-{i}", counts(k, weights=w), counts(k, weights=w))
for name, p, q in [("disjoint", [1.0, 0, 0], [0.0, 2, 3]),
                   ("scaled-identical", [1.0, 2, 3], [2.0, 4, 6]),
                   ("half-overlap", [1.0, 1, 0], [0.0, 1, 1]),
                   ("single-bin", [4.0], [9.0]),
                   ("unseen-in-ref", [50.0, 30, 0], [45.0, 35, 5]),
                   ("imbalance-1-in-100000", [99999.0, 1], [99000.0, 1000]),
                   ("empty", [], []),
                   ("zero-total", [0.0, 0], [1.0, 1]),
                   ("nan-count", [NAN, 1.0], [1.0, 1]),
                   ("negative-count", [-1.0, 2], [1.0, 1])]:
    add_js(name, p, q)


# --- Wasserstein -------------------------------------------------------------
w_cases = []


def add_w(name, u, v, uw=None, vw=None):
    r, err = reference(wasserstein_distance, u, v, uw, vw)
    case = {"name": name, "u_values": u, "u_weights": uw, "v_values": v, "v_weights": vw}
    if err is None:
        case["want"] = float(r)
    else:
        case["want"] = NAN
        case["reference"] = err or f"scipy returns {float(r)!r}"
    w_cases.append(case)


for i in range(40):
    n, m = int(rng.integers(1, 300)), int(rng.integers(1, 300))
    kind = kinds[i % len(kinds)]
    u, v = shaped(kind, n), shaped(kind, m)
    if i % 4 == 1:  # ties
        u, v = np.round(u, 1), np.round(v, 1)
    uw = vw = None
    if i % 2 == 1:
        uw = sig(rng.gamma(1.0, 2.0, n), 3)
        vw = sig(rng.gamma(1.0, 2.0, m), 3)
        uw[rng.random(n) < 0.1] = 0.0
        vw[rng.random(m) < 0.1] = 0.0
        if uw.sum() == 0:
            uw[0] = 1.0
        if vw.sum() == 0:
            vw[0] = 1.0
    if i % 8 == 3:  # weights on one side only
        vw = None
    add_w(f"{kind}-{i}", u, v, uw, vw)
for name, u, v, uw, vw in [
    ("scipy-doc-1", [0.0, 1, 3], [5.0, 6, 8], None, None),
    ("scipy-doc-2", [0.0, 1], [0.0, 1], [3.0, 1], [2.0, 2]),
    ("scipy-doc-3", [3.4, 3.9, 7.5, 7.8], [4.5, 1.4], [1.4, 0.9, 3.1, 7.2], [3.2, 3.5]),
    ("identical", [1.0, 2, 2, 5], [5.0, 2, 1, 2], None, None),
    ("single-points", [2.5], [-1.0], None, None),
    ("constant-both", [3.0] * 5, [3.0] * 2, None, None),
    ("empty-u", [], [1.0, 2], None, None),
    ("nan-value", [1.0, NAN], [1.0, 2], None, None),
    ("inf-value", [1.0, math.inf], [1.0, 2], None, None),
    ("zero-total-weight", [1.0, 2], [1.0, 2], [0.0, 0], None),
    ("negative-weight", [1.0, 2], [1.0, 2], [-1.0, 2], None),
]:
    add_w(name, u, v, uw, vw)
x = np.sort(shaped("lognormal", 100000))
x = np.sort(sig(x, 2))
add_w("imbalance-1-vs-100000", [1.5], x)
w_cases[-1]["v_values"] = pack(x)

write(__file__, {"versions": versions("numpy", "scipy"), "seed": SEED}, {
    "kolmogorov": kolmogorov,
    "psi": psi_cases,
    "ks_binned": ks_binned,
    "ks_2samp": ks_samp,
    "chi2": chi2_cases,
    "jensenshannon": js_cases,
    "wasserstein": w_cases,
})
