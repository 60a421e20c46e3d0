#!/usr/bin/env python3
"""Write evidently.json: Evidently's data drift verdicts, side by side with
driftwatch's `evidently` preset (stats/drift/preset.go, checked by
evidently_golden_test.go).

Reference implementation: evidently==0.7.23 from PyPI (it needs pandas < 3:
0.7.23 imports pandas.core.dtypes.common.infer_dtype_from_object, which
pandas 3 removed). Run with `make golden`, or directly from the repository
root:

    python3 stats/drift/testdata/golden/gen_evidently.py

Each case is one column: a reference sample and a current sample. Evidently
judges it with its public API, Report([ValueDrift(column=...)],
include_tests=True) with no method and no threshold, so its automatic
selection (evidently.legacy.calculations.stattests.registry.
_get_default_stattest) chooses the test and its default threshold. The case
records the test's display name ("method"), the threshold, the drift score
(p-value or distance) and the verdict (the drift test's status, FAIL meaning
drift detected).

Cases cover every branch of that selection: reference sizes 300, 1000
(<= 1000 rows: K-S, chi-square or z-test), 1001 and 5000 (> 1000 rows:
Wasserstein distance (normed) or Jensen-Shannon distance); numeric
continuous (normal, lognormal, uniform), numeric with 2 to 5 distinct values
(one with a rare value, and currents that bring a value the reference does
not have), categorical with 2 and with 4 to 20 categories, categories unseen
in the reference, and a constant feature. Each reference gets an undrifted
current (a fresh sample of the same distribution) and drifted ones of 200 to
5000 rows, with shifts from subtle to large.

Encoding (see stats/testdata/golden/goldenjson.py): numeric samples are
rounded to 4 significant digits before Evidently sees them and written
sorted (run-length encoded when repetitive); order does not matter to any of
the tests. Categorical samples are written as counts per category. Reference
samples are shared between cases through the "references" object. For K-S
cases "ks_statistic" is scipy.stats.ks_2samp(ref, cur).statistic on the
same values (the statistic behind Evidently's p-value), for diagnosis only.
"""

import os
import sys

# Evidently orders categories by iterating a set of strings, whose order
# depends on Python's string hashing: fix it, so that sums run in the same
# order and the file is reproducible to the last bit.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, "PYTHONHASHSEED": "0"})

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "testdata", "golden"))

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from goldenjson import pack, sig, versions, write  # noqa: E402

warnings.simplefilter("ignore")  # scipy warns on chi-square with unseen categories

from evidently import DataDefinition, Dataset, Report  # noqa: E402
from evidently.metrics import ValueDrift  # noqa: E402

SEED = 20261125
rng = np.random.default_rng(SEED)


# Distributions. shift moves the distribution: in standard deviations for
# normal, on the log scale for lognormal, in widths for uniform; for
# discrete and categorical ones it is the new probability vector.
def draw_numeric(dist, n, shift=0.0):
    if dist == "normal":
        x = rng.normal(10 + shift, 1, n)
    elif dist == "lognormal":
        x = rng.lognormal(shift, 0.8, n)
    elif dist == "uniform":
        x = rng.uniform(shift, 1 + shift, n) * 50
    else:
        raise ValueError(dist)
    return np.sort(sig(x))


def draw_discrete(values, probs, n):
    return np.sort(rng.choice(np.asarray(values, dtype=float), n, p=np.asarray(probs) / np.sum(probs)))


def draw_categorical(names, probs, n):
    x = rng.choice(names, n, p=np.asarray(probs) / np.sum(probs))
    u, c = np.unique(x, return_counts=True)
    return {str(k): int(v) for k, v in zip(u, c)}


def expand(counts):
    return pd.Series([k for k, v in counts.items() for _ in range(v)], dtype=object)


def cats(k):
    return [f"c{i:02d}" for i in range(k)]


def zipf(k, s=1.0):
    return list(1 / np.arange(1, k + 1) ** s)


refs = {}  # name -> (kind, sample)


def ref_numeric(name, dist, n):
    refs[name] = ("numeric", draw_numeric(dist, n))


def ref_discrete(name, values, probs, n):
    refs[name] = ("numeric", draw_discrete(values, probs, n))


