# deploy/servers/apt.sh: sourced by the server scripts that install a
# Debian package which ships a service of its own (prometheus-alertmanager,
# prometheus for promtool). Not to be run by itself.
#
# The caller defines log and die.

# The snippet takes its argument as $1 on purpose.
# shellcheck disable=SC2016
listening() { # port: succeeds if something accepts connections on 127.0.0.1:$1
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# apt_install_quiet package bin [port ...] installs package with apt-get
# (root, or sudo) without letting its service start: policy-rc.d exiting
# 101 makes invoke-rc.d and deb-systemd-invoke refuse to start it (one is
# put in place for the install unless the machine has its own, as
# containers usually do), and where systemd runs, the unit the package
# enables is stopped and disabled. It fails unless bin exists afterwards,
# and warns if something listens on one of the package service's ports.
apt_install_quiet() {
	local pkg=$1 bin=$2
	shift 2
	local sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || die "$pkg is not installed and installing it needs root (or sudo)"
		sudo=sudo
	fi
	log "installing $pkg with apt-get"
	local t0=$SECONDS guard=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		guard=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\n# driftwatch deploy/servers: no service starts during its install\nexit 101\n' |
			$sudo tee "$guard" >/dev/null
		$sudo chmod 755 "$guard"
	fi
	local rc=0
	{
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				"$pkg" >/dev/null
	} || rc=$?
	[ -z "$guard" ] || $sudo rm -f "$guard"
	[ "$rc" = 0 ] || die "apt-get could not install $pkg (exit $rc)"
	[ -x "$bin" ] || die "$pkg is installed but $bin is missing"
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		$sudo systemctl disable --now "$pkg" >/dev/null 2>&1 || true
	fi
	local p
	for p in "$@"; do
		if listening "$p"; then
			log "warning: something listens on port $p after the install (the package's own service?); stop it"
		fi
	done
	log "installed $pkg $(dpkg-query -W -f='${Version}' "$pkg") in $((SECONDS - t0)) s: $bin"
}
