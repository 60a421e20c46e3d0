"""The Python example of README.md's "Log your predictions" runs as
written against the real broker (on topics of its own) and logs what it
says."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
from typing import Any

import pytest

import driftwatch_client
from conftest import REPO, read_topic


def readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Log your predictions") :]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m, "README.md's Log your predictions has no python block"
    return m.group(1)


def test_readme_example_logs_a_prediction_and_its_label(
    brokers: str, make_topics: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    preds, labels = make_topics("predictions", "labels")
    monkeypatch.setenv("KAFKA_BROKERS", brokers)
    monkeypatch.setattr(
        driftwatch_client, "Producer", functools.partial(driftwatch_client.Producer, topic=preds, labels_topic=labels)
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(readme_example(), "README.md", "exec"), {})
    counts = json.loads(out.getvalue().replace("'", '"'))
    assert counts[preds]["sent"] == 1 and counts[labels]["sent"] == 1, counts
    [pred] = read_topic(brokers, preds, 1)
    [label] = read_topic(brokers, labels, 1)
    assert json.loads(pred.value())["features"] == {"amount": 120.5, "country": "DE"}
    assert json.loads(label.value())["prediction_id"] == json.loads(pred.value())["prediction_id"]
