"""Evidently's side of the detection benchmark (bench/detect, `make bench-detect`).

For every window of a stream and every model in it, runs Evidently's
DataDriftPreset (its automatic test choice and default thresholds) against
that model's reference file and writes, per window and column, Evidently's
drift verdict as JSON, for the Go runner to score like driftwatch's rows:

    {"versions": {"python": ..., "evidently": ..., "pandas": ...},
     "verdicts": [{"model": "m", "window": 0, "column": "num_a",
                   "method": "Wasserstein distance (normed)", "threshold": 0.1,
                   "score": 0.03, "drifted": false}, ...],
     "errors": [{"model": "m", "window": 3, "error": "..."}]}

Columns are the features and the prediction of the contract's records
(CONTRACT.md section 1). A column is numerical when every non-null value of
it in the reference is a number (booleans are categorical), else
categorical; window values of a numerical column that are not numbers (type
errors) count as missing, as they do in driftwatch. Windows are
[start + k*window, start + (k+1)*window) of the records' event times.

Reference implementation: evidently==0.7.23 with pandas==2.3.3 from PyPI
(stats/testdata/golden/requirements.txt). Usage:

    python bench/detect/evidently_run.py --start 2026-11-02T00:00:00Z \\
        --window-seconds 3600 --windows 24 --stream stream.jsonl \\
        --reference m=reference-m.jsonl --out evidently.json
"""

import argparse
import json
import platform
import sys
import warnings
from datetime import datetime

warnings.simplefilter("ignore")

import pandas as pd  # noqa: E402
import evidently  # noqa: E402
from evidently import DataDefinition, Dataset, Report  # noqa: E402
from evidently.presets import DataDriftPreset  # noqa: E402


def parse_time(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def flatten(rec):
    row = dict(rec.get("features") or {})
    row["prediction"] = rec.get("prediction")
    return row


def read_reference(path):
    with open(path) as f:
        rows = [flatten(json.loads(line)) for line in f if line.strip()]
    return pd.DataFrame(rows)


def kinds(df):
    numerical, categorical = [], []
    for col in df.columns:
        vals = df[col].dropna()
        if len(vals) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            numerical.append(col)
        else:
            categorical.append(col)
    return numerical, categorical


def prepare(df, numerical, categorical):
    df = df.reindex(columns=numerical + categorical)
    for col in numerical:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    for col in categorical:
        df[col] = df[col].map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v))
    return df


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--start", required=True)
    ap.add_argument("--window-seconds", type=float, required=True)
    ap.add_argument("--windows", type=int, required=True)
    ap.add_argument("--stream", required=True)
    ap.add_argument("--reference", action="append", required=True, help="model=path")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    start = parse_time(args.start)
    refs = {}
    for spec in args.reference:
        model, path = spec.split("=", 1)
        ref = read_reference(path)
        numerical, categorical = kinds(ref)
        refs[model] = (prepare(ref, numerical, categorical), numerical, categorical)

    windows = {}
    with open(args.stream) as f:
        for line in f:
            try:
                rec = json.loads(line)
                model = rec["model"]
                w = int((parse_time(rec["timestamp"]) - start) // args.window_seconds)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a record that breaks the contract; driftwatch dead-letters it
            if model in refs and 0 <= w < args.windows:
                windows.setdefault((model, w), []).append(flatten(rec))

    verdicts, errors = [], []
    for (model, w) in sorted(windows):
        ref, numerical, categorical = refs[model]
        cur = prepare(pd.DataFrame(windows[(model, w)]), numerical, categorical)
        dd = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
        try:
            snap = Report([DataDriftPreset()], include_tests=True).run(
                Dataset.from_pandas(cur, data_definition=dd),
                Dataset.from_pandas(ref, data_definition=dd))
            out = snap.dict()
        except Exception as e:  # noqa: BLE001 - reported per window, not fatal
            errors.append({"model": model, "window": w, "error": f"{type(e).__name__}: {e}"})
            continue
        scores = {m["id"]: m for m in out["metrics"]}
        for t in out["tests"]:
            params = t["metric_config"]["params"]
            if params.get("type") != "evidently:metric_v2:ValueDrift":
                continue
            m = scores.get(t["metric_config"]["metric_id"], {})
            verdicts.append({
                "model": model, "window": w, "column": params["column"],
                "method": params.get("method"), "threshold": params.get("threshold"),
                "score": m.get("value"), "drifted": t["status"] == "FAIL",
            })

    with open(args.out, "w") as f:
        json.dump({"versions": {"python": platform.python_version(),
                                "evidently": evidently.__version__,
                                "pandas": pd.__version__},
                   "verdicts": verdicts, "errors": errors}, f)
    print(f"evidently: {len(verdicts)} column verdicts over {len(windows)} windows, {len(errors)} errors",
          file=sys.stderr)


if __name__ == "__main__":
    main()
