#!/usr/bin/env python3
"""Write sketch.json: exact references for the sketches of package sketch
(golden_test.go), which must lie within each sketch's documented bound.

Run with `make golden` (pinned versions from
stats/testdata/golden/requirements.txt), or directly from the repository
root:

    python3 stats/sketch/testdata/golden/gen_sketch.py

For each pair of samples a, b (many shapes and sizes, rounded to 4
significant digits; large ones sorted and run-length encoded):
  * quantiles: numpy.quantile(a, q, method="lower") on a grid of q, which
    Sketch.Quantile estimates within alpha relative error;
  * ks: scipy.stats.ks_2samp(a, b).statistic, which sketch.KS brackets
    (d <= D <= d + maxErr);
  * wasserstein: scipy.stats.wasserstein_distance(a, b), within
    sketch.Wasserstein's maxErr.
Sketches ignore NaN (counted by NaNCount), so samples holding NaN have
references computed without it ("reference" says what SciPy does); an
empty sample gives NaN. Seeded; conventions are in
stats/testdata/golden/goldenjson.py.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "testdata", "golden"))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from goldenjson import pack, reference, sig, versions, write  # noqa: E402

SEED = 20260601
rng = np.random.default_rng(SEED)
NAN = float("nan")
QS = [0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0]


def draw(kind, n):
    if kind == "normal":
        x = rng.normal(0, 1, n)
    elif kind == "shift":
        x = rng.normal(0.3, 1.2, n)
    elif kind == "offset":
        x = 1000 + rng.normal(0, 1, n)
    elif kind == "lognormal":
        x = rng.lognormal(0, 2, n)
    elif kind == "neg_lognormal":
        x = -rng.lognormal(0, 1, n)
    elif kind == "cauchy":
        x = rng.standard_cauchy(n)
    elif kind == "uniform":
        x = rng.uniform(-1, 1, n)
    elif kind == "bimodal":
        x = np.where(rng.random(n) < 0.7, rng.normal(-2, 0.5, n), rng.normal(3, 1, n))
    elif kind == "discrete":
        return rng.integers(-20, 21, n).astype(float)
    elif kind == "zero_inflated":
        x = np.where(rng.random(n) < 0.4, 0.0, rng.exponential(1, n))
    elif kind == "constant":
        return np.full(n, 2.5)
    else:
        raise ValueError(kind)
    return sig(x, 4)


cases = []


def add(name, a, b, alpha=0.01, note=None):
    a, b = np.asarray(a, float), np.asarray(b, float)
    fa, fb = a[~np.isnan(a)], b[~np.isnan(b)]
    c = {"name": name, "alpha": alpha, "a": pack(a), "b": pack(b)}
    if len(fa) == 0 or len(fb) == 0:
        c.update(quantiles=[NAN] * len(QS) if len(fa) == 0 else
                 [float(np.quantile(fa, q, method="lower")) for q in QS],
                 ks=NAN, wasserstein=NAN)
        _, err = reference(stats.wasserstein_distance, a, b)
        c["reference"] = err or "scipy returns NaN"
    else:
        c["quantiles"] = [float(np.quantile(fa, q, method="lower")) for q in QS]
        c["ks"] = float(stats.ks_2samp(fa, fb).statistic)
        c["wasserstein"] = float(stats.wasserstein_distance(fa, fb))
        if len(fa) < len(a) or len(fb) < len(b):
            c["reference"] = note
    c["q"] = QS
    cases.append(c)


kinds = [("normal", "shift"), ("normal", "normal"), ("offset", "offset"), ("lognormal", "lognormal"),
         ("neg_lognormal", "normal"), ("cauchy", "cauchy"), ("uniform", "bimodal"),
         ("discrete", "discrete"), ("zero_inflated", "zero_inflated"), ("bimodal", "bimodal")]
for i, (n, m) in enumerate([(1, 1), (2, 3), (10, 10), (50, 80), (200, 150), (1000, 1000), (3000, 2000)]):
    for j in range(2):
        ka, kb = kinds[(2 * i + j) % len(kinds)]
        add(f"{ka}-{kb}-{n}x{m}", draw(ka, n), draw(kb, m), alpha=[0.01, 0.05][j])
add("constant-both", draw("constant", 20), draw("constant", 30))
add("constant-vs-normal", draw("constant", 20), draw("normal", 30))
add("imbalance-1-vs-100000", [0.75], np.sort(sig(rng.normal(0, 1, 100000), 2)))
add("imbalance-100000-vs-3", np.sort(sig(rng.lognormal(0, 1, 100000), 2)), [0.5, 1.5, 9.0], alpha=0.02)
add("nan-values-ignored", np.r_[draw("normal", 40), [NAN, NAN]], np.r_[[NAN], draw("shift", 30)],
    note="scipy propagates NaN (ks_2samp and wasserstein_distance return NaN); "
         "sketches ignore it: references on the other values")
add("empty-a", [], draw("normal", 10))

write(__file__, {"versions": versions("numpy", "scipy"), "seed": SEED}, {"cases": cases})
