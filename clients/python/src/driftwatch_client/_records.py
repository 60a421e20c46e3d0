"""Records of the contract from Python values: a prediction log record
(CONTRACT.md section 1) or a late label (section 2), checked as the
consumer checks them and written as compact UTF-8 JSON."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ._contract import DEFAULT_MAX_RECORD_BYTES, TOO_BIG, ContractError, check_label, check_prediction
from ._values import FeaturesLike, features_dict, mapping, scalar, timestamp_text


def _dumps(rec: Mapping[str, Any]) -> bytes:
    try:
        return json.dumps(rec, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: escaped, the consumer reads U+FFFD
        return json.dumps(rec, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")


def _size_estimate(rec: Mapping[str, Any]) -> int:
    """The size of a record that failed its checks, as JSON; 0 if it cannot
    be written at all."""
    try:
        text = json.dumps(rec, ensure_ascii=False, separators=(",", ":"), default=repr)
    except (ValueError, TypeError):
        return 0
    return len(text.encode("utf-8", "surrogatepass"))


def _encode(rec: Mapping[str, Any], check: Callable[[Mapping[str, Any]], int], max_bytes: int) -> tuple[bytes, int]:
    """The record's bytes and event time, after the consumer's checks in
    its order: the size first, then the fields."""
    if max_bytes <= 0:
        max_bytes = DEFAULT_MAX_RECORD_BYTES
    try:
        ns = check(rec)
    except ContractError:
        if (size := _size_estimate(rec)) > max_bytes:
            raise ContractError(TOO_BIG, f"record is {size} bytes, limit {max_bytes}") from None
        raise
    data = _dumps(rec)
    if len(data) > max_bytes:
        raise ContractError(TOO_BIG, f"record is {len(data)} bytes, limit {max_bytes}")
    return data, ns


def build_prediction(
    model: str,
    model_version: str,
    features: FeaturesLike,
    prediction: Any,
    *,
    feature_names: Sequence[str] | None,
    prediction_id: str | None,
    timestamp: datetime | str,
    label: Any,
    scores: Any,
    segments: Any,
    variant: str | None,
    latency_ms: float | None,
    max_record_bytes: int,
    error: str | None = None,
) -> tuple[bytes, str, int]:
    """encode_prediction's record, with its prediction id and event time
    (unix nanoseconds)."""
    pid = str(uuid.uuid4()) if prediction_id is None else prediction_id
    rec: dict[str, Any] = {
        "prediction_id": pid,
        "model": model,
        "model_version": model_version,
        "timestamp": timestamp_text(timestamp),
        "features": features_dict(features, feature_names),
        "prediction": scalar(prediction),
    }
    if scores is not None:
        rec["scores"] = mapping(scores, nan_is_null=False)
    for k, v in (("label", scalar(label)), ("segments", mapping(segments)), ("variant", variant)):
        if v is not None:
            rec[k] = v
    if latency_ms is not None and (lat := scalar(latency_ms)) is not None:
        rec["latency_ms"] = lat
    if error is not None:
        rec["error"] = error
    data, ns = _encode(rec, check_prediction, max_record_bytes)
    return data, pid, ns


def encode_prediction(
    model: str,
    model_version: str,
    features: FeaturesLike,
    prediction: str | float | int | Any,
    *,
    timestamp: datetime | str,
    feature_names: Sequence[str] | None = None,
    prediction_id: str | None = None,
    label: str | float | int | bool | Any | None = None,
    scores: Mapping[str, float | None] | Any | None = None,
    segments: Mapping[str, str | float | int | bool | None] | Any | None = None,
    variant: str | None = None,
    latency_ms: float | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    error: str | None = None,
) -> bytes:
    """One prediction log record (CONTRACT.md section 1) as the Producer
    sends it: compact UTF-8 JSON, one line's worth (for a file that
    `driftwatch replay` or `driftwatch baseline` reads, add a newline).
    Arguments as Producer.log_prediction, but timestamp is required (there
    is no clock here, and no max_future check). Raises ContractError."""
    data, _, _ = build_prediction(
        model, model_version, features, prediction,
        feature_names=feature_names, prediction_id=prediction_id, timestamp=timestamp,
        label=label, scores=scores, segments=segments, variant=variant, latency_ms=latency_ms,
        max_record_bytes=max_record_bytes, error=error,
    )
    return data


def encode_label(
    model: str,
    prediction_id: str,
    label: str | float | int | bool | Any,
    *,
    timestamp: datetime | str,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> bytes:
    """One late label (CONTRACT.md section 2) as the Producer sends it.
    Raises ContractError."""
    rec = {
        "prediction_id": prediction_id,
        "model": model,
        "timestamp": timestamp_text(timestamp),
        "label": scalar(label),
    }
    data, _ = _encode(rec, check_label, max_record_bytes)
    return data
