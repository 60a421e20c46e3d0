#!/bin/sh
# Issue 14's figures in one run (make bench-pipeline): the workload
# generator, the Go benchmarks side by side, replay's process (CPU per core,
# max RSS), the heap after 10M vs 1M records, driftwatch run vs a plain
# franz-go consumer on the Kafka test broker, the Python peers on the same
# 100k records, and the profiles; writes the pipeline section of
# bench/RESULTS.md (bench/pipeline/report.py), keeping the rest of the file.
#
# Knobs (defaults in parentheses): BENCH_GO_ROUNDS (6) rounds of the Go
# benchmarks, each at -cpu=1 (the pipeline also at -cpu=2) over BENCH_GO_RECORDS (100000) records held in
# memory, BENCH_GO_BENCHTIME (2x) passes each; BENCH_REPLAY_RECORDS (1000000)
# records of the replay file; BENCH_HEAP_RECORDS (10000000) records streamed
# for the heap check, BENCH_HEAP_FIRST (1000000) its first checkpoint;
# BENCH_KAFKA_RECORDS (500000) records produced, BENCH_KAFKA_ROUNDS (3);
# BENCH_PEER_RECORDS (100000) records for the peers, BENCH_PEER_ROUNDS (3),
# BENCH_PEERS ("scipy nannyml evidently"); BENCH_SKIP (space-separated
# steps to leave out: go replay heap kafka peers profile benchstat);
# BENCH_BASE (9cbcf1c, the workload benchmarks before issue 14's work) and
# BENCH_STAT_ROUNDS (6): benchstat of that commit's Decode and Pipeline
# benchmarks against this tree's, run interleaved; RESULTS
# (bench/RESULTS.md). The Kafka step needs the test broker
# (deploy/servers/kafka.sh): one already running is used and left running,
# otherwise it is started and stopped again; its topics are created fresh
# and deleted afterwards.
set -eu
cd "$(dirname "$0")/../.."
GO=${GO:-go}
GO_ROUNDS=${BENCH_GO_ROUNDS:-6}
GO_RECORDS=${BENCH_GO_RECORDS:-100000}
GO_BENCHTIME=${BENCH_GO_BENCHTIME:-2x}
REPLAY_RECORDS=${BENCH_REPLAY_RECORDS:-1000000}
HEAP_RECORDS=${BENCH_HEAP_RECORDS:-10000000}
HEAP_FIRST=${BENCH_HEAP_FIRST:-1000000}
KAFKA_RECORDS=${BENCH_KAFKA_RECORDS:-500000}
KAFKA_ROUNDS=${BENCH_KAFKA_ROUNDS:-3}
PEER_RECORDS=${BENCH_PEER_RECORDS:-100000}
PEER_ROUNDS=${BENCH_PEER_ROUNDS:-3}
PEERS=${BENCH_PEERS:-scipy nannyml evidently}
BASE=${BENCH_BASE:-9cbcf1c}
STAT_ROUNDS=${BENCH_STAT_ROUNDS:-6}
SKIP=" ${BENCH_SKIP:-} "
RESULTS=${RESULTS:-bench/RESULTS.md}

