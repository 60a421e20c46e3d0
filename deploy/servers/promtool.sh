#!/usr/bin/env bash
# deploy/servers/promtool.sh: Prometheus's promtool, which make test uses to
# check deploy/prometheus/driftwatch-rules.yml and run its unit tests
# (deploy/prometheus/driftwatch-rules.test.yml). It is a tool, not a server:
# nothing is started or left running. make test runs its install (TOOLS).
#
#   bash deploy/servers/promtool.sh install   install if missing (idempotent)
#   bash deploy/servers/promtool.sh status    exit 0 if promtool is installed, 1 otherwise
#   bash deploy/servers/promtool.sh env       print nothing: the tests find promtool on PATH
#                                             (make test evaluates every tool's env)
#
# Debian ships promtool only inside the whole prometheus package (bookworm:
# 2.42.0). This installs that package with apt-get when promtool is missing
# (this needs root or sudo), with service starts refused (policy-rc.d) so the
# package's own Prometheus does not start on port 9090, and where systemd
# runs, stops and disables the unit the package enables.
#
# Knobs (environment): PROMTOOL (the binary, default /usr/bin/promtool).
set -euo pipefail

bin=${PROMTOOL:-/usr/bin/promtool}

log() { printf 'promtool.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

# shellcheck source=deploy/servers/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

install() {
	[ -x "$bin" ] && return
	# The package's own Prometheus would listen on 9090 (all interfaces).
	apt_install_quiet prometheus "$bin" 9090
}

status() {
	if [ ! -x "$bin" ]; then
		echo "promtool: not installed ($bin)"
		exit 1
	fi
	echo "promtool: $("$bin" --version 2>&1 | head -n 1), $bin"
}

case "${1:-}" in
install) install ;;
status) status ;;
env) ;;
*)
	echo "usage: $0 install|status|env" >&2
	exit 2
	;;
esac
