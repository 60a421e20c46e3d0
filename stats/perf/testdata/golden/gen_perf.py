#!/usr/bin/env python3
"""Write perf.json: golden values for package perf from scikit-learn.

Run with `make golden` (pinned versions from
stats/testdata/golden/requirements.txt), or directly from the repository
root:

    python3 stats/perf/testdata/golden/gen_perf.py

Deterministic (fixed seeds); conventions (NaN, "reference") are in
stats/testdata/golden/goldenjson.py. Undefined metrics (sklearn
zero_division / single-class errors) are written as null; the Go side
expects ok=false. Histogram-binned scores use the Go default edges i/1000
and the same [e_i, e_i+1) rule, so *_binned values are sklearn on the
binned scores. Scores and regression values are rounded to 4 significant
digits. "w" is omitted when every weight is 1. Rows that driftwatch drops
(NaN scores or values, zero weights) are left out of the sklearn call, which
would raise on NaN; such cases say so in "reference".
"""
import math
import os
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "testdata", "golden"))

import numpy as np  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

from goldenjson import sig, versions, write  # noqa: E402

warnings.simplefilter("ignore")
BINS = 1000
EDGES = np.arange(BINS + 1) / BINS


def num(x):
    x = float(x)
    return None if math.isnan(x) else x


def bin_index(s, edges=EDGES):
    return np.clip(np.searchsorted(edges, s, side="right") - 1, 0, len(edges) - 2)


def ece(y, s, w, n):
    if len(y) == 0:
        return math.nan
    b = bin_index(s, np.arange(n + 1) / n)
    tot = 0.0
    for j in range(n):
        m = b == j
        if m.any():
            tot += abs(np.sum(w[m] * y[m]) - np.sum(w[m] * s[m]))
    return tot / np.sum(w)


def safe(f):
    try:
        return num(f())
    except ValueError:
        return None


def binary_case(name, y, s, w=None, thr=0.5, reference=None):
    y = np.asarray(y, dtype=int)
    s = np.asarray(s, dtype=float)
    ww = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    c = {"name": name, "y": y, "s": s}
    if w is not None:
        c["w"] = ww
    c["thr"] = thr
    if reference:
        c["reference"] = reference
    # driftwatch drops NaN scores and non-positive weights.
    keep = ~np.isnan(s) & (ww > 0)
    y, s, ww = y[keep], s[keep], ww[keep]
    sw = None if w is None else ww
    pred = (s >= thr).astype(int)
    kw = dict(sample_weight=sw, zero_division=np.nan)
    binned = bin_index(s).astype(float)
    both = len(set(y.tolist())) == 2
    c.update({
        "accuracy": safe(lambda: skm.accuracy_score(y, pred, sample_weight=sw)),
        "precision": safe(lambda: skm.precision_score(y, pred, labels=[0, 1], **kw)),
        "recall": safe(lambda: skm.recall_score(y, pred, labels=[0, 1], **kw)),
        "specificity": safe(lambda: skm.recall_score(y, pred, labels=[0, 1], pos_label=0, **kw)),
        "f1": safe(lambda: skm.f1_score(y, pred, labels=[0, 1], **kw)),
        "roc_auc": num(skm.roc_auc_score(y, s, sample_weight=sw)) if both else None,
        "roc_auc_binned": num(skm.roc_auc_score(y, binned, sample_weight=sw)) if both else None,
        "ap": num(skm.average_precision_score(y, s, sample_weight=sw)) if y.sum() > 0 else None,
        "ap_binned": num(skm.average_precision_score(y, binned, sample_weight=sw)) if y.sum() > 0 else None,
        "brier": safe(lambda: skm.brier_score_loss(y, s, sample_weight=sw, labels=[0, 1])),
        "log_loss": safe(lambda: skm.log_loss(y, s, sample_weight=sw, labels=[0, 1])),
        "ece10": num(ece(y, s, ww, 10)),
        "ece20": num(ece(y, s, ww, 20)),
    })
    # FPR = 1 - specificity but computed directly.
    neg = ww[y == 0].sum()
    c["fpr"] = num(ww[(y == 0) & (pred == 1)].sum() / neg) if neg > 0 else None
    return c


