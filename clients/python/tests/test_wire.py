"""Issue 18, point 4: records the client writes to Kafka are what the
consumer reads. A scenario of predictions and late labels goes through the
Producer to topics of its own on the real broker (features as dicts, pandas
rows, numpy arrays and numpy scalars in turn); their raw values, read back,
become JSON-lines files, and `driftwatch replay` runs on them and on the
same scenario written by hand in the contract's format, against one
baseline (`driftwatch baseline`). Neither run may dead-letter a record, and
both must write the same metric rows, byte for byte."""

from __future__ import annotations

import json
import random
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from conftest import KAFKA_TIMEOUT, read_topic
from driftwatch_client import Producer

MODEL, VERSION = "wire", "3"
FEATURES = ["amount", "age", "country", "is_new"]
START = datetime(2025, 6, 2, tzinfo=timezone.utc)  # in the past: max_future holds
WINDOWS, PER_WINDOW = 4, 300


def _hand_ts(t: datetime) -> str:
    """A timestamp written by hand: microseconds, an offset of +02:00."""
    return t.astimezone(timezone(timedelta(hours=2))).isoformat()


def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The reference records, the predictions and the late labels, as the
    contract's JSON objects; windows 3 and 4 drift (amount, country) and
    their model gets worse."""
    rng = random.Random(18)

    def record(i: int, t: datetime, drift: bool) -> dict[str, Any]:
        amount = round(rng.lognormvariate(4.0 + (0.6 if drift else 0.0), 0.5), 2)
        countries = ["DE", "FR", "US", "GB"] if not drift else ["US", "US", "US", "BR"]
        fraud = rng.random() < (0.1 if not drift else 0.3)
        score = min(max((0.7 if fraud != drift else 0.3) + rng.gauss(0, 0.15), 0.0), 1.0)
        rec: dict[str, Any] = {
            "prediction_id": f"wire-{i:05d}",
            "model": MODEL,
            "model_version": VERSION,
            "timestamp": _hand_ts(t),
            "features": {
                "amount": amount,
                "age": None if rng.random() < 0.05 else rng.randint(18, 90),
                "country": rng.choice(countries),
                "is_new": rng.random() < 0.3,
            },
            "prediction": round(score, 4),
            "scores": {"fraud": round(score, 4), "legit": round(1 - score, 4)},
            "segments": {"gender": rng.choice(["f", "m"]), "age_band": rng.choice(["18-39", "40-90"])},
            "variant": "champion" if rng.random() < 0.8 else "challenger",
            "latency_ms": round(rng.uniform(2, 20), 1),
            "_fraud": int(fraud),
        }
        return rec

    ref = []
    for i in range(3000):
        r = record(i, START - timedelta(days=1) + timedelta(seconds=10 * i), False)
        r["label"] = r.pop("_fraud")
        ref.append(r)
    preds, labels = [], []
    for w in range(WINDOWS):
        for j in range(PER_WINDOW):
            i = 10000 + w * PER_WINDOW + j
            # Milliseconds too: label delays are figures of their own.
            t = START + timedelta(hours=w, seconds=j * 3600 // PER_WINDOW + 1, milliseconds=rng.randrange(1000))
            r = record(i, t, drift=w >= 2)
            fraud = r.pop("_fraud")
            if j % 3 == 0:  # a third carry their label, a third get it late
                r["label"] = fraud
            elif j % 3 == 1:
                labels.append({"prediction_id": r["prediction_id"], "model": MODEL,
                               "timestamp": _hand_ts(t + timedelta(minutes=30, milliseconds=rng.randrange(1000))),
                               "label": fraud})
            preds.append(r)
    return ref, preds, labels


def log_with_the_client(p: Producer, preds: list[dict[str, Any]], labels: list[dict[str, Any]]) -> None:
    """The scenario through the Producer, as a model server would log it,
    with the features in another form in each window."""
    for n, r in enumerate(preds):
        w = n // PER_WINDOW
        f = r["features"]
        features: Any
        names = None
        if w == 0:
            features = dict(f)
        elif w == 1:  # a pandas row (NaN for a missing age)
            features = pd.DataFrame([f]).astype({"age": "float64"}).iloc[0]
        elif w == 2:  # a numpy array with the names
            features, names = np.array([f[k] for k in FEATURES], dtype=object), FEATURES
        else:  # numpy scalars
            features = {"amount": np.float64(f["amount"]), "age": None if f["age"] is None else np.int64(f["age"]),
                        "country": np.str_(f["country"]), "is_new": np.bool_(f["is_new"])}
        p.log_prediction(
            MODEL, VERSION, features, np.float64(r["prediction"]),
            feature_names=names,
            prediction_id=r["prediction_id"],
            timestamp=datetime.fromisoformat(r["timestamp"]),
            label=r.get("label"),
            scores=r["scores"],
            segments=r["segments"],
            variant=r["variant"],
            latency_ms=r["latency_ms"],
        )
    for lab in labels:
        p.log_label(MODEL, lab["prediction_id"], np.int64(lab["label"]), timestamp=datetime.fromisoformat(lab["timestamp"]))


def write_lines(path: Path, objs: list[dict[str, Any]]) -> None:
    # By hand: json's default separators and key order, not the client's.
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")


def replay(bin: str, baselines: Path, preds: Path, labels: Path, out: Path) -> tuple[bytes, str]:
    dlq = out.with_suffix(".dlq.jsonl")
    res = subprocess.run(
        [bin, "replay", "--baselines", str(baselines), "--input", str(preds), "--labels", str(labels),
         "--output", str(out), "--dead-letter", str(dlq)],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert not dlq.exists() or dlq.read_bytes() == b"", f"dead letters of {preds.name}:\n{dlq.read_text()[:2000]}"
    return out.read_bytes(), res.stderr


def test_client_records_replay_like_hand_written_ones(
    brokers: str, make_topics: Any, driftwatch_bin: str, tmp_path: Path
) -> None:
    ref, preds, labels = scenario()
    write_lines(tmp_path / "reference.jsonl", ref)
    res = subprocess.run(
        [driftwatch_bin, "baseline", "--model", MODEL, "--model-version", VERSION,
         "--input", str(tmp_path / "reference.jsonl"), "--out", str(tmp_path / "baselines")],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stderr

    write_lines(tmp_path / "hand.jsonl", preds)
    write_lines(tmp_path / "hand-labels.jsonl", labels)

    ptopic, ltopic = make_topics("predictions", "labels")
    with Producer(brokers, topic=ptopic, labels_topic=ltopic, registry=False) as p:
        log_with_the_client(p, preds, labels)
        assert p.flush(KAFKA_TIMEOUT) == 0
        assert p.metrics()[ptopic]["sent"] == len(preds) and p.metrics()[ltopic]["sent"] == len(labels)
    # One partition each: the order they were logged in.
    got_preds = read_topic(brokers, ptopic, len(preds))
    got_labels = read_topic(brokers, ltopic, len(labels))
    assert [m.key().decode() for m in got_preds] == [r["prediction_id"] for r in preds]
    (tmp_path / "client.jsonl").write_bytes(b"".join(m.value() + b"\n" for m in got_preds))
    (tmp_path / "client-labels.jsonl").write_bytes(b"".join(m.value() + b"\n" for m in got_labels))
    # Not the same bytes (key order, separators, timestamps, numbers), the
    # same records.
    assert (tmp_path / "client.jsonl").read_bytes() != (tmp_path / "hand.jsonl").read_bytes()

    hand_rows, hand_err = replay(driftwatch_bin, tmp_path / "baselines", tmp_path / "hand.jsonl",
                                 tmp_path / "hand-labels.jsonl", tmp_path / "hand-rows.jsonl")
    client_rows, client_err = replay(driftwatch_bin, tmp_path / "baselines", tmp_path / "client.jsonl",
                                     tmp_path / "client-labels.jsonl", tmp_path / "client-rows.jsonl")
    rows = [json.loads(line) for line in hand_rows.splitlines()]
    # The comparison means something: every window, and the rows that need
    # the features, the late labels and the segments.
    assert {r["window_start"] for r in rows} == {
        (START + timedelta(hours=w)).strftime("%Y-%m-%dT%H:%M:%SZ") for w in range(WINDOWS)
    }, hand_err
    assert {"data", "prediction", "label", "concept", "fairness", "serving"} <= {r["family"] for r in rows}
    assert any(r["metric"] == "label_delay_p50_s" and r["value"] % 1 != 0 for r in rows)
    assert {"amount", "age", "country", "is_new"} <= {r["subject"] for r in rows if r["family"] == "data"}
    assert any(r["drifted"] and r["subject"] == "amount" for r in rows)
    assert client_rows == hand_rows, f"hand: {hand_err}\nclient: {client_err}"
