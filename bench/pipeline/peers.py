#!/usr/bin/env python3
"""One Python peer of `driftwatch replay` on the benchmark workload, timed by itself.

Run by bench/pipeline/run.sh, once per peer and round, each in a fresh
process, right after a `driftwatch replay` of the same file:

    python bench/pipeline/peers.py --peer scipy|nannyml|evidently \\
        --records RECORDS.jsonl --reference REFERENCE.jsonl

It prints one JSON object: the peer, the seconds of its own timer, the
library versions, the number of windows and features it computed and a
summary of what it found (the features it judged drifted per window), so
that the run can check the peers did the work driftwatch did.

What is timed is what the issue asks for: reading the current data (the
JSON-lines file of prediction records, CONTRACT.md section 1) and computing
the drift statistics of every feature in every one-hour event-time window
against the reference. What is not timed is the peer's preparation of the
reference, which stands for driftwatch's baseline (built beforehand by
`driftwatch baseline`): reading the training records, and for pandas +
SciPy its quantile bin edges and category shares, for NannyML the fit of
its calculator, for Evidently the reference Dataset. Python's start-up and
imports are not timed either. driftwatch's side is the whole `replay`
process, start-up included.

Peers:
- scipy: pandas + SciPy computing driftwatch's default statistics per
  feature and window: numeric PSI on 10 reference-quantile bins, KS
  (scipy.stats.ks_2samp on the raw values), Jensen-Shannon and Hellinger on
  those bins, Wasserstein (scipy.stats.wasserstein_distance); categorical
  chi-squared (scipy.stats.chisquare of the window's counts against the
  reference shares), PSI, Jensen-Shannon, Hellinger and L-infinity.
- nannyml: nannyml.UnivariateDriftCalculator with chunk_period "h", the
  continuous methods kolmogorov_smirnov, jensen_shannon, wasserstein and
  hellinger and the categorical methods chi2, jensen_shannon, l_infinity
  and hellinger.
- evidently: evidently's Report([DataDriftPreset()]) run per window,
  its default method choice per column.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

# No usage reports: NannyML and Evidently send analytics unless told not to
# (and this machine has no route to them anyway).
os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["EVIDENTLY_DISABLE_TELEMETRY"] = "1"
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

EPS = 1e-4  # floor of a bin share in PSI and in the logarithms


def read_records(path: str) -> tuple[pd.DataFrame, pd.Series]:
    """The features of a JSON-lines file of prediction records, and their event times."""
    raw = pd.read_json(path, lines=True, dtype=False, convert_dates=False)
    feats = pd.DataFrame(raw["features"].tolist())
    ts = pd.to_datetime(raw["timestamp"], utc=True, format="ISO8601")
    return feats, ts


def kinds(ref: pd.DataFrame) -> tuple[list[str], list[str]]:
    num = [c for c in ref.columns if pd.api.types.is_numeric_dtype(ref[c])]
    cat = [c for c in ref.columns if c not in num]
    return num, cat


def shares(counts: np.ndarray) -> np.ndarray:
    p = counts / max(counts.sum(), 1)
    return np.maximum(p, EPS)


def psi(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.sum((q - p) * np.log(q / p)))


def hellinger(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)))


def peer_scipy(args) -> dict:
    from scipy import stats
    from scipy.spatial.distance import jensenshannon
    import scipy

    ref, _ = read_records(args.reference)
    num, cat = kinds(ref)
    # The reference as driftwatch's baseline holds it: sorted values, decile
    # edges, category shares.
    ref_num = {c: np.sort(ref[c].dropna().to_numpy(dtype=float)) for c in num}
    edges = {c: np.unique(np.quantile(v, np.linspace(0, 1, 11))[1:-1]) for c, v in ref_num.items()}
    ref_bins = {c: shares(np.bincount(np.searchsorted(edges[c], v, side="right"), minlength=len(edges[c]) + 1)) for c, v in ref_num.items()}
    ref_cats = {c: ref[c].dropna().value_counts() for c in cat}

    t0, c0 = time.perf_counter(), time.process_time()
    cur, ts = read_records(args.records)
    window = ts.dt.floor("h")
    drifted = {}
    n_stats = 0
    for w, idx in cur.groupby(window).groups.items():
        part = cur.loc[idx]
        found = []
        for c in num:
            x = part[c].dropna().to_numpy(dtype=float)
            if len(x) == 0:
                continue
            e = edges[c]
            q = shares(np.bincount(np.searchsorted(e, x, side="right"), minlength=len(e) + 1))
            p = ref_bins[c]
            value = psi(p, q)
            stats.ks_2samp(ref_num[c], x)
            jensenshannon(p, q)
            hellinger(p, q)
            stats.wasserstein_distance(ref_num[c], x)
            n_stats += 5
            if value > 0.2:
                found.append(c)
        for c in cat:
            counts = part[c].dropna().value_counts()
            if counts.sum() == 0:
                continue
            keys = ref_cats[c].index.union(counts.index)
            r = ref_cats[c].reindex(keys, fill_value=0).to_numpy(dtype=float)
            o = counts.reindex(keys, fill_value=0).to_numpy(dtype=float)
            p, q = shares(r), shares(o)
            expected = p / p.sum() * o.sum()
            stats.chisquare(o, expected)
            psi(p, q)
            value = float(jensenshannon(p, q))
            hellinger(p, q)
            float(np.max(np.abs(p - q)))
            n_stats += 5
            if value > 0.1:
                found.append(c)
        drifted[str(w)] = sorted(found)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"seconds": seconds, "cpu_seconds": cpu, "versions": {"pandas": pd.__version__, "scipy": scipy.__version__, "numpy": np.__version__},
            "windows": len(drifted), "statistics": n_stats, "drifted": drifted}


def peer_nannyml(args) -> dict:
    import nannyml as nml

    ref, ref_ts = read_records(args.reference)
    num, cat = kinds(ref)
    ref = ref.assign(timestamp=ref_ts)
    calc = nml.UnivariateDriftCalculator(
        column_names=num + cat, timestamp_column_name="timestamp", chunk_period="h",
        continuous_methods=["kolmogorov_smirnov", "jensen_shannon", "wasserstein", "hellinger"],
        categorical_methods=["chi2", "jensen_shannon", "l_infinity", "hellinger"])
    calc.fit(ref)

    t0, c0 = time.perf_counter(), time.process_time()
    cur, ts = read_records(args.records)
    res = calc.calculate(cur.assign(timestamp=ts))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    df = res.filter(period="analysis").to_df()
    drifted = {}
    for _, row in df.iterrows():
        start = str(row[("chunk", "chunk", "start_date")])
        found = []
        for c in num:
            if bool(row[(c, "jensen_shannon", "alert")]):
                found.append(c)
        for c in cat:
            if bool(row[(c, "jensen_shannon", "alert")]):
                found.append(c)
        drifted[start] = sorted(found)
    return {"seconds": seconds, "cpu_seconds": cpu, "versions": {"nannyml": nml.__version__, "pandas": pd.__version__, "numpy": np.__version__},
            "windows": len(df), "statistics": len(df) * (4 * len(num) + 4 * len(cat)), "drifted": drifted}


def peer_evidently(args) -> dict:
    import evidently
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref, _ = read_records(args.reference)
    num, cat = kinds(ref)
    definition = DataDefinition(numerical_columns=num, categorical_columns=cat)
    ref_ds = Dataset.from_pandas(ref, data_definition=definition)

    t0, c0 = time.perf_counter(), time.process_time()
    cur, ts = read_records(args.records)
    window = ts.dt.floor("h")
    drifted = {}
    for w, idx in cur.groupby(window).groups.items():
        cur_ds = Dataset.from_pandas(cur.loc[idx].reset_index(drop=True), data_definition=definition)
        snap = Report([DataDriftPreset()]).run(cur_ds, ref_ds)
        found = []
        for m in snap.dict()["metrics"]:
            name = m.get("metric_name", "")
            if name.startswith("ValueDrift("):
                col = name[len("ValueDrift(column="):].split(",")[0].rstrip(")")
                thr = m.get("config", {}).get("threshold")
                val = m.get("value")
                method = m.get("config", {}).get("method", "")
                # Evidently's rule: p-value tests drift below the threshold, distances above it.
                if val is not None and thr is not None:
                    is_p = "p_value" in method or "test" in method.lower()
                    if (val < thr) if is_p else (val >= thr):
                        found.append(col)
        drifted[str(w)] = sorted(found)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"seconds": seconds, "cpu_seconds": cpu, "versions": {"evidently": evidently.__version__, "pandas": pd.__version__, "numpy": np.__version__},
            "windows": len(drifted), "statistics": len(drifted) * (len(num) + len(cat)), "drifted": drifted}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peer", required=True, choices=["scipy", "nannyml", "evidently"])
    ap.add_argument("--records", required=True)
    ap.add_argument("--reference", required=True)
    args = ap.parse_args()
    out = {"scipy": peer_scipy, "nannyml": peer_nannyml, "evidently": peer_evidently}[args.peer](args)
    out = {"peer": args.peer, "python": sys.version.split()[0], **out}
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