def binary_cases():
    rng = np.random.default_rng(20240601)
    out = []
    for n in (1, 2, 10, 100, 1000, 3000):
        y = rng.integers(0, 2, n)
        s = sig(np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1))
        out.append(binary_case(f"random_n{n}", y, s))
    out.append(binary_case("empty", [], []))
    n = 3000
    y = (rng.random(n) < 0.01).astype(int)
    y[0] = 1
    out.append(binary_case("imbalance_1pct", y, sig(np.clip(rng.beta(2, 5, n) + 0.2 * y, 0, 1))))
    y = (rng.random(n) < 0.999).astype(int)
    y[0] = 0
    out.append(binary_case("imbalance_999pm", y, sig(rng.random(n))))
    y = np.zeros(n, int)
    y[rng.choice(n, 3, replace=False)] = 1
    out.append(binary_case("imbalance_0.001_positive", y, sig(np.clip(rng.beta(2, 5, n) + 0.3 * y, 0, 1))))
    # One positive among 100000 negatives, as frequency weights on the
    # distinct (score, label) rows (scores on a 0.001 grid).
    neg = np.round(rng.beta(2, 5, 100000), 3)
    vals, counts = np.unique(neg, return_counts=True)
    out.append(binary_case("imbalance_1_in_100000_weighted", np.r_[np.zeros(len(vals), int), 1],
                           np.r_[vals, 0.6125], w=np.r_[counts, 1].astype(float)))
    out.append(binary_case("single_class_neg", np.zeros(50, int), sig(rng.random(50))))
    out.append(binary_case("single_class_pos", np.ones(50, int), sig(rng.random(50))))
    out.append(binary_case("single_row_pos", [1], [0.7]))
    out.append(binary_case("all_negative_predictions", rng.integers(0, 2, 40), sig(0.4 * rng.random(40))))
    y = rng.integers(0, 2, 200)
    out.append(binary_case("all_correct_hard_scores", y, y.astype(float)))
    out.append(binary_case("all_correct_soft", y, sig(0.3 + 0.4 * y + 0.05 * rng.random(200))))
    out.append(binary_case("constant_scores", y, np.full(200, 0.5)))
    out.append(binary_case("ties_one_decimal", rng.integers(0, 2, 500), np.round(rng.random(500), 1)))
    # Scores on bin edges; the last bin [0.999, 1] is closed, so 0.999 is
    # left out for every bin to hold one distinct score (1.0 stays).
    k = rng.integers(0, BINS + 1, 800)
    out.append(binary_case("on_bin_edges", rng.integers(0, 2, 800), np.where(k == BINS - 1, BINS, k) / BINS))
    out.append(binary_case("on_bin_centers", rng.integers(0, 2, 800), (rng.integers(0, BINS, 800) + 0.5) / BINS))
    y = rng.integers(0, 2, 300)
    out.append(binary_case("weighted", y, sig(np.clip(0.2 * y + 0.8 * rng.random(300), 0, 1)),
                           w=sig(rng.random(300) * 3 + 0.1, 3)))
    y = rng.integers(0, 2, 100)
    s = sig(rng.random(100))
    s[:10] = 0.0
    s[10:20] = 1.0
    out.append(binary_case("extreme_scores_clip", y, s))
    out.append(binary_case("threshold_0.3", y, s, thr=0.3))
    y = rng.integers(0, 2, 300)
    s = sig(np.clip(0.3 * y + 0.7 * rng.random(300), 0, 1))
    s[::7] = np.nan
    out.append(binary_case("nan_scores_dropped", y, s, reference=(
        "sklearn raises on NaN scores; ScoreHistogram drops them and the test skips them for "
        "Confusion: the values are sklearn on the other rows")))
    w = sig(rng.random(300) * 2, 3)
    w[::5] = 0
    out.append(binary_case("zero_weights_dropped", y, np.nan_to_num(s, nan=0.25), w=w))
    return out


def multiclass_case(name, k, y, p, w=None):
    y = np.asarray(y, int)
    p = np.asarray(p, int)
    sw = None if w is None else np.asarray(w, float)
    c = {"name": name, "k": k, "y": y, "p": p}
    if w is not None:
        c["w"] = sw
    c["accuracy"] = safe(lambda: skm.accuracy_score(y, p, sample_weight=sw))
    for avg in ("macro", "micro", "weighted"):
        # labels=None: averages over the classes present in y or p, as Go.
        kw = dict(average=avg, sample_weight=sw, zero_division=0)
        c["precision_" + avg] = safe(lambda: skm.precision_score(y, p, **kw))
        c["recall_" + avg] = safe(lambda: skm.recall_score(y, p, **kw))
        c["f1_" + avg] = safe(lambda: skm.f1_score(y, p, **kw))
    return c


