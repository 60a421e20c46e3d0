// Package bench holds driftwatch's whole-pipeline benchmarks. `make bench`
// runs them: records per second of replay (decode, Arrow batches, windows,
// statistics, JSON-lines sink) on a generated prediction log, and, in the
// same run, of plain JSON decoding of the same file, so the ratio shows what
// the pipeline costs beyond parsing. Unit benchmarks live beside their code.
package bench
