#!/usr/bin/env python3
"""Writes cases.json beside this file: the shared table of prediction and
label records (CONTRACT.md sections 1 and 2) with the verdict the consumer
gives each (valid, or the reason code of its dead letter, section 4).

Both sides read the table: consumer/contract_cases_test.go runs
consumer.Decode and consumer.DecodeLabel on every case, and
clients/python/tests/test_contract_cases.py runs the Python client's
validator on every case; both require the verdict and the reason code
written here. So the table is the consumer's behaviour (the Go test) and the
client applies the same rules (the pytest).

Each case: "name" (unique), "kind" ("prediction" or "label"), "record" (the
record's text, a string, so that broken JSON can be written), "valid",
"reason" ("" when valid). Optional: "record_base64" instead of "record" for
bytes that are not UTF-8, and "max_bytes" (the size limit to apply, 0 or
absent: the default 1048576), so that the size rule is tested on small
records.

The verdicts are written by hand below. Regenerate with
    python3 consumer/testdata/contract/gen_cases.py
(standard library only); the tests only read cases.json.
"""

from __future__ import annotations

import base64
import json
import os

TS = "2026-11-20T10:15:03.120Z"

# A valid prediction record; each case changes one thing. Key order is
# kept, so the raw text of a case reads as the contract's example.
PREDICTION = {
    "prediction_id": "7d1e0c5a-61c4-4b43-9a55-5a8d3f0c2f10",
    "model": "fraud",
    "model_version": "1.4.2",
    "timestamp": TS,
    "features": {"amount": 120.5, "country": "DE", "is_new_customer": True, "age": None},
    "prediction": 0.87,
    "scores": {"fraud": 0.87, "legit": 0.13},
    "label": None,
    "segments": {"gender": "f", "age_band": "30-39"},
    "variant": "champion",
    "latency_ms": 12.4,
}

REQUIRED = {k: PREDICTION[k] for k in ("prediction_id", "model", "model_version", "timestamp", "features", "prediction")}

LABEL = {
    "prediction_id": "7d1e0c5a-61c4-4b43-9a55-5a8d3f0c2f10",
    "model": "fraud",
    "timestamp": "2026-11-27T08:00:00Z",
    "label": 1,
}

_ABSENT = object()

cases: list[dict[str, object]] = []


