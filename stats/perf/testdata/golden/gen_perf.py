#!/usr/bin/env python3
"""Write perf.json: golden values for package perf from scikit-learn.

Regenerate from the repository root with

    pip install scikit-learn numpy
    python3 stats/perf/testdata/golden/gen_perf.py

Deterministic (fixed seeds). Undefined metrics (sklearn zero_division /
single-class errors) are written as null; the Go side expects ok=false.
Histogram-binned scores use the Go default edges i/1000 and the same
[e_i, e_i+1) rule, so *_binned values are sklearn on the binned scores.
"""
import json
import math
import os
import warnings

import numpy as np
import sklearn
from sklearn import metrics as skm

warnings.simplefilter("ignore")
BINS = 1000
EDGES = np.arange(BINS + 1) / BINS


def num(x):
    x = float(x)
    return None if math.isnan(x) else x


def bin_index(s, edges=EDGES):
    return np.clip(np.searchsorted(edges, s, side="right") - 1, 0, len(edges) - 2)


def ece(y, s, w, n):
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


def binary_case(name, y, s, w=None, thr=0.5):
    y = np.asarray(y, dtype=int)
    s = np.asarray(s, dtype=float)
    pred = (s >= thr).astype(int)
    ww = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    sw = None if w is None else ww
    kw = dict(sample_weight=sw, zero_division=np.nan)
    binned = bin_index(s).astype(float)
    both = len(set(y.tolist())) == 2
    c = {
        "name": name,
        "y": y.tolist(),
        "s": s.tolist(),
        "w": ww.tolist(),
        "thr": thr,
        "accuracy": num(skm.accuracy_score(y, pred, sample_weight=sw)),
        "precision": num(skm.precision_score(y, pred, labels=[0, 1], **kw)),
        "recall": num(skm.recall_score(y, pred, labels=[0, 1], **kw)),
        "specificity": num(skm.recall_score(y, pred, labels=[0, 1], pos_label=0, **kw)),
        "f1": num(skm.f1_score(y, pred, labels=[0, 1], **kw)),
        "roc_auc": num(skm.roc_auc_score(y, s, sample_weight=sw)) if both else None,
        "roc_auc_binned": num(skm.roc_auc_score(y, binned, sample_weight=sw)) if both else None,
        "ap": num(skm.average_precision_score(y, s, sample_weight=sw)) if y.sum() > 0 else None,
        "ap_binned": num(skm.average_precision_score(y, binned, sample_weight=sw)) if y.sum() > 0 else None,
        "brier": num(skm.brier_score_loss(y, s, sample_weight=sw, labels=[0, 1])),
        "log_loss": num(skm.log_loss(y, s, sample_weight=sw, labels=[0, 1])),
        "ece10": num(ece(y, s, ww, 10)),
        "ece20": num(ece(y, s, ww, 20)),
    }
    # FPR = 1 - specificity but computed directly.
    neg = ww[y == 0].sum()
    c["fpr"] = num(ww[(y == 0) & (pred == 1)].sum() / neg) if neg > 0 else None
    return c


def binary_cases():
    rng = np.random.default_rng(20240601)
    out = []
    for n in (1, 2, 10, 100, 1000, 10000):
        y = rng.integers(0, 2, n)
        s = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)
        out.append(binary_case(f"random_n{n}", y, s))
    n = 5000
    y = (rng.random(n) < 0.01).astype(int)
    y[0] = 1
    out.append(binary_case("imbalance_1pct", y, np.clip(rng.beta(2, 5, n) + 0.2 * y, 0, 1)))
    y = (rng.random(n) < 0.999).astype(int)
    y[0] = 0
    out.append(binary_case("imbalance_999pm", y, rng.random(n)))
    out.append(binary_case("single_class_neg", np.zeros(50, int), rng.random(50)))
    out.append(binary_case("single_class_pos", np.ones(50, int), rng.random(50)))
    out.append(binary_case("all_negative_predictions", rng.integers(0, 2, 40), 0.4 * rng.random(40)))
    y = rng.integers(0, 2, 200)
    out.append(binary_case("all_correct_hard_scores", y, y.astype(float)))
    out.append(binary_case("all_correct_soft", y, 0.3 + 0.4 * y + 0.05 * rng.random(200)))
    out.append(binary_case("ties_one_decimal", rng.integers(0, 2, 500), np.round(rng.random(500), 1)))
    out.append(binary_case("on_bin_edges", rng.integers(0, 2, 800), rng.integers(0, BINS + 1, 800) / BINS))
    out.append(binary_case("on_bin_centers", rng.integers(0, 2, 800), (rng.integers(0, BINS, 800) + 0.5) / BINS))
    y = rng.integers(0, 2, 300)
    out.append(binary_case("weighted", y, np.clip(0.2 * y + 0.8 * rng.random(300), 0, 1), w=rng.random(300) * 3 + 0.1))
    y = rng.integers(0, 2, 100)
    s = rng.random(100)
    s[:10] = 0.0
    s[10:20] = 1.0
    out.append(binary_case("extreme_scores_clip", y, s))
    out.append(binary_case("threshold_0.3", y, s, thr=0.3))
    return out


