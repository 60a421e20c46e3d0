"""The Producer without a broker: it never waits, and counts what it does
not send. The broker is unreachable (a loopback port nothing listens on),
so every record stays in the buffer until close() gives up on it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import CollectorRegistry

from driftwatch_client import ContractError, Producer

NOWHERE = "127.0.0.1:1"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)


def counts(p: Producer, topic: str = "predictions") -> dict[str, int]:
    return p.metrics()[topic]


def test_full_buffer_drops_and_counts_without_waiting() -> None:
    reg = CollectorRegistry()
    p = Producer(NOWHERE, buffer=3, registry=reg)
    try:
        ids = [p.log_prediction("m", "1", {"a": i}, 0.5) for i in range(10)]
        assert len(set(ids)) == 10
        assert counts(p) == {"sent": 0, "invalid": 0, "dropped": 7, "failed": 0}
        assert p.pending == 3
        p.log_label("m", ids[0], 1)
        assert counts(p, "labels")["dropped"] == 1
    finally:
        p.close(timeout=0)
    # What was still buffered when close gave up is dropped too.
    assert counts(p) == {"sent": 0, "invalid": 0, "dropped": 10, "failed": 0}
    assert p.pending == 0
    assert reg.get_sample_value("driftwatch_producer_records_total", {"topic": "predictions", "outcome": "dropped"}) == 10
    assert reg.get_sample_value("driftwatch_producer_records_total", {"topic": "labels", "outcome": "dropped"}) == 1
    assert reg.get_sample_value("driftwatch_producer_records_total", {"topic": "predictions", "outcome": "sent"}) == 0


def test_logs_after_close_are_dropped_and_counted() -> None:
    p = Producer(NOWHERE, registry=False)
    p.close(timeout=0)
    p.close(timeout=0)  # twice: nothing
    p.log_prediction("m", "1", {}, 1)
    p.log_label("m", "p", 1)
    assert counts(p)["dropped"] == 1 and counts(p, "labels")["dropped"] == 1


def test_invalid_records_raise_and_are_counted() -> None:
    with Producer(NOWHERE, registry=False) as p:
        with pytest.raises(ContractError) as e:
            p.log_prediction("m", "", {}, 1)
        assert e.value.reason == "missing_field"
        with pytest.raises(ContractError):
            p.log_label("m", "p", None)
        assert counts(p)["invalid"] == 1 and counts(p, "labels")["invalid"] == 1
        assert p.pending == 0
        p.close(timeout=0)


def test_max_future_against_the_injected_clock() -> None:
    with Producer(NOWHERE, registry=False, clock=lambda: NOW) as p:
        # Exactly max_future ahead is accepted, as the consumer accepts it.
        p.log_prediction("m", "1", {}, 1, timestamp=NOW + timedelta(hours=1))
        with pytest.raises(ContractError) as e:
            p.log_prediction("m", "1", {}, 1, timestamp=NOW + timedelta(hours=1, milliseconds=1))
        assert e.value.reason == "bad_timestamp"
        with pytest.raises(ContractError):
            p.log_prediction("m", "1", {}, 1, timestamp="2026-11-20T11:00:00.001Z")
        # The consumer holds only predictions to kafka.max_future.
        p.log_label("m", "p", 1, timestamp=NOW + timedelta(days=1))
        # The default timestamp is the clock's.
        p.log_prediction("m", "1", {}, 1)
        assert counts(p)["invalid"] == 2
        p.close(timeout=0)
    with Producer(NOWHERE, registry=False, clock=lambda: NOW, max_future=timedelta(minutes=5)) as p:
        with pytest.raises(ContractError):
            p.log_prediction("m", "1", {}, 1, timestamp=NOW + timedelta(minutes=6))
        p.close(timeout=0)
    with Producer(NOWHERE, registry=False, clock=lambda: NOW, max_future=None) as p:
        p.log_prediction("m", "1", {}, 1, timestamp="2099-01-01T00:00:00Z")
        p.close(timeout=0)


def test_concurrent_logging_counts_every_record() -> None:
    reg = CollectorRegistry()
    p = Producer(NOWHERE, buffer=100, registry=reg)
    n, threads = 500, 8

    def log() -> None:
        for i in range(n):
            p.log_prediction("m", "1", {"i": i}, 1)

    ts = [threading.Thread(target=log) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert counts(p)["dropped"] == n * threads - 100
    p.close(timeout=0)
    assert counts(p)["dropped"] == n * threads


def test_counters_of_closed_producers_stay() -> None:
    reg = CollectorRegistry()
    for _ in range(2):
        p = Producer(NOWHERE, buffer=1, registry=reg, topic="t")
        p.log_prediction("m", "1", {}, 1)
        p.log_prediction("m", "1", {}, 1)
        p.close(timeout=0)
    # Two producers, two records each: counters never go down.
    assert reg.get_sample_value("driftwatch_producer_records_total", {"topic": "t", "outcome": "dropped"}) == 4


def test_configuration_the_producer_owns() -> None:
    for key in ("on_delivery", "queue.buffering.max.messages", "delivery.report.only.error"):
        with pytest.raises(ValueError):
            Producer(NOWHERE, registry=False, **{key: 1})
    with pytest.raises(ValueError):
        Producer(NOWHERE, buffer=0, registry=False)


def test_failed_predictions_are_logged() -> None:
    with Producer(NOWHERE, registry=False) as p:
        p.log_prediction("m", "1", {"a": 1}, None, error="timeout")
        assert p.pending == 1 and counts(p)["invalid"] == 0
        with pytest.raises(ContractError) as e:
            p.log_prediction("m", "1", {"a": 1}, None)  # no prediction, no error
        assert e.value.reason == "missing_field" and counts(p)["invalid"] == 1