def text(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def with_(base: dict[str, object], **changes: object) -> dict[str, object]:
    out = dict(base)
    for k, v in changes.items():
        if v is _ABSENT:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def raw_field(base: dict[str, object], field: str, raw: str) -> str:
    """The record's text with field's value replaced by raw JSON text
    (appended when the field is absent)."""
    marker = "\x00RAW\x00"
    obj = dict(base)
    obj[field] = marker
    return text(obj).replace(json.dumps(marker), raw)


def add(name: str, kind: str, record: str | bytes, reason: str = "", max_bytes: int = 0) -> None:
    case: dict[str, object] = {"name": name, "kind": kind}
    if isinstance(record, bytes):
        case["record_base64"] = base64.b64encode(record).decode()
    else:
        case["record"] = record
    case["valid"] = reason == ""
    case["reason"] = reason
    if max_bytes:
        case["max_bytes"] = max_bytes
    if any(c["name"] == name for c in cases):
        raise SystemExit(f"duplicate case name {name!r}")
    cases.append(case)


def pred(name: str, record: str | bytes | dict[str, object], reason: str = "", max_bytes: int = 0) -> None:
    add("prediction/" + name, "prediction", record if isinstance(record, (str, bytes)) else text(record), reason, max_bytes)


def label(name: str, record: str | bytes | dict[str, object], reason: str = "", max_bytes: int = 0) -> None:
    add("label/" + name, "label", record if isinstance(record, (str, bytes)) else text(record), reason, max_bytes)


# ---------------------------------------------------------------- predictions
# Valid records.
pred("contract example", PREDICTION)
pred("contract example, indented", json.dumps(PREDICTION, indent=2))
pred("required fields only", REQUIRED)
pred("empty features", with_(REQUIRED, features={}))
pred("prediction a string", with_(REQUIRED, prediction="fraud"))
pred("prediction zero", with_(REQUIRED, prediction=0))
pred("prediction negative exponent", raw_field(REQUIRED, "prediction", "-1.5e-3"))
pred("prediction minus zero", raw_field(REQUIRED, "prediction", "-0"))
pred("feature values of every kind", with_(REQUIRED, features={"n": -3, "x": 1.5e10, "s": "", "b": False, "t": True, "z": None}))
pred("feature named empty", with_(REQUIRED, features={"": 1}))
pred("feature number that underflows to zero", raw_field(REQUIRED, "features", '{"tiny":1e-400}'))
pred("feature integer of 309 digits within float64", raw_field(REQUIRED, "features", '{"big":' + str(2**1024 - 2**970 - 1) + "}"))
pred("unknown field holding an integer of 5000 digits", raw_field(REQUIRED, "x_digits", "7" * 5000))
pred("feature largest float64", raw_field(REQUIRED, "features", '{"max":1.7976931348623157e308}'))
pred("scores with a null member", with_(REQUIRED, scores={"a": 0.5, "b": None}))
pred("scores empty", with_(REQUIRED, scores={}))
pred("scores null", with_(REQUIRED, scores=None))
pred("label null", with_(REQUIRED, label=None))
pred("label number", with_(REQUIRED, label=1))
pred("label string", with_(REQUIRED, label="fraud"))
pred("label bool", with_(REQUIRED, label=True))
pred("segments of strings numbers bools and null", with_(REQUIRED, segments={"g": "f", "n": 3, "b": True, "gone": None}))
pred("segments null", with_(REQUIRED, segments=None))
pred("variant any name", with_(REQUIRED, variant="shadow-7"))
pred("variant null", with_(REQUIRED, variant=None))
pred("latency zero", with_(REQUIRED, latency_ms=0))
pred("latency null", with_(REQUIRED, latency_ms=None))
pred("unknown fields ignored", raw_field(REQUIRED, "x_team", '{"a":[1,{"b":null}],"c":1e400,"d":[[]]}'))
pred("unknown field holding a number beyond float64", raw_field(REQUIRED, "x_big", "1e400"))
pred("repeated key, the last counts", '{"model":5,' + text(REQUIRED)[1:])
pred("repeated features, the last counts", '{"features":[1],' + text(REQUIRED)[1:])
pred("whitespace around and inside", " \t\r\n" + json.dumps(REQUIRED, indent="\t") + " \n")
pred("escapes in strings", raw_field(REQUIRED, "model", r'"fr\u0061ud\n\t\"\\\/"'))
pred("surrogate pair escape", raw_field(REQUIRED, "model", r'"\ud83d\ude00"'))
pred("lone surrogate escape", raw_field(REQUIRED, "model", r'"\ud800"'))
pred("non-ASCII text", with_(REQUIRED, model="mod\u00e8le-\u4e00", features={"pa\u00eds": "M\u00fcnchen"}))
pred("DEL character raw in a string", with_(REQUIRED, model="a\x7fb"))
pred("invalid UTF-8 in a string is replaced, not rejected", text(REQUIRED).replace('"fraud"', '"fr\udcffaud"').encode("utf-8", "surrogateescape"))
# Nesting: the whole document at most 10,000 deep (as Go's encoding/json).
pred("nested 10000 deep in an unknown field", raw_field(REQUIRED, "x_deep", "[" * 9999 + "]" * 9999))

# Timestamps the consumer accepts (RFC 3339 as Go's time.Parse reads it).
for name, ts in [
    ("whole seconds Z", "2026-11-20T10:15:03Z"),
    ("milliseconds", "2026-11-20T10:15:03.120Z"),
    ("nanoseconds", "2026-11-20T10:15:03.123456789Z"),
    ("more than nine fraction digits", "2026-11-20T10:15:03.1234567891234Z"),
    ("one fraction digit", "2026-11-20T10:15:03.1Z"),
    ("positive offset", "2026-11-20T11:15:03.120+01:00"),
    ("negative offset", "2026-11-20T05:15:03-05:00"),
    ("offset minus zero", "2026-11-20T10:15:03-00:00"),
    ("offset with minutes", "2026-11-20T15:45:03+05:30"),
    ("leap day", "2024-02-29T00:00:00Z"),
    ("lower bound", "2000-01-01T00:00:00Z"),
    ("lower bound through an offset", "1999-12-31T23:30:00-00:30"),
    ("just before the upper bound", "2099-12-31T23:59:59.999999999Z"),
    ("just before the upper bound through an offset", "2100-01-01T00:59:59+01:00"),
    # Go's time.Parse is lenient here (go.dev/issue/54580); so is the consumer.
    ("comma before the fraction", "2026-11-20T10:15:03,120Z"),
    ("one-digit hour", "2026-11-20T1:15:03Z"),
    ("offset hour 24", "2026-11-20T10:15:03+24:00"),
    ("offset minute 60", "2026-11-20T10:15:03+01:60"),
    ("escaped in JSON", "2026-11-20T10:15:03\u005a"),
]:
    pred("timestamp " + name, with_(REQUIRED, timestamp=ts))

# too_big
small = text(REQUIRED)
pred("exactly the size limit", small, max_bytes=len(small.encode()))
pred("one byte over the size limit", small, "too_big", max_bytes=len(small.encode()) - 1)
pred("size limit counts UTF-8 bytes", with_(REQUIRED, model="\u00e9"), "too_big", max_bytes=len(text(with_(REQUIRED, model="e")).encode()))
pred("too big before not JSON", small[:-1], "too_big", max_bytes=10)

# not_json
for name, record in [
    ("empty", ""),
    ("only whitespace", " \n"),
    ("null", "null"),
    ("an array", "[" + small + "]"),
    ("a string", '"' + TS + '"'),
    ("a number", "1"),
    ("truncated", small[:-1]),
    ("trailing comma", small[:-1] + ",}"),
    ("data after the object", small + "x"),
    ("two objects", small + small),
    ("two objects on two lines", small + "\n" + small),
    ("single quotes", small.replace('"model"', "'model'")),
    ("unquoted key", small.replace('"model"', "model")),
    ("missing colon", small.replace('"model":', '"model" ')),
    ("NaN", raw_field(REQUIRED, "prediction", "NaN")),
    ("Infinity", raw_field(REQUIRED, "prediction", "Infinity")),
    ("minus Infinity", raw_field(REQUIRED, "features", '{"a":-Infinity}')),
    ("leading zero", raw_field(REQUIRED, "prediction", "01")),
    ("leading plus", raw_field(REQUIRED, "prediction", "+1")),
    ("point without digits", raw_field(REQUIRED, "prediction", "1.")),
    ("fraction without integer", raw_field(REQUIRED, "prediction", ".5")),
    ("exponent without digits", raw_field(REQUIRED, "prediction", "1e")),
    ("hex number", raw_field(REQUIRED, "prediction", "0x1")),
    ("True capitalised", raw_field(REQUIRED, "label", "True")),
    ("None", raw_field(REQUIRED, "label", "None")),
    ("raw tab in a string", raw_field(REQUIRED, "model", '"a\tb"')),
    ("raw newline in a string", raw_field(REQUIRED, "model", '"a\nb"')),
    ("raw NUL in a string", raw_field(REQUIRED, "model", '"a\x00b"')),
    ("invalid escape", raw_field(REQUIRED, "model", r'"a\xb"')),
    ("short unicode escape", raw_field(REQUIRED, "model", r'"a\u12"')),
    ("comment", "/* c */" + small),
    ("byte order mark", "\ufeff" + small),
    ("unterminated string", '{"model":"fraud'),
    ("unclosed nested array in an unknown field", raw_field(REQUIRED, "x", "[[1]")),
    ("syntax error in an unknown field", raw_field(REQUIRED, "x", "[1,]")),
    ("not JSON before missing fields", '{"model":}'),
]:
    pred("not JSON: " + name, record, "not_json")
pred("nested 10001 deep in an unknown field", raw_field(REQUIRED, "x_deep", "[" * 10000 + "]" * 10000), "not_json")
pred("invalid UTF-8 outside a string", text(REQUIRED)[:-1].encode() + b" \xff}", "not_json")

# missing_field: absent, null, or an empty string.
for field in ("prediction_id", "model", "model_version", "timestamp", "features", "prediction"):
    pred(f"{field} absent", with_(REQUIRED, **{field: _ABSENT}), "missing_field")
    pred(f"{field} null", with_(REQUIRED, **{field: None}), "missing_field")
for field in ("prediction_id", "model", "model_version", "timestamp"):
    pred(f"{field} empty", with_(REQUIRED, **{field: ""}), "missing_field")
pred("variant empty", with_(REQUIRED, variant=""), "missing_field")
pred("empty object", "{}", "missing_field")
pred("model an escaped NUL is not empty", with_(REQUIRED, model="\x00"))

# wrong_type
for name, field, raw in [
    ("prediction_id a number", "prediction_id", "17"),
    ("model a bool", "model", "true"),
    ("model an object", "model", '{"name":"fraud"}'),
    ("model_version a number", "model_version", "1.4"),
    ("timestamp a number (unix seconds)", "timestamp", "1763633703"),
    ("features an array", "features", '[120.5,"DE"]'),
    ("features a string", "features", '"amount=120.5"'),
    ("features a number", "features", "1"),
    ("feature an object", "features", '{"amount":{"value":120.5}}'),
    ("feature an array", "features", '{"amount":[120.5]}'),
    ("feature an empty object", "features", '{"a":1,"b":{}}'),
    ("feature a number beyond float64", "features", '{"amount":1e400}'),
    ("feature a negative number beyond float64", "features", '{"amount":-1e400}'),
    ("feature an integer beyond float64", "features", '{"amount":' + str(2**1024 - 2**970) + "}"),
    ("feature an integer of 400 digits", "features", '{"amount":' + "9" * 400 + "}"),
    ("feature a negative integer of 5000 digits", "features", '{"amount":-' + "1" * 5000 + "}"),
    ("feature repeated, the first an object", "features", '{"a":{},"a":1}'),
    ("prediction a bool", "prediction", "true"),
    ("prediction an object", "prediction", '{"fraud":0.87}'),
    ("prediction an array", "prediction", "[0.87]"),
    ("prediction a number beyond float64", "prediction", "1e400"),
    ("scores an array", "scores", "[0.87,0.13]"),
    ("scores a number", "scores", "0.87"),
    ("score a string", "scores", '{"fraud":"0.87"}'),
    ("score a bool", "scores", '{"fraud":true}'),
    ("score an object", "scores", '{"fraud":{}}'),
    ("score beyond float64", "scores", '{"fraud":1e400}'),
    ("label an object", "label", '{"value":1}'),
    ("label an array", "label", "[1]"),
    ("label beyond float64", "label", "1e400"),
    ("segments an array", "segments", '["f"]'),
    ("segments a string", "segments", '"f"'),
    ("segment an object", "segments", '{"gender":{"v":"f"}}'),
    ("segment an array", "segments", '{"gender":["f"]}'),
    ("segment beyond float64", "segments", '{"n":1e400}'),
    ("variant a number", "variant", "1"),
    ("variant a bool", "variant", "true"),
    ("latency_ms a string", "latency_ms", '"12.4"'),
    ("latency_ms a bool", "latency_ms", "true"),
    ("latency_ms an object", "latency_ms", "{}"),
    ("latency_ms beyond float64", "latency_ms", "1e400"),
]:
    pred(name, raw_field(REQUIRED, field, raw), "wrong_type")

# bad_timestamp
for name, ts in [
    ("without a zone", "2026-11-20T10:15:03"),
    ("without a zone, with a fraction", "2026-11-20T10:15:03.120"),
    ("space for T", "2026-11-20 10:15:03Z"),
    ("lower-case t", "2026-11-20t10:15:03Z"),
    ("lower-case z", "2026-11-20T10:15:03z"),
    ("date only", "2026-11-20"),
    ("without seconds", "2026-11-20T10:15Z"),
    ("offset without colon", "2026-11-20T10:15:03+0100"),
    ("offset hours only", "2026-11-20T10:15:03+01"),
    ("offset hour 25", "2026-11-20T10:15:03+25:00"),
    ("offset minute 61", "2026-11-20T10:15:03+01:61"),
    ("Z and an offset", "2026-11-20T10:15:03Z+01:00"),
    ("UTC by name", "2026-11-20T10:15:03 UTC"),
    ("month 13", "2026-13-20T10:15:03Z"),
    ("month 0", "2026-00-20T10:15:03Z"),
    ("day 32", "2026-01-32T10:15:03Z"),
    ("day 0", "2026-01-00T10:15:03Z"),
    ("February 30", "2024-02-30T10:15:03Z"),
    ("February 29 in a common year", "2026-02-29T10:15:03Z"),
    ("April 31", "2026-04-31T10:15:03Z"),
    ("hour 24", "2026-11-20T24:00:00Z"),
    ("minute 60", "2026-11-20T10:60:03Z"),
    ("leap second", "2016-12-31T23:59:60Z"),
    ("one-digit minute", "2026-11-20T10:5:03Z"),
    ("one-digit month", "2026-1-20T10:15:03Z"),
    ("point without fraction digits", "2026-11-20T10:15:03.Z"),
    ("two-digit year", "26-11-20T10:15:03Z"),
    ("five-digit year", "02026-11-20T10:15:03Z"),
    ("signed year", "+2026-11-20T10:15:03Z"),
    ("unix seconds as a string", "1763633703"),
    ("RFC 1123", "Thu, 20 Nov 2026 10:15:03 GMT"),
    ("leading space", " 2026-11-20T10:15:03Z"),
    ("trailing space", "2026-11-20T10:15:03Z "),
    ("trailing text", "2026-11-20T10:15:03Zabc"),
    ("non-ASCII digits", "\uff12026-11-20T10:15:03Z"),
    ("week date", "2026-W47-5T10:15:03Z"),
    ("ordinal date", "2026-324T10:15:03Z"),
    ("before 2000", "1999-12-31T23:59:59.999999999Z"),
    ("the unix epoch", "1970-01-01T00:00:00Z"),
    ("year 1", "0001-01-01T00:00:00Z"),
    ("before 2000 through an offset", "2000-01-01T00:00:00+00:01"),
    ("upper bound itself", "2100-01-01T00:00:00Z"),
    ("past the upper bound through an offset", "2099-12-31T23:59:00-01:00"),
    ("year 2262", "2262-04-12T00:00:00Z"),
    ("year 9999", "9999-12-31T23:59:59Z"),
]:
    pred("timestamp " + name, with_(REQUIRED, timestamp=ts), "bad_timestamp")

# The order of the checks: the first broken rule gives the reason.
pred("order: features of the wrong type before a missing model", with_(REQUIRED, model=_ABSENT, features=[1]), "wrong_type")
pred("order: a missing model before a bad timestamp", with_(REQUIRED, model=_ABSENT, timestamp="yesterday"), "missing_field")
pred("order: a bad timestamp before missing features", with_(REQUIRED, timestamp="yesterday", features=_ABSENT), "bad_timestamp")
pred("order: a bad timestamp before a feature of the wrong type", with_(REQUIRED, timestamp="yesterday", features={"a": {}}), "bad_timestamp")
pred("order: missing features before a missing prediction", with_(REQUIRED, features=_ABSENT, prediction=_ABSENT), "missing_field")
pred("order: a feature of the wrong type before a missing prediction", with_(REQUIRED, features={"a": []}, prediction=_ABSENT), "wrong_type")
pred("order: a missing prediction before scores of the wrong type", with_(REQUIRED, prediction=_ABSENT, scores=[1]), "missing_field")
pred("order: wrong model type before empty prediction_id", with_(REQUIRED, prediction_id="", model=1), "missing_field")
pred("order: an empty variant after a segment of the wrong type", with_(REQUIRED, segments={"g": []}, variant=""), "wrong_type")
pred("order: an empty variant before latency of the wrong type", with_(REQUIRED, variant="", latency_ms="1"), "missing_field")

# Failed predictions: a record with "error" (a non-empty string, the error
# class) may have no prediction; one it has is checked as any.
pred("failed prediction without a prediction", with_(REQUIRED, prediction=_ABSENT, error="timeout"))
pred("failed prediction with a null prediction", with_(REQUIRED, prediction=None, error="model_exception"))
pred("failed prediction that kept its prediction", with_(REQUIRED, prediction="fraud", error="partial"))
pred("failed prediction of the contract example", with_(PREDICTION, prediction=None, error="timeout"))
pred("error null is a served prediction", with_(REQUIRED, error=None))
pred("error null and no prediction", with_(REQUIRED, prediction=_ABSENT, error=None), "missing_field")
pred("error empty", with_(REQUIRED, error=""), "missing_field")
pred("error empty and no prediction", with_(REQUIRED, prediction=_ABSENT, error=""), "missing_field")
pred("error a number", with_(REQUIRED, error=503), "wrong_type")
pred("error an object", with_(REQUIRED, prediction=_ABSENT, error={"class": "timeout"}), "wrong_type")
pred("error a bool", with_(REQUIRED, error=True), "wrong_type")
pred("failed prediction with a bool prediction", with_(REQUIRED, prediction=True, error="timeout"), "wrong_type")
pred("failed prediction with a prediction beyond float64", raw_field(with_(REQUIRED, error="timeout"), "prediction", "1e400"), "wrong_type")
pred("repeated error, the last (null) counts", '{"error":"timeout",' + text(with_(REQUIRED, prediction=_ABSENT, error=None))[1:], "missing_field")
pred("repeated error, the last (a class) counts", '{"error":null,' + text(with_(REQUIRED, prediction=_ABSENT, error="oom"))[1:])
pred("order: a feature of the wrong type before an error of the wrong type", with_(REQUIRED, features={"a": []}, error=1), "wrong_type")
pred("order: a bad timestamp before an empty error", with_(REQUIRED, timestamp="yesterday", error=""), "bad_timestamp")
pred("order: an empty error before scores of the wrong type", with_(REQUIRED, error="", scores=[1]), "missing_field")

# --------------------------------------------------------------------- labels
label("contract example", LABEL)
label("label a string", with_(LABEL, label="fraud"))
label("label a bool", with_(LABEL, label=False))
label("label zero", with_(LABEL, label=0))
label("label a float", with_(LABEL, label=0.25))
label("label an empty string", with_(LABEL, label=""))
label("timestamp with an offset", with_(LABEL, timestamp="2026-11-27T09:00:00.5+01:00"))
label("timestamp at the lower bound", with_(LABEL, timestamp="2000-01-01T00:00:00Z"))
label("prediction fields are not checked in a label", with_(LABEL, features=[1], prediction=True, model_version=3, variant=""))
label("unknown fields ignored", raw_field(LABEL, "x", '{"deep":[[1e400]]}'))
label("repeated key, the last counts", '{"label":null,' + text(LABEL)[1:])
label("exactly the size limit", text(LABEL), max_bytes=len(text(LABEL)))
label("one byte over the size limit", text(LABEL), "too_big", max_bytes=len(text(LABEL)) - 1)
label("not JSON", text(LABEL)[:-1], "not_json")
label("not JSON: NaN", raw_field(LABEL, "label", "NaN"), "not_json")
label("not JSON: an array", "[" + text(LABEL) + "]", "not_json")
label("label null", with_(LABEL, label=None), "missing_field")
label("label absent", with_(LABEL, label=_ABSENT), "missing_field")
for field in ("prediction_id", "model", "timestamp"):
    label(f"{field} absent", with_(LABEL, **{field: _ABSENT}), "missing_field")
    label(f"{field} null", with_(LABEL, **{field: None}), "missing_field")
    label(f"{field} empty", with_(LABEL, **{field: ""}), "missing_field")
label("prediction_id a number", with_(LABEL, prediction_id=7), "wrong_type")
label("model an array", with_(LABEL, model=["fraud"]), "wrong_type")
label("timestamp a number", with_(LABEL, timestamp=1764230400), "wrong_type")
label("label an object", with_(LABEL, label={"v": 1}), "wrong_type")
label("label an array", with_(LABEL, label=[1]), "wrong_type")
label("label beyond float64", raw_field(LABEL, "label", "1e400"), "wrong_type")
label("timestamp without a zone", with_(LABEL, timestamp="2026-11-27T08:00:00"), "bad_timestamp")
label("timestamp before 2000", with_(LABEL, timestamp="1999-12-31T23:59:59Z"), "bad_timestamp")
label("timestamp at the upper bound", with_(LABEL, timestamp="2100-01-01T00:00:00Z"), "bad_timestamp")
label("order: a bad timestamp before a null label", with_(LABEL, timestamp="soon", label=None), "bad_timestamp")
label("order: a missing model before a label of the wrong type", with_(LABEL, model=_ABSENT, label=[1]), "missing_field")


def main() -> None:
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.json")
    with open(out, "w", encoding="utf-8") as f:
        f.write("[\n")
        for i, c in enumerate(cases):
            f.write("  " + json.dumps(c, ensure_ascii=True) + ("," if i < len(cases) - 1 else "") + "\n")
        f.write("]\n")
    print(f"{out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
