#!/usr/bin/env python3
"""Write variants.json: the tests of a variant's performance against its
champion's (stats/drift/variants.go, read by variants_test.go), from
statsmodels and SciPy on the same records.

Run with `make golden` (pinned versions from
stats/testdata/golden/requirements.txt), or directly from the repository
root:

    python3 stats/drift/testdata/golden/gen_variants.py

Seeded (SEED below), so the same versions (recorded in the file) reproduce
it byte for byte; conventions are in stats/testdata/golden/goldenjson.py.

Sections, each case one window's champion and variant:

  * accuracy: A/B or canary, independent records: xc of nc champion records
    and xv of nv variant records decided right. value = xv/nv - xc/nc,
    p = statsmodels.stats.proportion.proportions_ztest([xv, xc], [nv, nc])
    (pooled, two-sided). Row accuracy_diff.
  * mae: A/B or canary, errors (prediction - label) of each side's
    numeric predictions, rounded to 4 significant digits. value =
    mean|ev| - mean|ec|, p = scipy.stats.ttest_ind(|ev|, |ec|,
    equal_var=False). Row mae_diff (the Go side sums |e| and e^2 exactly
    and tests from the sums).
  * accuracy_paired: shadow, the same records: a 2x2 table of labelled
    pairs by whether the champion and the variant decided right. value =
    (variant only - champion only) / pairs, p =
    statsmodels.stats.contingency_tables.mcnemar(table, exact=True).
    Row accuracy_diff_paired.
  * mae_paired: shadow: each pair's errors. value = mean(|ev| - |ec|), p =
    scipy.stats.ttest_rel(|ev|, |ec|). Row mae_diff_paired.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "testdata", "golden"))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from statsmodels.stats.contingency_tables import mcnemar  # noqa: E402
from statsmodels.stats.proportion import proportions_ztest  # noqa: E402

from goldenjson import sig, versions, write  # noqa: E402

SEED = 20261125
rng = np.random.default_rng(SEED)

# --- accuracy (unpaired) ------------------------------------------------------
accuracy = []
for nc, pc, nv, pv in [
    (1000, 0.90, 100, 0.90), (1000, 0.90, 100, 0.80), (5000, 0.85, 500, 0.82),
    (20000, 0.70, 2000, 0.72), (300, 0.5, 300, 0.6), (50, 0.9, 20, 0.5),
    (100000, 0.95, 10000, 0.945), (40, 0.8, 40, 0.8), (12, 0.5, 7, 0.3),
]:
    xc, xv = int(rng.binomial(nc, pc)), int(rng.binomial(nv, pv))
    _, p = proportions_ztest([xv, xc], [nv, nc])
    accuracy.append({"name": f"{nc}x{pc}-{nv}x{pv}", "nc": nc, "xc": xc, "nv": nv, "xv": xv,
                     "value": xv / nv - xc / nc, "p": float(p)})


# --- mae (unpaired) -----------------------------------------------------------
def errors(n, kind, scale, bias):
    if kind == "normal":
        e = rng.normal(bias, scale, n)
    elif kind == "laplace":
        e = rng.laplace(bias, scale, n)
    else:
        e = rng.uniform(bias - scale, bias + scale, n)
    return sig(e)


mae = []
for (nc, kc, sc, bc), (nv, kv, sv, bv) in [
    ((500, "normal", 1.0, 0.0), (100, "normal", 1.0, 0.0)),
    ((500, "normal", 1.0, 0.0), (100, "normal", 1.3, 0.0)),
    ((1000, "laplace", 0.2, 0.05), (300, "laplace", 0.25, 0.0)),
    ((50, "uniform", 3.0, 1.0), (30, "uniform", 3.0, 2.0)),
    ((1200, "normal", 10.0, 0.0), (1200, "normal", 10.2, 0.5)),
    ((8, "normal", 1.0, 0.0), (5, "laplace", 1.0, 0.0)),
]:
    ec, ev = errors(nc, kc, sc, bc), errors(nv, kv, sv, bv)
    r = stats.ttest_ind(np.abs(ev), np.abs(ec), equal_var=False)
    mae.append({"name": f"{kc}{nc}-{kv}{nv}", "ec": ec, "ev": ev,
                "value": float(np.mean(np.abs(ev)) - np.mean(np.abs(ec))), "p": float(r.pvalue)})

# --- accuracy_paired ----------------------------------------------------------
paired = []
for n, p_right, p_switch, toward in [
    (100, 0.9, 0.05, 0.5), (1000, 0.85, 0.04, 0.3), (1000, 0.85, 0.04, 0.6),
    (20000, 0.8, 0.02, 0.47), (30, 0.7, 0.2, 0.5), (5000, 0.9, 0.001, 0.5),
    (200, 0.6, 0.3, 0.4),
]:
    champ = rng.random(n) < p_right
    switch = rng.random(n) < p_switch  # the variant decides otherwise on these ...
    gain = rng.random(n) < toward  # ... and is right on a share `toward` of them
    var = np.where(switch, gain, champ)
    both = int(np.sum(champ & var))
    c_only = int(np.sum(champ & ~var))
    v_only = int(np.sum(~champ & var))
    neither = int(np.sum(~champ & ~var))
    res = mcnemar([[both, c_only], [v_only, neither]], exact=True)
    paired.append({"name": f"{n}-{p_switch}-{toward}", "both_right": both, "champion_only": c_only,
                   "variant_only": v_only, "both_wrong": neither, "value": (v_only - c_only) / n,
                   "p": float(res.pvalue)})

# --- mae_paired ---------------------------------------------------------------
mae_paired = []
for n, scale, noise, bias in [(50, 1.0, 0.3, 0.0), (500, 1.0, 0.3, 0.05), (800, 5.0, 1.0, -0.1),
                              (20, 0.5, 0.5, 0.2), (1200, 1.0, 0.05, 0.001)]:
    truth = rng.normal(0, scale, n)
    ec = sig(truth)
    ev = sig(truth + rng.normal(bias, noise, n))
    r = stats.ttest_rel(np.abs(ev), np.abs(ec))
    mae_paired.append({"name": f"{n}-{noise}-{bias}", "ec": ec, "ev": ev,
                       "value": float(np.mean(np.abs(ev) - np.abs(ec))), "p": float(r.pvalue)})

write(__file__, {"seed": SEED, "versions": versions("numpy", "scipy", "statsmodels")},
      {"accuracy": accuracy, "mae": mae, "accuracy_paired": paired, "mae_paired": mae_paired})
