"""The Producer against the real Kafka broker of make test: what arrives,
under which key and in which partition; what the broker refuses; what close
and interpreter exit send."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry

from conftest import KAFKA_TIMEOUT, read_topic
from driftwatch_client import Producer, validate_label, validate_prediction

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def java_partition(key: bytes, partitions: int) -> int:
    """The partition the Java client's default partitioner (and franz-go's,
    and librdkafka's murmur2_random) gives a keyed record: murmur2 of the
    key, seed 0x9747b28c, made positive, modulo the partition count."""
    m, r, mask = 0x5BD1E995, 24, 0xFFFFFFFF
    h = (0x9747B28C ^ len(key)) & mask
    n4 = len(key) // 4
    for i in range(n4):
        k = int.from_bytes(key[4 * i : 4 * i + 4], "little")
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = (h * m) & mask
        h ^= k
    tail = key[4 * n4 :]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if len(tail) >= 1:
        h ^= tail[0]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


def test_predictions_and_labels_arrive_keyed_by_prediction_id(brokers: str, make_topics: Any) -> None:
    preds, labels = make_topics("predictions", "labels", partitions=3)
    reg = CollectorRegistry()
    df = pd.DataFrame({"amount": [10.0, 20.5, np.nan], "country": ["DE", "FR", "DE"], "new": [True, False, True]})
    with Producer(brokers, topic=preds, labels_topic=labels, registry=reg, max_future=None) as p:
        ids = [
            p.log_prediction("fraud", "1.4.2", {"amount": 1.5, "country": "DE"}, 0.25, timestamp=T0, variant="champion"),
            *(p.log_prediction("fraud", "1.4.2", row, "fraud", timestamp=T0, scores={"fraud": 0.9}) for _, row in df.iterrows()),
            p.log_prediction("fraud", "1.4.2", np.array([3.0, 4.0]), 1, feature_names=["x", "y"], timestamp=T0, latency_ms=2.5),
        ]
        for i, pid in enumerate(ids):
            p.log_label("fraud", pid, i % 2, timestamp="2026-11-21T00:00:00Z")
        assert p.flush(KAFKA_TIMEOUT) == 0
        assert p.metrics() == {
            preds: {"sent": 5, "invalid": 0, "dropped": 0, "failed": 0},
            labels: {"sent": 5, "invalid": 0, "dropped": 0, "failed": 0},
        }
        assert reg.get_sample_value("driftwatch_producer_records_total", {"topic": preds, "outcome": "sent"}) == 5

    got = {m.key().decode(): m for m in read_topic(brokers, preds, 5)}
    assert sorted(got) == sorted(ids)
    for pid, m in got.items():
        validate_prediction(m.value())
        rec = json.loads(m.value())
        assert rec["prediction_id"] == pid and rec["model"] == "fraud" and rec["timestamp"] == "2026-11-20T10:00:00.000Z"
    assert json.loads(got[ids[0]].value())["features"] == {"amount": 1.5, "country": "DE"}
    assert json.loads(got[ids[3]].value())["features"] == {"amount": None, "country": "DE", "new": True}
    assert json.loads(got[ids[4]].value())["features"] == {"x": 3.0, "y": 4.0}
    assert json.loads(got[ids[4]].value())["latency_ms"] == 2.5

    got_labels = {m.key().decode(): m for m in read_topic(brokers, labels, 5)}
    assert sorted(got_labels) == sorted(ids)
    for i, pid in enumerate(ids):
        validate_label(got_labels[pid].value())
        assert json.loads(got_labels[pid].value()) == {
            "prediction_id": pid, "model": "fraud", "timestamp": "2026-11-21T00:00:00Z", "label": i % 2
        }
        # The partition the Java client (and the Go one) would choose: a
        # prediction and its label alike.
        assert got[pid].partition() == got_labels[pid].partition() == java_partition(pid.encode(), 3)


def test_records_the_broker_refuses_are_counted_failed(brokers: str, make_topics: Any) -> None:
    (small,) = make_topics("small", config={"max.message.bytes": "500"})
    with Producer(brokers, topic=small, registry=False, max_future=None, **{"message.send.max.retries": 0, "compression.type": "none"}) as p:
        p.log_prediction("m", "1", {"pad": "x" * 1000}, 1, timestamp=T0)
        p.flush(KAFKA_TIMEOUT)  # alone in its batch
        p.log_prediction("m", "1", {}, 1, timestamp=T0)
        p.flush(KAFKA_TIMEOUT)
        assert p.metrics()[small] == {"sent": 1, "invalid": 0, "dropped": 0, "failed": 1}


def test_close_sends_what_is_buffered(brokers: str, make_topics: Any) -> None:
    (topic,) = make_topics("close")
    p = Producer(brokers, topic=topic, registry=False, max_future=None, **{"linger.ms": 60_000})
    ids = [p.log_prediction("m", "1", {"i": i}, i, timestamp=T0) for i in range(20)]
    # A minute of linger: nothing leaves before close says so.
    assert p.pending == 20
    p.close()
    assert p.metrics()[topic]["sent"] == 20 and p.pending == 0
    assert sorted(m.key().decode() for m in read_topic(brokers, topic, 20)) == sorted(ids)


def test_interpreter_exit_sends_what_is_buffered(brokers: str, make_topics: Any) -> None:
    (topic,) = make_topics("exit")
    script = textwrap.dedent(
        f"""
        from driftwatch_client import Producer
        p = Producer({brokers!r}, topic={topic!r}, registry=False, max_future=None, **{{"linger.ms": 60_000}})
        for i in range(7):
            p.log_prediction("m", "1", {{"i": i}}, i, prediction_id=f"exit-{{i}}", timestamp="2026-11-20T10:00:00Z")
        print(p.pending)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=KAFKA_TIMEOUT, env=os.environ)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "7"  # still buffered when the script ended
    assert sorted(m.key().decode() for m in read_topic(brokers, topic, 7)) == [f"exit-{i}" for i in range(7)]


def test_compression_is_configurable(brokers: str, make_topics: Any) -> None:
    (topic,) = make_topics("zstd")
    with Producer(brokers, topic=topic, registry=False, max_future=None, **{"compression.type": "zstd"}) as p:
        p.log_prediction("m", "1", {"s": "abc" * 100}, 1, prediction_id="z", timestamp=T0)
        assert p.flush(KAFKA_TIMEOUT) == 0
    (m,) = read_topic(brokers, topic, 1)
    assert m.key() == b"z" and json.loads(m.value())["features"] == {"s": "abc" * 100}


@pytest.mark.parametrize("size", [1 << 20])
def test_a_record_at_the_size_limit_is_delivered(brokers: str, make_topics: Any, size: int) -> None:
    """The consumer's default limit is 1 MiB; a record of that size (not
    compressible) passes the client's and the broker's own limits."""
    (topic,) = make_topics("big")
    rng = np.random.default_rng(1)
    pad = rng.bytes(size).hex()
    with Producer(brokers, topic=topic, registry=False, max_future=None) as p:
        empty = {"prediction_id": "big", "model": "m", "model_version": "1",
                 "timestamp": "2026-11-20T10:00:00.000Z", "features": {"pad": ""}, "prediction": 1}
        base = len(json.dumps(empty, separators=(",", ":")))
        p.log_prediction("m", "1", {"pad": pad[: size - base]}, 1, prediction_id="big", timestamp=T0)
        assert p.flush(KAFKA_TIMEOUT) == 0
        assert p.metrics()[topic] == {"sent": 1, "invalid": 0, "dropped": 0, "failed": 0}
    (m,) = read_topic(brokers, topic, 1)
    assert len(m.value()) == size
