#!/bin/sh
# Issue 15's scale-out figures in one run (make bench-scaleout): builds
# driftwatch, the benchmark workload's baseline, bench/scaleout and its
# chart, starts the test servers (make servers-up; servers already running
# are used and left running), runs both modes of bench/scaleout against
# them, then draws the load test's chart and writes the scaleout section
# of bench/RESULTS.md (the rest of the file is kept). bench/scaleout
# deletes its topics, groups and ClickHouse databases itself.
#
# Knobs (defaults in parentheses): BENCH_SCALEOUT_RECORDS (3000000) records
# of the throughput topic, BENCH_SCALEOUT_ROUNDS (5), BENCH_SCALEOUT_DURATION
# (5m) of the load test, BENCH_SCALEOUT_WARMUP (30s), BENCH_SCALEOUT_PRECHECK
# (60s) of the calibration beside the producer; RESULTS (bench/RESULTS.md);
# CSV (bench/scaleout-load.csv; the run's whole result beside it as
# bench/scaleout-load.json, from which `go run ./bench/scaleout -from FILE
# -results FILE` renders the section again) and SVG (bench/scaleout-load.svg).
set -eu
cd "$(dirname "$0")/../.."
GO=${GO:-go}
RECORDS=${BENCH_SCALEOUT_RECORDS:-3000000}
ROUNDS=${BENCH_SCALEOUT_ROUNDS:-5}
DURATION=${BENCH_SCALEOUT_DURATION:-5m}
WARMUP=${BENCH_SCALEOUT_WARMUP:-30s}
PRECHECK=${BENCH_SCALEOUT_PRECHECK:-60s}
RESULTS=${RESULTS:-bench/RESULTS.md}
CSV=${CSV:-bench/scaleout-load.csv}
SVG=${SVG:-bench/scaleout-load.svg}

started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/driftwatch-bench-scaleout.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
echo "== work directory $work" >&2

echo "== building" >&2
$GO build -o "$work/driftwatch" ./cmd/driftwatch
$GO build -o "$work/gen" ./bench/gen
$GO build -o "$work/scaleout" ./bench/scaleout
$GO build -o "$work/chart" ./bench/scaleout/chart

echo "== the workload's baseline" >&2
"$work/gen" -records 1 -out /dev/null -reference "$work/reference.jsonl"
"$work/driftwatch" baseline --model ranker --model-version 3.2.0 --input "$work/reference.jsonl" \
	--out "$work/baselines" >"$work/baseline.txt"

echo "== test servers" >&2
make --no-print-directory servers-up SERVERS="clickhouse kafka" >&2
set -a
for s in clickhouse kafka; do eval "$(bash deploy/servers/$s.sh env)"; done
set +a

echo "== bench/scaleout: $ROUNDS throughput rounds on $RECORDS records, then the load test ($DURATION)" >&2
"$work/scaleout" -driftwatch "$work/driftwatch" -baselines "$work/baselines" -records "$RECORDS" -rounds "$ROUNDS" \
	-duration "$DURATION" -warmup "$WARMUP" -precheck "$PRECHECK" -csv "$CSV" -json "$work/scaleout.json" \
	-results "$RESULTS" -chart "$(basename "$SVG")"
cp "$work/scaleout.json" "${CSV%.csv}.json"
"$work/chart" -in "$CSV" -out "$SVG"
echo "== done in $(($(date +%s) - started)) s: $RESULTS, $CSV, $SVG" >&2