def ref_categorical(name, names, probs, n):
    refs[name] = ("categorical", draw_categorical(names, probs, n))


for dist, sizes in [("normal", (300, 1000, 1001, 5000)), ("lognormal", (1000, 5000)),
                    ("uniform", (300, 1001, 5000))]:
    for n in sizes:
        ref_numeric(f"{dist}-{n}", dist, n)
D2, P2 = [0, 1], [0.7, 0.3]
D3, P3 = [1, 2, 3], [0.5, 0.3, 0.2]
D4, P4 = [0, 1, 2, 3], [0.25, 0.25, 0.25, 0.25]
D5, P5 = [0, 1, 2, 3, 4], [0.3, 0.25, 0.2, 0.15, 0.1]
D5R, P5R = [0, 1, 2, 3, 4], [0.4, 0.3, 0.2, 0.07, 0.03]  # with rare values
for n in (300, 1000, 1001, 5000):
    ref_discrete(f"d2-{n}", D2, P2, n)
    ref_discrete(f"d3-{n}", D3, P3, n)
    ref_discrete(f"d4-{n}", D4, P4, n)
    ref_discrete(f"d5-{n}", D5, P5, n)
    ref_discrete(f"d5rare-{n}", D5R, P5R, n)
    ref_categorical(f"cat2-{n}", ["no", "yes"], [0.8, 0.2], n)
    ref_categorical(f"cat4-{n}", cats(4), [0.4, 0.3, 0.2, 0.1], n)
    ref_categorical(f"cat6-{n}", cats(6), zipf(6), n)
    ref_categorical(f"cat10-{n}", cats(10), zipf(10), n)
    ref_categorical(f"cat20-{n}", cats(20), zipf(20, 0.7), n)
ref_categorical("const-300", ["a"], [1], 300)

cases = []


def case(name, ref, cur):
    cases.append({"name": name, "kind": refs[ref][0], "ref": ref, "cur": cur})


# Numeric, continuous.
for ref, n, shift in [
    ("normal-300", 200, 0), ("normal-300", 500, 0.3), ("normal-1000", 1000, 0),
    ("normal-1000", 2000, 0.1), ("normal-1000", 200, 0.5),
    ("lognormal-1000", 500, 0), ("lognormal-1000", 1000, 0.15),
    ("uniform-300", 300, 0), ("uniform-300", 5000, 0.1),
    ("normal-1001", 1000, 0), ("normal-1001", 1000, 0.1), ("normal-5000", 5000, 0),
    ("normal-5000", 2000, 0.05), ("normal-5000", 500, 0.15), ("normal-5000", 300, 1.0),
    ("normal-5000", 5000, 0.1),
    ("lognormal-5000", 2000, 0), ("lognormal-5000", 1000, 0.2),
    ("uniform-1001", 200, 0), ("uniform-5000", 3000, 0.03), ("uniform-5000", 1000, 0.5),
]:
    dist = ref.split("-")[0]
    case(f"{ref}/{'same' if shift == 0 else f'shift{shift}'}-{n}", ref, draw_numeric(dist, n, shift))

# Numeric, 2 to 5 distinct values.
for ref, n, probs, label in [
    ("d2-300", 200, P2, "same"), ("d2-1000", 500, [0.6, 0.4], "shift"),
    ("d3-1000", 1000, P3, "same"), ("d3-300", 2000, [0.45, 0.33, 0.22], "subtle"),
    ("d5-1000", 300, P5, "same"), ("d5rare-1000", 1000, [0.3, 0.3, 0.2, 0.1, 0.1], "large"),
    ("d5rare-300", 800, [0.4, 0.3, 0.2, 0.05, 0.05], "subtle"),
    ("d4-300", 5000, [0.27, 0.25, 0.25, 0.23], "subtle"),
    ("d2-1001", 1000, P2, "same"), ("d2-5000", 2000, [0.55, 0.45], "shift"),
    ("d3-5000", 500, P3, "same"), ("d5-1001", 3000, [0.28, 0.25, 0.2, 0.16, 0.11], "subtle"),
    ("d5rare-5000", 1000, [0.3, 0.25, 0.2, 0.15, 0.1], "large"),
    ("d5rare-1001", 2000, P5R, "same"), ("d4-5000", 200, [0.1, 0.2, 0.3, 0.4], "large"),
]:
    vals = {"d2": D2, "d3": D3, "d4": D4, "d5": D5, "d5rare": D5R}[ref.split("-")[0]]
    case(f"{ref}/{label}-{n}", ref, draw_discrete(vals, probs, n))
