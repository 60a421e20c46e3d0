#!/usr/bin/env python3
"""Write fairness.json: golden values for package fairness from Fairlearn.

Run with `make golden` (pinned versions from
stats/testdata/golden/requirements.txt), or directly from the repository
root:

    python3 stats/fairness/testdata/golden/gen_fairness.py

Deterministic (fixed seeds); conventions are in
stats/testdata/golden/goldenjson.py. Each case lists per-row group, y_true, y_pred
and the Fairlearn values (method="between_groups", agg="worst_case").
Cases named "divergent_*" contain a group without positive (or negative)
labels, where Fairlearn counts the rate as 0 and driftwatch leaves the group
out; the Go test checks only that the Go result differs as documented.

Per group (Fairlearn's MetricFrame.by_group): count, selection rate, TPR,
FPR, and scikit-learn's accuracy_score and precision_score; precision with
zero_division=nan, so a group never selected has it undefined (null), as
driftwatch does (scikit-learn's default would be 0).
"""
import functools
import math
import os
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "testdata", "golden"))

import numpy as np  # noqa: E402
from fairlearn import metrics as flm  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

from goldenjson import versions, write  # noqa: E402

warnings.simplefilter("ignore")


def num(x):
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def case(name, g, y, p):
    g, y, p = np.asarray(g), np.asarray(y, int), np.asarray(p, int)
    kw = dict(sensitive_features=g, method="between_groups")
    mf = flm.MetricFrame(
        metrics={"count": flm.count,
                 "selection_rate": flm.selection_rate,
                 "tpr": flm.true_positive_rate,
                 "fpr": flm.false_positive_rate,
                 "accuracy": skm.accuracy_score,
                 "precision": functools.partial(skm.precision_score, zero_division=np.nan)},
        y_true=y, y_pred=p, sensitive_features=g)
    by = {str(k): {m: num(v) for m, v in row.items()} for k, row in mf.by_group.iterrows()}
    return {
        "name": name, "group": g, "y": y, "p": p,
        "by_group": by,
        "dp_difference": num(flm.demographic_parity_difference(y, p, **kw)),
        "dp_ratio": num(flm.demographic_parity_ratio(y, p, **kw)),
        "eo_difference": num(flm.equalized_odds_difference(y, p, **kw)),
        "eo_ratio": num(flm.equalized_odds_ratio(y, p, **kw)),
        "eop_difference": num(flm.equal_opportunity_difference(y, p, **kw)),
        "eop_ratio": num(flm.equal_opportunity_ratio(y, p, **kw)),
    }


def main():
    rng = np.random.default_rng(2016)
    cases = []
    for ng, n in ((2, 50), (2, 1000), (3, 300), (5, 1500), (8, 2000), (20, 1000)):
        g = np.array([f"g{i}" for i in rng.integers(0, ng, n)])
        gi = np.array([int(s[1:]) for s in g])
        y = (rng.random(n) < 0.3 + 0.05 * gi).astype(int)
        p = (rng.random(n) < 0.2 + 0.6 * y - 0.03 * gi).astype(int)
        cases.append(case(f"random_groups{ng}_n{n}", g, y, p))
    # Extreme imbalance between groups: a tiny group with both labels.
    n = 3000
    g = np.where(rng.random(n) < 0.99, "major", "minor")
    g[:4] = "minor"
    y = rng.integers(0, 2, n)
    y[0], y[1] = 0, 1
    p = np.where(g == "minor", 1, (rng.random(n) < 0.3).astype(int))
    cases.append(case("imbalanced_groups", g, y, p))
    # Group proportions 0.999 / 0.001: the minor group has 5 rows.
    n = 5000
    g = np.array(["major"] * n, dtype=object)
    g[rng.choice(n, 5, replace=False)] = "minor"
    g = g.astype(str)
    y = rng.integers(0, 2, n)
    minor = np.flatnonzero(g == "minor")
    y[minor[:2]] = [0, 1]
    p = (rng.random(n) < 0.2 + 0.6 * y).astype(int)
    cases.append(case("imbalanced_groups_0.999_0.001", g, y, p))
    # Extreme label imbalance: 0.1% positives, each group has some.
    n = 3000
    g = np.array(["a", "b", "c"] * (n // 3))
    y = np.zeros(n, int)
    y[rng.choice(n, 3, replace=False)] = 1
    y[:3] = 1
    p = np.where(rng.random(n) < 0.9, y, 1 - y)
    cases.append(case("label_proportion_0.001", g, y, p))
    # All correct: TPR 1, FPR 0 in every group.
    g = np.array(["a", "b", "c"] * 100)
    y = rng.integers(0, 2, 300)
    y[:6] = [0, 0, 0, 1, 1, 1]
    cases.append(case("all_correct", g, y, y))
    # Equal selection rates.
    g = np.array(["a"] * 10 + ["b"] * 10)
    y = np.array([1, 0] * 10)
    p = np.array([1, 1, 0, 0, 1, 0, 0, 1, 0, 0] * 2)
    cases.append(case("parity", g, y, p))
    # Group "c" is never selected: its precision is undefined (null), its
    # TPR and FPR 0.
    g = np.array(["a"] * 50 + ["b"] * 50 + ["c"] * 30)
    y = rng.integers(0, 2, 130)
    y[100:102] = [0, 1]
    p = np.concatenate([rng.integers(0, 2, 100), np.zeros(30, int)])
    cases.append(case("never_selected", g, y, p))
    # The FPR gap is larger than the TPR gap: equalized odds is the FPR gap.
    g = np.array(["a"] * 100 + ["b"] * 100)
    y = np.array([1, 0] * 100)
    p = np.where(y == 1, (rng.random(200) < 0.7).astype(int),
                 (rng.random(200) < np.where(g == "a", 0.05, 0.4)).astype(int))
    cases.append(case("fpr_gap_dominates", g, y, p))
    # Divergent: group "c" has no positive labels.
    g = np.array(["a"] * 40 + ["b"] * 40 + ["c"] * 20)
    y = np.concatenate([rng.integers(0, 2, 80), np.zeros(20, int)])
    y[0], y[1], y[40], y[41] = 0, 1, 0, 1
    p = rng.integers(0, 2, 100)
    cases.append(case("divergent_no_positives", g, y, p))
    cases[-1]["reference"] = ("Fairlearn counts the TPR of a group without positive labels as 0; "
                              "driftwatch leaves the group out of TPR-based metrics")
    write(__file__, {"versions": versions("numpy", "scikit-learn", "fairlearn", "pandas")},
          {"cases": cases})


if __name__ == "__main__":
    main()
