#!/usr/bin/env python3
"""Write volume.json: golden cases of the volume_ratio row for stats/drift
(volume.go, read by volume_test.go).

Run with `make golden` (pinned versions from
stats/testdata/golden/requirements.txt), or directly from the repository
root:

    python3 stats/drift/testdata/golden/gen_volume.py

Sections:
  ratio      the two-sided p-value of the conditional test of two Poisson
             counts n and r in the proportion p0 : 1 - p0: twice the
             smaller of scipy.stats.binom.cdf(n, n + r, p0) and
             scipy.stats.binom.sf(n - 1, n + r, p0), at most 1.
  reference  the records a production reference leads to expect in a
             window, computed independently of the Go code: the hours of
             the reference's span [from, until) and of the window [start,
             end) per hour of the week (Monday 00:00 UTC first), walked hour
             slot by hour slot; per hour of the week the window covers, its
             reference rows over the reference's hours in it times the
             window's hours in it, when every such hour of the week was in
             the reference for at least an hour; else the same by hour of
             the day. "n" is the reference rows behind the rates used.
  history    the records the previous windows lead to expect: the median
             (numpy.median) of the counts of the windows of the same length
             that started 1 to 4 weeks before, when at least 2 are known;
             else 1 to 6 days before (window lengths, 1 to 7 of them, for
             windows of a day or longer), when at least 3 are; else none.

Seeded, so the file is reproducible; conventions are in
stats/testdata/golden/goldenjson.py.
"""

import os
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "testdata", "golden"))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from goldenjson import versions, write  # noqa: E402

SEED = 20261124
rng = np.random.default_rng(SEED)

# -------------------------------------------------------------------- ratio
ratio = []
seen = set()


def add_ratio(n, r, p0):
    if (n, r, p0) in seen:
        return
    seen.add((n, r, p0))
    lower = float(stats.binom.cdf(n, n + r, p0))
    upper = float(stats.binom.sf(n - 1, n + r, p0))
    ratio.append({"n": int(n), "r": int(r), "p0": float(p0), "lower": lower, "upper": upper, "p": min(1.0, 2 * min(lower, upper))})


# History: the window against the sum of k windows, p0 = 1/(k+1).
for k in (2, 3, 4, 6, 7):
    for mean in (1, 3, 20, 100, 1000, 1e5, 2e6):
        r = int(round(mean * k))
        for f in (0, 0.3, 0.5, 0.67, 1, 1.5, 2, 3):
            add_ratio(int(round(mean * f)), r, 1 / (k + 1))
# A reference: mu expected of R rows, p0 = mu/(mu+R).
for R in (0, 1, 50, 2000, 40000, 3_000_000):
    for mu in (0.5, 25, 400, 25000):
        for f in (0, 0.5, 1, 1.5, 4):
            add_ratio(int(round(mu * f)), R, mu / (mu + R))
for n, r, p0 in ((0, 0, 0.5), (5, 0, 0.0), (0, 5, 1.0), (7, 0, 1.0), (1, 1e7, 1e-7)):
    add_ratio(int(n), int(r), p0)
for _ in range(40):
    k = int(rng.integers(2, 8))
    mean = float(10 ** rng.uniform(0, 6))
    add_ratio(int(rng.poisson(mean * rng.uniform(0.3, 2.5))), int(rng.poisson(mean * k)), 1 / (k + 1))

# ---------------------------------------------------------------- reference
EPOCH = datetime(2026, 11, 2, tzinfo=timezone.utc)  # a Monday


def phase_of(t):
    return t.weekday() * 24 + t.hour