skip() { case "$SKIP" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/driftwatch-bench-pipeline.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
echo "== work directory $work" >&2
uptime >"$work/load-start.txt"

echo "== building" >&2
$GO build -o "$work/driftwatch" ./cmd/driftwatch
$GO build -o "$work/gen" ./bench/gen
$GO build -o "$work/heapcheck" ./bench/heapcheck
$GO build -o "$work/kafka" ./bench/kafka
$GO test -c -o "$work/bench.test" ./bench/

echo "== generating the workload and its baseline" >&2
"$work/gen" -records "$PEER_RECORDS" -out "$work/peer.jsonl" -reference "$work/reference.jsonl"
"$work/driftwatch" baseline --model ranker --model-version 3.2.0 --input "$work/reference.jsonl" \
	--out "$work/baselines" >"$work/baseline.txt"
lines=$(wc -l <"$work/peer.jsonl")
cat >"$work/params.txt" <<EOP
go_records=$GO_RECORDS
replay_records=$REPLAY_RECORDS
peer_records=$PEER_RECORDS
reference_records=$(wc -l <"$work/reference.jsonl")
bytes_per_record=$(($(wc -c <"$work/peer.jsonl") / lines))
EOP
cat >"$work/commands.txt" <<EOC
gen=go run ./bench/gen -records N -out FILE -reference reference.jsonl
baseline=driftwatch baseline --model ranker --model-version 3.2.0 --input reference.jsonl --out baselines
go=DRIFTWATCH_BENCH_RECORDS=$GO_RECORDS go test -run='^\$' -bench='^BenchmarkWorkload(ParseFastjson|Source|ParseEncodingJSON|Decode)\$' -benchtime=$GO_BENCHTIME -cpu=1 ./bench/, then -bench='^BenchmarkWorkloadPipeline\$' -cpu=1,2
replay1=GOMAXPROCS=1 /usr/bin/time -v driftwatch replay --baselines baselines --input records-$REPLAY_RECORDS.jsonl --output /dev/null --quiet
replay2=/usr/bin/time -v driftwatch replay --baselines baselines --input records-$REPLAY_RECORDS.jsonl --output /dev/null --quiet
heap=go run ./bench/gen -records $HEAP_RECORDS | go run ./bench/heapcheck -checkpoints $HEAP_FIRST,$HEAP_RECORDS
kafka=go run ./bench/kafka -driftwatch bin/driftwatch -baselines baselines -records $KAFKA_RECORDS -rounds $KAFKA_ROUNDS
peer=python bench/pipeline/peers.py --peer PEER --records peer.jsonl --reference reference.jsonl
peerreplay=/usr/bin/time -v driftwatch replay --baselines baselines --input peer.jsonl --output /dev/null --quiet
profile=make profile (bench/pipeline/profile.sh)
benchstat=git worktree add BASE; go test -c ./bench/ there and here; $STAT_ROUNDS rounds of each binary in turn: DRIFTWATCH_BENCH_RECORDS=$GO_RECORDS -test.bench='^BenchmarkWorkload(Decode|Pipeline)\$' -test.benchtime=$GO_BENCHTIME -test.cpu=1; benchstat base.txt head.txt
base=$BASE
EOC

# replay_timed NAME INPUT [env]: replay's whole process under /usr/bin/time -v.
replay_timed() {
	name=$1 input=$2
	shift 2
	env "$@" /usr/bin/time -v -o "$work/$name.time" "$work/driftwatch" replay --baselines "$work/baselines" \
		--input "$input" --output "$work/$name.rows.jsonl" --dead-letter /dev/null --quiet
}

if ! skip go; then
	echo "== Go benchmarks, $GO_ROUNDS rounds" >&2
	r=1
	while [ "$r" -le "$GO_ROUNDS" ]; do
		echo "   round $r" >&2
		# In this order, so that the figures a target compares run one right
		# after the other: encoding/json then decode, decode then the
		# pipeline (after the second binary's fixture), the pipeline at 1
		# then at 2 cores.
		DRIFTWATCH_BENCH_RECORDS=$GO_RECORDS "$work/bench.test" -test.run='^$' \
			-test.bench='^BenchmarkWorkload(ParseFastjson|Source|ParseEncodingJSON|Decode)$' \
			-test.benchtime="$GO_BENCHTIME" -test.cpu=1 -test.count=1 >"$work/go-$r.txt"
		DRIFTWATCH_BENCH_RECORDS=$GO_RECORDS "$work/bench.test" -test.run='^$' -test.bench='^BenchmarkWorkloadPipeline$' \
			-test.benchtime="$GO_BENCHTIME" -test.cpu=1,2 -test.count=1 >>"$work/go-$r.txt"
		r=$((r + 1))
	done
fi

if ! skip replay; then
	echo "== replay of $REPLAY_RECORDS records, GOMAXPROCS=1 then 2" >&2
	"$work/gen" -records "$REPLAY_RECORDS" -out "$work/records.jsonl"
	replay_timed replay-1 "$work/records.jsonl" GOMAXPROCS=1
	replay_timed replay-2 "$work/records.jsonl" GOMAXPROCS=2
	: >"$work/empty.jsonl"
	for i in 1 2 3 4 5; do replay_timed "replay-empty-$i" "$work/empty.jsonl"; done
	rm -f "$work/records.jsonl" "$work"/replay-*.rows.jsonl "$work/empty.jsonl"
fi

if ! skip heap; then
	echo "== heap after $HEAP_FIRST and $HEAP_RECORDS records (streamed)" >&2
	"$work/gen" -records "$HEAP_RECORDS" | "$work/heapcheck" -checkpoints "$HEAP_FIRST,$HEAP_RECORDS" >"$work/heap.json"
fi

if ! skip kafka; then
	echo "== Kafka: driftwatch run vs franz-go, $KAFKA_RECORDS records, $KAFKA_ROUNDS rounds" >&2
	started_kafka=
	if ! bash deploy/servers/kafka.sh status >/dev/null 2>&1; then
		bash deploy/servers/kafka.sh start >&2
		started_kafka=1
	fi
	eval "$(bash deploy/servers/kafka.sh env)"
	"$work/kafka" -driftwatch "$work/driftwatch" -baselines "$work/baselines" -records "$KAFKA_RECORDS" \
		-rounds "$KAFKA_ROUNDS" >"$work/kafka.json"
	[ -z "$started_kafka" ] || bash deploy/servers/kafka.sh stop >&2
fi

if ! skip peers; then
	py=$(sh bench/pipeline/setup.sh)
	echo "== peers on $PEER_RECORDS records, $PEER_ROUNDS rounds: $PEERS" >&2
	r=1
	while [ "$r" -le "$PEER_ROUNDS" ]; do
		for p in $PEERS; do
			echo "   round $r: replay, then $p" >&2
			replay_timed "peer-$r-$p-replay" "$work/peer.jsonl"
			"$py" bench/pipeline/peers.py --peer "$p" --records "$work/peer.jsonl" \
				--reference "$work/reference.jsonl" >"$work/peer-$r-$p.json"
		done
		r=$((r + 1))
	done
	cp "$work/peer-1-scipy-replay.rows.jsonl" "$work/peer-replay-rows.jsonl" 2>/dev/null || true
fi

if ! skip benchstat; then
	echo "== benchstat: $BASE against this tree, $STAT_ROUNDS rounds" >&2
	git worktree prune
	git worktree add --detach -f "$work/base-src" "$BASE" >/dev/null 2>&1
	(cd "$work/base-src" && $GO test -c -o "$work/base.test" ./bench/)
	git worktree remove --force "$work/base-src"
	r=1
	while [ "$r" -le "$STAT_ROUNDS" ]; do
		echo "   round $r" >&2
		for who in base bench; do
			DRIFTWATCH_BENCH_RECORDS=$GO_RECORDS "$work/$who.test" -test.run='^$' \
				-test.bench='^BenchmarkWorkload(Decode|Pipeline)$' -test.benchtime="$GO_BENCHTIME" -test.cpu=1 \
				>>"$work/benchstat-$who.txt"
		done
		r=$((r + 1))
	done
	command -v benchstat >/dev/null || GOBIN="$work" $GO install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
	PATH=$PATH:$work
	(cd "$work" && benchstat "$BASE=benchstat-base.txt" "HEAD=benchstat-bench.txt") >"$work/benchstat.txt"
fi

if ! skip profile; then
	echo "== profiles" >&2
	PROFILE_DIR="$work/profiles" GO=$GO sh bench/pipeline/profile.sh >"$work/profile.txt"
fi

uptime >"$work/load-end.txt"
echo "== writing $RESULTS" >&2
python3 bench/pipeline/report.py --work "$work" --out "$RESULTS" --started "$started"
echo "== done in $(($(date +%s) - started)) s: $RESULTS" >&2
