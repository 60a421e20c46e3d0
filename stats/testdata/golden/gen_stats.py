#!/usr/bin/env python3
"""Generate stats.json: SciPy reference values for the newer functions of
package stats (golden2_test.go).

Run from the repository root:

    pip install scipy numpy
    python3 stats/testdata/golden/gen_stats.py

Seeded (SEED below), so the same scipy/numpy versions (recorded in the
file) reproduce it byte for byte.

Notes:
  * kolmogn: scipy.stats.kstwo.sf(d, n) on a grid covering every branch of
    scipy.stats._ksstats._kolmogn.
  * ks_2samp_auto: scipy.stats.ks_2samp(x, y) with method='auto'; sizes on
    both sides of the exact/asymptotic boundary max(n, m) = 10000.
  * ks_binned: D from numpy cumulative proportions, p = kstwo.sf(D, round(en)).
  * anderson_ksamp: midrank variant; p is scipy's capped interpolation.
  * The proportion z-test comes from statsmodels when installed, otherwise
    from numpy/scipy.stats.norm with the same pooled formula (recorded in
    "proportion_ztest_source").
"""

import json
import math
import os
import warnings

import numpy as np
import scipy
from scipy import stats
from scipy.stats import kstwo

SEED = 20250301
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stats.json")
rng = np.random.default_rng(SEED)


def fl(a):
    return [float(v) for v in a]


# --- kolmogn -----------------------------------------------------------------
kolmogn = []
for n in [1, 2, 3, 5, 10, 20, 50, 100, 139, 140, 141, 200, 500, 1000, 5000,
          10000, 100000, 100001, 500000, 2000000]:
    ds = set()
    for c in [0.3, 0.5, 0.51, 0.8, 1.0, 1.5]:
        ds.add(c / n)                       # Ruben-Gambino region
    for s in [0.2, 0.5, 0.7, 0.8, 1.0, 1.3, 1.5, 1.8, 2.0, 2.1, 2.5, 3.0, 4.5, 6.0, 10.0, 19.0]:
        ds.add(s / math.sqrt(n))            # n d^2 = s^2 covers every cutover
    for d in [0.45, 0.5, 0.6, 0.9, 1 - 1.0 / n + 1e-9, 0.999]:
        ds.add(d)
    for d in sorted(ds):
        if 0 < d < 1:
            kolmogn.append({"n": n, "d": float(d), "sf": float(kstwo.sf(d, n))})


# --- two-sample KS -----------------------------------------------------------
def sample(n, kind):
    if kind == "normal":
        return rng.normal(0, 1, n)
    if kind == "shift":
        return rng.normal(0.3, 1.2, n)
    if kind == "ties":
        return rng.integers(0, 6, n).astype(float)
    if kind == "const":
        return np.full(n, 2.5)
    raise ValueError(kind)


ks_sizes = [(1, 1), (1, 5), (2, 3), (3, 3), (5, 7), (10, 10), (10, 25), (20, 30),
            (37, 41), (50, 50), (100, 60), (200, 300), (500, 500), (1000, 1500),
            (9999, 30), (10000, 10000), (10000, 40), (10001, 40), (10001, 10001), (20000, 15000)]
ks_auto = []
for (n, m) in ks_sizes:
    for kx, ky in [("normal", "normal"), ("normal", "shift"), ("ties", "ties")]:
        x, y = sample(n, kx), sample(m, ky)
        r = stats.ks_2samp(x, y)
        ks_auto.append({"name": f"{kx}-{ky}-{n}x{m}", "x": fl(x), "y": fl(y),
                        "d": float(r.statistic), "p": float(r.pvalue)})
x, y = sample(8, "const"), sample(5, "const")
r = stats.ks_2samp(x, y)
ks_auto.append({"name": "constant-equal", "x": fl(x), "y": fl(y), "d": float(r.statistic), "p": float(r.pvalue)})
x, y = np.arange(30.0), np.arange(30.0) + 100
r = stats.ks_2samp(x, y)
ks_auto.append({"name": "disjoint-30", "x": fl(x), "y": fl(y), "d": float(r.statistic), "p": float(r.pvalue)})

