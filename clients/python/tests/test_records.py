"""Records from Python values: plain dicts, pandas rows, numpy arrays and
scalars, datetimes; what is written, and that the checks refuse what the
consumer would refuse, with its reason code."""

from __future__ import annotations

import decimal
import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftwatch_client import ContractError, encode_label, encode_prediction, validate_label, validate_prediction

TS = "2026-11-20T10:15:03.120Z"


def enc(features: Any = None, prediction: Any = 0.5, **kw: Any) -> dict[str, Any]:
    """The record encode_prediction writes, parsed; the bytes also pass
    the validator of raw records."""
    kw.setdefault("timestamp", TS)
    kw.setdefault("prediction_id", "p1")
    data = encode_prediction("fraud", "1.4.2", {} if features is None else features, prediction, **kw)
    validate_prediction(data)
    assert b"\n" not in data
    rec: dict[str, Any] = json.loads(data)
    return rec


def reason(f: Any, *args: Any, **kw: Any) -> str:
    with pytest.raises(ContractError) as e:
        f(*args, **kw)
    return e.value.reason


def test_plain_dict_record() -> None:
    data = encode_prediction(
        "fraud", "1.4.2", {"amount": 120.5, "country": "DE", "is_new_customer": True, "age": None}, 0.87,
        prediction_id="7d1e", timestamp=TS, scores={"fraud": 0.87, "legit": 0.13}, label=None,
        segments={"gender": "f", "age_band": "30-39"}, variant="champion", latency_ms=12.4,
    )
    assert data == (
        b'{"prediction_id":"7d1e","model":"fraud","model_version":"1.4.2","timestamp":"2026-11-20T10:15:03.120Z",'
        b'"features":{"amount":120.5,"country":"DE","is_new_customer":true,"age":null},"prediction":0.87,'
        b'"scores":{"fraud":0.87,"legit":0.13},"segments":{"gender":"f","age_band":"30-39"},'
        b'"variant":"champion","latency_ms":12.4}'
    )


def test_prediction_id_is_a_new_uuid_unless_given() -> None:
    a, b = enc(prediction_id=None), enc(prediction_id=None)
    assert len(a["prediction_id"]) == 36 and a["prediction_id"] != b["prediction_id"]
    assert enc(prediction_id="mine")["prediction_id"] == "mine"


def test_pandas_row_of_a_mixed_frame() -> None:
    df = pd.DataFrame(
        {
            "amount": [120.5, np.nan],
            "n": np.array([3, 4], dtype=np.int64),
            "country": ["DE", None],
            "flag": [True, False],
            "small": np.array([1.5, 2.5], dtype=np.float32),
            "when": pd.to_datetime(["2026-01-01", None]),
            "cat": pd.Categorical(["a", "b"]),
            "maybe": pd.array([1, None], dtype="Int64"),
        }
    )
    # The second row: NaN, None, NaT and pandas.NA are all null.
    feats = df.drop(columns=["when"]).iloc[1]
    assert enc(feats)["features"] == {
        "amount": None, "n": 4, "country": None, "flag": False, "small": 2.5, "cat": "b", "maybe": None
    }
    assert enc(df.drop(columns=["when"]).iloc[0])["features"] == {
        "amount": 120.5, "n": 3, "country": "DE", "flag": True, "small": 1.5, "cat": "a", "maybe": 1
    }
    # A timestamp is not a feature value (number, string, bool or null).
    assert reason(enc, df.iloc[0]) == "wrong_type"
    assert enc(df.iloc[[1]].drop(columns=["when"]))["features"]["n"] == 4  # a one-row DataFrame
    with pytest.raises(ValueError):
        enc(df)  # two rows: which one?


def test_pandas_rows_from_iterrows_and_itertuples() -> None:
    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    assert [enc(row)["features"] for _, row in df.iterrows()] == [{"a": 1.0, "b": "x"}, {"a": 2.0, "b": "y"}]
    names = list(df.columns)
    assert [enc(tuple(t), feature_names=names)["features"] for t in df.itertuples(index=False)] == [
        {"a": 1.0, "b": "x"}, {"a": 2.0, "b": "y"}
    ]


