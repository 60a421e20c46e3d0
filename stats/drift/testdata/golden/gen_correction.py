#!/usr/bin/env python3
"""Write correction.json: golden p-value corrections for stats/drift
(correct.go, read by correct_test.go).

Run with `make golden` (pinned versions from
stats/testdata/golden/requirements.txt), or directly from the repository
root:

    python3 stats/drift/testdata/golden/gen_correction.py

Benjamini-Hochberg adjusted p-values come from
scipy.stats.false_discovery_control(ps, method='bh'); Bonferroni is
min(1, m*p), computed in numpy. Generated p-values are rounded to 4
significant digits (which adds ties). Seeded, so the file is reproducible;
conventions are in stats/testdata/golden/goldenjson.py.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "testdata", "golden"))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from goldenjson import sig, versions, write  # noqa: E402

SEED = 20261123
rng = np.random.default_rng(SEED)
cases = []


def add(name, ps):
    ps = np.asarray(ps, dtype=float)
    cases.append({
        "name": name,
        "p": ps,
        "bh": stats.false_discovery_control(ps, method="bh"),
        "bonferroni": np.minimum(1.0, ps * len(ps)),
    })


add("empty", [])
add("single", [0.03])
add("all_one", [1.0, 1.0, 1.0])
add("all_zero", [0.0, 0.0])
add("ties", [0.01, 0.01, 0.04, 0.04, 0.2])
add("textbook", [0.01, 0.04, 0.03, 0.005, 0.5, 0.2])
add("tiny", [1e-300, 5e-324, 0.5, 1e-17])
add("one_small_among_1000", np.concatenate([[1e-6], np.ones(999)]))
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
        add(f"m{m}_kind{kind}", sig(ps, 4))

write(__file__, {"versions": versions("numpy", "scipy"), "seed": SEED}, {"cases": cases})
