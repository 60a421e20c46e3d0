#!/bin/sh
# Statistics benchmarks beside their peers, in one run (make bench-stats).
# Writes the inputs once, compiles the benchmarked packages' test binaries,
# runs the Go-only benchmarks and the allocation checks, then peers.py runs
# each Go benchmark side by side with SciPy/statsmodels/numpy/River on the
# same inputs and writes bench/RESULTS.md. Needs go and python3 with numpy
# and scipy (statsmodels, and river 0.26.1, for their rows).
#
# BENCH_ROUNDS (default 3) side-by-side rounds; BENCH_TIME (default 200ms)
# is each Go run's -benchtime; BENCH_COUNT (default 3) the -count of the
# Go-only benchmarks; RESULTS (default bench/RESULTS.md) the output file.
set -eu
cd "$(dirname "$0")/../.."
GO=${GO:-go}
PYTHON=${PYTHON:-python3}
ROUNDS=${BENCH_ROUNDS:-3}
BENCHTIME=${BENCH_TIME:-200ms}
COUNT=${BENCH_COUNT:-3}
RESULTS=${RESULTS:-bench/RESULTS.md}

started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/driftwatch-bench-stats.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

echo "== writing inputs to $work" >&2
$GO run ./bench/stats/writesamples -dir "$work"

echo "== compiling test binaries" >&2
mkdir "$work/bin"
$GO test -c -o "$work/bin/stats.test" ./stats/
$GO test -c -o "$work/bin/stream.test" ./stats/stream/
$GO test -c -o "$work/bin/windows.test" ./windows/

echo "== Go-only benchmarks (stats/perf, stats/sketch)" >&2
goflags="-count=$COUNT -benchtime=$BENCHTIME"
# shellcheck disable=SC2086 # $goflags is a word list
$GO test -run='^$' -benchmem $goflags -timeout=30m \
	-bench='^Benchmark(Evaluate|ScoreHistogramAdd|ConfusionAdd|RegressionSumsAdd|ScoreHistogramMetrics|ScoreHistogramMerge|Add|HistogramAdd|SketchOps)$' \
	./stats/perf/ ./stats/sketch/ >"$work/go-only.txt"

echo "== allocation checks" >&2
$GO test -count=1 -v -run='Alloc' ./stats/ ./stats/perf/ ./stats/sketch/ ./stats/stream/ ./windows/ >"$work/alloc.txt" 2>&1 || {
	cat "$work/alloc.txt" >&2
	echo "allocation checks failed" >&2
	exit 1
}

echo "== Go and peers side by side, $ROUNDS rounds" >&2
$PYTHON bench/stats/peers.py --inputs "$work" --bin "$work/bin" --go "$work/go-only.txt" \
	--alloc "$work/alloc.txt" --out "$RESULTS" --rounds "$ROUNDS" --benchtime "$BENCHTIME" \
	--go-flags="$goflags" --started "$started"
echo "== done in $(($(date +%s) - started)) s: $RESULTS" >&2
