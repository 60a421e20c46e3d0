#!/usr/bin/env bash
# kafka.sh: a single-node Apache Kafka broker (KRaft, broker and controller in
# one JVM) on the loopback interface, for driftwatch's integration tests.
#
#   kafka.sh start    fetch the jars once (see below), format a fresh data
#                     directory, start the broker and wait until it answers a
#                     metadata request; does nothing if it already runs and is
#                     healthy
#   kafka.sh stop     stop the broker and wait for it to exit; does nothing if
#                     it is not running. Logs stay in the run directory until
#                     the next start.
#   kafka.sh status   exit 0 if the broker runs and is healthy, 1 otherwise
#   kafka.sh env      print the environment the Go tests read, as export
#                     lines: eval "$(deploy/servers/kafka.sh env)"
#
# The broker is org.apache.kafka:kafka_2.13 from Maven Central at the version
# pinned in kafka/pom.xml, run on the machine's JDK (17 or newer). Maven copies
# its runtime jars once per machine into
# ${XDG_CACHE_HOME:-$HOME/.cache}/driftwatch/kafka-<version>/lib, keyed by the
# pom's checksum; later starts do not touch the network. The broker listens on
# 127.0.0.1 only, on five consecutive ports from DRIFTWATCH_KAFKA_PORT:
#
#   +0 PLAINTEXT   +1 SASL_PLAINTEXT (SCRAM-SHA-256/512, PLAIN)   +2 KRaft controller
#   +3 SSL         +4 SASL_SSL (SCRAM-SHA-256/512, PLAIN)
#
# Data, logs and the self-signed TLS certificate live in the run directory;
# every start that has to launch the broker wipes its data first, so each run
# begins with an empty cluster.
#
# Settings (environment):
#   DRIFTWATCH_KAFKA_DIR            run directory (${TMPDIR:-/tmp}/driftwatch-kafka)
#   DRIFTWATCH_KAFKA_CACHE          jar cache (${XDG_CACHE_HOME:-$HOME/.cache}/driftwatch/kafka-<version>)
#   DRIFTWATCH_KAFKA_PORT           first port (39092)
#   DRIFTWATCH_KAFKA_START_TIMEOUT  seconds to wait for health (90)
#   DRIFTWATCH_KAFKA_JVM_OPTS       appended to the broker's JVM options
#   JAVA_HOME, MVN                  which java and mvn to run

# The bash -c snippets below take their arguments as $1 on purpose.
# shellcheck disable=SC2016
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
conf=$here/kafka
pom=$conf/pom.xml

version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
[[ -n $version ]] || { echo "kafka.sh: no <kafka.version> in $pom" >&2; exit 1; }

dir=${DRIFTWATCH_KAFKA_DIR:-${TMPDIR:-/tmp}/driftwatch-kafka}
cache=${DRIFTWATCH_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/driftwatch/kafka-$version}
port=${DRIFTWATCH_KAFKA_PORT:-39092}
timeout=${DRIFTWATCH_KAFKA_START_TIMEOUT:-90}
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
mvn=${MVN:-mvn}

plain_port=$port
scram_port=$((port + 1))
controller_port=$((port + 2))
tls_port=$((port + 3))
tls_scram_port=$((port + 4))

# Test credentials, known to the tests through `env`; not secrets.
scram_user=driftwatch
scram_password=driftwatch-test-password
store_password=driftwatch-test-store
# PLAIN's user is another than SCRAM's, so a test cannot pass with the wrong
# mechanism's credentials.
plain_user=driftwatchplain
plain_password=driftwatch-plain-test-password
# A fixed cluster id (base64url of "driftwatch-kafka"): the data directory is
# formatted afresh on every launch, so it never has to tell clusters apart.
cluster_id=ZHJpZnR3YXRjaC1rYWZrYQ

pidfile=$dir/kafka.pid
lib=$cache/lib

die() {
	echo "kafka.sh: $*" >&2
	exit 1
}

