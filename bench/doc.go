// Package bench holds driftwatch's whole-pipeline benchmarks. `make bench`
// runs them: records per second of replay (decode, Arrow batches, windows,
// statistics, JSON-lines sink) on a generated prediction log, and, in the
// same run, of plain JSON decoding of the same file, so the ratio shows what
// the pipeline costs beyond parsing. The Workload benchmarks measure issue
// 14's figures on the generated 1 KB / 40-feature stream of bench/workload
// (parse floors, decode into Arrow, decode + windows + statistics, with
// records/s and allocations per record); `make bench-pipeline` runs them
// with the rest of those figures (bench/pipeline/run.sh) and `make profile`
// profiles them. `make bench-scaleout` (bench/scaleout) measures issue 15's
// scale-out on the Kafka and ClickHouse test servers: one instance on one
// core against two on two, and a load test of two instances at three times
// a stated peak. Unit benchmarks live beside their code.
package bench
