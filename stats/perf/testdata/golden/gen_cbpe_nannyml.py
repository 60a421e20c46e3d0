#!/usr/bin/env python3
"""Write cbpe_nannyml.json: NannyML's CBPE on the data stats/perf's CBPE
(cbpe.go) estimates from bins.

Run with `make golden`, which runs scripts named gen_*_nannyml.py with the
virtualenv .venv-nannyml made from stats/testdata/golden/requirements-nannyml.txt,
or directly from the repository root with that environment:

    .venv-nannyml/bin/python stats/perf/testdata/golden/gen_cbpe_nannyml.py

Each dataset is a binary classifier whose scores are miscalibrated (NannyML
then calibrates them: its needs_calibration check must say so, and the
script asserts it), a labelled reference, and analysis chunks drawn with
covariate shift (the inputs' distribution moves, P(y | inputs) stays).
NannyML 0.13's CBPE (isotonic calibration) estimates accuracy, precision,
recall, F1 and ROC AUC per chunk twice:

  * "raw": on the scores themselves, what NannyML users get;
  * "centred": on the scores moved to the centre of their bin of 100 equal
    bins over [0, 1] (baselines.OutcomeBin), reference and chunks alike:
    exactly the information driftwatch's state keeps. driftwatch's
    estimate must equal it (up to NannyML rounding its ROC curve's
    cumulative counts to 5 decimals).

Binning makes "raw" and driftwatch's estimate differ: per bin, the sum of
NannyML's calibrated probabilities over the chunk's records in it differs
from the bin's count times driftwatch's one calibrated value (the raw fit
varies within the bin, and the chunk's scores spread within it unlike the
reference's). Each case's "binning" tolerance is what that explains, per
metric: sum over bins of |d metric / d expected positives of the bin| *
|that difference| (first order, without cancellation between bins), and
for ROC AUC also the most the order of records within a bin can add to the
area, half the rectangle each bin spans, 0.5 * sum_b pos_b neg_b / (P N)
(as perf.ScoreHistogram.ROCAUCErrorBound). The decisions are y_pred =
score >= threshold, a multiple of 0.01, so a bin is on one side of it.

Also written, for the record (not compared, see cbpe.go for why the bands
differ): NannyML's sampling errors and the chunks' realized metrics.
Deterministic (fixed seeds).
"""
import os
import sys
import warnings

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "testdata", "golden"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import nannyml as nml  # noqa: E402
from sklearn.isotonic import IsotonicRegression  # noqa: E402

from goldenjson import versions, write  # noqa: E402

warnings.simplefilter("ignore")
BINS = 100
METRICS = ["accuracy", "precision", "recall", "f1", "roc_auc"]


def bin_of(s):
    return np.clip(np.floor(s * BINS), 0, BINS - 1).astype(int)


def frame(s, d, y, day):
    t = pd.Timestamp("2026-01-01") + pd.Timedelta(days=day) + pd.to_timedelta(np.arange(len(s)), unit="s")
    return pd.DataFrame({"s": s, "d": d, "y": y, "t": t})


def cbpe(ref, chunks, threshold, centred):
    """NannyML's CBPE fitted on ref, estimated on each chunk (one chunk a
    day); returns its result frame and whether it calibrated."""
    move = (lambda s: (bin_of(s) + 0.5) / BINS) if centred else (lambda s: s)
    rs, ry = ref
    ref_df = frame(move(rs), (rs >= threshold).astype(int), ry, 0)
    ana = pd.concat([frame(move(s), (s >= threshold).astype(int), y, i + 1) for i, (s, y) in enumerate(chunks)])
    est = nml.CBPE(problem_type="classification_binary", y_pred_proba="s", y_pred="d", y_true="y",
                   timestamp_column_name="t", metrics=METRICS, chunk_period="D")
    est.fit(ref_df)
    res = est.estimate(ana).filter(period="analysis").to_df()
    assert len(res) == len(chunks), (len(res), len(chunks))
    return res, est.needs_calibration


def expected_auc(pos, neg):
    p, n = pos.sum(), neg.sum()
    above, a = 0.0, 0.0
    for j in range(len(pos) - 1, -1, -1):
        a += neg[j] / n * (above + pos[j] / 2) / p
        above += pos[j]
    return a