def multiclass_cases():
    rng = np.random.default_rng(7)
    out = []
    for k, n in ((3, 30), (3, 1000), (5, 3000), (10, 200), (2, 50)):
        y = rng.integers(0, k, n)
        p = np.where(rng.random(n) < 0.6, y, rng.integers(0, k, n))
        out.append(multiclass_case(f"random_k{k}_n{n}", k, y, p))
    y = rng.integers(0, 4, 300)
    p = np.where(y == 3, 0, y)
    out.append(multiclass_case("class_never_predicted", 4, y, p))
    y = rng.integers(0, 3, 300)
    out.append(multiclass_case("class_only_predicted", 4, y, np.where(rng.random(300) < 0.5, y, 3)))
    out.append(multiclass_case("class_absent_k5", 5, y, np.where(rng.random(300) < 0.5, y, 3)))
    out.append(multiclass_case("all_correct", 3, y, y))
    out.append(multiclass_case("single_row", 3, [2], [1]))
    y = np.where(rng.random(2000) < 0.97, 0, rng.integers(1, 3, 2000))
    out.append(multiclass_case("imbalanced", 3, y, np.zeros(2000, int)))
    y = np.zeros(5000, int)
    y[rng.choice(5000, 5, replace=False)] = 1
    p = np.where(rng.random(5000) < 0.995, y, 1 - y)
    out.append(multiclass_case("proportion_0.999_0.001", 2, y, p))
    y = rng.integers(0, 3, 400)
    p = np.where(rng.random(400) < 0.5, y, rng.integers(0, 3, 400))
    out.append(multiclass_case("weighted", 3, y, p, w=sig(rng.random(400) * 2 + 0.05, 3)))
    return out


def regression_case(name, y, yhat, w=None, reference=None):
    y = np.asarray(y, float)
    yhat = np.asarray(yhat, float)
    c = {"name": name, "y": y, "yhat": yhat}
    if w is not None:
        c["w"] = np.asarray(w, float)
    if reference:
        c["reference"] = reference
    keep = np.isfinite(y) & np.isfinite(yhat)
    y, yhat = y[keep], yhat[keep]
    sw = None if w is None else np.asarray(w, float)[keep]
    c.update({"mae": safe(lambda: skm.mean_absolute_error(y, yhat, sample_weight=sw)),
              "rmse": safe(lambda: skm.root_mean_squared_error(y, yhat, sample_weight=sw)),
              "mape": safe(lambda: skm.mean_absolute_percentage_error(y, yhat, sample_weight=sw)),
              "r2": safe(lambda: skm.r2_score(y, yhat, sample_weight=sw))})
    return c


def regression_cases():
    rng = np.random.default_rng(99)
    out = []
    for n in (2, 10, 1000, 2000):
        y = sig(rng.normal(3, 2, n))
        out.append(regression_case(f"random_n{n}", y, sig(y + rng.normal(0, 1, n))))
    y = sig(rng.lognormal(0, 2, 1000))
    out.append(regression_case("heavy_tail", y, sig(y * rng.lognormal(0, 0.5, 1000))))
    y = sig(rng.normal(0, 1, 200))
    y[::10] = 0.0
    out.append(regression_case("zeros_in_y", y, sig(y + rng.normal(0, 0.5, 200))))
    y = np.round(1e6 + rng.normal(0, 1, 500), 3)
    out.append(regression_case("large_offset", y, np.round(y + rng.normal(0, 0.1, 500), 3)))
    out.append(regression_case("constant_y_perfect", np.full(20, 4.0), np.full(20, 4.0)))
    out.append(regression_case("constant_y_wrong", np.full(20, 4.0), sig(np.linspace(3, 5, 20))))
    out.append(regression_case("single", [2.0], [3.0]))
    out.append(regression_case("empty", [], []))
    y = sig(rng.normal(0, 1, 300))
    out.append(regression_case("perfect", y, y))
    y = sig(rng.exponential(2, 400))
    out.append(regression_case("weighted", y, sig(y * rng.normal(1, 0.2, 400)), w=sig(rng.random(400) + 0.1, 3)))
    y = sig(rng.normal(3, 2, 100))
    yhat = sig(y + rng.normal(0, 1, 100))
    y[::9] = np.nan
    yhat[5::11] = np.inf
    out.append(regression_case("nonfinite_rows_dropped", y, yhat, reference=(
        "sklearn raises on NaN and Inf; RegressionSums.Add drops those rows: the values are "
        "sklearn on the other rows")))
    return out


write(__file__, {"versions": versions("numpy", "scikit-learn")}, {
    "binary": binary_cases(),
    "multiclass": multiclass_cases(),
    "regression": regression_cases(),
})
