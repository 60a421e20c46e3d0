#!/usr/bin/env python3
"""Generate golden.json: SciPy reference values for package stats.

Run from the repository root:

    pip install scipy numpy
    python3 stats/testdata/golden.py

The committed golden.json was generated with scipy 1.17.1 and numpy 2.4.6
(both versions are also recorded inside golden.json). The numpy seed is
fixed, so regenerating with the same versions reproduces the file byte for
byte; golden_test.go compares package stats against it.

Notes on what is compared:
  * KS p-values are the asymptotic kstwobign.sf(sqrt(en) * D) that package
    stats documents, not ks_2samp's own p (which uses kstwo at round(en)).
    D is always scipy.stats.ks_2samp's statistic, except for fractional
    weights, which ks_2samp cannot take (D from numpy cumulative sums).
  * PSI has no SciPy implementation; it is computed here in numpy with the
    same eps rule (zero proportions replaced by eps, default 1e-4).
  * chi2_contingency rejects empty columns, so categories empty in both rows
    are dropped before calling it, as package stats does.
"""

import json
import math
import os

import numpy as np
import scipy
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, kstwobign, wasserstein_distance

SEED = 20240611
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.json")
rng = np.random.default_rng(SEED)


def fl(a):
    return [float(x) for x in a]


def counts(k, zero_frac=0.2, lam=None, weights=False):
    """Random non-negative count vector of length k with some zeros."""
    if weights:
        c = rng.gamma(0.8, 3.0, size=k)
    else:
        lam = lam if lam is not None else rng.uniform(0.5, 200)
        c = rng.poisson(lam, size=k).astype(float)
    c[rng.random(k) < zero_frac] = 0.0
    if c.sum() == 0:
        c[rng.integers(k)] = 1.0
    return c


def ks_asymp_p(d, n, m):
    en = n * m / (n + m)
    return float(kstwobign.sf(math.sqrt(en) * d))


# --- Kolmogorov distribution ------------------------------------------------
xs = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.82,
      0.9, 1.0, 1.1, 1.17, 1.18, 1.19, 1.2, 1.3, 1.358, 1.5, 1.75, 2.0, 2.5,
      3.0, 3.5, 4.0, 5.0, 6.0, 8.0]
xs += fl(np.round(np.linspace(0.03, 4.0, 41), 6))
xs = sorted(set(xs))
kolmogorov = [{"x": x, "sf": float(kstwobign.sf(x)), "cdf": float(kstwobign.cdf(x))}
              for x in xs]


# --- PSI (numpy, same eps rule) ----------------------------------------------
def psi(ref, cur, eps):
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
    psi_cases.append({"name": f"random-{i}", "ref": fl(ref), "cur": fl(cur),
                      "eps": eps, "want": psi(ref, cur, eps)})
shared = counts(12)
psi_cases.append({"name": "identical", "ref": fl(shared), "cur": fl(shared),
                  "eps": 0.0, "want": psi(shared, shared, 0.0)})
psi_cases.append({"name": "scaled-identical", "ref": fl(shared), "cur": fl(3 * shared),
                  "eps": 0.0, "want": psi(shared, 3 * shared, 0.0)})
a, b = np.array([5.0, 3, 0, 0]), np.array([0.0, 0, 4, 1])
psi_cases.append({"name": "disjoint", "ref": fl(a), "cur": fl(b), "eps": 0.0,
                  "want": psi(a, b, 0.0)})

# --- KS ----------------------------------------------------------------------
ks_binned, ks_samp = [], []


def add_discrete(name, x, y):
    """Each distinct value gets its own bin, so binned D is exact."""
    support = np.union1d(x, y)
    ref = np.array([np.sum(x == s) for s in support], dtype=float)
    cur = np.array([np.sum(y == s) for s in support], dtype=float)
    d = float(ks_2samp(x, y).statistic)
    p = ks_asymp_p(d, len(x), len(y))
    ks_binned.append({"name": name, "ref": fl(ref), "cur": fl(cur), "d": d, "p": p})
    ks_samp.append({"name": name, "x": fl(x), "y": fl(y), "d": d, "p": p})


