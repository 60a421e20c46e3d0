#!/usr/bin/env bash
# deploy/servers/promtool.sh: Prometheus's promtool, which make test uses to
# check deploy/prometheus/driftwatch-rules.yml and run its unit tests
# (deploy/prometheus/driftwatch-rules.test.yml). It is a tool, not a server:
# nothing is started or left running. make test runs its install (TOOLS).
#
#   bash deploy/servers/promtool.sh install   install if missing (idempotent)
#   bash deploy/servers/promtool.sh status    exit 0 if promtool is installed, 1 otherwise
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

# The package's own service listens here (all interfaces); after an install
# nothing may be left there.
package_ports=(9090)

# The snippet takes its argument as $1 on purpose.
# shellcheck disable=SC2016
listening() { # port: succeeds if something accepts connections on 127.0.0.1:$1
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

install() {
	if [ -x "$bin" ]; then
		return
	fi
	local sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || die "promtool is not installed and installing Debian's prometheus package needs root (or sudo)"
		sudo=sudo
	fi
	log "installing prometheus (for promtool) with apt-get"
	local t0=$SECONDS guard=
	# policy-rc.d exiting 101 makes invoke-rc.d and deb-systemd-invoke
	# refuse to start the package's service; put one in place for the
	# install unless the machine has its own (containers usually do).
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		guard=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\n# driftwatch promtool.sh: no service starts during its install\nexit 101\n' |
			$sudo tee "$guard" >/dev/null
		$sudo chmod 755 "$guard"
	fi
	local rc=0
	{
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				prometheus >/dev/null
	} || rc=$?
	[ -z "$guard" ] || $sudo rm -f "$guard"
	[ "$rc" = 0 ] || die "apt-get could not install prometheus (exit $rc)"
	[ -x "$bin" ] || die "prometheus is installed but $bin is missing"
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		$sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
	fi
	local p
	for p in "${package_ports[@]}"; do
		if listening "$p"; then
			log "warning: something listens on port $p after the install (the package's own Prometheus?); stop it"
		fi
	done
	log "installed prometheus $(dpkg-query -W -f='${Version}' prometheus) in $((SECONDS - t0)) s: $bin"
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
*)
	echo "usage: $0 install|status" >&2
	exit 2
	;;
esac
