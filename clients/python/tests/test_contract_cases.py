"""The client's validator gives every case of the shared table
(consumer/testdata/contract/cases.json) the verdict and reason code the Go
consumer gives it (consumer/contract_cases_test.go holds the consumer to the
same table)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import load_cases
from driftwatch_client import DEFAULT_MAX_RECORD_BYTES, ContractError, validate_label, validate_prediction
from driftwatch_client import _contract

CASES = load_cases()


def verdict(case: dict[str, Any]) -> str:
    validate = validate_prediction if case["kind"] == "prediction" else validate_label
    try:
        validate(case["data"], case.get("max_bytes", 0))
    except ContractError as e:
        return e.reason
    return ""


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    assert verdict(case) == case["reason"], case["data"][:300]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_without_recursion(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The parser that takes records nested deeper than Python's recursion
    limit gives every case the same verdict."""
    monkeypatch.setattr(_contract, "loads", _contract.loads_iterative)
    assert verdict(case) == case["reason"], case["data"][:300]


def test_deep_records_take_the_parser_without_recursion(monkeypatch: pytest.MonkeyPatch) -> None:
    deep = [c for c in CASES if "10000 deep" in c["name"]]
    assert deep, "the table lost its deep case"
    calls = []
    real = _contract.loads_iterative

    def spy(text: str) -> Any:
        calls.append(len(text))
        return real(text)

    monkeypatch.setattr(_contract, "loads_iterative", spy)
    assert verdict(deep[0]) == ""
    assert calls, "json's recursive parser took a record 10,000 deep"


def test_table_covers_every_reason() -> None:
    for kind in ("prediction", "label"):
        reasons = {c["reason"] for c in CASES if c["kind"] == kind}
        assert {"", "too_big", "not_json", "missing_field", "wrong_type", "bad_timestamp"} <= reasons, kind


def test_default_size_limit() -> None:
    assert DEFAULT_MAX_RECORD_BYTES == 1 << 20
    base = {
        "prediction_id": "p",
        "model": "m",
        "model_version": "1",
        "timestamp": "2026-11-20T10:15:03Z",
        "features": {"pad": ""},
        "prediction": 1,
    }
    size = len(json.dumps(base, separators=(",", ":")))
    base["features"] = {"pad": "x" * (DEFAULT_MAX_RECORD_BYTES - size)}
    at_limit = json.dumps(base, separators=(",", ":")).encode()
    assert len(at_limit) == DEFAULT_MAX_RECORD_BYTES
    validate_prediction(at_limit)
    validate_prediction(at_limit, 0)
    with pytest.raises(ContractError) as e:
        validate_prediction(at_limit + b" ")
    assert e.value.reason == "too_big"
