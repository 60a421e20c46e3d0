#!/usr/bin/env python3
"""Generate power.json: SciPy reference values for stats/power.go
(NoncentralChi2SF, Chi2Noncentrality, NormalMDE) and ChiSquaredGOF
(power_golden_test.go).

Run with `make golden` (pinned versions from requirements.txt beside this
file), or from the repository root: python3 stats/testdata/golden/gen_power.py
Conventions (NaN as strings, recorded versions) are in goldenjson.py.

  * ncx2_sf: scipy.stats.ncx2.sf(x, df, nc) (chi2.sf when nc == 0).
  * chi2_noncentrality: the nc solving ncx2.sf(chi2.isf(alpha, df), df, nc)
    == power, by scipy.optimize.brentq to xtol 1e-14.
  * normal_mde: (norm.isf(alpha/2) + norm.ppf(power)) * sqrt(1/n + 1/m).
  * chisquare_gof: scipy.stats.chisquare(cur, ref * sum(cur) / sum(ref)) over
    the categories not empty in both (Evidently's chi-squared test).
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from scipy import optimize, stats  # noqa: E402

from goldenjson import versions, write  # noqa: E402

SEED = 20261123
rng = np.random.default_rng(SEED)


def f(x):
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    return x


ncx2 = []
for df in [1, 2, 3, 9, 20, 99, 500]:
    for nc in [0, 0.1, 1, 7.85, 30, 150, 600]:
        for q in [0.01, 0.5, 0.95, 0.999]:
            x = stats.ncx2.ppf(q, df, nc) if nc > 0 else stats.chi2.ppf(q, df)
            want = stats.ncx2.sf(x, df, nc) if nc > 0 else stats.chi2.sf(x, df)
            ncx2.append({"x": f(x), "df": df, "nc": nc, "sf": f(want)})

noncentrality = []
for df in [1, 2, 4, 9, 19, 99, 999]:
    for alpha in [0.001, 0.01, 0.05, 0.1]:
        for power in [0.5, 0.8, 0.9, 0.99]:
            crit = stats.chi2.isf(alpha, df)
            g = lambda nc: stats.ncx2.sf(crit, df, nc) - power
            hi = 1.0
            while g(hi) < 0:
                hi *= 2
            nc = optimize.brentq(g, 1e-12, hi, xtol=1e-14, rtol=1e-15)
            noncentrality.append({"df": df, "alpha": alpha, "power": power, "nc": f(nc)})

normal = []
for n, m in [(1, 1), (30, 1000), (100, 100), (1000, 100000), (123457, 987), (10**7, 10**6)]:
    for alpha in [0.01, 0.05]:
        for power in [0.5, 0.8, 0.95]:
            d = (stats.norm.isf(alpha / 2) + stats.norm.ppf(power)) * math.sqrt(1 / n + 1 / m)
            normal.append({"n": n, "m": m, "alpha": alpha, "power": power, "mde": f(d)})

gof = []
for k in [2, 3, 5, 10, 40]:
    for size in [20, 500, 100000]:
        p = rng.dirichlet(np.ones(k))
        ref = rng.multinomial(size * 3, p).astype(float)
        q = p if rng.random() < 0.5 else rng.dirichlet(np.ones(k))
        cur = rng.multinomial(size, q).astype(float)
        keep = (ref > 0) | (cur > 0)
        r, c = ref[keep], cur[keep]
        if keep.sum() < 2:
            stat, pv = 0.0, 1.0
        elif (r == 0).any():
            stat, pv = math.inf, 0.0
        else:
            stat, pv = stats.chisquare(c, r * c.sum() / r.sum())
        gof.append({"ref": ref.tolist(), "cur": cur.tolist(), "stat": f(stat), "p": f(pv)})
# An unseen category and a single category.
gof.append({"ref": [10, 10, 0], "cur": [5, 5, 1], "stat": "+Inf", "p": 0.0})
gof.append({"ref": [0, 7], "cur": [0, 3], "stat": 0.0, "p": 1.0})

write(__file__, {"versions": versions("numpy", "scipy"), "seed": SEED}, {
    "ncx2_sf": ncx2,
    "chi2_noncentrality": noncentrality,
    "normal_mde": normal,
    "chisquare_gof": gof,
})
