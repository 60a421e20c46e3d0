#!/bin/sh
# Makes the virtualenv that the Python client's tests run in, once per
# version of clients/python/pyproject.toml: DRIFTWATCH_CLIENT_VENV, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/driftwatch/venv-client-<first 12 hex digits
# of the pyproject's sha256>, made with PYTHON (default python3, 3.11). It
# holds the client's dependencies and its test extra, from PyPI with pip,
# and hatchling, the build backend, so that `make test-python` can install
# the client from the work tree afresh each run without the network
# (pip install --no-build-isolation); the client itself is not left in it.
# Prints the virtualenv's python.
set -eu
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
hash=$(sha256sum pyproject.toml | cut -c1-12)
VENV=${DRIFTWATCH_CLIENT_VENV:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/driftwatch/venv-client-$hash}
stamp="$VENV/.installed"
if [ ! -f "$stamp" ]; then
	mkdir -p "$(dirname "$VENV")"
	# One maker at a time (two work trees may run make test at once).
	exec 9>"$VENV.lock"
	flock 9
	if [ ! -f "$stamp" ]; then
		echo "== installing the Python client's test dependencies into $VENV" >&2
		"$PYTHON" -m venv "$VENV"
		"$VENV/bin/pip" install --quiet --disable-pip-version-check ".[test]" "hatchling==1.33.0" >&2
		"$VENV/bin/pip" uninstall --quiet --yes driftwatch-client >&2
		touch "$stamp"
	fi
fi
echo "$VENV/bin/python"