def multiclass_case(name, k, y, p, w=None):
    y = np.asarray(y, int)
    p = np.asarray(p, int)
    sw = None if w is None else np.asarray(w, float)
    c = {"name": name, "k": k, "y": y.tolist(), "p": p.tolist(),
         "w": (np.ones(len(y)) if w is None else sw).tolist(),
         "accuracy": num(skm.accuracy_score(y, p, sample_weight=sw))}
    for avg in ("macro", "micro", "weighted"):
        kw = dict(average=avg, sample_weight=sw, zero_division=0)
        c["precision_" + avg] = num(skm.precision_score(y, p, **kw))
        c["recall_" + avg] = num(skm.recall_score(y, p, **kw))
        c["f1_" + avg] = num(skm.f1_score(y, p, **kw))
    return c


def multiclass_cases():
    rng = np.random.default_rng(7)
    out = []
    for k, n in ((3, 30), (3, 1000), (5, 5000), (10, 200)):
        y = rng.integers(0, k, n)
        p = np.where(rng.random(n) < 0.6, y, rng.integers(0, k, n))
        out.append(multiclass_case(f"random_k{k}_n{n}", k, y, p))
    y = rng.integers(0, 4, 300)
    p = np.where(y == 3, 0, y)
    out.append(multiclass_case("class_never_predicted", 4, y, p))
    y = rng.integers(0, 3, 300)
    out.append(multiclass_case("class_absent_k5", 5, y, np.where(rng.random(300) < 0.5, y, 3)))
    out.append(multiclass_case("all_correct", 3, y, y))
    y = np.where(rng.random(2000) < 0.97, 0, rng.integers(1, 3, 2000))
    out.append(multiclass_case("imbalanced", 3, y, np.zeros(2000, int)))
    y = rng.integers(0, 3, 400)
    p = np.where(rng.random(400) < 0.5, y, rng.integers(0, 3, 400))
    out.append(multiclass_case("weighted", 3, y, p, w=rng.random(400) * 2 + 0.05))
    return out


def regression_case(name, y, yhat, w=None):
    y = np.asarray(y, float)
    yhat = np.asarray(yhat, float)
    sw = None if w is None else np.asarray(w, float)
    return {"name": name, "y": y.tolist(), "yhat": yhat.tolist(),
            "w": (np.ones(len(y)) if w is None else sw).tolist(),
            "mae": num(skm.mean_absolute_error(y, yhat, sample_weight=sw)),
            "rmse": num(skm.root_mean_squared_error(y, yhat, sample_weight=sw)),
            "mape": num(skm.mean_absolute_percentage_error(y, yhat, sample_weight=sw)),
            "r2": num(skm.r2_score(y, yhat, sample_weight=sw))}


def regression_cases():
    rng = np.random.default_rng(99)
    out = []
    for n in (2, 10, 1000, 20000):
        y = rng.normal(3, 2, n)
        out.append(regression_case(f"random_n{n}", y, y + rng.normal(0, 1, n)))
    y = rng.normal(0, 1, 200)
    y[::10] = 0.0
    out.append(regression_case("zeros_in_y", y, y + rng.normal(0, 0.5, 200)))
    y = 1e6 + rng.normal(0, 1, 500)
    out.append(regression_case("large_offset", y, y + rng.normal(0, 0.1, 500)))
    out.append(regression_case("constant_y_perfect", np.full(20, 4.0), np.full(20, 4.0)))
    out.append(regression_case("constant_y_wrong", np.full(20, 4.0), np.linspace(3, 5, 20)))
    out.append(regression_case("single", [2.0], [3.0]))
    y = rng.normal(0, 1, 300)
    out.append(regression_case("perfect", y, y))
    y = rng.exponential(2, 400)
    out.append(regression_case("weighted", y, y * rng.normal(1, 0.2, 400), w=rng.random(400) + 0.1))
    return out


def main():
    data = {
        "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
        "binary": binary_cases(),
        "multiclass": multiclass_cases(),
        "regression": regression_cases(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "perf.json")
    with open(path, "w") as f:
        json.dump(data, f, allow_nan=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
