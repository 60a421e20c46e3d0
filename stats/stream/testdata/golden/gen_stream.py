#!/usr/bin/env python3
"""Regenerate stream.json: River's drift indices for the Go detectors in package stream.

Run with `make golden` (pinned versions from
stats/testdata/golden/requirements.txt), or directly from the repository
root:

    python3 stats/stream/testdata/golden/gen_stream.py

Every input sequence comes from random.Random with a fixed seed, rounded to 2
decimals (0 for the large-valued one, whose standard deviation is 1000), so the output is a pure function of the River, SciPy and
Python versions, which are recorded in the file (conventions in
stats/testdata/golden/goldenjson.py). Cases named */nonfinite_* hold NaN and
infinite values, which the Go detectors ignore (stats/stream/doc.go) and
River would propagate: their drift indices are River's on the input without
those values, mapped back to positions in the full input. The Go test (stream_golden_test.go) replays each input through the
Go detector built with the same parameters and requires identical drift (and,
for DDM/EDDM, warning) indices, plus ADWIN's width and estimation at a few
checkpoints.
"""
from __future__ import annotations

import math
import os
import random
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "testdata", "golden"))

import scipy.stats  # noqa: E402
from scipy.stats._stats_py import _compute_prob_outside_square  # noqa: E402
from river import drift  # noqa: E402
from river.drift import binary  # noqa: E402

from goldenjson import versions, write  # noqa: E402


def rnd(xs, decimals=2):
    """xs rounded to `decimals` decimals (both sides read the same text):
    1% of a standard deviation for the unit-scale inputs here."""
    return [round(float(v), decimals) + 0.0 for v in xs]

# ---------------------------------------------------------------- inputs


def gauss_seq(seed, segments):
    """segments: list of (n, mu, sigma); returns concatenated Gaussian draws."""
    rng = random.Random(seed)
    out = []
    for n, mu, sigma in segments:
        out.extend(rng.gauss(mu, sigma) for _ in range(n))
    return out


def gradual_seq(seed, n_before, n_ramp, n_after, mu0, mu1, sigma):
    """Linear ramp of the mean from mu0 to mu1 over n_ramp values."""
    rng = random.Random(seed)
    out = [rng.gauss(mu0, sigma) for _ in range(n_before)]
    for i in range(n_ramp):
        mu = mu0 + (mu1 - mu0) * (i + 1) / n_ramp
        out.append(rng.gauss(mu, sigma))
    out.extend(rng.gauss(mu1, sigma) for _ in range(n_after))
    return out


def uniform_seq(seed, segments):
    rng = random.Random(seed)
    out = []
    for n, lo, hi in segments:
        out.extend(rng.uniform(lo, hi) for _ in range(n))
    return out


def bernoulli_seq(seed, segments):
    """segments: list of (n, p); returns 0/1 error indicators as floats."""
    rng = random.Random(seed)
    out = []
    for n, p in segments:
        out.extend(1.0 if rng.random() < p else 0.0 for _ in range(n))
    return out


def gradual_bernoulli(seed, n_before, n_ramp, n_after, p0, p1):
    rng = random.Random(seed)
    out = [1.0 if rng.random() < p0 else 0.0 for _ in range(n_before)]
    for i in range(n_ramp):
        p = p0 + (p1 - p0) * (i + 1) / n_ramp
        out.append(1.0 if rng.random() < p else 0.0)
    out.extend(1.0 if rng.random() < p1 else 0.0 for _ in range(n_after))
    return out


# ---------------------------------------------------------------- detectors

FACTORIES = {
    "adwin": lambda p: drift.ADWIN(**p),
    "page_hinkley": lambda p: drift.PageHinkley(**p),
    "ddm": lambda p: binary.DDM(**p),
    "eddm": lambda p: binary.EDDM(**p),
    "kswin": lambda p: drift.KSWIN(**p),
}


def run(detector, params, xs, checkpoints=()):
    d = FACTORIES[detector](dict(params))
    drifts, warnings, cps = [], [], []
    cpset = set(checkpoints)
    for i, x in enumerate(xs):
        d.update(x)
        if d.drift_detected:
            drifts.append(i)
        if getattr(d, "warning_detected", False):
            warnings.append(i)
        if detector == "adwin" and i in cpset:
            cps.append({"index": i, "width": float(d.width), "estimation": float(d.estimation)})
    case = {"drifts": drifts}
    if detector in ("ddm", "eddm"):
        case["warnings"] = warnings
    if cps:
        case["checkpoints"] = cps
    return case


