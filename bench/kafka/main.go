// Command kafka times `driftwatch run` against a plain franz-go consumer on
// the same topic of a real broker, in one run: it produces N records of the
// benchmark workload (package bench/workload) to a fresh topic of 3
// partitions, then, for each round, (a) reads the topic from the start
// with a franz-go client and nothing else, and (b) starts `driftwatch run`
// (JSON-lines sink, no labels topic, a fresh consumer group) on it and
// waits until its driftwatch_consumer_accepted_records_total reaches N.
// It prints one JSON object and deletes its topics at the end.
//
//	eval "$(bash deploy/servers/kafka.sh env)"
//	go run ./bench/kafka -driftwatch bin/driftwatch -baselines DIR -records 200000
//
// Rates are taken from the first record to the last (a consumer's start-up
// and group join are reported apart): for the raw consumer from its first
// fetched record to its N-th, for driftwatch from the first scrape of
// /metrics that shows a record read to the first that shows N accepted
// (scraped every 20 ms).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/bench/internal/daemon"
	"github.com/driftwatch/driftwatch/bench/workload"
)

// Partitions of the benchmark topic.
const Partitions = 3

// Run is one timed consumption of the whole topic.
type Run struct {
	Who     string  `json:"who"` // "franz-go" or "driftwatch"
	Round   int     `json:"round"`
	Records int64   `json:"records"`
	Startup float64 `json:"startup_seconds"` // from start to the first record
	Seconds float64 `json:"seconds"`         // from the first record to the last
	Total   float64 `json:"total_seconds"`   // from start to the last record
	Rate    float64 `json:"records_per_second"`
	CPU     float64 `json:"cpu_seconds"` // driftwatch's process CPU over Seconds; the raw consumer's own is not split from this program's
	Cores   float64 `json:"cores"`
}

