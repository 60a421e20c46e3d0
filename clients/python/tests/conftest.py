"""Fixtures of the client's tests: the shared contract cases, and the Kafka
test broker that make test starts (deploy/servers/kafka.sh), found as the
Go tests find it (internal/testservers): DRIFTWATCH_KAFKA_BROKERS set, or
the test is skipped, and fails when CI is set, since CI must run it."""

from __future__ import annotations

import base64
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
CASES = REPO / "consumer" / "testdata" / "contract" / "cases.json"

#: How long a test waits for the broker (creating topics, reading records).
KAFKA_TIMEOUT = 30.0


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(CASES.read_text(encoding="utf-8"))
    for c in cases:
        c["data"] = base64.b64decode(c["record_base64"]) if "record_base64" in c else c["record"].encode("utf-8")
    return cases


def require_env(name: str, how: str) -> str:
    v = os.environ.get(name, "")
    if not v:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not set in CI: {how}")
        pytest.skip(f"{name} is not set: {how}")
    return v


@pytest.fixture(scope="session")
def brokers() -> str:
    return require_env(
        "DRIFTWATCH_KAFKA_BROKERS",
        'start the servers with make servers-up and eval "$(bash deploy/servers/kafka.sh env)", as make test does',
    )


def unique_name(request: pytest.FixtureRequest, what: str) -> str:
    """A topic name of this test and run alone, as the Go tests' UniqueName."""
    name = re.sub(r"[^A-Za-z0-9-]", "-", request.node.name)[:80]
    return f"driftwatch-py-{name}-{what}-{time.time_ns()}"


@pytest.fixture
def make_topics(brokers: str, request: pytest.FixtureRequest) -> Iterator[Callable[..., list[str]]]:
    """make_topics(*whats, partitions=1, config=None) creates topics unique
    to the test and deletes them when it ends."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": brokers})
    made: list[str] = []

    def make(*whats: str, partitions: int = 1, config: dict[str, str] | None = None) -> list[str]:
        names = [unique_name(request, w) for w in whats]
        fs = admin.create_topics(
            [NewTopic(n, num_partitions=partitions, replication_factor=1, config=config or {}) for n in names],
            operation_timeout=KAFKA_TIMEOUT,
            request_timeout=KAFKA_TIMEOUT,
        )
        for f in fs.values():
            f.result(timeout=KAFKA_TIMEOUT)
        made.extend(names)
        # Wait until the broker's metadata has every partition's leader.
        deadline = time.monotonic() + KAFKA_TIMEOUT
        for n in names:
            while True:
                md = admin.list_topics(n, timeout=KAFKA_TIMEOUT).topics[n]
                if md.error is None and len(md.partitions) == partitions and all(p.leader >= 0 for p in md.partitions.values()):
                    break
                if time.monotonic() > deadline:
                    pytest.fail(f"topic {n}: no leader for every partition within {KAFKA_TIMEOUT}s")
        return names

    yield make
    if made:
        for f in admin.delete_topics(made, operation_timeout=KAFKA_TIMEOUT).values():
            try:
                f.result(timeout=KAFKA_TIMEOUT)
            except Exception as e:  # a cleanup: say so, do not fail
                print(f"delete topics {made}: {e}")


def read_topic(brokers: str, topic: str, n: int, timeout: float = KAFKA_TIMEOUT) -> list[Any]:
    """The first n records of every partition of topic, read from the
    beginning; fails the test when fewer arrive within timeout. Each is a
    confluent_kafka Message."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    c = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": f"driftwatch-py-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
        }
    )
    try:
        parts = c.list_topics(topic, timeout=timeout).topics[topic].partitions
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(parts)])
        out: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"read {topic}: {len(out)} of {n} records within {timeout}s")
            for m in c.consume(num_messages=n - len(out), timeout=min(left, 1.0)):
                if m.error() is not None:
                    pytest.fail(f"read {topic}: {m.error()}")
                out.append(m)
        return out
    finally:
        c.close()


@pytest.fixture(scope="session")
def driftwatch_bin(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The driftwatch command: DRIFTWATCH_BIN (make test-python builds it),
    or built here from the repository with go."""
    import shutil
    import subprocess

    if path := os.environ.get("DRIFTWATCH_BIN"):
        return path
    go = shutil.which("go")
    if go is None:
        require_env("DRIFTWATCH_BIN", "set it to a driftwatch binary, or put go on PATH")
    out = tmp_path_factory.mktemp("bin") / "driftwatch"
    subprocess.run([str(go), "build", "-o", str(out), "./cmd/driftwatch"], cwd=REPO, check=True, timeout=600)
    return str(out)