for i in range(15):
    n, m = int(rng.integers(1, 300)), int(rng.integers(1, 300))
    lam = rng.uniform(1, 15)
    x = rng.poisson(lam, n).astype(float)
    y = rng.poisson(lam * rng.uniform(0.8, 1.3), m).astype(float)
    add_discrete(f"discrete-poisson-{i}", x, y)
add_discrete("discrete-identical", np.array([1.0, 2, 2, 3, 5]), np.array([1.0, 2, 2, 3, 5]))
add_discrete("discrete-disjoint", np.array([1.0, 2, 2]), np.array([7.0, 8, 9, 9]))
add_discrete("discrete-single-value", np.array([4.0, 4, 4]), np.array([4.0, 4]))

# Random count vectors (zeros included): expand to samples whose values are
# the bin indices, so ks_2samp's D is the binned D.
for i in range(15):
    k = int(rng.integers(1, 30))
    ref, cur = counts(k, lam=rng.uniform(0.5, 40)), counts(k, lam=rng.uniform(0.5, 40))
    x = np.repeat(np.arange(k, dtype=float), ref.astype(int))
    y = np.repeat(np.arange(k, dtype=float), cur.astype(int))
    d = float(ks_2samp(x, y).statistic)
    ks_binned.append({"name": f"counts-{i}", "ref": fl(ref), "cur": fl(cur),
                      "d": d, "p": ks_asymp_p(d, ref.sum(), cur.sum())})

# Fractional weights: D from numpy cumulative proportions.
for i in range(5):
    k = int(rng.integers(2, 25))
    ref, cur = counts(k, weights=True), counts(k, weights=True)
    d = float(np.max(np.abs(np.cumsum(ref) / ref.sum() - np.cumsum(cur) / cur.sum())))
    ks_binned.append({"name": f"weights-{i}", "ref": fl(ref), "cur": fl(cur),
                      "d": d, "p": ks_asymp_p(d, ref.sum(), cur.sum())})

# Continuous samples of various sizes, some rounded to create ties.
for i, (n, m) in enumerate([(1, 1), (1, 5), (3, 4), (10, 10), (25, 40), (100, 80),
                            (250, 500), (1000, 700), (60, 2000), (400, 400)]):
    x = rng.normal(0, 1, n)
    y = rng.normal(rng.uniform(-0.3, 0.3), rng.uniform(0.8, 1.3), m)
    if i % 3 == 2:
        x, y = np.round(x, 1), np.round(y, 1)
    d = float(ks_2samp(x, y).statistic)
    ks_samp.append({"name": f"normal-{n}-{m}", "x": fl(x), "y": fl(y),
                    "d": d, "p": ks_asymp_p(d, n, m)})

# --- Chi-squared -------------------------------------------------------------


def add_chi2(name, ref, cur):
    table = np.array([ref, cur])
    table = table[:, table.sum(axis=0) > 0]
    res = chi2_contingency(table, correction=False)
    chi2_cases.append({"name": name, "ref": fl(ref), "cur": fl(cur),
                       "stat": float(res.statistic), "p": float(res.pvalue),
                       "dof": int(res.dof)})


chi2_cases = []
for i in range(30):
    k = int(rng.integers(1, 20))
    lam = rng.uniform(1, 500)
    ref = counts(k, lam=lam)
    cur = counts(k, lam=lam * rng.uniform(0.5, 2.0))
    if i % 3 == 0:  # a category present in both, drifting
        cur[0] += rng.integers(0, 50)
    add_chi2(f"random-{i}", ref, cur)
add_chi2("unseen-in-ref", np.array([50.0, 30, 20, 0]), np.array([45.0, 35, 15, 5]))
add_chi2("empty-both-dropped", np.array([50.0, 0, 30, 20]), np.array([40.0, 0, 25, 35]))
add_chi2("single-category", np.array([7.0, 0]), np.array([3.0, 0]))
add_chi2("identical-proportions", np.array([10.0, 20, 30]), np.array([20.0, 40, 60]))
add_chi2("large-drift-small-p", np.array([5000.0, 3000, 2000]), np.array([2000.0, 3000, 5000]))

