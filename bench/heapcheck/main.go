// Command heapcheck runs replay's pipeline in process (workload.Replay) over
// the benchmark workload read from standard input and prints, as one JSON
// object, the heap in use after a full garbage collection when the pipeline
// has read each checkpoint's number of records, so that the heap after 10
// million records can be compared with the heap after 1 million. Since the
// heap at one moment depends on how many batches are in flight between the
// stages, each checkpoint takes samples samples at the last samples
// hundredths of its count (91%, 92%, ..., 100% of it for 10) and reports
// their median, minimum and maximum. The records
// are generated as they are read, by another process, never held whole:
//
//	go run ./bench/gen -records 10000000 | go run ./bench/heapcheck -checkpoints 1000000,10000000
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/bench/workload"
)

// Checkpoint is the memory of the process around the time the pipeline had
// read Records records: HeapInuse is the median of the samples, the other
// fields are of the last sample.
type Checkpoint struct {
	HeapInuseMin uint64   `json:"heap_inuse_min_bytes"`
	HeapInuseMax uint64   `json:"heap_inuse_max_bytes"`
	Samples      []uint64 `json:"heap_inuse_samples_bytes"`
	Records      int64    `json:"records"`
	Seconds      float64  `json:"seconds"`
	HeapInuse    uint64   `json:"heap_inuse_bytes"` // after runtime.GC
	HeapAlloc    uint64   `json:"heap_alloc_bytes"` // after runtime.GC
	Sys          uint64   `json:"sys_bytes"`
	NumGC        uint32   `json:"num_gc"`
	RSS          int64    `json:"rss_bytes"`     // VmRSS, 0 where /proc has none
	MaxRSS       int64    `json:"max_rss_bytes"` // VmHWM
}

// Result is what heapcheck prints.
type Result struct {
	Records     int64        `json:"records"`
	Rows        int64        `json:"rows"`
	Seconds     float64      `json:"seconds"`
	GOMAXPROCS  int          `json:"gomaxprocs"`
	Checkpoints []Checkpoint `json:"checkpoints"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "heapcheck:", err)
		os.Exit(1)
	}
}

func run() error {
	points := flag.String("checkpoints", "1000000,10000000", "comma-separated record counts to measure the heap at")
	samples := flag.Int("samples", 10, "heap samples per checkpoint, at the last hundredths of its count (1..100)")
	seed := flag.Int64("seed", workload.DefaultSeed, "random seed of the workload (for its baseline)")
	flag.Parse()
	if *samples < 1 || *samples > 100 {
		return fmt.Errorf("-samples %d: want 1..100", *samples)
	}
	var marks []int64
	for _, s := range strings.Split(*points, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n <= 0 || (len(marks) > 0 && n <= marks[len(marks)-1]) {
			return fmt.Errorf("checkpoint %q: want increasing positive counts", s)
		}
		marks = append(marks, n)
	}
	dir, err := os.MkdirTemp("", "driftwatch-heapcheck")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b, err := workload.Baseline(*seed, workload.ReferenceRecords, dir)
	if err != nil {
		return err
	}
	start := time.Now()
	cr := &countingReader{r: os.Stdin, start: start}
	for i, m := range marks {
		for k := *samples - 1; k >= 0; k-- {
			cr.at = append(cr.at, sample{records: m - int64(k)*m/100, mark: i})
		}
	}
	rows, err := workload.Replay(cr, map[string]*baselines.Baseline{workload.Model: b}, io.Discard)
	if err != nil {
		return err
	}
	if len(cr.at) > 0 {
		return fmt.Errorf("read %d records: checkpoint %d not reached", cr.lines, marks[cr.at[0].mark])
	}
	res := Result{Records: cr.lines, Rows: rows, Seconds: time.Since(start).Seconds(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	for i, m := range marks {
		var (
			cp      Checkpoint
			samples []uint64
		)
		for _, t := range cr.taken {
			if t.mark == i {
				cp = t.Checkpoint
				samples = append(samples, t.HeapInuse)
			}
		}
		cp.Records, cp.Samples = m, samples
		sorted := slices.Sorted(slices.Values(cp.Samples))
		cp.HeapInuse, cp.HeapInuseMin, cp.HeapInuseMax = sorted[len(sorted)/2], sorted[0], sorted[len(sorted)-1]
		res.Checkpoints = append(res.Checkpoints, cp)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// sample is a heap sample to take when records lines were read, for the
// checkpoint marks[mark].
type sample struct {
	records int64
	mark    int
	Checkpoint
}

// countingReader counts the lines read through it and takes the next
// sample when the count reaches it.
type countingReader struct {
	r     io.Reader
	lines int64
	at    []sample // still to take, in order
	taken []sample
	start time.Time
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.lines += int64(bytes.Count(p[:n], []byte{'\n'}))
	for len(c.at) > 0 && c.lines >= c.at[0].records {
		s := c.at[0]
		s.Checkpoint = measure(s.records, c.start)
		c.taken = append(c.taken, s)
		c.at = c.at[1:]
	}
	return n, err
}

func measure(records int64, start time.Time) Checkpoint {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cp := Checkpoint{Records: records, Seconds: time.Since(start).Seconds(), HeapInuse: ms.HeapInuse, HeapAlloc: ms.HeapAlloc, Sys: ms.Sys, NumGC: ms.NumGC}
	cp.RSS, cp.MaxRSS = procStatus("VmRSS:"), procStatus("VmHWM:")
	return cp
}

// procStatus returns a kB field of /proc/self/status in bytes, or 0.
func procStatus(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