def test_numpy_arrays_with_feature_names() -> None:
    names = ["a", "b", "c"]
    assert enc(np.array([1.0, np.nan, 3.0]), feature_names=names)["features"] == {"a": 1.0, "b": None, "c": 3.0}
    assert enc(np.array([[1, 2, 3]]), feature_names=names)["features"] == {"a": 1, "b": 2, "c": 3}  # one row of X
    assert enc(np.array([True, False, True]), feature_names=names)["features"] == {"a": True, "b": False, "c": True}
    assert enc(np.array(["x", "y", "z"]), feature_names=np.array(names))["features"] == {"a": "x", "b": "y", "c": "z"}
    assert enc([1, "two", None], feature_names=names)["features"] == {"a": 1, "b": "two", "c": None}
    with pytest.raises(ValueError):
        enc(np.array([1.0, 2.0]), feature_names=names)
    with pytest.raises(ValueError):
        enc(np.ones((2, 3)), feature_names=names)
    # Without names there is no object: the contract's wrong_type.
    assert reason(enc, np.array([1.0, 2.0])) == "wrong_type"
    assert reason(enc, [1.0, 2.0]) == "wrong_type"
    # An infinity is not a JSON number.
    assert reason(enc, np.array([1.0, np.inf, 3.0]), feature_names=names) == "wrong_type"


def test_numpy_scalars_everywhere() -> None:
    rec = enc(
        {"i": np.int32(7), "f": np.float64(0.25), "h": np.float16(0.5), "b": np.bool_(True), "s": np.str_("x"),
         "u": np.uint64(2**63), "z": np.array(3.5)},
        prediction=np.float32(0.75), label=np.int64(1), scores={"a": np.float32(0.5)}, segments={"g": np.str_("f"), "n": np.int8(3)},
        latency_ms=np.float64(12.0),
    )
    assert rec["features"] == {"i": 7, "f": 0.25, "h": 0.5, "b": True, "s": "x", "u": 2**63, "z": 3.5}
    assert rec["prediction"] == 0.75 and rec["label"] == 1 and rec["scores"] == {"a": 0.5}
    assert rec["segments"] == {"g": "f", "n": 3} and rec["latency_ms"] == 12.0
    assert enc(prediction=np.str_("fraud"))["prediction"] == "fraud"


def test_nan_is_null_but_in_scores() -> None:
    assert enc({"a": math.nan, "b": float("nan"), "c": decimal.Decimal("NaN")})["features"] == {"a": None, "b": None, "c": None}
    assert "label" not in enc(label=math.nan) and "latency_ms" not in enc(latency_ms=math.nan)
    assert enc(segments={"g": math.nan})["segments"] == {"g": None}
    assert reason(enc, prediction=math.nan) == "missing_field"
    assert reason(enc, scores={"a": math.nan}) == "wrong_type"  # null would count as 0
    assert enc(scores={"a": None})["scores"] == {"a": None}
    for field in ("features", "prediction", "scores", "label", "segments", "latency_ms"):
        value: Any = {"a": math.inf} if field in ("features", "scores", "segments") else -math.inf
        assert reason(enc, **{field: value}) == "wrong_type", field


def test_other_numbers() -> None:
    assert enc({"d": decimal.Decimal("1.25"), "big": 10**300})["features"] == {"d": 1.25, "big": 10**300}
    assert reason(enc, {"huge": 10**400}) == "wrong_type"
    assert reason(enc, prediction=True) == "wrong_type"  # a bool is not a score
    assert reason(enc, prediction=np.bool_(True)) == "wrong_type"


def test_wrong_values_get_the_consumers_reason() -> None:
    assert reason(enc, {"a": {"nested": 1}}) == "wrong_type"
    assert reason(enc, {"a": [1]}) == "wrong_type"
    assert reason(enc, {"a": datetime(2026, 1, 1)}) == "wrong_type"
    assert reason(enc, {"a": object()}) == "wrong_type"
    assert reason(enc, {1: 2}) == "wrong_type"  # feature names are strings
    assert reason(enc, "amount=1") == "wrong_type"
    assert reason(enc, prediction=None) == "missing_field"
    assert reason(enc, prediction=[0.5]) == "wrong_type"
    assert reason(enc, scores=[0.5]) == "wrong_type"
    assert reason(enc, segments={"g": ["f"]}) == "wrong_type"
    assert reason(enc, variant="") == "missing_field"
    assert reason(enc, variant=3) == "wrong_type"
    assert reason(enc, latency_ms="12") == "wrong_type"
    assert reason(enc, prediction_id="") == "missing_field"
    assert reason(enc, prediction_id=7) == "wrong_type"
    assert reason(encode_prediction, "", "1", {}, 1, timestamp=TS) == "missing_field"
    assert reason(encode_prediction, "m", 1.4, {}, 1, timestamp=TS) == "wrong_type"
    assert reason(encode_prediction, "m", "1", None, 1, timestamp=TS) == "missing_field"


