"""The package is typed: it ships py.typed, and mypy --strict passes on it
and on the example, as installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import driftwatch_client

PACKAGE = Path(driftwatch_client.__file__).parent
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_ships_py_typed() -> None:
    assert (PACKAGE / "py.typed").is_file()


def test_mypy_strict() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         "--cache-dir", str(Path(sys.prefix) / "mypy-cache"),
         str(PACKAGE), str(EXAMPLES / "fastapi_server.py")],
        capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