CASES = []


def add(name, detector, params, xs, checkpoints=()):
    xs = rnd(xs, 0 if name.endswith("large_values") else 2)
    case = {"name": name, "detector": detector, "params": params, "input": xs}
    case.update(run(detector, params, xs, checkpoints))
    CASES.append(case)


def add_nonfinite(detector, params, xs, every):
    """xs with NaN, +Inf and -Inf inserted every `every` values; River runs
    on xs alone and its indices are mapped to the full input."""
    xs = rnd(xs)
    full, pos = [], []
    bad = [math.nan, math.inf, -math.inf]
    for i, x in enumerate(xs):
        if i % every == every - 1:
            full.append(bad[(i // every) % 3])
        pos.append(len(full))
        full.append(x)
    case = {"name": f"{detector}/nonfinite_ignored", "detector": detector, "params": params,
            "input": full,
            "reference": "River propagates NaN; the Go detectors ignore non-finite values, "
                         "so the indices are River's on the finite values"}
    res = run(detector, params, xs)
    case["drifts"] = [pos[i] for i in res["drifts"]]
    if "warnings" in res:
        # A skipped value leaves the state, and so the warning flag, as
        # the previous finite value left it.
        warn = set(res["warnings"])
        flags, i = [], -1
        for x in full:
            if math.isfinite(x):
                i += 1
            flags.append(i in warn)
        case["warnings"] = [j for j, f in enumerate(flags) if f]
    CASES.append(case)


def cps(n):
    return sorted({min(n - 1, c) for c in (0, 4, 9, 31, 63, 100, n // 3, n // 2, n - 1) if n > 0})


# ---------------------------------------------------------------- ADWIN

adwin_inputs = [
    ("abrupt_mean_shift", gauss_seq(1, [(1000, 0, 1), (1000, 3, 1)]), {}),
    ("abrupt_small_shift", gauss_seq(2, [(1500, 0, 1), (1500, 0.5, 1)]), {}),
    ("two_shifts", gauss_seq(3, [(800, 0, 1), (800, 2, 1), (800, -1, 1)]), {}),
    ("gradual", gradual_seq(4, 500, 1000, 500, 0, 3, 1), {}),
    ("no_drift", gauss_seq(5, [(3000, 0, 1)]), {}),
    ("constant", [0.5] * 500, {}),
    ("constant_zero", [0.0] * 200, {}),
    ("very_short", [1.0, 2.0, 3.0], {}),
    ("empty", [], {}),
    ("bernoulli_rate_change", bernoulli_seq(6, [(1000, 0.1), (1000, 0.5)]), {}),
    ("clock1_delta01", gauss_seq(7, [(400, 0, 1), (400, 2, 1)]), {"delta": 0.01, "clock": 1}),
    ("maxbuckets3_minwin10", gauss_seq(8, [(1000, 0, 1), (1000, 1, 1)]),
     {"max_buckets": 3, "min_window_length": 10, "grace_period": 50}),
    ("uniform_jump", uniform_seq(9, [(600, 0, 1), (600, 0.8, 1.8)]), {"clock": 8}),
    ("river_docstring", None, {}),  # filled below
    ("large_values", gauss_seq(10, [(700, 1e6, 1e3), (700, 1.01e6, 1e3)]), {}),
]
for name, xs, params in adwin_inputs:
    if name == "river_docstring":
        rng = random.Random(12345)
        xs = [float(v) for v in rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)]
    add("adwin/" + name, "adwin", params, xs, cps(len(xs)))
add_nonfinite("adwin", {}, gauss_seq(19, [(600, 0, 1), (600, 2, 1)]), 37)

# ---------------------------------------------------------------- Page-Hinkley

ph_inputs = [
    ("abrupt_up", gauss_seq(11, [(1000, 0, 1), (1000, 3, 1)]), {}),
    ("abrupt_down", gauss_seq(12, [(1000, 5, 1), (1000, 1, 1)]), {}),
    ("up_mode_ignores_down", gauss_seq(12, [(1000, 5, 1), (1000, 1, 1)]), {"mode": "up"}),
    ("down_mode", gauss_seq(12, [(1000, 5, 1), (1000, 1, 1)]), {"mode": "down"}),
    ("up_mode", gauss_seq(11, [(1000, 0, 1), (1000, 3, 1)]), {"mode": "up"}),
    ("gradual", gradual_seq(13, 500, 1500, 500, 0, 2, 0.5), {}),
    ("no_drift", gauss_seq(14, [(3000, 0, 1)]), {}),
    ("constant", [2.0] * 500, {}),
    ("very_short", [1.0] * 10, {}),
    ("empty", [], {}),
    ("low_threshold", gauss_seq(15, [(500, 0, 1), (500, 1, 1)]),
     {"threshold": 10.0, "min_instances": 10, "delta": 0.01}),
    ("alpha_forgetting", gauss_seq(16, [(1000, 0, 1), (1000, 1.5, 1)]), {"alpha": 0.99}),
    ("repeated_shifts", gauss_seq(17, [(400, 0, 1), (400, 4, 1), (400, 0, 1), (400, 4, 1)]), {}),
    ("bernoulli", bernoulli_seq(18, [(2000, 0.1), (2000, 0.6)]), {"threshold": 20.0}),
]
for name, xs, params in ph_inputs:
    add("page_hinkley/" + name, "page_hinkley", params, xs)
add_nonfinite("page_hinkley", {}, gauss_seq(20, [(800, 0, 1), (800, 3, 1)]), 41)

# ---------------------------------------------------------------- DDM

ddm_inputs = [
    ("rate_increase", bernoulli_seq(21, [(1000, 0.1), (1000, 0.4)]), {}),
    ("rate_small_increase", bernoulli_seq(22, [(2000, 0.2), (2000, 0.3)]), {}),
    ("rate_decrease", bernoulli_seq(23, [(1000, 0.4), (1000, 0.1)]), {}),
    ("gradual", gradual_bernoulli(24, 1000, 1000, 1000, 0.1, 0.5), {}),
    ("no_drift", bernoulli_seq(25, [(4000, 0.2)]), {}),
    ("all_zero", [0.0] * 300, {}),
    ("all_one", [1.0] * 300, {}),
    ("very_short", [1.0, 0.0, 1.0, 1.0], {}),
    ("empty", [], {}),
    ("warm_start_10", bernoulli_seq(26, [(500, 0.05), (500, 0.3)]), {"warm_start": 10}),
    ("tight_thresholds", bernoulli_seq(27, [(1500, 0.2), (1500, 0.3)]),
     {"warning_threshold": 1.5, "drift_threshold": 2.0}),
    ("multi_change", bernoulli_seq(28, [(800, 0.05), (800, 0.3), (800, 0.05), (800, 0.5)]), {}),
    ("starts_with_errors", [1.0] * 50 + bernoulli_seq(29, [(1000, 0.1), (500, 0.6)]), {}),
    ("high_rate", bernoulli_seq(30, [(1000, 0.6), (1000, 0.9)]), {}),
]
for name, xs, params in ddm_inputs:
    add("ddm/" + name, "ddm", params, xs)
add_nonfinite("ddm", {}, bernoulli_seq(53, [(1000, 0.1), (1000, 0.4)]), 29)

# ---------------------------------------------------------------- EDDM

eddm_inputs = [
    ("rate_increase", bernoulli_seq(31, [(2000, 0.1), (2000, 0.4)]), {}),
    ("rate_small_increase", bernoulli_seq(32, [(3000, 0.1), (3000, 0.2)]), {}),
    ("rate_decrease", bernoulli_seq(33, [(2000, 0.4), (2000, 0.1)]), {}),
    ("gradual", gradual_bernoulli(34, 1500, 1500, 1500, 0.05, 0.4), {}),
    ("no_drift", bernoulli_seq(35, [(5000, 0.2)]), {}),
    ("all_zero", [0.0] * 300, {}),
    ("all_one", [1.0] * 300, {}),
    ("very_short", [1.0, 0.0, 1.0, 1.0], {}),
    ("empty", [], {}),
    ("warm_start_5", bernoulli_seq(36, [(800, 0.1), (800, 0.5)]), {"warm_start": 5}),
    ("loose_levels", bernoulli_seq(37, [(2000, 0.1), (2000, 0.3)]), {"alpha": 0.99, "beta": 0.97}),
    ("multi_change", bernoulli_seq(38, [(1500, 0.05), (1500, 0.3), (1500, 0.05), (1500, 0.5)]), {}),
    ("low_rate", bernoulli_seq(39, [(5000, 0.02), (5000, 0.1)]), {}),
    ("alternating", [float(i % 2) for i in range(400)] + bernoulli_seq(40, [(800, 0.3)]), {}),
]
for name, xs, params in eddm_inputs:
    add("eddm/" + name, "eddm", params, xs)
add_nonfinite("eddm", {}, bernoulli_seq(54, [(2000, 0.1), (2000, 0.4)]), 31)

# ---------------------------------------------------------------- KSWIN

kswin_inputs = [
    ("abrupt_mean_shift", gauss_seq(41, [(500, 0, 1), (500, 2, 1)]), {"seed": 42}),
    ("abrupt_small_shift", gauss_seq(42, [(800, 0, 1), (800, 0.7, 1)]), {"seed": 1}),
    ("variance_change", gauss_seq(43, [(600, 0, 1), (600, 0, 4)]), {"seed": 7}),
    ("gradual", gradual_seq(44, 300, 600, 300, 0, 3, 1), {"seed": 0}),
    ("no_drift", gauss_seq(45, [(2000, 0, 1)]), {"seed": 123}),
    ("constant", [1.0] * 400, {"seed": 3}),
    ("very_short", [0.1, 0.2, 0.3], {"seed": 3}),
    ("empty", [], {"seed": 3}),
    ("exactly_window", gauss_seq(46, [(70, 0, 1), (30, 5, 1)]), {"seed": 5}),
    ("small_window", gauss_seq(47, [(300, 0, 1), (300, 1.5, 1)]),
     {"seed": 11, "window_size": 50, "stat_size": 20, "alpha": 0.01}),
    ("large_window_set_sampling", gauss_seq(48, [(800, 0, 1), (800, 1, 1)]),
     {"seed": 2**40 + 17, "window_size": 400, "stat_size": 10}),
    ("uniform_jump", uniform_seq(49, [(500, 0, 1), (500, 0.5, 1.5)]), {"seed": 99}),
    ("ties_bernoulli", bernoulli_seq(50, [(500, 0.2), (500, 0.8)]), {"seed": 8}),
    ("negative_seed", gauss_seq(51, [(500, 0, 1), (500, 1.5, 1)]), {"seed": -5}),
    ("alpha_loose", gauss_seq(52, [(1000, 0, 1)]), {"seed": 13, "alpha": 0.05}),
]
for name, xs, params in kswin_inputs:
    add("kswin/" + name, "kswin", params, xs)
add_nonfinite("kswin", {"seed": 42}, gauss_seq(55, [(500, 0, 1), (500, 2, 1)]), 23)

# ---------------------------------------------------------------- helpers
# Components of KSWIN checked on their own: Python's generator and sampler,
# and SciPy's exact two-sample KS p-value for equal sample sizes.

PY_RANDOM = []
for seed in (0, 1, 42, -5, 12345, 2**32 - 1, 2**32, 2**40 + 17, 2**63 - 1):
    r = random.Random(seed)
    bits = [r.getrandbits(32) for _ in range(8)]
    PY_RANDOM.append({
        "seed": seed,
        "getrandbits32": bits,
        "sample_70_30": r.sample(range(70), 30),
        "sample_390_10": r.sample(range(390), 10),
        "sample_30_3": r.sample(range(30), 3),
        "sample_1000_200": r.sample(range(1000), 200),
    })

KS_EXACT = []
ks_rng = random.Random(77)
for n in (5, 10, 20, 30, 50, 100):
    for shift in (0.0, 0.3, 0.8, 2.0):
        a = rnd(ks_rng.gauss(0, 1) for _ in range(n))
        b = rnd(ks_rng.gauss(shift, 1) for _ in range(n))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            res = scipy.stats.ks_2samp(a, b, method="auto")
        h = round(float(res.statistic) * n)
        # SciPy falls back to the asymptotic kstwo.sf when its exact
        # recursion rounds outside [0, 1] (only ever slightly above 1).
        exact = _compute_prob_outside_square(n, h) if h else 1.0
        KS_EXACT.append({
            "a": a, "b": b,
            "statistic": float(res.statistic), "pvalue": float(res.pvalue),
            "asymptotic_fallback": not (0 <= exact <= 1),
        })

write(__file__, {"versions": versions("river", "scipy", "numpy")},
      {"cases": CASES, "py_random": PY_RANDOM, "ks_exact": KS_EXACT})
