"""The rules of CONTRACT.md sections 1 (the prediction log) and 2 (the
labels topic), as driftwatch's consumer applies them (consumer.Decode and
consumer.DecodeLabel in Go), with the dead-letter reason codes of section 4.

Two entry points share one set of checks: validate_prediction and
validate_label read a record's bytes (size, then strict JSON, then fields),
and check_prediction and check_label check a record already held as Python
values (what the Producer builds), in the same order, so that a record gets
the reason code the consumer would give it. consumer/testdata/contract/
cases.json, the table both the Go consumer's tests and these tests run,
holds them to that.

Not here: the baseline (no_baseline depends on the consumer's baselines,
not on the record) and the clock (max_future: the Producer checks it).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from json import decoder as _json_decoder
from typing import Any, Final

# The json module's string scanner (C), which typeshed does not declare:
# scanstring(text, index after the opening quote, strict) -> (str, end).
scanstring: Callable[[str, int, bool], tuple[str, int]] = _json_decoder.scanstring  # type: ignore[attr-defined]

#: The largest record the consumer accepts unless told otherwise
#: (kafka.max_record_bytes, 1 MiB).
DEFAULT_MAX_RECORD_BYTES: Final = 1 << 20

# Reason codes (CONTRACT.md section 4) a record can earn from its bytes.
TOO_BIG: Final = "too_big"
NOT_JSON: Final = "not_json"
MISSING_FIELD: Final = "missing_field"
WRONG_TYPE: Final = "wrong_type"
BAD_TIMESTAMP: Final = "bad_timestamp"

#: The accepted event times, unix nanoseconds: 2000-01-01T00:00:00Z
#: inclusive to 2100-01-01T00:00:00Z exclusive.
MIN_EVENT_NS: Final = 946_684_800 * 10**9
MAX_EVENT_NS: Final = 4_102_444_800 * 10**9

# Values nest at most this deep, the top-level object counting as 1 (as
# Go's encoding/json).
_MAX_DEPTH: Final = 10_000


class ContractError(ValueError):
    """A record breaks the contract. reason is the consumer's dead-letter
    reason code (too_big, not_json, missing_field, wrong_type,
    bad_timestamp); detail names the field and what is wrong with it."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# ------------------------------------------------------------------ JSON


class _Object(dict[str, Any]):
    """A JSON object as parsed: the last of repeated keys counts, as in a
    dict, and pairs keeps every member in document order (the consumer
    checks every member of features, scores and segments, repeated or
    not)."""

    __slots__ = ("pairs",)
    pairs: list[tuple[str, Any]]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    o = _Object(pairs)
    o.pairs = pairs
    return o


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_int(text: str) -> int | float:
    # More than 309 digits (JSON has no leading zeros) is beyond float64,
    # and beyond what int() converts by default (4,300 digits): keep it as
    # the infinity it rounds to.
    if len(text) - text.startswith("-") > 309:
        return -math.inf if text.startswith("-") else math.inf
    return int(text)


_decoder = json.JSONDecoder(
    object_pairs_hook=_object, parse_constant=_reject_constant, parse_int=_parse_int, strict=True
)

_WS = re.compile(r"[ \t\n\r]*")


def _ws(text: str, i: int) -> int:
    """The index of the first byte from i on that is not JSON whitespace."""
    m = _WS.match(text, i)
    return m.end() if m is not None else i

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def loads(text: str) -> Any:
    """Parses one strict JSON document (RFC 8259) as the consumer does:
    NaN and Infinity are not JSON, values nest at most 10,000 deep, objects
    are _Object. Raises ValueError when it is not JSON."""
    try:
        return _decoder.decode(text)
    except RecursionError:
        # Deeper than Python's recursion limit lets the json module go,
        # which is less than the contract's 10,000.
        return loads_iterative(text)


