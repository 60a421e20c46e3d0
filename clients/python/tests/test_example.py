"""examples/fastapi_server.py, the README's example, serves and logs."""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import read_topic
from driftwatch_client import Producer, validate_label, validate_prediction

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fastapi_server.py"


def test_fastapi_example_logs_predictions_and_labels(
    brokers: str, make_topics: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    spec = importlib.util.spec_from_file_location("fastapi_server", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    preds, labels = make_topics("predictions", "labels")
    monkeypatch.setenv("KAFKA_BROKERS", brokers)
    # The example's topics are driftwatch's defaults; the test's own here,
    # and a minute of linger: only closing the Producer sends in time.
    monkeypatch.setattr(
        example, "Producer",
        functools.partial(Producer, topic=preds, labels_topic=labels, registry=False, **{"linger.ms": 60_000}),
    )

    with TestClient(example.app) as client:
        r = client.post("/predict", json={"amount": 1500.0, "country": "DE", "is_new": True, "age": None})
        assert r.status_code == 200, r.text
        pid = r.json()["prediction_id"]
        assert r.json()["fraud"] == 0.9
        assert client.post(f"/label/{pid}", params={"fraud": "true"}).status_code == 200
    # Leaving the app closed the Producer, which sent both.
    producer = example.app.state.drift
    assert producer.pending == 0
    assert producer.metrics()[preds]["sent"] == 1 and producer.metrics()[labels]["sent"] == 1
    (p,) = read_topic(brokers, preds, 1)
    (lab,) = read_topic(brokers, labels, 1)
    validate_prediction(p.value())
    validate_label(lab.value())
    assert p.key().decode() == pid == lab.key().decode()
    rec = json.loads(p.value())
    assert rec["model"] == "fraud" and rec["prediction"] == 0.9
    assert rec["features"] == {"amount": 1500.0, "country": "DE", "is_new": True, "age": None}
    assert json.loads(lab.value())["label"] is True
