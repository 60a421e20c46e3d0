#!/usr/bin/env python3
"""Write delays.json: golden label-delay quantiles for stats/drift
(appendDelays and quantileSorted in drift.go, read by drift_test.go).

Run with `make golden` (pinned versions from
stats/testdata/golden/requirements.txt), or directly from the repository
root:

    python3 stats/drift/testdata/golden/gen_delays.py

The quantiles are numpy.quantile's default (method='linear', Hyndman and
Fan's type 7) at 0.5 and 0.95, of delays in seconds. Seeded, so the file is
reproducible; conventions are in stats/testdata/golden/goldenjson.py.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "testdata", "golden"))

import numpy as np  # noqa: E402

from goldenjson import versions, write  # noqa: E402

SEED = 20261123
rng = np.random.default_rng(SEED)
cases = []


def add(name, delays):
    d = np.asarray(delays, dtype=float)
    cases.append({"name": name, "delays": d, "p50": np.quantile(d, 0.5), "p95": np.quantile(d, 0.95)})


add("single", [3600.0])
add("two", [1.0, 2.0])
add("ties", [5.0, 5.0, 5.0, 7.5])
add("negative", [-30.0, 0.0, 12.0])  # a label timestamped before its prediction
for n in (3, 10, 19, 20, 21, 100, 1000, 5000):
    add(f"uniform_1h_48h_n{n}", np.round(rng.uniform(3600, 48 * 3600, size=n), 3))
    add(f"lognormal_n{n}", np.round(rng.lognormal(9, 1.5, size=n), 3))

write(__file__, {"versions": versions("numpy"), "seed": SEED}, {"cases": cases})
