#!/usr/bin/env python3
"""Write stats.json: SciPy (and statsmodels) reference values for the newer
functions of package stats (golden2_test.go).

Run with `make golden` (pinned versions from requirements.txt beside this
file), or directly from the repository root:

    python3 stats/testdata/golden/gen_stats.py

Seeded (SEED below), so the same versions (recorded in the file) reproduce
it byte for byte. Conventions (NaN, run-length samples, "reference") are in
goldenjson.py.

Notes:
  * kolmogn: scipy.stats.kstwo.sf(d, n) on a grid covering every branch of
    scipy.stats._ksstats._kolmogn.
  * ks_2samp_auto: scipy.stats.ks_2samp(x, y) with method='auto'; sizes on
    both sides of the exact/asymptotic boundary max(n, m) = 10000, and
    extreme imbalance (1 vs 100000).
  * ks_binned: D from numpy cumulative proportions, p = kstwo.sf(D, round(en)).
  * two_sample: one case per pair of samples with the expected values of
    anderson_ksamp (midrank variant; p is scipy's capped interpolation),
    cramervonmises_2samp, energy_distance, ttest_ind(equal_var=False), the
    z-test of means and the normalized Wasserstein distance;
    anderson_ksamp: more than two samples.
  * ztest_means, wasserstein_normalized, hellinger, total_variation, linf:
    the numpy formulas that package stats documents.
  * proportion_ztest: statsmodels.stats.proportion.proportions_ztest.
  * Samples come in many shapes (normal, shifted, heavy-tailed lognormal and
    Cauchy, uniform, bimodal, discrete with ties, constant), rounded to 4
    significant digits (2 or 3 for the largest, which are run-length
    encoded).
  * Data problems (empty, too small, NaN): driftwatch returns NaN
    (stats/doc.go); where SciPy raises or returns something else the case
    records that in "reference".
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.stats import kstwo  # noqa: E402
from statsmodels.stats.proportion import proportions_ztest  # noqa: E402

from goldenjson import pack, reference, sig, versions, write  # noqa: E402

SEED = 20250301
rng = np.random.default_rng(SEED)
NAN = float("nan")


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


# --- samples -----------------------------------------------------------------
def sample(n, kind, digits=4):
    if kind == "normal":
        x = rng.normal(0, 1, n)
    elif kind == "shift":
        x = rng.normal(0.3, 1.2, n)
    elif kind == "lognormal":
        x = rng.lognormal(0, 1.2, n)
    elif kind == "cauchy":
        x = rng.standard_cauchy(n)
    elif kind == "uniform":
        x = rng.uniform(-1, 3, n)
    elif kind == "bimodal":
        x = np.where(rng.random(n) < 0.4, rng.normal(-2, 0.5, n), rng.normal(1.5, 0.8, n))
    elif kind == "ties":
        return rng.integers(0, 6, n).astype(float)
    elif kind == "const":
        return np.full(n, 2.5)
    else:
        raise ValueError(kind)
    return sig(x, digits)


KIND_PAIRS = [("normal", "normal"), ("normal", "shift"), ("ties", "ties"),
              ("lognormal", "lognormal"), ("uniform", "bimodal"), ("cauchy", "normal")]


# --- two-sample KS -----------------------------------------------------------
ks_auto = []


def add_ks(name, x, y, packed=False):
    r = reference(stats.ks_2samp, x, y)[0]
    ks_auto.append({"name": name, "x": pack(x) if packed else x, "y": pack(y) if packed else y,
                    "d": float(r.statistic), "p": float(r.pvalue)})


small_sizes = [(1, 1), (1, 5), (2, 3), (3, 3), (5, 7), (10, 10), (10, 25), (20, 30),
               (37, 41), (50, 50), (100, 60), (200, 300), (500, 500), (1000, 1500)]
for i, (n, m) in enumerate(small_sizes):
    for j in range(3):
        kx, ky = KIND_PAIRS[(i + j) % len(KIND_PAIRS)]
        add_ks(f"{kx}-{ky}-{n}x{m}", sample(n, kx), sample(m, ky))
# The exact/asymptotic switch at max(n, m) = 10000, and extreme imbalance.
# Large samples: 2 significant digits (3 for 10000x10000, the exact path
# with few ties), sorted, run-length encoded.
for (n, m), (kx, ky) in [((9999, 30), ("normal", "shift")), ((10000, 40), ("normal", "normal")),
                         ((10001, 40), ("normal", "normal")), ((10000, 10000), ("normal", "shift")),
                         ((10001, 10001), ("ties", "ties")), ((20000, 15000), ("lognormal", "lognormal")),
                         ((3, 10000), ("normal", "normal")), ((1, 100000), ("normal", "normal")),
                         ((100000, 2), ("bimodal", "uniform"))]:
    digits = 3 if n == m == 10000 else 2
    x, y = np.sort(sample(n, kx, digits)), np.sort(sample(m, ky, digits))
    add_ks(f"{kx}-{ky}-{n}x{m}", x, y, packed=True)
for name, x, y in [("constant-equal", [2.5] * 8, [2.5] * 5),
                   ("disjoint-30", list(range(30)), list(range(100, 130))),
                   ("empty-x", [], [1.0, 2]),
                   ("nan-in-x", [1.0, NAN, 3], [1.0, 2]),
                   ("inf-values", [-math.inf, 0.5, 1, 2], [0.0, 1.5, math.inf])]:
    add_ks(name, np.array(x, float), np.array(y, float))

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
    ks_binned.append({"name": f"binned-{i}", "ref": ref, "cur": cur})
ks_binned += [{"name": "imbalance-1-vs-100000", "ref": [0.0, 1, 0], "cur": [30000.0, 40000, 30000]},
              {"name": "proportion-0.999-0.001", "ref": [999.0, 1], "cur": [9990.0, 10]},
              {"name": "unseen-bin-in-cur", "ref": [10.0, 20, 0], "cur": [10.0, 15, 5]},
              {"name": "fractional-weights", "ref": [0.25, 1.5, 0.75], "cur": [1.25, 0.5, 0.125]}]
for c in ks_binned:
    ref, cur = np.asarray(c["ref"], float), np.asarray(c["cur"], float)
    n, m = ref.sum(), cur.sum()
    d = float(np.max(np.abs(np.cumsum(ref) / n - np.cumsum(cur) / m)))
    big, small = max(n, m), min(n, m)
    en = max(np.round(big * small / (big + small)), 1)
    c.update(d=d, p=float(kstwo.sf(d, en)))
ks_binned += [{"name": "empty", "ref": [], "cur": [], "d": NAN, "p": NAN},
              {"name": "zero-total-cur", "ref": [1.0, 2], "cur": [0.0, 0], "d": NAN, "p": NAN},
              {"name": "nan-count", "ref": [1.0, NAN], "cur": [1.0, 2], "d": NAN, "p": NAN}]


# --- other sample-based tests -------------------------------------------------
def pairs():
    out = []
    sizes = [(2, 2), (3, 4), (5, 5), (7, 12), (10, 10), (15, 20), (20, 20), (20, 21),
             (21, 25), (50, 40), (100, 100), (300, 200), (1000, 800)]
    for i, (n, m) in enumerate(sizes):
        for j in range(3):
            kx, ky = KIND_PAIRS[(i + j) % len(KIND_PAIRS)]
            out.append((f"{kx}-{ky}-{n}x{m}", sample(n, kx), sample(m, ky)))
    out.append(("normal-shift-5000x5000", np.sort(sample(5000, "normal", 3)), np.sort(sample(5000, "shift", 3))))
    out.append(("normal-normal-1x5000", sample(1, "normal"), np.sort(sample(5000, "normal", 2))))
    out.append(("ties-ties-2x20000", np.array([1.0, 4.0]), np.sort(sample(20000, "ties"))))
    out.append(("one-constant", sample(10, "normal"), sample(8, "const")))
    out.append(("both-constant-equal", sample(6, "const"), sample(9, "const")))
    out.append(("both-constant-different", sample(6, "const"), sample(9, "const") + 1))
    out.append(("single-x", np.array([0.5]), sample(12, "normal")))
    out.append(("single-both", np.array([0.5]), np.array([1.5])))
    out.append(("empty-x", np.array([]), sample(12, "normal")))
    out.append(("nan-in-y", sample(12, "normal"), np.array([0.1, NAN, 0.7, 1.2])))
    out.append(("inf-in-x", np.array([0.1, math.inf, 0.7, 1.2]), sample(12, "normal")))
    return out


def finite_bad(*xs):
    return any(len(x) == 0 or not np.isfinite(x).all() for x in xs)


# One case per pair of samples, with every test's expected values: the
# samples are written once. "reference" maps a test to what its reference
# did where the expected value is driftwatch's definition instead.
two_sample, ad = [], []
for name, x, y in pairs():
    c = {"name": name, "x": pack(x), "y": pack(y)}
    refs = {}
    large = len(x) + len(y) > 5000
    pooled = np.concatenate([x, y])

    # Anderson-Darling: NaN for an empty sample, NaN, or a single distinct
    # pooled value (scipy raises); NaN/Inf of scipy's own for N <= 3.
    r, err = reference(stats.anderson_ksamp, [x, y], variant="midrank")
    if err is not None or len(x) == 0 or len(y) == 0 or np.isnan(pooled).any() or \
            len(np.unique(pooled)) < 2:
        c.update(ad_stat=NAN, ad_p=NAN)
        if err is not None or not math.isnan(r.statistic):
            refs["anderson_ksamp"] = err or f"statistic {float(r.statistic)!r}, p {float(r.pvalue)!r}"
    else:
        c.update(ad_stat=float(r.statistic), ad_p=float(r.pvalue))

    # Cramér-von Mises (not for the largest samples: scipy's exact
    # distribution is slow there).
    if not large:
        r, err = reference(stats.cramervonmises_2samp, x, y)
        if len(x) < 2 or len(y) < 2 or np.isnan(pooled).any():
            c.update(cvm_stat=NAN, cvm_p=NAN)
            if err is not None or not math.isnan(r.statistic):
                refs["cramervonmises_2samp"] = err or f"statistic {float(r.statistic)!r}, p {float(r.pvalue)!r}"
        else:
            c.update(cvm_stat=float(r.statistic), cvm_p=float(r.pvalue))

    # Energy distance, with weights on some cases.
    uw = sig(rng.uniform(0.1, 3, len(x)), 3) if len(x) % 2 and not large else None
    vw = sig(rng.uniform(0.1, 3, len(y)), 3) if len(y) % 3 == 0 and not large else None
    r, err = reference(stats.energy_distance, x, y, uw, vw)
    c.update(energy_uw=uw, energy_vw=vw)
    if finite_bad(x, y):
        c["energy"] = NAN
        if err is not None or not math.isnan(r):
            refs["energy_distance"] = err or f"scipy returns {float(r)!r}"
    else:
        c["energy"] = float(r)

    # Welch's t-test.
    r, err = reference(stats.ttest_ind, x, y, equal_var=False)
    got = (float(r.statistic), float(r.df), float(r.pvalue))
    if len(x) < 2 or len(y) < 2 or finite_bad(x, y):
        c.update(welch_t=NAN, welch_df=NAN, welch_p=NAN)
        if not all(math.isnan(v) for v in got):
            refs["welch"] = "t %r, df %r, p %r" % got
    elif np.var(x) == 0 and np.var(y) == 0:
        # Both constant: t = ±Inf or NaN; driftwatch leaves df and p NaN
        # (0/0) where scipy substitutes df = 1.
        c.update(welch_t=got[0], welch_df=NAN, welch_p=NAN)
        refs["welch"] = "t %r, df %r, p %r" % got
    else:
        c.update(welch_t=got[0], welch_df=got[1], welch_p=got[2])

    # z-test of means (numpy formula, as package stats documents).
    if len(x) < 2 or len(y) < 2 or finite_bad(x, y):
        c.update(z=NAN, z_p=NAN)
    else:
        se = math.sqrt(np.var(x, ddof=1) / len(x) + np.var(y, ddof=1) / len(y))
        z = (np.mean(x) - np.mean(y)) / se if se > 0 else NAN
        c.update(z=float(z), z_p=float(2 * stats.norm.sf(abs(z))) if not math.isnan(z) else NAN)

    # Normalized Wasserstein (Evidently): W1 / std(ref).
    s = np.std(x) if len(x) else NAN
    if finite_bad(x, y) or not s > 0:
        c["wnorm"] = NAN
    else:
        c["wnorm"] = float(stats.wasserstein_distance(x, y) / s)
    if refs:
        c["reference"] = refs
    two_sample.append(c)

# Anderson-Darling with more than two samples.
three = [sample(30, "normal"), sample(40, "shift"), sample(25, "normal")]
r = reference(stats.anderson_ksamp, three, variant="midrank")[0]
ad.append({"name": "three-samples", "samples": three, "stat": float(r.statistic), "p": float(r.pvalue)})
five = [sample(n, k) for n, k in [(12, "ties"), (40, "ties"), (3, "ties"), (200, "ties"), (1, "ties")]]
r = reference(stats.anderson_ksamp, five, variant="midrank")[0]
ad.append({"name": "five-samples-ties-imbalanced", "samples": five, "stat": float(r.statistic), "p": float(r.pvalue)})
four = [sample(n, k) for n, k in [(50, "lognormal"), (50, "cauchy"), (50, "uniform"), (50, "bimodal")]]
r = reference(stats.anderson_ksamp, four, variant="midrank")[0]
ad.append({"name": "four-shapes", "samples": four, "stat": float(r.statistic), "p": float(r.pvalue)})


# --- count-vector distances ---------------------------------------------------
def counts(k, lam, zero_frac=0.2):
    c = rng.poisson(lam, k).astype(float)
    c[rng.random(k) < zero_frac] = 0
    if c.sum() == 0:
        c[0] = 1
    return c


count_pairs = []
for i in range(30):
    k = int(rng.integers(1, 30))
    lam = [0.5, 5, 100, 10000][i % 4]
    p, q = counts(k, lam), counts(k, lam * rng.uniform(0.3, 3))
    if i == 3:
        q = p.copy()
    count_pairs.append((f"counts-{i}", p, q))
count_pairs += [
    ("single-bin", np.array([4.0]), np.array([9.0])),
    ("unseen-in-ref", np.array([50.0, 30, 20, 0]), np.array([45.0, 35, 15, 5])),
    ("unseen-in-cur", np.array([50.0, 30, 20, 5]), np.array([45.0, 35, 15, 0])),
    ("imbalance-1-in-100000", np.array([99999.0, 1]), np.array([99000.0, 1000])),
    ("proportion-0.999-0.001", np.array([999.0, 1]), np.array([990.0, 10])),
    ("fractional-weights", np.array([0.25, 1.5, 0.75]), np.array([1.25, 0.5, 0.125])),
]
bad_pairs = [
    ("empty", np.array([]), np.array([])),
    ("zero-total-q", np.array([1.0, 2]), np.array([0.0, 0])),
    ("nan-count", np.array([1.0, NAN]), np.array([1.0, 2])),
    ("negative-count", np.array([3.0, -1]), np.array([1.0, 2])),
]

hell, kl, tv, linf, gtest = [], [], [], [], []
for name, p, q in count_pairs:
    pn, qn = p / p.sum(), q / q.sum()
    hell.append({"name": name, "p": p, "q": q,
                 "want": float(math.sqrt(max(1 - np.sum(np.sqrt(pn * qn)), 0)))})
    for eps in [0.0, 1e-4, 1e-2]:
        qe = np.where(qn == 0, eps, qn) if eps > 0 else qn
        r = reference(stats.entropy, pn, qe)[0]
        kl.append({"name": f"{name}-eps{eps}", "p": p, "q": q, "eps": eps, "want": float(r)})
    tv.append({"name": name, "p": p, "q": q, "want": float(0.5 * np.sum(np.abs(pn - qn)))})
    linf.append({"name": name, "p": p, "q": q, "want": float(np.max(np.abs(pn - qn)))})
    keep = (p + q) > 0
    if keep.sum() >= 2:
        r = stats.chi2_contingency(np.vstack([p[keep], q[keep]]), correction=False, lambda_="log-likelihood")
        gtest.append({"name": name, "ref": p, "cur": q, "stat": float(r.statistic),
                      "p": float(r.pvalue), "dof": int(r.dof)})
for name, p, q in bad_pairs:
    for sec in (hell, tv, linf):
        sec.append({"name": name, "p": p, "q": q, "want": NAN})
    r, err = reference(stats.entropy, p, q)
    c = {"name": name, "p": p, "q": q, "eps": 0.0, "want": NAN}
    if err is not None or not math.isnan(r):
        c["reference"] = err or f"scipy returns {float(r)!r}"
    kl.append(c)
    r, err = reference(stats.chi2_contingency, np.vstack([p, q]), correction=False,
                       lambda_="log-likelihood")
    c = {"name": name, "ref": p, "cur": q, "stat": NAN, "p": NAN, "dof": 0}
    if err is not None or not (math.isnan(r.statistic) and r.dof == 0):
        c["reference"] = err or f"statistic {float(r.statistic)!r}, dof {int(r.dof)}"
    gtest.append(c)

pz = []
for (x1, n1, x2, n2) in [(5, 10, 7, 10), (0, 50, 3, 40), (120, 1000, 150, 1100), (1, 1, 0, 1),
                         (30, 30, 29, 30), (4500, 100000, 4700, 100000), (0, 10, 0, 12), (3, 7, 3, 7),
                         (1, 100000, 100, 100000), (999, 1000, 990, 1000), (1, 1, 99999, 100000),
                         (0, 0, 1, 2), (5, 3, 1, 2), (-1, 3, 1, 2), (NAN, 3, 1, 2)]:
    r, err = reference(proportions_ztest, [x1, x2], [n1, n2])
    c = {"x1": x1, "n1": n1, "x2": x2, "n2": n2, "name": f"{x1}-of-{n1}-vs-{x2}-of-{n2}"}
    valid = all(v >= 0 for v in (x1, n1, x2, n2)) and n1 > 0 and n2 > 0 and x1 <= n1 and x2 <= n2
    if valid and err is None:
        c.update(z=float(r[0]), p=float(r[1]))
    else:
        c.update(z=NAN, p=NAN)
        if err is not None or not (math.isnan(r[0]) and math.isnan(r[1])):
            c["reference"] = err or f"z {float(r[0])!r}, p {float(r[1])!r}"
    pz.append(c)

write(__file__, {"versions": versions("numpy", "scipy", "statsmodels"), "seed": SEED}, {
    "kolmogn": kolmogn, "ks_2samp_auto": ks_auto, "ks_binned": ks_binned,
    "two_sample": two_sample, "anderson_ksamp": ad,
    "hellinger": hell, "kl": kl, "total_variation": tv, "linf": linf,
    "gtest": gtest, "proportion_ztest": pz,
})
