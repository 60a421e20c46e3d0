// Command scaleout measures issue 15's scale-out on the real servers: how
// `driftwatch run` instances with kafka.scale_out share one topic's work,
// in two modes, and writes the scaleout section of bench/RESULTS.md.
//
// Throughput (-mode throughput): N records of the benchmark workload
// (bench/workload: ~1.1 KB, one model, 40 features) are produced to a fresh
// topic of 12 partitions; then, for R interleaved rounds, one instance
// pinned to CPU 0 (taskset -c 0, GOMAXPROCS=1) and two instances pinned to
// CPUs 0 and 1 each read the whole topic in a fresh consumer group with a
// fresh ClickHouse database. A run is timed from the first /metrics scrape
// (every 20 ms) whose driftwatch_consumer_records_total, summed over the
// instances, is above 0, to the first poll (every 40 ms) at which the
// group's committed offsets reach the topic's end offsets: everything the
// fold read is committed with its window deltas. Over that span it reads
// each instance's CPU time, the broker's and ClickHouse's (they share the
// cores) from /proc.
//
// Load (-mode load): two unpinned instances on a fresh 12-partition topic
// while a token-bucket producer in this process sends workload records at
// a steady rate, sampling every second the fold group's lag on the topic,
// the merge group's on <group>-partials, each process's CPU and RSS, and
// the producer's achieved rate, into a CSV (-csv). The rate is 3P for a
// stated peak P: S/3, where S is the two-instance rate of the throughput
// rounds (measured without a producer running), checked by a short run at
// that rate (-precheck); when the lag grows in it, P falls back to S/4.
//
//	set -a; for s in clickhouse kafka; do eval "$(bash deploy/servers/$s.sh env)"; done; set +a
//	go run ./bench/scaleout -driftwatch bin/driftwatch -baselines DIR -records 100000 -duration 30s
//
// bench/scaleout/run.sh (make bench-scaleout) builds the binaries and the
// baseline and runs it with the defaults; -from FILE renders the section
// again from a run's JSON (-json). Every topic, group and ClickHouse
// database it creates is deleted at the end, also on failure.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/bench/workload"
)

// Partitions of the benchmark topics.
const Partitions = 12

// opTimeout bounds one admin request (create, delete, offsets).
const opTimeout = 30 * time.Second

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "scaleout bench:", err)
		os.Exit(1)
	}
}

// Knobs are the flags a run was made with, as the report states them.
type Knobs struct {
	Records       int           `json:"records"`
	Rounds        int           `json:"rounds"`
	Partitions    int           `json:"partitions"`
	Duration      time.Duration `json:"duration"`
	Warmup        time.Duration `json:"warmup"`
	Precheck      time.Duration `json:"precheck"`
	LoadRate      float64       `json:"load_rate,omitempty"` // a rate given with -load-rate
	FlushInterval time.Duration `json:"flush_interval"`
	// ThroughputFlush is the flush interval of the throughput runs, whose
	// end is seen only once the fold commits.
	ThroughputFlush time.Duration `json:"throughput_flush_interval"`
	// ThroughputWindow is windows.size of the throughput runs: a stream
	// read at 200,000 records/s passes an hour of the workload's event
	// time every 0.1 s, so hourly windows would make ClickHouse write
	// eight windows a second, which no deployment does.
	ThroughputWindow time.Duration `json:"throughput_window"`
	Seed             int64         `json:"seed"`
}

// Result is what a run measured; it is printed as JSON (-json) and
// rendered into RESULTS.md.
type Result struct {
	Knobs      Knobs       `json:"knobs"`
	Started    time.Time   `json:"started"`
	Seconds    float64     `json:"seconds"`
	LoadStart  string      `json:"load_start"`
	LoadEnd    string      `json:"load_end"`
	Commit     string      `json:"commit"`
	Machine    string      `json:"machine"`
	Go         string      `json:"go"`
	Throughput *Throughput `json:"throughput,omitempty"`
	Load       *LoadResult `json:"load,omitempty"`
	Errors     []string    `json:"errors,omitempty"`
	Servers    ServerPIDs  `json:"servers"`
	Commands   []string    `json:"commands"`
}

