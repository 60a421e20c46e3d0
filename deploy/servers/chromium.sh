#!/usr/bin/env bash
# deploy/servers/chromium.sh: Debian's chromium, with which the tests of
# internal/report/browser (and the HTML report's, through it) open a page
# headless, read its console and take screenshots, and a font package, so
# that text in those screenshots is drawn with real glyphs. A tool, not a
# server: nothing is started or left running (each test starts its own
# browser and stops it). make test runs its install (TOOLS) and evaluates
# its env.
#
#   bash deploy/servers/chromium.sh install   install what is missing (idempotent)
#   bash deploy/servers/chromium.sh status    exit 0 if both are installed, 1 otherwise
#   bash deploy/servers/chromium.sh env       print DRIFTWATCH_TEST_CHROMIUM, the browser's path:
#                                             eval "$(bash deploy/servers/chromium.sh env)"
#
# install uses apt-get (this needs root or sudo) with --no-install-recommends,
# so chromium comes without fonts of its own: fonts-dejavu-core is installed
# beside it when it is missing.
#
# Knobs (environment): CHROMIUM (the browser, default /usr/bin/chromium, the
# package's launcher), CHROMIUM_FONT (a file the font package installs, to
# tell whether it is there; default DejaVuSans.ttf of fonts-dejavu-core).
set -euo pipefail

bin=${CHROMIUM:-/usr/bin/chromium}
font=${CHROMIUM_FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}

log() { printf 'chromium.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

# shellcheck source=deploy/servers/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

install() {
	[ -x "$bin" ] || apt_install_quiet chromium "$bin"
	[ -r "$font" ] || apt_install_quiet fonts-dejavu-core "$font"
}

# version prints the browser's version line. Debian's launcher is a shell
# script that may complain on stderr about the machine (/etc/chromium.d).
version() { "$bin" --version 2>/dev/null | head -n 1; }

status() {
	local missing=0
	if [ -x "$bin" ]; then
		echo "chromium: $(version), $bin"
	else
		echo "chromium: not installed ($bin)"
		missing=1
	fi
	if [ -r "$font" ]; then
		echo "font: $font"
	else
		echo "font: not installed ($font)"
		missing=1
	fi
	exit "$missing"
}

env_() {
	[ -x "$bin" ] || die "chromium is not installed ($bin): bash $0 install"
	cat <<EOF
export DRIFTWATCH_TEST_CHROMIUM=$bin
EOF
}

case "${1:-}" in
install) install ;;
status) status ;;
env) env_ ;;
*)
	echo "usage: $0 install|status|env" >&2
	exit 2
	;;
esac