// Result is what the command prints.
type Result struct {
	Brokers        string  `json:"brokers"`
	Topic          string  `json:"topic"`
	Partitions     int     `json:"partitions"`
	Records        int     `json:"records"`
	Bytes          int64   `json:"bytes"`
	ProduceSeconds float64 `json:"produce_seconds"`
	Runs           []Run   `json:"runs"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kafka bench:", err)
		os.Exit(1)
	}
}

func run() error {
	brokers := flag.String("brokers", os.Getenv("DRIFTWATCH_KAFKA_BROKERS"), "seed brokers, comma-separated (default $DRIFTWATCH_KAFKA_BROKERS)")
	records := flag.Int("records", 200_000, "records to produce")
	seed := flag.Int64("seed", workload.DefaultSeed, "random seed of the workload")
	bin := flag.String("driftwatch", "bin/driftwatch", "the driftwatch binary")
	baseDir := flag.String("baselines", "", "baselines directory with the workload model's baseline (required)")
	rounds := flag.Int("rounds", 1, "rounds of (franz-go, driftwatch)")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up on a run after this long")
	flag.Parse()
	if *brokers == "" || *baseDir == "" {
		return errors.New("-brokers (or DRIFTWATCH_KAFKA_BROKERS) and -baselines are required")
	}
	ctx := context.Background()
	seeds := strings.Split(*brokers, ",")
	admCl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		return err
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	topic := fmt.Sprintf("driftwatch-bench-%d-%d", time.Now().Unix(), os.Getpid())
	dlq := topic + ".dlq"
	if _, err := adm.CreateTopic(ctx, Partitions, 1, nil, topic); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(dctx, topic, dlq)
	}()
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, dlq); err != nil {
		return fmt.Errorf("create topic %s: %w", dlq, err)
	}
	res := Result{Brokers: *brokers, Topic: topic, Partitions: Partitions, Records: *records}
	start := time.Now()
	if res.Bytes, err = workload.Produce(ctx, seeds, topic, *seed, *records); err != nil {
		return err
	}
	res.ProduceSeconds = time.Since(start).Seconds()
	fmt.Fprintf(os.Stderr, "produced %d records (%d bytes) to %s in %.1f s\n", *records, res.Bytes, topic, res.ProduceSeconds)
	for r := 1; r <= *rounds; r++ {
		raw, err := consumeRaw(ctx, seeds, topic, int64(*records), *timeout)
		if err != nil {
			return err
		}
		raw.Round = r
		res.Runs = append(res.Runs, raw)
		fmt.Fprintf(os.Stderr, "round %d franz-go: %.0f records/s\n", r, raw.Rate)
		dw, err := consumeDriftwatch(*bin, *baseDir, *brokers, topic, dlq, fmt.Sprintf("%s-g%d", topic, r), int64(*records), *timeout)
		if err != nil {
			return err
		}
		dw.Round = r
		res.Runs = append(res.Runs, dw)
		fmt.Fprintf(os.Stderr, "round %d driftwatch: %.0f records/s on %.2f cores\n", r, dw.Rate, dw.Cores)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// consumeRaw reads the topic from the start with a plain franz-go client
// (no group) until it has n records.
func consumeRaw(ctx context.Context, seeds []string, topic string, n int64, timeout time.Duration) (Run, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return Run{}, err
	}
	defer cl.Close()
	var (
		got   int64
		first time.Time
	)
	for got < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return Run{}, fmt.Errorf("franz-go consumer read %d of %d records: %w", got, n, err)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			return Run{}, fmt.Errorf("franz-go consumer: %w", errs[0].Err)
		}
		k := int64(fs.NumRecords())
		if k > 0 && first.IsZero() {
			first = time.Now()
		}
		got += k
	}
	end := time.Now()
	secs := end.Sub(first).Seconds()
	return Run{Who: "franz-go", Records: got, Startup: first.Sub(start).Seconds(), Seconds: secs, Total: end.Sub(start).Seconds(), Rate: float64(got) / secs}, nil
}

// consumeDriftwatch runs `driftwatch run` on the topic until it has
// accepted n records, then stops it with SIGTERM.
func consumeDriftwatch(bin, baseDir, brokers, topic, dlq, group string, n int64, timeout time.Duration) (Run, error) {
	dir, err := os.MkdirTemp("", "driftwatch-bench-run")
	if err != nil {
		return Run{}, err
	}
	defer os.RemoveAll(dir)
	absBase, err := filepath.Abs(baseDir)
	if err != nil {
		return Run{}, err
	}
	config := func(addr string) string {
		return fmt.Sprintf(`kafka:
  brokers: [%q]
  topic: %q
  dead_letter_topic: %q
  group: %q
  client_id: driftwatch-bench
labels:
  topic: ""
baselines:
  dir: %q
sinks:
  jsonl:
    path: %q
http:
  listen: %q
log:
  level: warn
`, brokers, topic, dlq, group, absBase, filepath.Join(dir, "metrics.jsonl"), addr)
	}
	start := time.Now()
	d, err := daemon.Start(daemon.Options{Bin: bin, Dir: dir, Config: config, CPU: -1})
	if err != nil {
		return Run{}, err
	}
	defer d.Stop()
	fail := func(err error) (Run, error) {
		_ = d.Stop()
		return Run{}, fmt.Errorf("driftwatch run: %w; its log:\n%s", err, d.LogTail(2000))
	}
	var (
		first    time.Time
		cpuFirst float64
	)
	deadline := start.Add(timeout)
	for {
		if err := d.Exited(); err != nil {
			return fail(fmt.Errorf("exited early: %v", err))
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("did not accept %d records within %v", n, timeout))
		}
		m, err := d.Scrape()
		now := time.Now()
		if err == nil {
			read, accepted := m["driftwatch_consumer_records_total"], m["driftwatch_consumer_accepted_records_total"]
			if read > 0 && first.IsZero() {
				first, cpuFirst = now, daemon.CPUSeconds(d.Pid)
			}
			if accepted >= float64(n) {
				cpu := daemon.CPUSeconds(d.Pid) - cpuFirst
				secs := now.Sub(first).Seconds()
				return Run{Who: "driftwatch", Records: int64(accepted), Startup: first.Sub(start).Seconds(), Seconds: secs,
					Total: now.Sub(start).Seconds(), Rate: accepted / secs, CPU: cpu, Cores: cpu / secs}, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}