log_tail() {
	local f
	if grep -qE '^\[[^]]*\] (ERROR|FATAL)' "$dir/server.log" 2>/dev/null; then
		echo "--- errors in $dir/server.log" >&2
		grep -E -A3 '^\[[^]]*\] (ERROR|FATAL)' "$dir/server.log" | tail -n 40 >&2
	fi
	for f in "$dir/kafka.out" "$dir/server.log"; do
		[[ -s $f ]] || continue
		echo "--- last lines of $f" >&2
		tail -n 20 "$f" >&2
	done
}

# lock serializes start and stop of one run directory.
lock() {
	mkdir -p "$dir"
	exec 9>"$dir/lock"
	flock -w 300 9 || die "another kafka.sh holds $dir/lock for more than 300 s"
}

# alive succeeds if process $1 exists and is not a zombie (a container's
# PID 1 may never reap it).
alive() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ $state != Z ]]
}

# pid prints the broker's pid if it runs from this run directory; a pid file
# left behind by a dead broker may name another program by now.
pid() {
	local p
	[[ -f $pidfile ]] || return 1
	p=$(<"$pidfile")
	[[ $p =~ ^[0-9]+$ ]] && alive "$p" || return 1
	tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $dir/server.properties" || return 1
	echo "$p"
}

# healthy sends a Metadata request (v8, the newest version without flexible
# encoding; 4.x brokers answer v4 and up) on the PLAINTEXT listener and
# succeeds if the response lists at least one broker. A KRaft broker lists
# itself only once it has caught up with the metadata log and is unfenced,
# so this is "ready for clients", not just "port open". The other listeners
# start with it; they must accept connections too.
healthy() {
	local out b p
	out=$(timeout 3 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		# size 17 | api_key 3 (Metadata) | version 8 | correlation id 1 |
		# client id null | topics [] (none) | allow_auto_topic_creation,
		# include_cluster_authorized_operations,
		# include_topic_authorized_operations: false
		printf "\x00\x00\x00\x11\x00\x03\x00\x08\x00\x00\x00\x01\xff\xff\x00\x00\x00\x00\x00\x00\x00" >&3
		# size(4) correlation id(4) throttle_time_ms(4) broker count(4)
		head -c 16 <&3 | od -An -v -tu1
	' _ "$plain_port" 2>/dev/null) || return 1
	read -r -a b <<<"$out"
	((${#b[@]} == 16)) || return 1
	((b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 1)) || return 1
	(((b[12] << 24 | b[13] << 16 | b[14] << 8 | b[15]) >= 1)) || return 1
	for p in "$scram_port" "$tls_port" "$tls_scram_port"; do
		timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$p" 2>/dev/null || return 1
	done
}

port_in_use() {
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

check_java() {
	command -v "$java" >/dev/null || die "no java at '$java': install a JDK 17 or newer, or set JAVA_HOME"
	local v
	v=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
	v=${v%%.*}
	if ! [[ $v =~ ^[0-9]+$ ]] || ((v < 17)); then
		die "Kafka $version needs Java 17 or newer; $java is '$v'"
	fi
}

# fetch_jars copies the broker's runtime jars into $lib unless they are there
# for this very pom. Maven runs with a throwaway local repository, so the jars
# are stored once, and checks the checksums Maven Central publishes.
fetch_jars() {
	local sum stamp tmp
	sum=$(sha256sum "$pom" | cut -d' ' -f1)
	stamp=$cache/pom.sha256
	[[ -f $stamp && $(<"$stamp") == "$sum" && -d $lib ]] && return
	command -v "$mvn" >/dev/null || die "no mvn: install Maven 3.6.3 or newer (or set MVN) to fetch Kafka $version"
	mkdir -p "$cache"
	exec 8>"$cache.lock"
	flock -w 600 8 || die "another kafka.sh holds $cache.lock for more than 600 s"
	[[ -f $stamp && $(<"$stamp") == "$sum" && -d $lib ]] && return
	echo "kafka.sh: fetching Kafka $version jars from Maven Central into $lib" >&2
	rm -rf "$cache"/fetch.* # left by an interrupted fetch; we hold the lock
	tmp=$(mktemp -d "$cache/fetch.XXXXXX")
	if ! "$mvn" -B -q -Dstyle.color=never --strict-checksums -f "$pom" \
		-Dmaven.repo.local="$tmp/m2" \
		dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/lib" \
		>"$tmp/mvn.log" 2>&1; then
		tail -n 40 "$tmp/mvn.log" >&2
		rm -rf "$tmp"
		die "mvn could not fetch Kafka $version (see above)"
	fi
	rm -rf "$lib" "$stamp"
	mv "$tmp/lib" "$lib"
	rm -rf "$tmp"
	echo "$sum" >"$stamp"
	flock -u 8
}

# make_cert writes a self-signed certificate for 127.0.0.1 and localhost into
# a PKCS12 keystore for the broker and as PEM for clients; kept across starts.
make_cert() {
	local tls=$dir/tls keytool=${JAVA_HOME:+$JAVA_HOME/bin/}keytool
	[[ -s $tls/broker.p12 && -s $tls/ca.pem ]] && return
	rm -rf "$tls"
	mkdir -p "$tls"
	"$keytool" -genkeypair -noprompt -alias broker -keyalg EC -groupname secp256r1 \
		-dname CN=localhost -ext SAN=ip:127.0.0.1,dns:localhost -validity 3650 \
		-storetype PKCS12 -keystore "$tls/broker.p12" -storepass "$store_password" -keypass "$store_password" \
		>"$tls/keytool.log" 2>&1 || { cat "$tls/keytool.log" >&2; die "keytool could not make the test certificate"; }
	"$keytool" -exportcert -rfc -alias broker -keystore "$tls/broker.p12" -storepass "$store_password" \
		-file "$tls/ca.pem" >>"$tls/keytool.log" 2>&1 || { cat "$tls/keytool.log" >&2; die "keytool could not export the test certificate"; }
}

# Small heap, serial GC and the C1 compiler only: this broker carries test
# traffic on a machine whose cores the tests need.
jvm_opts=(-Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError
	-Djava.awt.headless=true "-Dkafka.logs.dir=$dir" "-Dlog4j2.configurationFile=$dir/log4j2.properties")
# shellcheck disable=SC2206 # split on purpose
jvm_opts+=(${DRIFTWATCH_KAFKA_JVM_OPTS:-})

start() {
	lock
	local p deadline launched
	if p=$(pid); then
		deadline=$((SECONDS + timeout))
		until healthy; do
			((SECONDS < deadline)) || { log_tail; die "broker pid $p runs but is not healthy after ${timeout} s; try: $0 stop"; }
			sleep 0.2
		done
		echo "kafka.sh: Kafka $version already running (pid $p) on 127.0.0.1:$plain_port"
		return
	fi
	rm -f "$pidfile"
	for p in "$plain_port" "$scram_port" "$controller_port" "$tls_port" "$tls_scram_port"; do
		! port_in_use "$p" || die "127.0.0.1:$p is in use by another program; stop it or set DRIFTWATCH_KAFKA_PORT"
	done
	check_java
	fetch_jars
	make_cert

	rm -rf "$dir/kraft" "$dir"/server.log* "$dir/kafka.out" "$dir/format.log"
	cp "$conf/log4j2.properties" "$dir/log4j2.properties"
	sed -e "s|@PLAIN_PORT@|$plain_port|g" -e "s|@SCRAM_PORT@|$scram_port|g" \
		-e "s|@CONTROLLER_PORT@|$controller_port|g" -e "s|@TLS_PORT@|$tls_port|g" \
		-e "s|@TLS_SCRAM_PORT@|$tls_scram_port|g" -e "s|@DATA_DIR@|$dir|g" \
		-e "s|@TLS_DIR@|$dir/tls|g" -e "s|@TLS_STORE_PASSWORD@|$store_password|g" \
		-e "s|@PLAIN_USER@|$plain_user|g" -e "s|@PLAIN_PASSWORD@|$plain_password|g" \
		"$conf/server.properties" >"$dir/server.properties"

	"$java" "${jvm_opts[@]}" -cp "$lib/*" kafka.tools.StorageTool format \
		--config "$dir/server.properties" --cluster-id "$cluster_id" --standalone \
		--add-scram "SCRAM-SHA-256=[name=$scram_user,password=$scram_password]" \
		--add-scram "SCRAM-SHA-512=[name=$scram_user,password=$scram_password]" \
		>"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "could not format $dir/kraft"; }

	# setsid: the broker outlives this script and is not hit by signals sent
	# to the caller's process group (make, a terminal's ^C). It must not
	# inherit the lock descriptors, or it would hold the locks for its life.
	setsid "$java" "${jvm_opts[@]}" -cp "$lib/*" kafka.Kafka "$dir/server.properties" \
		</dev/null >"$dir/kafka.out" 2>&1 8>&- 9>&- &
	launched=$!
	echo "$launched" >"$pidfile"

	deadline=$((SECONDS + timeout))
	until healthy; do
		# alive, not pid: until setsid has exec'd java, the child's command
		# line is still this script's.
		if ! alive "$launched"; then
			log_tail
			die "the broker exited during startup; logs in $dir"
		fi
		if ((SECONDS >= deadline)); then
			log_tail
			stop_locked || true
			die "the broker was not healthy after ${timeout} s; stopped it; logs in $dir"
		fi
		sleep 0.2
	done
	echo "kafka.sh: Kafka $version running (pid $launched) on 127.0.0.1:$plain_port, data and logs in $dir"
}

# stop_locked sends SIGTERM (a controlled shutdown), waits up to 30 s, then
# kills. The caller holds the lock.
stop_locked() {
	local p i
	if ! p=$(pid); then
		rm -f "$pidfile"
		return 1
	fi
	kill -TERM "$p" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		pid >/dev/null || break
		sleep 0.1
	done
	if pid >/dev/null; then
		echo "kafka.sh: broker pid $p still running after 30 s; killing it" >&2
		kill -KILL "$p" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			pid >/dev/null || break
			sleep 0.1
		done
		! pid >/dev/null || die "broker pid $p survived SIGKILL"
	fi
	rm -f "$pidfile"
}

stop() {
	lock
	if stop_locked; then
		echo "kafka.sh: stopped Kafka; logs in $dir"
	else
		echo "kafka.sh: Kafka is not running"
	fi
}

status() {
	local p
	if p=$(pid) && healthy; then
		echo "kafka.sh: Kafka $version running (pid $p) on 127.0.0.1:$plain_port"
	elif [[ -n ${p:-} ]]; then
		echo "kafka.sh: Kafka pid $p runs but does not answer on 127.0.0.1:$plain_port"
		return 1
	else
		echo "kafka.sh: Kafka is not running"
		return 1
	fi
}

print_env() {
	cat <<EOF
export DRIFTWATCH_KAFKA_BROKERS=127.0.0.1:$plain_port
export DRIFTWATCH_KAFKA_SCRAM_BROKERS=127.0.0.1:$scram_port
export DRIFTWATCH_KAFKA_SCRAM_USER=$scram_user
export DRIFTWATCH_KAFKA_SCRAM_PASSWORD=$scram_password
export DRIFTWATCH_KAFKA_PLAIN_USER=$plain_user
export DRIFTWATCH_KAFKA_PLAIN_PASSWORD=$plain_password
export DRIFTWATCH_KAFKA_TLS_BROKERS=127.0.0.1:$tls_port
export DRIFTWATCH_KAFKA_TLS_SCRAM_BROKERS=127.0.0.1:$tls_scram_port
export DRIFTWATCH_KAFKA_TLS_CA=$dir/tls/ca.pem
EOF
}

case ${1:-} in
start | stop | status) "$1" ;;
env) print_env ;;
*)
	echo "usage: $0 start|stop|status|env" >&2
	exit 2
	;;
esac