# Values the reference does not have: below its minimum, between its values,
# above its maximum.
case("d5-1000/new-below-500", "d5-1000", draw_discrete([-1] + D5, [0.1] + P5, 500))
case("d2-300/new-between-400", "d2-300", draw_discrete([0, 0.5, 1], [0.6, 0.1, 0.3], 400))
case("d5-5000/new-above-1000", "d5-5000", draw_discrete(D5 + [7], P5 + [0.05], 1000))

# Categorical.
for ref, n, names, probs, label in [
    ("cat2-300", 200, ["no", "yes"], [0.8, 0.2], "same"),
    ("cat2-1000", 1000, ["no", "yes"], [0.77, 0.23], "subtle"),
    ("cat2-1000", 5000, ["no", "yes"], [0.6, 0.4], "large"),
    ("cat6-300", 500, cats(6), zipf(6), "same"),
    ("cat10-1000", 2000, cats(10), zipf(10, 1.1), "subtle"),
    ("cat20-1000", 1000, cats(20), zipf(20, 0.3), "large"),
    ("cat2-1000", 600, ["no", "yes", "maybe"], [0.78, 0.2, 0.02], "unseen"),
    ("cat6-300", 300, cats(7), zipf(7), "unseen"),
    ("cat2-1001", 1000, ["no", "yes"], [0.8, 0.2], "same"),
    ("cat2-5000", 500, ["no", "yes"], [0.7, 0.3], "shift"),
    ("cat10-5000", 5000, cats(10), zipf(10), "same"),
    ("cat20-1001", 2000, cats(20), zipf(20, 0.85), "subtle"),
    ("cat4-5000", 1000, cats(4), [0.1, 0.2, 0.3, 0.4], "large"),
    ("cat6-5000", 1000, cats(6) + ["zz"], zipf(6) + [0.3], "unseen"),
    ("cat20-5000", 200, cats(20), zipf(20, 0.7), "same"),
    ("cat4-1001", 3000, cats(4), [0.31, 0.3, 0.2, 0.19], "borderline"),
    ("const-300", 200, ["a"], [1], "same"),
    ("cat2-1000", 1000, ["no", "yes"], [0.67, 0.33], "strong"),
]:
    case(f"{ref}/{label}-{n}", ref, draw_categorical(names, probs, n))


def evidently_drift(kind, ref, cur):
    if kind == "numeric":
        r, c = pd.Series(ref, dtype=float), pd.Series(cur, dtype=float)
        dd = DataDefinition(numerical_columns=["x"])
    else:
        r, c = expand(ref), expand(cur)
        dd = DataDefinition(categorical_columns=["x"])
    report = Report([ValueDrift(column="x")], include_tests=True)
    snap = report.run(Dataset.from_pandas(pd.DataFrame({"x": c}), data_definition=dd),
                      Dataset.from_pandas(pd.DataFrame({"x": r}), data_definition=dd))
    out = snap.dict()
    (metric,) = out["metrics"]
    (test,) = out["tests"]
    assert test["status"] in ("FAIL", "SUCCESS"), test
    return {
        "method": metric["config"]["method"],
        "threshold": metric["config"]["threshold"],
        "score": float(metric["value"]),
        "drifted": test["status"] == "FAIL",
        "n_unique": int(pd.concat([r, c]).nunique()),
    }


for c in cases:
    kind, ref = refs[c["ref"]]
    c["evidently"] = evidently_drift(kind, ref, c["cur"])
    if c["evidently"]["method"] == "K-S p_value":
        c["ks_statistic"] = float(stats.ks_2samp(ref, c["cur"]).statistic)
    if kind == "numeric":
        c["cur"] = pack(c["cur"])

write(__file__,
      {"versions": versions("numpy", "scipy", "pandas", "evidently"), "seed": SEED,
       "references": {k: (pack(v) if kind == "numeric" else v) for k, (kind, v) in refs.items()
                      if any(c["ref"] == k for c in cases)}},
      {"cases": cases})
