#!/usr/bin/env python3
"""Write paired.json: statsmodels and SciPy reference values for the paired
tests of package stats (stats/paired.go, paired_golden_test.go), which
compare a challenger with its champion on the same records.

Run with `make golden` (pinned versions from requirements.txt beside this
file), or directly from the repository root:

    python3 stats/testdata/golden/gen_paired.py

Seeded (SEED below), so the same versions (recorded in the file) reproduce
it byte for byte. Conventions (NaN, "reference") are in goldenjson.py.

  * mcnemar: statsmodels.stats.contingency_tables.mcnemar(table, exact=True)
    (its default) on [[a, b], [c, d]]: the p-value depends on the
    discordant counts b and c only; tables from empty to 200,000 discordant
    pairs, balanced and lopsided.
  * ttest_rel: scipy.stats.ttest_rel(a, b) on paired samples rounded to 4
    significant digits: small and large, with and without a shift, heavy
    tails, ties; the Go test computes the differences a - b and their
    moments. Too few pairs (n < 2) and constant differences are NaN in
    driftwatch; where SciPy returns something else the case records it.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from statsmodels.stats.contingency_tables import mcnemar  # noqa: E402

from goldenjson import reference, sig, versions, write  # noqa: E402

SEED = 20261124
rng = np.random.default_rng(SEED)

# --- mcnemar -----------------------------------------------------------------
tables = [
    (10, 0, 0, 7), (3, 5, 5, 1), (40, 0, 5, 40), (40, 5, 0, 40), (0, 1, 0, 0),
    (100, 1, 10, 50), (500, 12, 25, 300), (800, 130, 100, 900),
    (5000, 1000, 1100, 3000), (20000, 10000, 10300, 9000),
    (60000, 50000, 51000, 40000), (1, 99000, 101000, 1), (7, 2, 9, 3),
]
for _ in range(12):
    n = int(rng.choice([20, 200, 2000, 20000]))
    b = int(rng.binomial(n, 0.5))
    c = int(rng.binomial(n, float(rng.uniform(0.3, 0.7))))
    tables.append((int(rng.integers(0, 1000)), b, c, int(rng.integers(0, 1000))))

mc = []
for a, b, c, d in tables:
    r = mcnemar([[a, b], [c, d]], exact=True)
    mc.append({"name": f"{a}-{b}-{c}-{d}", "b": b, "c": c, "p": float(r.pvalue)})


# --- ttest_rel ---------------------------------------------------------------
def pair(n, shift, scale, kind):
    base = rng.normal(0, 1, n)
    if kind == "normal":
        noise = rng.normal(0, scale, n)
    elif kind == "cauchy":
        noise = rng.standard_cauchy(n) * scale
    elif kind == "ties":
        noise = rng.integers(-2, 3, n).astype(float) * scale
    else:
        raise ValueError(kind)
    return sig(base), sig(base + shift + noise)


rel = []
for n, shift, scale, kind in [
    (2, 0.3, 1, "normal"), (3, 0, 1, "normal"), (10, 0.5, 1, "normal"),
    (30, 0.1, 0.5, "normal"), (100, 0, 1, "normal"), (100, 0.2, 1, "cauchy"),
    (250, 0.05, 0.2, "ties"), (1000, 0.02, 1, "normal"), (1200, 1, 3, "normal"),
    (1500, 0.01, 0.1, "ties"), (500, 0, 2, "cauchy"),
]:
    a, b = pair(n, shift, scale, kind)
    r = stats.ttest_rel(a, b)
    rel.append({"name": f"{kind}-{n}-shift{shift}", "a": a, "b": b,
                "t": float(r.statistic), "df": float(r.df), "p": float(r.pvalue)})

# Documented divergences: NaN where the test is undefined.
for name, a, b in [
    ("one-pair", [1.0], [2.0]),
    ("constant-nonzero-difference", [1.0, 2.0, 3.0], [1.5, 2.5, 3.5]),
    ("identical", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
]:
    got, err = reference(stats.ttest_rel, np.array(a), np.array(b))
    if err is None:
        note = f"t={float(got.statistic)!r} df={float(got.df)!r} p={float(got.pvalue)!r}"
    else:
        note = err
    t = float("nan")
    if name == "constant-nonzero-difference":
        t = float("-inf")  # mean -0.5 with no spread
    rel.append({"name": name, "a": a, "b": b, "t": t, "df": float("nan"), "p": float("nan"),
                "reference": note})

write(__file__, {"seed": SEED, "versions": versions("numpy", "scipy", "statsmodels")},
      {"mcnemar": mc, "ttest_rel": rel})