// ServerPIDs are the processes whose CPU the run reads besides its own.
type ServerPIDs struct {
	Kafka      int `json:"kafka"`
	ClickHouse int `json:"clickhouse"`
}

// env is what every run of an instance needs.
type env struct {
	bin, baseDir, work string
	brokers            []string
	adm                *kadm.Client
	ch                 chServer
	pids               ServerPIDs
	knobs              Knobs
	timeout            time.Duration
	seq                int
}

// chServer is the ClickHouse server the instances write to.
type chServer struct {
	addr, user, passwordEnv, database string
}

func run() error {
	var (
		brokers  = flag.String("brokers", os.Getenv("DRIFTWATCH_KAFKA_BROKERS"), "seed brokers, comma-separated (default $DRIFTWATCH_KAFKA_BROKERS)")
		chAddr   = flag.String("clickhouse-addr", os.Getenv("DRIFTWATCH_CLICKHOUSE_ADDR"), "ClickHouse native host:port (default $DRIFTWATCH_CLICKHOUSE_ADDR)")
		chUser   = flag.String("clickhouse-user", envOr("DRIFTWATCH_CLICKHOUSE_USER", "default"), "ClickHouse user (default $DRIFTWATCH_CLICKHOUSE_USER)")
		chPwEnv  = flag.String("clickhouse-password-env", "DRIFTWATCH_CLICKHOUSE_PASSWORD", "the environment variable holding the ClickHouse password")
		chDB     = flag.String("clickhouse-database", envOr("DRIFTWATCH_CLICKHOUSE_DATABASE", "default"), "an existing database to connect to when creating the runs' databases")
		bin      = flag.String("driftwatch", "bin/driftwatch", "the driftwatch binary")
		baseDir  = flag.String("baselines", "", "baselines directory with the workload model's baseline (required)")
		mode     = flag.String("mode", "both", "throughput, load or both")
		records  = flag.Int("records", 1_000_000, "throughput: records produced to the topic")
		rounds   = flag.Int("rounds", 3, "throughput: rounds of (one instance on one core, two on two)")
		duration = flag.Duration("duration", 5*time.Minute, "load: how long the producer runs")
		warmup   = flag.Duration("warmup", 30*time.Second, "load: samples before this are left out of the figures")
		precheck = flag.Duration("precheck", 90*time.Second, "load: run at S first for this long to see whether P = S/3 holds (0: take P = S/4 at once)")
		flushInt = flag.Duration("flush-interval", time.Second, "load: kafka.scale_out.flush_interval of the instances")
		tpFlush  = flag.Duration("throughput-flush-interval", time.Second, "throughput: kafka.scale_out.flush_interval of the instances (the product's default; a run's end is seen at a commit)")
		tpWindow = flag.Duration("throughput-window", 24*time.Hour, "throughput: windows.size of the instances (hourly windows of a stream read at full speed close several a second)")
		seed     = flag.Int64("seed", workload.DefaultSeed, "random seed of the workload")
		timeout  = flag.Duration("timeout", 10*time.Minute, "give up on a throughput run after this long")
		servers  = flag.String("servers", "deploy/servers", "directory of kafka.sh and clickhouse.sh, asked for the servers' pids")
		loadRate = flag.Float64("load-rate", 0, "load: produce at this rate (records/s) instead of choosing it from S (no precheck)")
		csvPath  = flag.String("csv", "", "load: write the samples here (CSV)")
		jsonPath = flag.String("json", "", "write the result here as JSON (default: standard output)")
		results  = flag.String("results", "", "write the scaleout section of this markdown file (e.g. bench/RESULTS.md)")
		chart    = flag.String("chart", "scaleout-load.svg", "the chart's path relative to the results file, for its image link")
		from     = flag.String("from", "", "measure nothing: render -results from this JSON of an earlier run")
	)
	flag.Parse()
	if *from != "" {
		b, err := os.ReadFile(*from)
		if err != nil {
			return err
		}
		var res Result
		if err := json.Unmarshal(b, &res); err != nil {
			return fmt.Errorf("read %s: %w", *from, err)
		}
		return writeSection(*results, &res, *chart)
	}
	if *brokers == "" || *chAddr == "" || *baseDir == "" {
		return errors.New("-brokers (or DRIFTWATCH_KAFKA_BROKERS), -clickhouse-addr (or DRIFTWATCH_CLICKHOUSE_ADDR) and -baselines are required")
	}
	doThroughput, doLoad := *mode == "both" || *mode == "throughput", *mode == "both" || *mode == "load"
	if !doThroughput && !doLoad {
		return fmt.Errorf("-mode %q: want throughput, load or both", *mode)
	}
	if *records <= 0 || *rounds <= 0 || *duration < *warmup+20*time.Second {
		return fmt.Errorf("-records (%d) and -rounds (%d) must be positive and -duration (%s) at least -warmup (%s) + 20s", *records, *rounds, *duration, *warmup)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{bin: *bin, brokers: strings.Split(*brokers, ","), timeout: *timeout,
		ch: chServer{addr: *chAddr, user: *chUser, passwordEnv: *chPwEnv, database: *chDB},
		knobs: Knobs{Records: *records, Rounds: *rounds, Partitions: Partitions, Duration: *duration, Warmup: *warmup,
			Precheck: *precheck, LoadRate: *loadRate, FlushInterval: *flushInt, ThroughputFlush: *tpFlush, ThroughputWindow: *tpWindow, Seed: *seed}}
	var err error
	if e.baseDir, err = filepath.Abs(*baseDir); err != nil {
		return err
	}
	if e.work, err = os.MkdirTemp("", "driftwatch-bench-scaleout"); err != nil {
		return err
	}
	defer os.RemoveAll(e.work)
	if e.pids, err = serverPIDs(*servers); err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	e.adm = kadm.NewClient(cl)
	if err := e.ch.exec(ctx, "SELECT 1"); err != nil {
		return fmt.Errorf("clickhouse at %s: %w", e.ch.addr, err)
	}

	res := &Result{Knobs: e.knobs, Started: time.Now().UTC(), LoadStart: loadavg(), Commit: commit(), Machine: machine(),
		Go: goVersion(), Servers: e.pids, Commands: os.Args}
	var runErr error
	if doThroughput {
		res.Throughput, runErr = e.throughput(ctx)
	}
	if runErr == nil && doLoad {
		res.Load, runErr = e.load(ctx, res.Throughput, *csvPath)
	}
	res.LoadEnd = loadavg()
	res.Seconds = time.Since(res.Started).Seconds()
	if runErr != nil {
		res.Errors = append(res.Errors, runErr.Error())
	}
	if err := writeJSON(*jsonPath, res); err != nil {
		return errors.Join(runErr, err)
	}
	if runErr != nil {
		return runErr
	}
	return writeSection(*results, res, *chart)
}

func writeJSON(path string, res *Result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// name returns a fresh name for a topic, group or database of this run.
func (e *env) name(what string) string {
	e.seq++
	return fmt.Sprintf("dw_scaleout_%d_%d_%s%d", time.Now().Unix(), os.Getpid(), what, e.seq)
}

// createTopics creates a fresh topic of Partitions partitions and its
// dead-letter topic (<topic>.dlq, one partition), and returns the topic's
// name with a function that deletes both.
func (e *env) createTopics(ctx context.Context, what string) (string, func(), error) {
	topic := e.name(what)
	drop := func() { e.deleteTopics(topic, topic+".dlq") }
	for _, t := range []struct {
		name string
		n    int32
	}{{topic, Partitions}, {topic + ".dlq", 1}} {
		cctx, cancel := context.WithTimeout(ctx, opTimeout)
		r, err := e.adm.CreateTopic(cctx, t.n, 1, nil, t.name)
		cancel()
		if err == nil {
			err = r.Err
		}
		if err != nil {
			drop()
			return "", nil, fmt.Errorf("create topic %s: %w", t.name, err)
		}
	}
	return topic, drop, nil
}

// deleteTopics deletes topics, reporting failures (other than a topic
// that does not exist) on standard error.
func (e *env) deleteTopics(topics ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rs, err := e.adm.DeleteTopics(ctx, topics...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "delete topics %v: %v\n", topics, err)
		return
	}
	for _, r := range rs {
		if r.Err != nil && !strings.Contains(r.Err.Error(), "UNKNOWN_TOPIC") {
			fmt.Fprintf(os.Stderr, "delete topic %s: %v\n", r.Topic, r.Err)
		}
	}
}

// deleteGroups deletes consumer groups, reporting failures other than a
// group that does not exist.
func (e *env) deleteGroups(groups ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rs, err := e.adm.DeleteGroups(ctx, groups...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "delete groups %v: %v\n", groups, err)
		return
	}
	for g, r := range rs {
		if r.Err != nil && !strings.Contains(r.Err.Error(), "GROUP_ID_NOT_FOUND") {
			fmt.Fprintf(os.Stderr, "delete group %s: %v\n", g, r.Err)
		}
	}
}