def loads_iterative(text: str) -> Any:
    """loads without recursion: any depth up to the contract's limit."""
    ws = _ws
    i = ws(text, 0)
    # Each frame: [is_object, members or elements, the pending key].
    stack: list[list[Any]] = []
    n = len(text)
    while True:
        # A value starts at i.
        c = text[i] if i < n else ""
        value: Any
        if c in ("{", "["):
            if len(stack) >= _MAX_DEPTH:
                raise ValueError(f"values nest deeper than {_MAX_DEPTH} at {i}")
            i = ws(text, i + 1)
            closing = "}" if c == "{" else "]"
            if text.startswith(closing, i):
                value = _object([]) if c == "{" else []
                i += 1
            else:
                key = None
                if c == "{":
                    key, i = _key(text, i)
                stack.append([c == "{", [], key])
                continue
        elif c == '"':
            value, i = scanstring(text, i + 1, True)
        elif c == "-" or "0" <= c <= "9":
            m = _NUMBER.match(text, i)
            if m is None:
                raise ValueError(f"bad number at {i}")
            value = float(m.group()) if m.group(1) or m.group(2) else _parse_int(m.group())
            i = m.end()
        elif text.startswith("true", i):
            value, i = True, i + 4
        elif text.startswith("false", i):
            value, i = False, i + 5
        elif text.startswith("null", i):
            value, i = None, i + 4
        else:
            raise ValueError(f"want a value at {i}")
        # After a value: add it to its container, closing containers
        # until one has a next element.
        while True:
            if not stack:
                if ws(text, i) != n:
                    raise ValueError(f"data after the value at {i}")
                return value
            frame = stack[-1]
            if frame[0]:
                frame[1].append((frame[2], value))
            else:
                frame[1].append(value)
            i = ws(text, i)
            if text.startswith(",", i):
                i = ws(text, i + 1)
                if frame[0]:
                    frame[2], i = _key(text, i)
                break
            if text.startswith("}" if frame[0] else "]", i):
                i += 1
                stack.pop()
                value = _object(frame[1]) if frame[0] else frame[1]
                continue
            raise ValueError(f"want ',' or a closing bracket at {i}")


def _key(text: str, i: int) -> tuple[str, int]:
    if not text.startswith('"', i):
        raise ValueError(f"want a key at {i}")
    key, i = scanstring(text, i + 1, True)
    i = _ws(text, i)
    if not text.startswith(":", i):
        raise ValueError(f"want ':' at {i}")
    return key, _ws(text, i + 1)


