#!/usr/bin/env bash
# deploy/servers/clickhouse.sh: a throwaway ClickHouse for driftwatch's
# integration tests and local runs.
#
#   bash deploy/servers/clickhouse.sh start    install if missing, start, wait until it answers a query
#   bash deploy/servers/clickhouse.sh stop     stop it (SIGTERM, then SIGKILL after 30 s)
#   bash deploy/servers/clickhouse.sh status   exit 0 if it is running and answers, 1 otherwise
#   bash deploy/servers/clickhouse.sh env      print the DRIFTWATCH_CLICKHOUSE_* variables:
#                                              eval "$(bash deploy/servers/clickhouse.sh env)"
#   bash deploy/servers/clickhouse.sh clean    stop it and delete its data, logs and config
#
# It installs Debian's clickhouse-server and clickhouse-client with apt-get
# when they are missing (bookworm ships 18.16.1; this needs root), and runs
# the server as a background process of the invoking user (root works: 18.16
# does not refuse it), not through systemd. The config comes from
# deploy/servers/clickhouse/ with @...@ placeholders filled in; the server
# listens on 127.0.0.1 only, on non-default ports, and keeps everything under
# DRIFTWATCH_CLICKHOUSE_DIR, including a throwaway CA and a server
# certificate for 127.0.0.1 and localhost (made with openssl on first start)
# for the TLS port. Data survives stop and start (clean removes it); tests
# work in databases of their own. start and stop are idempotent.
#
# Knobs (environment): DRIFTWATCH_CLICKHOUSE_DIR (default
# ${TMPDIR:-/tmp}/driftwatch-clickhouse), DRIFTWATCH_CLICKHOUSE_TCP_PORT
# (39000), DRIFTWATCH_CLICKHOUSE_TLS_PORT (39440, native over TLS),
# DRIFTWATCH_CLICKHOUSE_HTTP_PORT (38123), DRIFTWATCH_CLICKHOUSE_USER
# (driftwatch), DRIFTWATCH_CLICKHOUSE_PASSWORD (a fixed test password),
# DRIFTWATCH_CLICKHOUSE_DATABASE (driftwatch), DRIFTWATCH_CLICKHOUSE_START_TIMEOUT
# (seconds, 60). The password is written to no file (users.xml holds its
# SHA-256) and printed only by env, whose whole point is to hand it to tests.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${DRIFTWATCH_CLICKHOUSE_DIR:-${TMPDIR:-/tmp}/driftwatch-clickhouse}
tcp_port=${DRIFTWATCH_CLICKHOUSE_TCP_PORT:-39000}
http_port=${DRIFTWATCH_CLICKHOUSE_HTTP_PORT:-38123}
tls_port=${DRIFTWATCH_CLICKHOUSE_TLS_PORT:-39440}
user=${DRIFTWATCH_CLICKHOUSE_USER:-driftwatch}
password=${DRIFTWATCH_CLICKHOUSE_PASSWORD:-driftwatch-test-only}
database=${DRIFTWATCH_CLICKHOUSE_DATABASE:-driftwatch}
start_timeout=${DRIFTWATCH_CLICKHOUSE_START_TIMEOUT:-60}
pidfile=$dir/clickhouse-server.pid
config=$dir/etc/config.xml