def phase_hours(a, b):
    h = np.zeros(168)
    t = a
    while t < b:
        slot_end = t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        end = min(slot_end, b)
        h[phase_of(t)] += (end - t).total_seconds() / 3600
        t = end
    return h


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def expect_reference(rows, a, b, start, end):
    exposure = phase_hours(a, b)
    cover = phase_hours(start, end)
    covered = cover > 0
    if np.all(exposure[covered] >= 1):
        mu = float(np.sum(cover[covered] * rows[covered] / exposure[covered]))
        return mu, int(np.sum(rows[covered])), True
    hrows = np.zeros(24)
    hexp = np.zeros(24)
    hcov = np.zeros(24)
    for p in range(168):
        hrows[p % 24] += rows[p]
        hexp[p % 24] += exposure[p]
        hcov[p % 24] += cover[p]
    c = hcov > 0
    return float(np.sum(hcov[c] * hrows[c] / hexp[c])), int(np.sum(hrows[c])), False


reference = []
for i in range(60):
    # A day to five weeks of reference, starting at any millisecond.
    a = EPOCH + timedelta(milliseconds=int(rng.integers(0, 14 * 24 * 3600 * 1000)))
    span = timedelta(hours=float(rng.choice([24, 25.5, 47.25, 72, 24 * 7, 24 * 9.3, 24 * 35])))
    b = a + span
    base = rng.uniform(10, 3000)
    hours = np.arange(168)
    rows = np.round(base * (1.6 + np.sin(2 * np.pi * hours / 24)) * np.where(hours >= 120, 0.4, 1.0)).astype(np.int64)
    exposure = phase_hours(a, b)
    rows[exposure == 0] = 0  # the reference has no rows outside its span
    rows[rng.random(168) < 0.05] = 0  # nor in a few quiet hours
    start = b + timedelta(hours=int(rng.integers(1, 24 * 30)), minutes=int(rng.choice([0, 0, 15, 30])))
    length = timedelta(minutes=int(rng.choice([15, 60, 60, 90, 24 * 60, 3 * 24 * 60, 10 * 24 * 60])))
    mu, n, weekly = expect_reference(rows.astype(float), a, b, start, start + length)
    reference.append({"name": f"case{i}", "rows": rows, "from": stamp(a), "until": stamp(b),
                      "start": stamp(start), "end": stamp(start + length), "mu": mu, "n": n, "weekly": weekly})

# ------------------------------------------------------------------ history
history = []
WEEK, DAY = timedelta(days=7), timedelta(days=1)


def expect_history(counts, start, size):
    def at(lag, k):
        xs, n = [], 0
        for i in range(1, k + 1):
            c = counts.get((start - i * lag, size))
            if c is not None:
                xs.append(c)
                n += c
        return xs, n

    xs, n = at(WEEK, 4)
    if len(xs) >= 2:
        return float(np.median(xs)), n, True
    xs, n = at(DAY, 6) if size < DAY else at(size, 7)
    if len(xs) >= 3:
        return float(np.median(xs)), n, True
    return 0.0, 0, False


for i in range(60):
    size = timedelta(minutes=int(rng.choice([15, 60, 60, 24 * 60])))
    start = EPOCH + timedelta(days=40) + size * int(rng.integers(0, 96))
    counts = {}
    # Some of the windows at the lags, and others, of this size and of
    # another.
    keep = rng.choice([0.2, 0.5, 0.95])
    lags = [j * WEEK for j in range(1, 6)] + [j * DAY for j in range(1, 8)] + [j * size for j in range(1, 9)]
    lags += [j * size for j in rng.integers(1, int(5 * WEEK / size), size=30)]
    for lag in lags:
        if rng.random() < keep:
            counts[(start - lag, size)] = int(rng.integers(0, 5000))
    for j in range(1, 8):
        counts.setdefault((start - j * DAY, size * 2), int(rng.integers(0, 5000)))
    mu, n, ok = expect_history(counts, start, size)
    history.append({"name": f"case{i}", "start": stamp(start), "size_minutes": int(size.total_seconds() // 60),
                    "windows": [{"start": stamp(s), "size_minutes": int(z.total_seconds() // 60), "records": c}
                                for (s, z), c in sorted(counts.items())],
                    "mu": mu, "n": n, "ok": ok})

write(__file__, {"versions": versions("numpy", "scipy"), "seed": SEED},
      {"ratio": ratio, "reference": reference, "history": history})
