#!/usr/bin/env bash
# deploy/servers/alertmanager.sh: a throwaway Prometheus Alertmanager for
# driftwatch's integration tests and local runs.
#
#   bash deploy/servers/alertmanager.sh start    install if missing, start, wait until /-/ready answers
#   bash deploy/servers/alertmanager.sh stop     stop it (SIGTERM, then SIGKILL after 30 s)
#   bash deploy/servers/alertmanager.sh status   exit 0 if it is running and ready, 1 otherwise
#   bash deploy/servers/alertmanager.sh reload   re-read the config file (POST /-/reload)
#   bash deploy/servers/alertmanager.sh env      print DRIFTWATCH_ALERTMANAGER_URL:
#                                                eval "$(bash deploy/servers/alertmanager.sh env)"
#   bash deploy/servers/alertmanager.sh clean    stop it and delete its data and log
#
# It installs Debian's prometheus-alertmanager with apt-get when it is
# missing (bookworm ships 0.25.0; this needs root), with service starts
# refused (policy-rc.d) so that the package's own service does not start on
# the default ports, and runs /usr/bin/prometheus-alertmanager as a
# background process of the invoking user, not through systemd. It listens
# on 127.0.0.1 only, as a single node (no cluster port), with the config
# deploy/servers/alertmanager-test.yml read in place from the repository
# (reload picks up edits), and keeps its state (silences, notification log)
# and log under DRIFTWATCH_ALERTMANAGER_DIR. Alertmanager keeps alerts only
# in memory: a restart forgets every alert, so tests must not rely on alerts
# of earlier runs. start and stop are idempotent, and serialized by a lock
# file in the state directory.
#
# Knobs (environment): DRIFTWATCH_ALERTMANAGER_DIR (default
# ${TMPDIR:-/tmp}/driftwatch-alertmanager), DRIFTWATCH_ALERTMANAGER_PORT
# (39097), DRIFTWATCH_ALERTMANAGER_CONFIG (default the test config beside
# this script), DRIFTWATCH_ALERTMANAGER_START_TIMEOUT (seconds, 30),
# ALERTMANAGER (the binary, default /usr/bin/prometheus-alertmanager).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${DRIFTWATCH_ALERTMANAGER_DIR:-${TMPDIR:-/tmp}/driftwatch-alertmanager}
port=${DRIFTWATCH_ALERTMANAGER_PORT:-39097}
config=${DRIFTWATCH_ALERTMANAGER_CONFIG:-$here/alertmanager-test.yml}
start_timeout=${DRIFTWATCH_ALERTMANAGER_START_TIMEOUT:-30}
bin=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
url=http://127.0.0.1:$port
pidfile=$dir/alertmanager.pid

log() { printf 'alertmanager.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

# shellcheck source=deploy/servers/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

install() {
	[ -x "$bin" ] && return
	# The package's own service would listen on 9093 and 9094 (all interfaces).
	apt_install_quiet prometheus-alertmanager "$bin" 9093 9094
}

# lock serializes start and stop of one state directory.
lock() {
	mkdir -p "$dir"
	exec 9>"$dir/lock"
	flock -w 60 9 || die "another alertmanager.sh holds $dir/lock for more than 60 s"
}

# alive succeeds if process $1 exists and is not a zombie (a container's
# PID 1 may never reap it).
alive() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$state" != Z ]
}

# pid prints the server's pid if the pid file names a live (not zombie)
# prometheus-alertmanager whose storage is ours; a stale pid file (or a
# reused pid) prints nothing.
pid() {
	[ -f "$pidfile" ] || return 0
	local p
	p=$(cat "$pidfile")
	[[ $p =~ ^[0-9]+$ ]] && alive "$p" || return 0
	if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "--storage.path=$dir/data "; then
		echo "$p"
	fi
}

ready() { curl -fsS -m 2 -o /dev/null "$url/-/ready" 2>/dev/null; }

version() { # the running server's version, from its status API
	curl -fsS -m 2 "$url/api/v2/status" 2>/dev/null | sed -n 's/.*"version":"\([^"]*\)".*/\1/p'
}