ks_binned = []
for i in range(30):
    k = int(rng.integers(1, 40))
    lam = [0.3, 2, 20, 500, 20000][i % 5]
    ref = rng.poisson(lam, k).astype(float)
    cur = rng.poisson(lam * rng.uniform(0.5, 2), k).astype(float)
    if i % 3 == 0:
        cur = np.roll(cur, 1)
    if ref.sum() == 0:
        ref[0] = 1
    if cur.sum() == 0:
        cur[-1] = 1
    n, m = ref.sum(), cur.sum()
    d = float(np.max(np.abs(np.cumsum(ref) / n - np.cumsum(cur) / m)))
    big, small = max(n, m), min(n, m)
    en = max(np.round(big * small / (big + small)), 1)
    ks_binned.append({"name": f"binned-{i}", "ref": fl(ref), "cur": fl(cur), "d": d,
                      "p": float(kstwo.sf(d, en))})


# --- other sample-based tests -------------------------------------------------
def pairs():
    out = []
    for (n, m) in [(2, 2), (3, 4), (5, 5), (7, 12), (10, 10), (15, 20), (20, 20), (20, 21),
                   (21, 25), (50, 40), (100, 100), (300, 200), (1000, 800), (5000, 5000)]:
        for kx, ky in [("normal", "normal"), ("normal", "shift"), ("ties", "ties")]:
            out.append((f"{kx}-{ky}-{n}x{m}", sample(n, kx), sample(m, ky)))
    out.append(("one-constant", sample(10, "normal"), sample(8, "const")))
    return out


ad, cvm, energy, welch, zmeans, wnorm = [], [], [], [], [], []
for name, x, y in pairs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = stats.anderson_ksamp([x, y], variant="midrank")
    ad.append({"name": name, "samples": [fl(x), fl(y)], "stat": float(r.statistic), "p": float(r.pvalue)})
    if len(x) + len(y) <= 400 or len(x) <= 1000:
        r = stats.cramervonmises_2samp(x, y)
        cvm.append({"name": name, "x": fl(x), "y": fl(y), "stat": float(r.statistic), "p": float(r.pvalue)})
    uw = rng.uniform(0.1, 3, len(x)) if len(x) % 2 else None
    vw = rng.uniform(0.1, 3, len(y)) if len(y) % 3 == 0 else None
    energy.append({"name": name, "u": fl(x), "uw": None if uw is None else fl(uw),
                   "v": fl(y), "vw": None if vw is None else fl(vw),
                   "want": float(stats.energy_distance(x, y, uw, vw))})
    with np.errstate(all="ignore"):
        r = stats.ttest_ind(x, y, equal_var=False)
    welch.append({"name": name, "x": fl(x), "y": fl(y), "t": float(r.statistic), "df": float(r.df),
                  "p": float(r.pvalue)})
    se = math.sqrt(np.var(x, ddof=1) / len(x) + np.var(y, ddof=1) / len(y)) if min(len(x), len(y)) > 1 else float("nan")
    z = (np.mean(x) - np.mean(y)) / se if se > 0 else float("nan")
    zmeans.append({"name": name, "x": fl(x), "y": fl(y), "z": float(z),
                   "p": float(2 * stats.norm.sf(abs(z))) if not math.isnan(z) else float("nan")})
    s = np.std(x)
    wnorm.append({"name": name, "x": fl(x), "y": fl(y),
                  "want": float(stats.wasserstein_distance(x, y) / s) if s > 0 else float("nan")})
ad.append({"name": "three-samples", "samples": [fl(sample(30, "normal")), fl(sample(40, "shift")), fl(sample(25, "normal"))]})
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    r = stats.anderson_ksamp([np.array(s) for s in ad[-1]["samples"]], variant="midrank")
ad[-1]["stat"], ad[-1]["p"] = float(r.statistic), float(r.pvalue)