def _parse_bytes(data: bytes | str, max_bytes: int) -> Mapping[str, Any]:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    if max_bytes <= 0:
        max_bytes = DEFAULT_MAX_RECORD_BYTES
    if len(data) > max_bytes:
        raise ContractError(TOO_BIG, f"record is {len(data)} bytes, limit {max_bytes}")
    # Invalid UTF-8 is replaced, as the consumer replaces it (outside a
    # string it breaks the JSON all the same).
    text = data.decode("utf-8", "replace")
    try:
        obj = loads(text)
    except (ValueError, RecursionError) as e:
        raise ContractError(NOT_JSON, f"cannot parse JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ContractError(NOT_JSON, "not a JSON object")
    return obj


def validate_prediction(data: bytes | str, max_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> None:
    """Checks a prediction log record's bytes (CONTRACT.md section 1) as
    the consumer does, raising ContractError with its reason code. A str is
    taken as its UTF-8 encoding. max_bytes 0 means the default, 1 MiB."""
    check_prediction(_parse_bytes(data, max_bytes))


def validate_label(data: bytes | str, max_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> None:
    """Checks a late label's bytes (CONTRACT.md section 2) as the consumer
    does, raising ContractError with its reason code."""
    check_label(_parse_bytes(data, max_bytes))


# ---------------------------------------------------------------- fields

_ABSENT: Final = object()


def _members(obj: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] | None = getattr(obj, "pairs", None)
    return pairs if pairs is not None else obj.items()


def is_number(v: object) -> bool:
    """Whether v is a JSON number that fits a float64 (not a bool)."""
    t = type(v)
    if t is float:
        return math.isfinite(v)  # type: ignore[arg-type]
    if t is int:
        try:
            float(v)  # type: ignore[arg-type]
        except OverflowError:
            return False
        return True
    if t is bool:
        return False
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return is_number(int(v))
    return False


def is_scalar(v: object) -> bool:
    """Whether v may be a feature, label or segment value: null, a string,
    a bool or a number that fits a float64."""
    return v is None or isinstance(v, (str, bool)) or is_number(v)


def _required_string(rec: Mapping[str, Any], name: str) -> str:
    v = rec.get(name)
    if v is None:
        raise ContractError(MISSING_FIELD, name)
    if not isinstance(v, str):
        raise ContractError(WRONG_TYPE, f"{name}: want a string")
    if v == "":
        raise ContractError(MISSING_FIELD, f"{name} is empty")
    return v


def _short(s: str, n: int = 64) -> str:
    return s if len(s) <= n else s[:n] + "\u2026"


def _check_time(rec: Mapping[str, Any]) -> int:
    ts = _required_string(rec, "timestamp")
    ns = parse_timestamp(ts)
    if ns is None:
        raise ContractError(BAD_TIMESTAMP, f"timestamp {_short(ts)!r} is not RFC 3339")
    if not MIN_EVENT_NS <= ns < MAX_EVENT_NS:
        raise ContractError(
            BAD_TIMESTAMP,
            f"timestamp {_short(ts)!r} is outside the accepted 2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z",
        )
    return ns


def check_prediction(rec: Mapping[str, Any]) -> int:
    """Checks a prediction log record held as JSON values (dicts, lists,
    str, int, float, bool, None), in the consumer's order, raising
    ContractError with the reason code of the first rule it breaks.
    Returns the event time in unix nanoseconds."""
    features = rec.get("features")
    # A wrong type for features is reported before the required fields, as
    # the consumer reports it.
    if features is not None and not isinstance(features, dict):
        raise ContractError(WRONG_TYPE, "features: want an object")
    for name in ("prediction_id", "model", "model_version"):
        _required_string(rec, name)
    ns = _check_time(rec)
    if features is None:
        raise ContractError(MISSING_FIELD, "features")
    for k, v in _members(features):
        if not is_scalar(v):
            raise ContractError(WRONG_TYPE, f"features.{_short(k)}: want number, string, bool or null")
    # A failed prediction (error) may have no prediction; one it has must
    # be of the kinds a prediction is.
    failed = rec.get("error") is not None
    if failed:
        _required_string(rec, "error")
    p = rec.get("prediction")
    if p is None:
        if not failed:
            raise ContractError(MISSING_FIELD, "prediction")
    elif not (isinstance(p, str) or is_number(p)):
        raise ContractError(WRONG_TYPE, "prediction: want number or string")
    scores = rec.get("scores")
    if scores is not None:
        if not isinstance(scores, dict):
            raise ContractError(WRONG_TYPE, "scores: want an object of numbers")
        for k, v in _members(scores):
            if v is not None and not is_number(v):
                raise ContractError(WRONG_TYPE, f"scores.{_short(k)}: want an object of numbers")
    lab = rec.get("label")
    if lab is not None and not is_scalar(lab):
        raise ContractError(WRONG_TYPE, "label: want number, string, bool or null")
    segments = rec.get("segments")
    if segments is not None:
        if not isinstance(segments, dict):
            raise ContractError(WRONG_TYPE, "segments: want an object")
        for k, v in _members(segments):
            if not is_scalar(v):
                raise ContractError(WRONG_TYPE, f"segments.{_short(k)}: want a string, number or bool")
    if rec.get("variant") is not None:
        _required_string(rec, "variant")
    lat = rec.get("latency_ms")
    if lat is not None and not is_number(lat):
        raise ContractError(WRONG_TYPE, "latency_ms: want a number")
    return ns


def check_label(rec: Mapping[str, Any]) -> int:
    """Checks a late label held as JSON values, as check_prediction does.
    Returns the label's time in unix nanoseconds."""
    _required_string(rec, "prediction_id")
    _required_string(rec, "model")
    ns = _check_time(rec)
    lab = rec.get("label")
    if lab is None:
        raise ContractError(MISSING_FIELD, "label")
    if not is_scalar(lab):
        raise ContractError(WRONG_TYPE, "label: want number, string or bool")
    return ns


# ------------------------------------------------------------ timestamps

# RFC 3339 as Go's time.Parse(time.RFC3339Nano, s) reads it, which the
# consumer calls: a four-digit year; two-digit month, day, minute and
# second; a one- or two-digit hour; an optional fraction after '.' or ','
# (digits past the ninth dropped); 'Z' or an offset +hh:mm or -hh:mm with
# hh at most 24 and mm at most 60. Go's lenience (go.dev/issue/54580) is
# kept on purpose: a record the consumer accepts must not be refused here.
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{1,2}):([0-9]{2}):([0-9]{2})"
    r"(?:[.,]([0-9]+))?(?:Z|([+-])([0-9]{2}):([0-9]{2}))"
)


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_since_epoch(y: int, m: int, d: int) -> int:
    # Howard Hinnant's days_from_civil.
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_timestamp(s: str) -> int | None:
    """The unix nanoseconds of an RFC 3339 timestamp as the consumer reads
    it, or None when it is not one. The event-time range is not checked."""
    m = _TIMESTAMP.fullmatch(s)
    if m is None:
        return None
    year, month, day, hour, minute, sec = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    if not (1 <= month <= 12 and 1 <= day <= _days_in(month, year) and hour <= 23 and minute <= 59 and sec <= 59):
        return None
    offset = 0
    if m.group(8) is not None:
        oh, om = int(m.group(9)), int(m.group(10))
        if oh > 24 or om > 60:
            return None
        offset = (oh * 60 + om) * 60
        if m.group(8) == "-":
            offset = -offset
    frac = m.group(7) or ""
    nsec = int((frac[:9]).ljust(9, "0")) if frac else 0
    secs = _days_since_epoch(year, month, day) * 86400 + hour * 3600 + minute * 60 + sec - offset
    return secs * 10**9 + nsec