start() {
	lock
	install
	command -v curl >/dev/null || die "curl is needed to check the server's health"
	[ -r "$config" ] || die "no config file $config"
	local p
	p=$(pid)
	if [ -n "$p" ]; then
		ready || die "pid $p runs but is not ready on $url; try: $0 stop"
		log "already running (pid $p) on $url"
		return
	fi
	rm -f "$pidfile"
	if listening "$port"; then
		die "127.0.0.1:$port is in use by another program; stop it or set DRIFTWATCH_ALERTMANAGER_PORT"
	fi
	mkdir -p "$dir/data"
	local t0
	t0=$(date +%s%N)
	# setsid: the server gets its own session, so a signal to the caller's
	# process group (Ctrl-C, a CI step ending) does not take it down. An
	# empty --cluster.listen-address makes it a single node: no gossip port.
	# It must not inherit the lock's descriptor, or it would hold the lock
	# for its life.
	(cd "$dir" && exec setsid "$bin" \
		--config.file="$config" \
		--storage.path="$dir/data" \
		--web.listen-address="127.0.0.1:$port" \
		--web.external-url="$url" \
		--cluster.listen-address= \
		--log.level=info \
		>>"$dir/alertmanager.log" 2>&1 </dev/null 9>&-) &
	local launched=$!
	echo "$launched" >"$pidfile"
	local deadline=$((SECONDS + start_timeout))
	until ready; do
		# alive, not pid: until setsid has exec'd the server, the child's
		# command line is still this script's.
		if ! alive "$launched"; then
			tail -n 20 "$dir/alertmanager.log" >&2 2>/dev/null || true
			rm -f "$pidfile"
			die "prometheus-alertmanager exited during start (bad config, or port $port taken?)"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			tail -n 20 "$dir/alertmanager.log" >&2 2>/dev/null || true
			die "prometheus-alertmanager was not ready within ${start_timeout}s; still running as pid $(pid), see $dir/alertmanager.log"
		fi
		sleep 0.1
	done
	log "Alertmanager $(version) up on $url, pid $(pid), in $((($(date +%s%N) - t0) / 1000000)) ms; config $config, data in $dir"
}

stop() {
	lock
	local p
	p=$(pid)
	if [ -z "$p" ]; then
		rm -f "$pidfile"
		log "not running"
		return
	fi
	kill -TERM "$p"
	local deadline=$((SECONDS + 30))
	while [ -n "$(pid)" ] && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	if [ -n "$(pid)" ]; then
		log "pid $p did not stop within 30s; killing it"
		kill -KILL "$p" 2>/dev/null || true
	fi
	rm -f "$pidfile"
	log "stopped (pid $p)"
}

status() {
	local p
	p=$(pid)
	if [ -z "$p" ]; then
		echo "alertmanager: not running"
		exit 1
	fi
	if ! ready; then
		echo "alertmanager: pid $p is running but is not ready on $url"
		exit 1
	fi
	# The config the server was started with, which may not be $config.
	local running
	running=$(tr '\0' '\n' <"/proc/$p/cmdline" | sed -n 's/^--config.file=//p')
	echo "alertmanager: $(version) running, pid $p, $url, config $running, data $dir"
}

reload() {
	[ -n "$(pid)" ] || die "not running"
	local out
	# The server answers 500 with the reason when the new config is bad
	# and keeps the old one.
	out=$(curl -sS -m 10 -X POST -w '\n%{http_code}' "$url/-/reload") || die "reload: no answer from $url"
	[ "${out##*$'\n'}" = 200 ] || die "reload refused, old config kept: ${out%$'\n'*}"
	log "reloaded the config on $url"
}

env_() {
	cat <<EOF
export DRIFTWATCH_ALERTMANAGER_URL=$url
EOF
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
reload) reload ;;
env) env_ ;;
clean)
	stop
	rm -rf "$dir"
	log "removed $dir"
	;;
*)
	echo "usage: $0 start|stop|status|reload|env|clean" >&2
	exit 2
	;;
esac