log() { printf 'clickhouse.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

install() {
	if command -v clickhouse-server >/dev/null && command -v clickhouse-client >/dev/null; then
		return
	fi
	local sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || die "clickhouse-server is not installed and installing it needs root (or sudo)"
		sudo=sudo
	fi
	log "installing clickhouse-server and clickhouse-client with apt-get"
	local t0=$SECONDS
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# The package's postinst tries to start the service and is refused
	# where there is no init system; that is expected and harmless.
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		clickhouse-server clickhouse-client >/dev/null
	log "installed clickhouse-server $(dpkg-query -W -f='${Version}' clickhouse-server) in $((SECONDS - t0)) s"
}

# pid prints the server's pid if the pid file names a live clickhouse-server
# started with our config; a stale pid file (or a reused pid) prints nothing.
pid() {
	[ -f "$pidfile" ] || return 0
	local p
	p=$(cat "$pidfile")
	[ -n "$p" ] && [ -r "/proc/$p/cmdline" ] || return 0
	if tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "--config-file=$config"; then
		echo "$p"
	fi
}

# query runs one query over the native protocol as the password-less
# default user (localhost only), so the password never appears in ps.
query() {
	clickhouse-client --host 127.0.0.1 --port "$tcp_port" --user default --query "$1"
}

# certs makes the CA and the server certificate once per state directory.
certs() {
	local t=$dir/tls
	[ -s "$t/server.pem" ] && [ -s "$t/ca.pem" ] && return
	mkdir -p "$t"
	(
		cd "$t"
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=driftwatch test CA" \
			-keyout ca.key -out ca.pem
		openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
			-extfile server.ext -out server.pem
	) >"$t/openssl.log" 2>&1 || { cat "$t/openssl.log" >&2; die "openssl could not make the test certificate"; }
	chmod 600 "$t"/*.key
}

render() {
	mkdir -p "$dir"/{etc,log,data,tmp,user_files,format_schemas}
	certs
	local hash
	hash=$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)
	sed -e "s|@DIR@|$dir|g" -e "s|@TCP_PORT@|$tcp_port|g" -e "s|@HTTP_PORT@|$http_port|g" -e "s|@TLS_PORT@|$tls_port|g" \
		"$here/clickhouse/config.xml" >"$dir/etc/config.xml"
	sed -e "s|@USER@|$user|g" -e "s|@PASSWORD_SHA256@|$hash|g" \
		"$here/clickhouse/users.xml" >"$dir/etc/users.xml"
	chmod 600 "$dir/etc/users.xml"
}

start() {
	install
	if [ -n "$(pid)" ]; then
		log "already running (pid $(pid)) on 127.0.0.1:$tcp_port"
		return
	fi
	render
	local t0
	t0=$(date +%s%N)
	# setsid: the server gets its own session, so a signal to the caller's
	# process group (Ctrl-C, a CI step ending) does not take it down.
	(cd "$dir" && exec setsid clickhouse-server --config-file="$config" \
		>>"$dir/log/stdout.log" 2>&1 </dev/null) &
	echo $! >"$pidfile"
	local deadline=$((SECONDS + start_timeout))
	until query 'SELECT 1' >/dev/null 2>&1; do
		if [ -z "$(pid)" ]; then
			tail -n 20 "$dir/log/clickhouse-server.err.log" "$dir/log/stdout.log" >&2 2>/dev/null || true
			rm -f "$pidfile"
			die "clickhouse-server exited during start (is port $tcp_port, $tls_port or $http_port taken?)"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			tail -n 20 "$dir/log/clickhouse-server.err.log" >&2 2>/dev/null || true
			die "clickhouse-server did not answer within ${start_timeout}s; still running as pid $(pid), see $dir/log"
		fi
		sleep 0.1
	done
	query "CREATE DATABASE IF NOT EXISTS \`$database\`"
	log "ClickHouse $(query 'SELECT version()') up on 127.0.0.1:$tcp_port (tls $tls_port, http $http_port), pid $(pid), in $((($(date +%s%N) - t0) / 1000000)) ms; data in $dir"
}

stop() {
	local p
	p=$(pid)
	if [ -z "$p" ]; then
		rm -f "$pidfile"
		log "not running"
		return
	fi
	kill -TERM "$p"
	local deadline=$((SECONDS + 30))
	while [ -e "/proc/$p" ] && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	if [ -e "/proc/$p" ]; then
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
		echo "clickhouse: not running"
		exit 1
	fi
	if ! v=$(query 'SELECT version()' 2>/dev/null); then
		echo "clickhouse: pid $p is running but does not answer on 127.0.0.1:$tcp_port"
		exit 1
	fi
	echo "clickhouse: $v running, pid $p, native 127.0.0.1:$tcp_port, tls 127.0.0.1:$tls_port, http 127.0.0.1:$http_port, data $dir"
}

env_() {
	cat <<EOF
export DRIFTWATCH_CLICKHOUSE_ADDR=127.0.0.1:$tcp_port
export DRIFTWATCH_CLICKHOUSE_TLS_ADDR=127.0.0.1:$tls_port
export DRIFTWATCH_CLICKHOUSE_CA_FILE=$dir/tls/ca.pem
export DRIFTWATCH_CLICKHOUSE_HTTP_ADDR=127.0.0.1:$http_port
export DRIFTWATCH_CLICKHOUSE_USER=$user
export DRIFTWATCH_CLICKHOUSE_PASSWORD=$password
export DRIFTWATCH_CLICKHOUSE_DATABASE=$database
EOF
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
env) env_ ;;
clean)
	stop
	rm -rf "$dir"
	log "removed $dir"
	;;
*)
	echo "usage: $0 start|stop|status|env|clean" >&2
	exit 2
	;;
esac
