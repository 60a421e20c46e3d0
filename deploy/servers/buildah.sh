#!/usr/bin/env bash
# deploy/servers/buildah.sh: Debian's buildah (and mmdebstrap, with which
# deploy/image/buildah.sh makes the stand-ins of the Dockerfile's base
# images), which make test uses to build the container image. A tool, not a
# server: nothing is started or left running. make test runs its install
# (TOOLS).
#
#   bash deploy/servers/buildah.sh install   install if missing (idempotent)
#   bash deploy/servers/buildah.sh status    exit 0 if both are installed, 1 otherwise
#   bash deploy/servers/buildah.sh env       print nothing: the image test finds buildah on PATH
#                                            (make test evaluates every tool's env)
set -euo pipefail

log() { printf 'buildah.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

# shellcheck source=deploy/servers/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

install() {
	command -v buildah >/dev/null || apt_install_quiet buildah /usr/bin/buildah
	command -v mmdebstrap >/dev/null || apt_install_quiet mmdebstrap /usr/bin/mmdebstrap
}

status() {
	local missing=0
	for b in buildah mmdebstrap; do
		if command -v "$b" >/dev/null; then
			echo "$b: $(command -v "$b")"
		else
			echo "$b: not installed"
			missing=1
		fi
	done
	exit "$missing"
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
