#!/usr/bin/env python3
"""Golden p-value corrections for stats/drift (correct.go).

Run from the repository root (or `make golden`):

    pip install scipy numpy
    python3 stats/drift/testdata/golden/gen_correction.py

Benjamini-Hochberg adjusted p-values come from
scipy.stats.false_discovery_control(ps, method='bh'); Bonferroni is
min(1, m*p), computed in numpy. Seeds are fixed, so the file is reproducible.
"""

import json
import os

import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(20261123)
cases = []


def add(name, ps):
    ps = np.asarray(ps, dtype=float)
    cases.append({
        "name": name,
        "p": ps.tolist(),
        "bh": stats.false_discovery_control(ps, method="bh").tolist(),
        "bonferroni": np.minimum(1.0, ps * len(ps)).tolist(),
    })


add("single", [0.03])
add("all_one", [1.0, 1.0, 1.0])
add("all_zero", [0.0, 0.0])
add("ties", [0.01, 0.01, 0.04, 0.04, 0.2])
add("textbook", [0.01, 0.04, 0.03, 0.005, 0.5, 0.2])
for m in (2, 3, 5, 10, 20, 50, 200):
    for kind in range(4):
        if kind == 0:
            ps = rng.uniform(size=m)
        elif kind == 1:
            ps = rng.uniform(size=m) ** 4
        elif kind == 2:
            ps = np.concatenate([rng.uniform(0, 1e-6, size=m // 2), rng.uniform(size=m - m // 2)])
            rng.shuffle(ps)
        else:
            ps = np.round(rng.uniform(size=m), 2)
        add(f"m{m}_kind{kind}", ps)

out = {"scipy": scipy.__version__, "numpy": np.__version__, "cases": cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "correction.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} cases to {path}")
