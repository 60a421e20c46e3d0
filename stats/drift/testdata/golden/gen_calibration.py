#!/usr/bin/env python3
"""Golden reference-calibrated thresholds for stats/drift (calibrate.go).

Run from the repository root (or `make golden`):

    python3 stats/drift/testdata/golden/gen_calibration.py

An independent implementation of the documented procedure: the sample of
cells (the reference in order) is cut into k = len // n consecutive
sub-windows of n cells; each is compared with the rest of the sample (its
own cells excluded) and the threshold is mean + sigmas * sd (ddof=1) of the
k values. Metrics on cells use scipy.spatial.distance.jensenshannon and
scipy.stats.entropy; wasserstein and energy use scipy.stats
wasserstein_distance / energy_distance with both sides' mass at the
reference bin means. PSI is Evidently's (empty proportions -> 1e-4, no
renormalization). Categorical cases have no grouping of cells; numeric cases
check wasserstein and energy on the fine bins.
"""

import json
import math
import os

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon

rng = np.random.default_rng(20261124)
EPS = 1e-4


def psi(r, c):
    r, c = r / r.sum(), c / c.sum()
    r = np.where(r == 0, EPS, r)
    c = np.where(c == 0, EPS, c)
    return float(np.sum((c - r) * np.log(c / r)))


def kl(r, c):
    # KL(r || c) with c's empty proportions set to eps and renormalized.
    p, q = r / r.sum(), c / c.sum()
    q = np.where(q == 0, EPS, q)
    return float(stats.entropy(p, q))


def hellinger(r, c):
    p, q = r / r.sum(), c / c.sum()
    return float(math.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2))


CELL = {
    "psi": psi,
    "jensen_shannon": lambda r, c: float(jensenshannon(r, c)),
    "js_divergence": lambda r, c: float(jensenshannon(r, c) ** 2 / math.log(2)),
    "hellinger": hellinger,
    "kl": kl,
    "total_variation": lambda r, c: float(0.5 * np.abs(r / r.sum() - c / c.sum()).sum()),
    "l_infinity": lambda r, c: float(np.abs(r / r.sum() - c / c.sum()).max()),
}


def calibrate(cells, ncells, n, metrics, sigmas, pos=None):
    cells = np.asarray(cells)
    k = len(cells) // n
    total = np.bincount(cells, minlength=ncells).astype(float)
    out = {}
    for m in metrics:
        vals = []
        for i in range(k):
            sub = np.bincount(cells[i * n:(i + 1) * n], minlength=ncells).astype(float)
            rest = total - sub
            if m in CELL:
                vals.append(CELL[m](rest, sub))
            else:
                keep = (rest + sub) > 0
                fn = stats.wasserstein_distance if m == "wasserstein" else stats.energy_distance
                vals.append(float(fn(pos[keep], pos[keep], rest[keep], sub[keep])))
        vals = np.asarray(vals)
        out[m] = float(vals.mean() + sigmas * vals.std(ddof=1))
    return out


cases = []
# Categorical: i.i.d. draws, a drifting reference (a trend over time), rare
# categories and a long tail.
for name, ncat, size, n, trend in [
    ("iid-4", 4, 4000, 100, 0.0), ("iid-12", 12, 20000, 500, 0.0),
    ("trend-5", 5, 10000, 250, 1.5), ("rare-30", 30, 6000, 300, 0.0),
    ("binary-small-window", 2, 3000, 20, 0.0), ("cycle-8", 8, 24000, 1000, 3.0),
]:
    base = rng.dirichlet(np.ones(ncat) * (0.3 if name.startswith("rare") else 2))
    cells = []
    for t in range(size):
        w = base * np.exp(trend * math.sin(2 * math.pi * t / size * 4) * np.linspace(-1, 1, ncat))
        cells.append(int(rng.choice(ncat, p=w / w.sum())))
    metrics = list(CELL)
    cases.append({"name": name, "kind": "categorical", "cells": cells, "ncells": ncat, "n": n,
                  "sigmas": 3.0, "want": calibrate(cells, ncat, n, metrics, 3.0)})

# Numeric: cells are bin indices of the values on fixed edges; positions are
# the reference bin means.
for name, size, n, shift in [("normal", 12000, 400, 0.0), ("lognormal-drifting", 9000, 300, 1.0), ("discrete", 5000, 100, 0.0)]:
    t = np.arange(size)
    if name == "discrete":
        x = rng.integers(0, 5, size).astype(float)
    elif name.startswith("lognormal"):
        x = rng.lognormal(0, 1, size) + shift * t / size
    else:
        x = rng.normal(10, 2, size)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, 21)))
    cells = np.searchsorted(edges, x, side="right")  # bin i holds [edges[i-1], edges[i])
    ncells = len(edges) + 1
    counts = np.bincount(cells, minlength=ncells)
    sums = np.bincount(cells, weights=x, minlength=ncells)
    pos = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    want = calibrate(cells, ncells, n, ["wasserstein", "energy"], 2.5, pos)
    cases.append({"name": name, "kind": "numeric", "cells": cells.tolist(), "ncells": ncells, "n": n,
                  "sigmas": 2.5, "edges": edges.tolist(), "counts": counts.tolist(), "sums": sums.tolist(),
                  "want": want})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "calibration.json")
with open(out, "w") as f:
    json.dump({"generator": "stats/drift/testdata/golden/gen_calibration.py",
               "versions": {"python": ".".join(map(str, __import__("sys").version_info[:3])),
                            "numpy": np.__version__, "scipy": scipy.__version__},
               "cases": cases}, f, separators=(",", ":"))
print(out, len(cases), "cases")
