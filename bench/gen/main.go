// Command gen writes the benchmark stream of package bench/workload: N
// prediction records of about 1 KB (40 features) as JSON lines, and the
// training reference a baseline is built from
// (`driftwatch baseline --model ranker --input REFERENCE`).
//
//	go run ./bench/gen -records 1000000 -out records.jsonl -reference reference.jsonl
//
// The same -seed and -records always give byte-identical files; -out -
// streams the records to standard output without holding them.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/driftwatch/driftwatch/bench/workload"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	records := flag.Int("records", 1_000_000, "prediction records to write")
	seed := flag.Int64("seed", workload.DefaultSeed, "random seed")
	out := flag.String("out", "-", "records file; - for standard output")
	ref := flag.String("reference", "", "also write the training reference here")
	refN := flag.Int("reference-records", workload.ReferenceRecords, "training records in the reference")
	flag.Parse()
	if *records <= 0 {
		return fmt.Errorf("-records %d: want > 0", *records)
	}
	if *ref != "" {
		if err := writeFile(*ref, func(w io.Writer) error { return workload.Reference(*seed, *refN, w) }); err != nil {
			return err
		}
	}
	return writeFile(*out, func(w io.Writer) error { _, err := workload.Stream(*seed, *records, w); return err })
}

func writeFile(path string, write func(io.Writer) error) error {
	if path == "-" {
		w := bufio.NewWriterSize(os.Stdout, 1<<20)
		if err := write(w); err != nil {
			return err
		}
		return w.Flush()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