# --- Jensen-Shannon ----------------------------------------------------------
js_cases = []
for i in range(30):
    k = int(rng.integers(1, 40))
    w = i % 3 == 2
    p, q = counts(k, weights=w), counts(k, weights=w)
    js_cases.append({"name": f"random-{i}", "p": fl(p), "q": fl(q),
                     "want": float(jensenshannon(p, q))})
for name, p, q in [("disjoint", [1.0, 0, 0], [0.0, 2, 3]),
                   ("scaled-identical", [1.0, 2, 3], [2.0, 4, 6]),
                   ("half-overlap", [1.0, 1, 0], [0.0, 1, 1])]:
    js_cases.append({"name": name, "p": p, "q": q,
                     "want": float(jensenshannon(np.array(p), np.array(q)))})

# --- Wasserstein -------------------------------------------------------------
w_cases = []
for i in range(40):
    n, m = int(rng.integers(1, 300)), int(rng.integers(1, 300))
    u = rng.normal(0, 1, n)
    v = rng.normal(rng.uniform(-1, 1), rng.uniform(0.5, 2), m)
    if i % 4 == 1:  # ties
        u, v = np.round(u, 1), np.round(v, 1)
    uw = vw = None
    if i % 2 == 1:
        uw = rng.gamma(1.0, 2.0, n)
        vw = rng.gamma(1.0, 2.0, m)
        uw[rng.random(n) < 0.1] = 0.0
        vw[rng.random(m) < 0.1] = 0.0
        if uw.sum() == 0:
            uw[0] = 1.0
        if vw.sum() == 0:
            vw[0] = 1.0
    if i % 8 == 3:  # weights on one side only
        vw = None
    want = float(wasserstein_distance(u, v, uw, vw))
    w_cases.append({"name": f"random-{i}", "u_values": fl(u),
                    "u_weights": None if uw is None else fl(uw),
                    "v_values": fl(v), "v_weights": None if vw is None else fl(vw),
                    "want": want})
for name, u, v, uw, vw in [
    ("scipy-doc-1", [0.0, 1, 3], [5.0, 6, 8], None, None),
    ("scipy-doc-2", [0.0, 1], [0.0, 1], [3.0, 1], [2.0, 2]),
    ("scipy-doc-3", [3.4, 3.9, 7.5, 7.8], [4.5, 1.4], [1.4, 0.9, 3.1, 7.2], [3.2, 3.5]),
    ("identical", [1.0, 2, 2, 5], [5.0, 2, 1, 2], None, None),
    ("single-points", [2.5], [-1.0], None, None),
]:
    w_cases.append({"name": name, "u_values": u, "u_weights": uw, "v_values": v,
                    "v_weights": vw,
                    "want": float(wasserstein_distance(u, v, uw, vw))})

golden = {
    "generator": "stats/testdata/golden.py",
    "scipy_version": scipy.__version__,
    "numpy_version": np.__version__,
    "seed": SEED,
    "kolmogorov": kolmogorov,
    "psi": psi_cases,
    "ks_binned": ks_binned,
    "ks_2samp": ks_samp,
    "chi2": chi2_cases,
    "jensenshannon": js_cases,
    "wasserstein": w_cases,
}
# One case per line keeps the file small and its diffs readable.
with open(OUT, "w") as f:
    f.write("{\n")
    for i, (key, val) in enumerate(golden.items()):
        f.write(f" {json.dumps(key)}: ")
        if isinstance(val, list):
            f.write("[\n")
            f.write(",\n".join("  " + json.dumps(c, allow_nan=False) for c in val))
            f.write("\n ]")
        else:
            f.write(json.dumps(val, allow_nan=False))
        f.write(",\n" if i < len(golden) - 1 else "\n")
    f.write("}\n")
print(f"wrote {OUT} (scipy {scipy.__version__}, numpy {np.__version__})")
