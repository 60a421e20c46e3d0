// Command writesamples writes the inputs of the statistics benchmarks to a
// directory as raw little-endian float64 files (see package samples), for
// bench/stats/peers.py to time SciPy and River on the same values as Go.
//
//	go run ./bench/stats/writesamples -dir DIR
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/driftwatch/driftwatch/bench/stats/samples"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("writesamples", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory to write the input files into (must exist)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "writesamples: -dir is required")
		return 2
	}
	if err := samples.Write(*dir, samples.Sizes, samples.StreamSizes); err != nil {
		fmt.Fprintln(os.Stderr, "writesamples:", err)
		return 1
	}
	return 0
}