def binning_tolerance(ref, s, threshold):
    """Per metric, what binning explains of |raw NannyML - centred| for a
    chunk of scores s (see the module doc)."""
    rs, ry = ref
    raw = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(rs, ry)
    rb = bin_of(rs)
    pos = np.bincount(rb[ry == 1], minlength=BINS).astype(float)
    neg = np.bincount(rb[ry == 0], minlength=BINS).astype(float)
    x = (np.arange(BINS) + 0.5) / BINS
    w = pos + neg
    has = w > 0
    binned = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(
        x[has], pos[has] / w[has], sample_weight=w[has]).predict(x)
    b = bin_of(s)
    c = np.bincount(b, minlength=BINS).astype(float)
    delta = np.bincount(b, weights=raw.predict(s), minlength=BINS) - c * binned
    sel = np.arange(BINS) >= int(np.ceil(threshold * BINS - 1e-9))
    n, S = c.sum(), c[sel].sum()
    TP, FN = (c * binned)[sel].sum(), (c * binned)[~sel].sum()
    grads = {
        "accuracy": (1 / n, -1 / n),
        "precision": (1 / S, 0.0),
        "recall": (FN / (TP + FN) ** 2, -TP / (TP + FN) ** 2),
        "f1": (2 * (FN + S) / (TP + FN + S) ** 2, -2 * TP / (TP + FN + S) ** 2),
    }
    tol = {m: float(np.sum(np.abs(np.where(sel, gt, gf) * delta))) for m, (gt, gf) in grads.items()}
    ep, en = c * binned, c * (1 - binned)
    base, h, d = expected_auc(ep, en), 1e-4, 0.0
    for j in np.nonzero(c)[0]:
        p2, n2 = ep.copy(), en.copy()
        p2[j] += h
        n2[j] -= h
        d += abs((expected_auc(p2, n2) - base) / h * delta[j])
    rp = ep + delta
    rn = c - rp
    tol["roc_auc"] = d + 0.5 * float(np.sum(rp * rn)) / (rp.sum() * rn.sum())
    return tol


def dataset(name, rng, n_ref, chunks_spec, score, threshold):
    """A reference of n_ref and chunks of (size, x1 shift, x2 sd): inputs
    x1, x2 standard normal (then shifted), truth logit f = -0.5 + 1.2 x1 +
    0.8 x2, label ~ Bernoulli(sigmoid f), score = score(f) rounded to 4
    decimals."""
    def draw(n, mu1=0.0, sd2=1.0):
        x1, x2 = rng.normal(mu1, 1, n), rng.normal(0, sd2, n)
        f = -0.5 + 1.2 * x1 + 0.8 * x2
        y = (rng.random(n) < 1 / (1 + np.exp(-f))).astype(int)
        return np.round(score(f), 4), y

    ref = draw(n_ref)
    chunks = [draw(*c) for c in chunks_spec]
    raw, cal_raw = cbpe(ref, chunks, threshold, centred=False)
    centred, cal_centred = cbpe(ref, chunks, threshold, centred=True)
    assert cal_raw and cal_centred, f"{name}: NannyML would not calibrate these scores"
    rs, ry = ref
    rb = bin_of(rs)
    case = {
        "name": name, "threshold": threshold,
        "reference_pos": np.bincount(rb[ry == 1], minlength=BINS),
        "reference_neg": np.bincount(rb[ry == 0], minlength=BINS),
        "chunks": [],
    }
    for i, (s, y) in enumerate(chunks):
        size, mu1, sd2 = chunks_spec[i]
        tol = binning_tolerance(ref, s, threshold)
        ch = {"about": f"{size} records, x1 mean {mu1:+.1f}, x2 sd {sd2:.1f}",
              "counts": np.bincount(bin_of(s), minlength=BINS)}
        for m in METRICS:
            ch[m] = {
                "centred": centred[(m, "value")].iloc[i],
                "raw": raw[(m, "value")].iloc[i],
                "binning": tol[m],
                "sampling_error": raw[(m, "sampling_error")].iloc[i],
                "realized": raw[(m, "realized")].iloc[i],
            }
        case["chunks"].append(ch)
    return case


def main():
    rng = np.random.default_rng(20261207)
    shifts = [(5000, 0.0, 1.0), (5000, 0.5, 1.0), (5000, 1.0, 1.0), (5000, -0.8, 1.0),
              (5000, 0.0, 0.4), (400, 0.7, 1.0)]
    cases = [
        # Overconfident scores, decisions at 0.5.
        dataset("overconfident", rng, 20000, shifts, lambda f: 1 / (1 + np.exp(-(1.8 * f + 0.4))), 0.5),
        # Underconfident and off-centre, decisions at 0.3.
        dataset("underconfident", rng, 20000, shifts, lambda f: 1 / (1 + np.exp(-(0.6 * f - 0.3))), 0.3),
        # A small reference: bins without reference scores interpolate.
        dataset("small_reference", rng, 1500, [(3000, 0.0, 1.0), (3000, 1.2, 1.0), (3000, -1.0, 0.6)],
                lambda f: 1 / (1 + np.exp(-(2.5 * f))), 0.5),
    ]
    write(__file__, {"versions": versions("nannyml", "scikit-learn", "numpy", "pandas"), "bins": BINS},
          {"cases": cases})


if __name__ == "__main__":
    main()