# --- count-vector distances ---------------------------------------------------
def counts(k, lam, zero_frac=0.2):
    c = rng.poisson(lam, k).astype(float)
    c[rng.random(k) < zero_frac] = 0
    if c.sum() == 0:
        c[0] = 1
    return c


try:
    from statsmodels.stats.proportion import proportions_ztest
    import statsmodels
    pz_source = "statsmodels " + statsmodels.__version__
except ImportError:
    proportions_ztest = None
    pz_source = "numpy/scipy.stats.norm (pooled two-proportion z)"

hell, kl, tv, linf, gtest, pz = [], [], [], [], [], []
for i in range(30):
    k = int(rng.integers(1, 30))
    lam = [0.5, 5, 100, 10000][i % 4]
    p, q = counts(k, lam), counts(k, lam * rng.uniform(0.3, 3))
    if i == 3:
        q = p.copy()
    name = f"counts-{i}"
    pn, qn = p / p.sum(), q / q.sum()
    hell.append({"name": name, "p": fl(p), "q": fl(q),
                 "want": float(math.sqrt(max(1 - np.sum(np.sqrt(pn * qn)), 0)))})
    for eps in [0.0, 1e-4, 1e-2]:
        qe = np.where(qn == 0, eps, qn) if eps > 0 else qn
        with np.errstate(all="ignore"):
            kl.append({"name": f"{name}-eps{eps}", "p": fl(p), "q": fl(q), "eps": eps,
                       "want": float(stats.entropy(pn, qe))})
    tv.append({"name": name, "p": fl(p), "q": fl(q), "want": float(0.5 * np.sum(np.abs(pn - qn)))})
    linf.append({"name": name, "p": fl(p), "q": fl(q), "want": float(np.max(np.abs(pn - qn)))})
    keep = (p + q) > 0
    if keep.sum() >= 2:
        r = stats.chi2_contingency(np.vstack([p[keep], q[keep]]), correction=False, lambda_="log-likelihood")
        gtest.append({"name": name, "ref": fl(p), "cur": fl(q), "stat": float(r.statistic),
                      "p": float(r.pvalue), "dof": int(r.dof)})
for (x1, n1, x2, n2) in [(5, 10, 7, 10), (0, 50, 3, 40), (120, 1000, 150, 1100), (1, 1, 0, 1),
                         (30, 30, 29, 30), (4500, 100000, 4700, 100000), (0, 10, 0, 12), (3, 7, 3, 7)]:
    if proportions_ztest is not None:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            z, pv = proportions_ztest([x1, x2], [n1, n2])
    else:
        pp = (x1 + x2) / (n1 + n2)
        se = math.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se if se > 0 else float("nan")
        pv = 2 * stats.norm.sf(abs(z)) if se > 0 else float("nan")
    pz.append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "z": float(z), "p": float(pv)})


def nan_to_none(o):
    if isinstance(o, float) and (math.isnan(o) or math.isinf(o)):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[str(o)]
    if isinstance(o, dict):
        return {k: nan_to_none(v) for k, v in o.items()}
    if isinstance(o, list):
        return [nan_to_none(v) for v in o]
    return o


doc = {"scipy_version": scipy.__version__, "numpy_version": np.__version__, "seed": SEED,
       "proportion_ztest_source": pz_source,
       "kolmogn": kolmogn, "ks_2samp_auto": ks_auto, "ks_binned": ks_binned,
       "anderson_ksamp": ad, "cramervonmises_2samp": cvm, "energy_distance": energy,
       "welch": welch, "ztest_means": zmeans, "wasserstein_normalized": wnorm,
       "hellinger": hell, "kl": kl, "total_variation": tv, "linf": linf,
       "gtest": gtest, "proportion_ztest": pz}
with open(OUT, "w") as f:
    json.dump(nan_to_none(doc), f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {OUT}")
