#!/bin/sh
# Installs the Python peers of the pipeline benchmark from PyPI into a
# virtualenv, once: BENCH_VENV (default $HOME/.cache/driftwatch-bench/venv),
# made with PYTHON (default python3, 3.11) from bench/pipeline/requirements.txt.
# Reinstalls when the requirements change. Prints the virtualenv's python.
set -eu
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
VENV=${BENCH_VENV:-${HOME:-/root}/.cache/driftwatch-bench/venv}
REQS=bench/pipeline/requirements.txt
stamp="$VENV/.installed"
if [ ! -f "$stamp" ] || ! cmp -s "$REQS" "$stamp"; then
	echo "== installing the Python peers into $VENV" >&2
	[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
	"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQS" >&2
	cp "$REQS" "$stamp"
fi
echo "$VENV/bin/python"