def test_the_consumers_order_of_checks() -> None:
    # As the consumer: a missing model before a bad timestamp, a bad
    # timestamp before a feature of the wrong type, and the size first.
    assert reason(encode_prediction, "", "1", {}, 1, timestamp="yesterday") == "missing_field"
    assert reason(enc, {"a": {}}, timestamp="yesterday") == "bad_timestamp"
    assert reason(enc, {"a": {}, "pad": "x" * 300}, max_record_bytes=200) == "too_big"


def test_timestamps() -> None:
    assert enc(timestamp=datetime(2026, 11, 20, 11, 15, 3, 120000, tzinfo=timezone(timedelta(hours=1))))["timestamp"] == TS
    assert enc(timestamp=datetime(2026, 11, 20, 10, 15, 3, 123456, tzinfo=timezone.utc))["timestamp"] == "2026-11-20T10:15:03.123456Z"
    assert enc(timestamp=pd.Timestamp("2026-11-20T10:15:03.120Z"))["timestamp"] == TS
    assert enc(timestamp="2026-11-20T11:15:03+01:00")["timestamp"] == "2026-11-20T11:15:03+01:00"  # as given
    assert reason(enc, timestamp=datetime(2026, 11, 20, 10, 15, 3)) == "bad_timestamp"  # naive: which zone?
    assert reason(enc, timestamp="2026-11-20 10:15:03") == "bad_timestamp"
    assert reason(enc, timestamp=datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)) == "bad_timestamp"
    assert reason(enc, timestamp=datetime(2100, 1, 1, tzinfo=timezone.utc)) == "bad_timestamp"
    assert reason(enc, timestamp=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == "bad_timestamp"
    assert reason(enc, timestamp=1763633703) == "wrong_type"


def test_strings_any_unicode() -> None:
    rec = enc({"pa\u00eds": "M\u00fcnchen", "emoji": "\U0001f600", "ctl": "a\tb\x00"}, prediction="\u4e00")
    assert rec["features"] == {"pa\u00eds": "M\u00fcnchen", "emoji": "\U0001f600", "ctl": "a\tb\x00"}
    # A lone surrogate cannot be UTF-8: it is escaped, and the consumer
    # reads U+FFFD.
    data = encode_prediction("m", "1", {"s": "a\ud800b"}, 1, timestamp=TS)
    validate_prediction(data)
    assert b"\\ud800" in data


def test_size_limit() -> None:
    small = encode_prediction("m", "1", {"s": "x"}, 1, timestamp=TS, prediction_id="p")
    assert encode_prediction("m", "1", {"s": "x"}, 1, timestamp=TS, prediction_id="p", max_record_bytes=len(small)) == small
    assert reason(encode_prediction, "m", "1", {"s": "x"}, 1, timestamp=TS, prediction_id="p", max_record_bytes=len(small) - 1) == "too_big"
    assert reason(encode_prediction, "m", "1", {"s": "x" * (1 << 20)}, 1, timestamp=TS) == "too_big"


def test_labels() -> None:
    data = encode_label("fraud", "7d1e", 1, timestamp="2026-11-27T08:00:00Z")
    assert data == b'{"prediction_id":"7d1e","model":"fraud","timestamp":"2026-11-27T08:00:00Z","label":1}'
    validate_label(data)
    for v, want in [(np.int64(0), 0), (np.bool_(False), False), ("fraud", "fraud"), (np.float32(0.5), 0.5), (True, True)]:
        assert json.loads(encode_label("m", "p", v, timestamp=TS))["label"] == want
    assert reason(encode_label, "m", "p", None, timestamp=TS) == "missing_field"
    assert reason(encode_label, "m", "p", math.nan, timestamp=TS) == "missing_field"
    assert reason(encode_label, "m", "p", [1], timestamp=TS) == "wrong_type"
    assert reason(encode_label, "m", "", 1, timestamp=TS) == "missing_field"
    assert reason(encode_label, "", "p", 1, timestamp=TS) == "missing_field"
    assert reason(encode_label, "m", "p", 1, timestamp="2026-11-27") == "bad_timestamp"


def test_failed_prediction() -> None:
    # A failed prediction: its error class, the prediction null or kept.
    rec = enc({"amount": 1.5}, None, error="timeout")
    assert rec["error"] == "timeout" and rec["prediction"] is None and rec["features"] == {"amount": 1.5}
    assert enc(prediction="fraud", error="partial")["prediction"] == "fraud"
    assert "error" not in enc()
    assert reason(enc, prediction=None, error="") == "missing_field"
    assert reason(enc, error=503) == "wrong_type"
    assert reason(enc, prediction=True, error="timeout") == "wrong_type"
    assert reason(enc, prediction=math.inf, error="timeout") == "wrong_type"
