"""The Producer: builds prediction log records and labels (CONTRACT.md
sections 1 and 2), checks them as the consumer will, and hands them to a
confluent-kafka (librdkafka) producer that batches, compresses and sends
them in its own threads.

The serving path never waits: log_prediction and log_label encode, check
and queue a record in a bounded buffer and return; a full buffer drops the
record and counts it. Delivery reports are served by one background thread
per Producer, which close() stops after flushing.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Final

import confluent_kafka

from . import _metrics
from ._contract import BAD_TIMESTAMP, DEFAULT_MAX_RECORD_BYTES, ContractError
from ._records import build_prediction, encode_label
from ._values import FeaturesLike

log = logging.getLogger("driftwatch_client")

#: How long a delivery-report poll waits, seconds: also how long close()
#: may wait for the background thread to stop.
_POLL_SECONDS: Final = 0.1

#: How long close() serves the delivery reports of purged records.
_PURGE_REPORTS_SECONDS: Final = 1.0

#: At most one warning per this many seconds for each kind of trouble
#: (dropped, failed, client errors); the counters have every record.
_WARN_EVERY_SECONDS: Final = 60.0

# Configuration the Producer owns: its counters depend on them.
_OWNED_CONFIG: Final = ("on_delivery", "delivery.report.only.error", "queue.buffering.max.messages")

_PURGED: Final = (confluent_kafka.KafkaError._PURGE_QUEUE, confluent_kafka.KafkaError._PURGE_INFLIGHT)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class _Warner:
    """Logs a warning of each kind at most once per _WARN_EVERY_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}

    def __call__(self, kind: str, msg: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < _WARN_EVERY_SECONDS:
                return
            self._last[kind] = now
        log.warning(msg, *args)


def _delivery_callback(counts: _metrics.Counts, warn: _Warner) -> Callable[[Any, Any], None]:
    # Not a bound method: librdkafka's producer would hold the Producer.
    def on_delivery(err: Any, msg: Any) -> None:
        topic = msg.topic()
        if err is None:
            counts.reported(topic, "sent")
        elif err.code() in _PURGED:
            counts.reported(topic, "dropped")
        else:
            counts.reported(topic, "failed")
            warn("failed", "delivery to %s failed: %s (counted in failed)", topic, err)

    return on_delivery


def _error_callback(warn: _Warner) -> Callable[[Any], None]:
    def on_error(err: Any) -> None:
        warn("client", "kafka: %s", err)

    return on_error


class Producer:
    """Producer logs predictions and labels to driftwatch's Kafka topics.

    brokers: "host:port[,host:port]" or a sequence of them. topic and
    labels_topic: the topics driftwatch reads (its kafka.topic and
    labels.topic). buffer: how many records may wait to be sent (librdkafka's
    queue.buffering.max.messages); past it, records are dropped and counted,
    never waited for. max_record_bytes: the consumer's kafka.max_record_bytes
    (default 1 MiB). max_future: the consumer's kafka.max_future (default 1
    hour; None to skip the check): a prediction whose timestamp is further
    ahead of the clock is refused. registry: where the counters are exported
    to Prometheus, as driftwatch_producer_records_total{topic, outcome}: None
    for prometheus_client's default registry when prometheus_client is
    installed, a CollectorRegistry, or False for nowhere. clock: returns the
    time now, aware (default: the system clock in UTC). kafka_config:
    librdkafka configuration, with dots (**{"linger.ms": 20}), over the
    defaults: lz4 compression, linger.ms 5, the Java client's murmur2
    partitioner (so a prediction id maps to the same partition from every
    language).

    log_prediction and log_label are safe to call from many threads. Call
    close() (or use the Producer in a with block) to send what is buffered;
    at interpreter exit, open Producers are closed with a 5-second limit.
    A Producer does not survive fork(): make it in the worker process.
    """

    def __init__(
        self,
        brokers: str | Sequence[str],
        topic: str = "predictions",
        labels_topic: str = "labels",
        buffer: int = 10000,
        *,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        max_future: timedelta | None = timedelta(hours=1),
        registry: Any = None,
        clock: Callable[[], datetime] | None = None,
        **kafka_config: Any,
    ) -> None:
        if buffer < 1:
            raise ValueError(f"buffer must be at least 1, got {buffer}")
        if max_record_bytes < 1:
            raise ValueError(f"max_record_bytes must be at least 1, got {max_record_bytes}")
        for k in _OWNED_CONFIG:
            if k in kafka_config:
                raise ValueError(f"{k} is set by driftwatch_client.Producer (its counters depend on it)")
        self.topic = topic
        self.labels_topic = labels_topic
        self._max_bytes = max_record_bytes
        self._max_future_ns = None if max_future is None else max_future // timedelta(microseconds=1) * 1000
        self._now = clock or _utc_now
        self._warn = _Warner()
        self._counts = _metrics.Counts((topic, labels_topic))
        conf: dict[str, Any] = {
            "bootstrap.servers": brokers if isinstance(brokers, str) else ",".join(brokers),
            "client.id": "driftwatch-client-python",
            "linger.ms": 5,
            "compression.type": "lz4",
            "partitioner": "murmur2_random",
            # A record at the size limit plus its key (the prediction id,
            # itself in the record) and the message overhead must pass
            # librdkafka's own check (1,000,000 bytes by default).
            "message.max.bytes": max(1_000_000, 2 * max_record_bytes + 4096),
            "logger": logging.getLogger("driftwatch_client.kafka"),
            "error_cb": _error_callback(self._warn),
        }
        conf.update(kafka_config)
        conf["queue.buffering.max.messages"] = buffer
        conf["on_delivery"] = _delivery_callback(self._counts, self._warn)
        self._kafka = confluent_kafka.Producer(conf)
        _metrics.register(self._counts, registry)
        # _closed and _sending (sends under way) change under _state; close
        # waits for the sends under way, which never wait themselves.
        self._closed = False
        self._sending = 0
        self._state = threading.Condition()
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="driftwatch-client-poll", daemon=True)
        self._poller.start()
        with _open_lock:
            _open.add(self)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._kafka.poll(_POLL_SECONDS)

    # --------------------------------------------------------------- logging

    def log_prediction(
        self,
        model: str,
        model_version: str,
        features: FeaturesLike,
        prediction: str | float | int | Any,
        *,
        feature_names: Sequence[str] | None = None,
        prediction_id: str | None = None,
        timestamp: datetime | str | None = None,
        label: str | float | int | bool | Any | None = None,
        scores: Mapping[str, float | None] | Any | None = None,
        segments: Mapping[str, str | float | int | bool | None] | Any | None = None,
        variant: str | None = None,
        latency_ms: float | None = None,
        error: str | None = None,
    ) -> str:
        """Queues one prediction log record (CONTRACT.md section 1) on
        topic, keyed by its prediction id, and returns the id (a new UUID 4
        unless prediction_id is given: pass it to log_label later).

        features: a dict of name to value, a pandas Series (a row) or a
        one-row DataFrame, or a sequence or numpy array with feature_names.
        Values are numbers, strings, bools or None (missing); numpy scalars
        are converted, and NaN, pandas.NA and NaT are None. timestamp: the
        event time, an aware datetime or an RFC 3339 string (default: now).
        The other arguments are the record's fields of the same names
        (encode_prediction). error, the class of the error that kept the
        model from answering ("timeout", "model_exception", ...), makes the
        record a failed prediction: prediction may then be None.

        Raises ContractError, with the consumer's reason code in .reason,
        for a record the consumer would dead-letter (counted as invalid),
        including one whose timestamp is more than max_future ahead of the
        clock. Never waits: a record that does not fit the buffer is dropped
        and counted (metrics()), as is one logged after close().
        """
        try:
            data, pid, ns = build_prediction(
                model, model_version, features, prediction,
                feature_names=feature_names, prediction_id=prediction_id,
                timestamp=self._now() if timestamp is None else timestamp,
                label=label, scores=scores, segments=segments, variant=variant, latency_ms=latency_ms,
                max_record_bytes=self._max_bytes, error=error,
            )
            if self._max_future_ns is not None:
                now_ns = (self._now() - _EPOCH) // timedelta(microseconds=1) * 1000
                if ns > now_ns + self._max_future_ns:
                    ahead = timedelta(microseconds=self._max_future_ns // 1000)
                    raise ContractError(BAD_TIMESTAMP, f"timestamp is more than {ahead} ahead of the clock")
        except ContractError:
            self._counts.add(self.topic, "invalid")
            raise
        self._send(self.topic, pid, data)
        return pid

    def log_label(
        self,
        model: str,
        prediction_id: str,
        label: str | float | int | bool | Any,
        *,
        timestamp: datetime | str | None = None,
    ) -> None:
        """Queues one late label (CONTRACT.md section 2) on labels_topic,
        keyed by prediction_id: the ground truth of the prediction
        log_prediction returned the id of. timestamp: when the label became
        known (default: now). label: a number, string or bool (None or NaN
        is missing_field). Raises and drops as log_prediction does (the
        consumer does not hold labels to max_future)."""
        try:
            data = encode_label(
                model, prediction_id, label,
                timestamp=self._now() if timestamp is None else timestamp,
                max_record_bytes=self._max_bytes,
            )
        except ContractError:
            self._counts.add(self.labels_topic, "invalid")
            raise
        self._send(self.labels_topic, prediction_id, data)

    def _send(self, topic: str, key: str, data: bytes) -> None:
        with self._state:
            if self._closed:
                self._counts.add(topic, "dropped")
                self._warn("closed", "a record logged after close() was dropped (counted in dropped)")
                return
            self._sending += 1
        self._counts.queued()
        try:
            self._kafka.produce(topic, data, key.encode("utf-8", "surrogatepass"))
        except BufferError:
            self._counts.queued(-1)
            self._counts.add(topic, "dropped")
            self._warn(
                "dropped",
                "the buffer of %d records is full (the brokers are slow or unreachable): records are dropped and counted in dropped",
                self._counts.pending(),
            )
        except Exception as e:  # KafkaException
            self._counts.queued(-1)
            self._counts.add(topic, "failed")
            self._warn("failed", "producing to %s failed: %s (counted in failed)", topic, e)
        finally:
            with self._state:
                self._sending -= 1
                if self._closed and self._sending == 0:
                    self._state.notify_all()

    # ----------------------------------------------------------- the rest

    def metrics(self) -> dict[str, dict[str, int]]:
        """The counters, by topic then outcome: sent (acknowledged by the
        broker), invalid (ContractError), dropped (buffer full, logged after
        close, or undelivered when close gave up), failed (refused by the
        broker or the client)."""
        out: dict[str, dict[str, int]] = {}
        for (topic, outcome), n in self._counts.snapshot().items():
            out.setdefault(topic, {})[outcome] = n
        return out

    @property
    def pending(self) -> int:
        """Records in the buffer or in flight: handed to the Kafka client,
        their delivery not yet reported."""
        return self._counts.pending()

    def flush(self, timeout: float = 10.0) -> int:
        """Waits up to timeout seconds for every queued record to be
        delivered; returns how many are still pending."""
        self._kafka.flush(timeout)
        return self.pending

    def close(self, timeout: float = 10.0) -> None:
        """Sends what is buffered, waiting at most timeout seconds, then
        drops (and counts) what is left and releases the client. Later logs
        are dropped and counted. Closing twice does nothing."""
        with self._state:
            if self._closed:
                return
            self._closed = True
            while self._sending:
                self._state.wait()
        with _open_lock:
            _open.discard(self)
        self._stop.set()
        self._poller.join()
        self._kafka.flush(timeout)
        if left := self.pending:
            # Purged records get delivery reports, counted as dropped.
            self._kafka.purge(in_queue=True, in_flight=True)
            self._kafka.flush(_PURGE_REPORTS_SECONDS)
            log.warning(
                "close: %d records not delivered within %.1fs were dropped (counted in dropped)",
                left,
                timeout,
            )
        if self.pending == 0:
            # Else librdkafka would wait for them: the garbage collector
            # releases the client instead.
            self._kafka.close()

    def __enter__(self) -> Producer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_open: set[Producer] = set()
_open_lock = threading.Lock()

#: What an open Producer gets at interpreter exit to send its buffer.
_EXIT_TIMEOUT_SECONDS: Final = 5.0


@atexit.register
def _close_open() -> None:
    with _open_lock:
        producers = list(_open)
    for p in producers:
        p.close(_EXIT_TIMEOUT_SECONDS)