// createDatabase creates a ClickHouse database and returns a function
// that drops it.
func (e *env) createDatabase(ctx context.Context) (string, func(), error) {
	db := e.name("db")
	if err := e.ch.exec(ctx, "CREATE DATABASE "+db); err != nil {
		return "", nil, fmt.Errorf("create clickhouse database %s: %w", db, err)
	}
	return db, func() {
		if err := e.ch.exec(context.Background(), "DROP DATABASE IF EXISTS "+db); err != nil {
			fmt.Fprintf(os.Stderr, "drop clickhouse database %s: %v\n", db, err)
		}
	}, nil
}

func (c chServer) exec(ctx context.Context, query string) error {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{c.addr},
		DialTimeout: 5 * time.Second,
		Auth:        clickhouse.Auth{Database: c.database, Username: c.user, Password: os.Getenv(c.passwordEnv)},
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	return conn.Exec(ctx, query)
}

// instanceConfig is the config of one scale-out instance reading topic
// in group, writing to ClickHouse database db, committing every flush.
func (e *env) instanceConfig(topic, group, db string, flush, window time.Duration) func(listen string) string {
	return func(listen string) string {
		return fmt.Sprintf(`windows:
  size: %s
kafka:
  brokers: [%q]
  topic: %q
  dead_letter_topic: %q
  group: %q
  client_id: driftwatch-bench
  scale_out:
    enabled: true
    flush_interval: %s
labels:
  topic: ""
baselines:
  dir: %q
sinks:
  clickhouse:
    enabled: true
    addr: [%q]
    database: %q
    username: %q
    password_env: %q
http:
  listen: %q
log:
  level: warn
`, window, strings.Join(e.brokers, ","), topic, topic+".dlq", group, flush, e.baseDir, e.ch.addr, db, e.ch.user, e.ch.passwordEnv, listen)
	}
}

var pidRE = regexp.MustCompile(`pid (\d+)`)

// serverPIDs asks deploy/servers/{kafka,clickhouse}.sh status for the
// servers' pids.
func serverPIDs(dir string) (ServerPIDs, error) {
	var p ServerPIDs
	for _, s := range []struct {
		name string
		pid  *int
	}{{"kafka", &p.Kafka}, {"clickhouse", &p.ClickHouse}} {
		out, err := exec.Command("bash", filepath.Join(dir, s.name+".sh"), "status").CombinedOutput()
		m := pidRE.FindSubmatch(out)
		if err != nil || m == nil {
			return p, fmt.Errorf("find the %s server's pid with %s.sh status (is it running? make servers-up): %v: %s", s.name, s.name, err, out)
		}
		*s.pid, _ = strconv.Atoi(string(m[1]))
	}
	return p, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
