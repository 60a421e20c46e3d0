"""The Producer's counters, and their export to Prometheus as
driftwatch_producer_records_total{topic, outcome} when prometheus_client is
installed (the extra driftwatch-client[prometheus]).

Outcomes: sent (acknowledged by the broker), invalid (refused by the
contract's checks, ContractError raised to the caller), dropped (not
queued because the bounded buffer was full or the producer closed, or
still queued when close gave up), failed (the broker or the client refused
it: delivery failed after the client's retries).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from typing import Any, Final

OUTCOMES: Final = ("sent", "invalid", "dropped", "failed")


class Counts:
    """Counters by (topic, outcome). Safe for concurrent use."""

    def __init__(self, topics: tuple[str, ...]) -> None:
        self._lock = threading.Lock()
        self._n: dict[tuple[str, str], int] = {(t, o): 0 for t in topics for o in OUTCOMES}
        self._queued = 0  # records handed to the Kafka client
        self._reported = 0  # of those, how many got their delivery report

    def add(self, topic: str, outcome: str, n: int = 1) -> None:
        with self._lock:
            self._n[(topic, outcome)] = self._n.get((topic, outcome), 0) + n

    def queued(self, n: int = 1) -> None:
        """n records are handed to the Kafka client (-1: one was not, after
        all), before their delivery report can come."""
        with self._lock:
            self._queued += n

    def reported(self, topic: str, outcome: str) -> None:
        """A queued record's delivery report: its outcome."""
        with self._lock:
            self._n[(topic, outcome)] = self._n.get((topic, outcome), 0) + 1
            self._reported += 1

    def pending(self) -> int:
        """Records queued whose delivery report has not come."""
        with self._lock:
            return self._queued - self._reported

    def get(self, topic: str, outcome: str) -> int:
        with self._lock:
            return self._n.get((topic, outcome), 0)

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._n)


class _Collector:
    """Sums the counts of every Producer registered with one registry,
    closed ones included, so that the counters never go down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: list[Counts] = []

    def add(self, c: Counts) -> None:
        with self._lock:
            self._counts.append(c)

    def describe(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily

        yield CounterMetricFamily("driftwatch_producer_records", _HELP, labels=("topic", "outcome"))

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily

        total: dict[tuple[str, str], int] = {}
        with self._lock:
            counts = list(self._counts)
        for c in counts:
            for k, n in c.snapshot().items():
                total[k] = total.get(k, 0) + n
        fam = CounterMetricFamily("driftwatch_producer_records", _HELP, labels=("topic", "outcome"))
        for (topic, outcome), n in sorted(total.items()):
            fam.add_metric((topic, outcome), n)
        yield fam


_HELP: Final = "Records the driftwatch client took to log, by topic and outcome (sent, invalid, dropped, failed)."

_collectors: weakref.WeakKeyDictionary[Any, _Collector] = weakref.WeakKeyDictionary()
_collectors_lock = threading.Lock()


def register(counts: Counts, registry: Any) -> bool:
    """Exports counts on registry (None: prometheus_client's default
    registry; False: nowhere). Returns whether they are exported: False
    without prometheus_client, unless a registry was given, which is then
    an error."""
    if registry is False:
        return False
    try:
        import prometheus_client
    except ImportError:
        if registry is not None:
            raise
        return False
    reg = prometheus_client.REGISTRY if registry is None else registry
    with _collectors_lock:
        col = _collectors.get(reg)
        if col is None:
            col = _Collector()
            reg.register(col)
            _collectors[reg] = col
    col.add(counts)
    return True
