#!/bin/sh
# make profile: CPU and allocation profiles of the Workload benchmarks at
# GOMAXPROCS=1 (decode alone, and replay's whole pipeline), with
# `go tool pprof -top` summaries beside them, in PROFILE_DIR (default
# bench/profiles, not committed). DRIFTWATCH_BENCH_RECORDS (default 100000)
# records per pass, PROFILE_BENCHTIME (default 3x) passes.
set -eu
cd "$(dirname "$0")/../.."
GO=${GO:-go}
OUT=${PROFILE_DIR:-bench/profiles}
BENCHTIME=${PROFILE_BENCHTIME:-3x}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
$GO test -c -o "$OUT/bench.test" ./bench/
for b in Decode Pipeline; do
	echo "== profiling BenchmarkWorkload$b" >&2
	"$OUT/bench.test" -test.run='^$' -test.bench="^BenchmarkWorkload$b\$" -test.benchtime="$BENCHTIME" \
		-test.cpu=1 -test.benchmem -test.cpuprofile="$OUT/$b.cpu.pprof" -test.memprofile="$OUT/$b.mem.pprof" \
		>"$OUT/$b.bench.txt"
	# -ignore: leave out the generation of the benchmark's records (loadWorkload).
	$GO tool pprof -top -nodecount=30 -ignore=loadWorkload "$OUT/bench.test" "$OUT/$b.cpu.pprof" >"$OUT/$b.cpu.top" 2>/dev/null
	$GO tool pprof -top -cum -nodecount=40 -ignore=loadWorkload "$OUT/bench.test" "$OUT/$b.cpu.pprof" >"$OUT/$b.cpu.cum.top" 2>/dev/null
	$GO tool pprof -top -nodecount=30 -sample_index=alloc_space -ignore=loadWorkload "$OUT/bench.test" "$OUT/$b.mem.pprof" >"$OUT/$b.alloc_space.top" 2>/dev/null
	$GO tool pprof -top -nodecount=30 -sample_index=alloc_objects -ignore=loadWorkload "$OUT/bench.test" "$OUT/$b.mem.pprof" >"$OUT/$b.alloc_objects.top" 2>/dev/null
done
for f in "$OUT"/*.top; do
	echo "== $f"
	sed -n '1,20p' "$f"
done
echo "profiles in $OUT: go tool pprof -http=: $OUT/bench.test $OUT/Pipeline.cpu.pprof" >&2
