package main

// The tests in this file run `driftwatch run` as a separate process (this
// test binary, re-executed) against the real Apache Kafka broker and
// ClickHouse server that make test starts (deploy/servers/*.sh), and hurt
// it: SIGKILL mid-stream, ClickHouse stopped for 30 s. Each ends by
// checking what users depend on:
//
//   - every window is in ClickHouse exactly once as dashboards read it
//     (drift_metrics FINAL), with rows equal, column by column, to what
//     `driftwatch replay` computes from the same records;
//   - no committed offset was ever ahead of its rows: every record below a
//     committed offset, sampled while the job runs and after it was killed,
//     is in a window that ClickHouse already held (or, if the record broke
//     the contract, in the dead-letter topic).
//
// Figures (windows expected, present, written more than once) are logged;
// run with -v to see them.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/cli"
	"github.com/driftwatch/driftwatch/internal/config"
	"github.com/driftwatch/driftwatch/internal/synth"
	"github.com/driftwatch/driftwatch/internal/testservers"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// childEnv makes this test binary run driftwatch's main instead of tests.
const childEnv = "DRIFTWATCH_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run())
	}
	os.Exit(m.Run())
}

const (
	faultPartitions = 3
	faultLateness   = 10 * time.Minute
	faultTimeout    = 3 * time.Minute
	// closersPerPartition records after the data close every data window:
	// a partition's clock ignores its newest windows.watermark_outliers.
	closersPerPartition = config.DefaultWatermarkOutliers + 1
)

// rig is one fault scenario: a fresh topic, group and ClickHouse database,
// the records it produced, and the daemon's config.
type rig struct {
	t       *testing.T
	dir     string
	scen    synth.Config
	dataEnd time.Time // end of the last window with data

	brokers          []string
	topic, dlq       string
	labelsTopic      string
	group            string
	prod, manual     *kgo.Client
	adm              *kadm.Client
	chAddr           string
	chUser, chPass   string
	database         string
	ch               driver.Conn
	cfgPath, logPath string
	httpAddr         string
	alertsYAML       string // an alerts: section for the config, or ""
	httpYAML         string // more keys under http: (indented two spaces), or ""
	partitions       int    // of the predictions topic
	scaleOut         bool   // kafka.scale_out.enabled

	msgs     []synth.Message // the scenario's records, in production order
	closers  []synth.Message // closersPerPartition per partition, closing every data window
	mu       sync.Mutex
	produced map[int32][]producedRecord // by partition, in offset order
	labelsAt map[int32]map[int64]string // labels produced: partition -> offset -> prediction id
	checks   int                        // committed-offset checks made
	checked  int64                      // records verified below committed offsets
}

type producedRecord struct {
	offset int64
	msg    synth.Message
}

func newRig(t *testing.T, chAddr string) *rig { return newRigWith(t, chAddr, nil) }

// newRigWith is newRig with the scenario changed by edit.
func newRigWith(t *testing.T, chAddr string, edit func(*synth.Config)) *rig {
	t.Helper()
	return buildRig(t, chAddr, edit, faultPartitions, false)
}

// buildRig is newRigWith on a topic of partitions partitions, with
// kafka.scale_out on when scaleOut.
func buildRig(t *testing.T, chAddr string, edit func(*synth.Config), partitions int, scaleOut bool) *rig {
	t.Helper()
	brokers := testservers.KafkaEnv(t, testservers.KafkaGate)
	sharedCH := testservers.ClickHouseEnv(t, testservers.ClickHouseGate)
	chUser := testservers.ClickHouseEnv(t, "DRIFTWATCH_CLICKHOUSE_USER")
	chPass := testservers.ClickHouseEnv(t, "DRIFTWATCH_CLICKHOUSE_PASSWORD")
	if chAddr == "" {
		chAddr = sharedCH
	}
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	r := &rig{
		t: t, dir: t.TempDir(),
		brokers: strings.Split(brokers, ","),
		topic:   "faults-" + stamp, dlq: "faults-" + stamp + ".dlq", group: "faults-" + stamp, labelsTopic: "faults-" + stamp + ".labels",
		chAddr: chAddr, chUser: chUser, chPass: chPass,
		produced:   make(map[int32][]producedRecord),
		partitions: partitions, scaleOut: scaleOut,
	}
	r.scenario(edit)
	if dir := os.Getenv("DRIFTWATCH_TEST_KEEP_LOGS"); dir != "" {
		// The daemons' log of a failed test, for a look after the fact.
		t.Cleanup(func() {
			if t.Failed() {
				b, _ := os.ReadFile(r.logPath)
				_ = os.WriteFile(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+stamp+".log"), b, 0o644)
			}
		})
	}
	r.kafka()
	r.clickhouse()
	r.config()
	return r
}

// scenario generates the demo's two models over ten one-hour windows, the
// last two with drift injected, with bad and duplicate records, and one
// closing record per partition timed to close every data window.
func (r *rig) scenario(edit func(*synth.Config)) {
	t := r.t
	r.scen = synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	r.scen.Windows, r.scen.RecordsPerWindow = 10, 1000
	for i := range r.scen.Models {
		for j := range r.scen.Models[i].Drifts {
			r.scen.Models[i].Drifts[j].FromWindow = 8
		}
	}
	if edit != nil {
		edit(&r.scen)
	}
	r.dataEnd = r.scen.Start.Add(time.Duration(r.scen.Windows) * r.scen.Window)
	if err := r.scen.Generate(func(m synth.Message) error {
		r.msgs = append(r.msgs, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Closers: good records of a later hour, at least the allowed lateness
	// after the data's end, from a differently seeded run (new ids); a
	// partition's clock is its (watermark_outliers+1)-th newest event time.
	tail := r.scen
	tail.Seed++
	tail.Start, tail.Windows, tail.RecordsPerWindow, tail.BadRate, tail.DuplicateRate = r.dataEnd, 1, 400, 0, 0
	if r.partitions > faultPartitions {
		tail.RecordsPerWindow = 2 * r.partitions * closersPerPartition // four in five come after the lateness
	}
	if err := tail.Generate(func(m synth.Message) error {
		if len(r.closers) < r.partitions*closersPerPartition && !m.Time.Before(r.dataEnd.Add(faultLateness+time.Minute)) {
			r.closers = append(r.closers, m)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(r.closers) != r.partitions*closersPerPartition {
		t.Fatalf("found %d closing records, want %d", len(r.closers), r.partitions*closersPerPartition)
	}
	baseDir := filepath.Join(r.dir, "baselines")
	for _, m := range r.scen.Models {
		var ref bytes.Buffer
		if err := r.scen.Reference(m.Name, 5000, &ref); err != nil {
			t.Fatal(err)
		}
		refPath := filepath.Join(r.dir, m.Name+".ref.jsonl")
		if err := os.WriteFile(refPath, ref.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := cli.Main(context.Background(), []string{"baseline", "--model", m.Name, "--model-version", m.Version, "--input", refPath, "--out", baseDir}, &out, &errOut); code != 0 {
			t.Fatalf("baseline %s: %s", m.Name, errOut.String())
		}
	}
}

func (r *rig) kafka() {
	t := r.t
	var err error
	if r.prod, err = kgo.NewClient(kgo.SeedBrokers(r.brokers...), kgo.ProducerLinger(5*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.prod.Close)
	if r.manual, err = kgo.NewClient(kgo.SeedBrokers(r.brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.manual.Close)
	r.adm = kadm.NewClient(r.prod)
	testservers.CreateTopics(t, r.prod, int32(r.partitions), r.topic)
	testservers.CreateTopics(t, r.prod, 1, r.dlq)
	testservers.CreateTopics(t, r.prod, 2, r.labelsTopic)
	testservers.CreateTopics(t, r.prod, 1, r.labelsTopic+".dlq")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = r.adm.DeleteGroup(ctx, r.group)
	})
}

// clickhouse creates the scenario's database, dropped when the test ends,
// and connects r.ch to it. r.ch is replaced when the server restarts, so it
// is closed here rather than by testservers.ClickHouse.Open.
func (r *rig) clickhouse() {
	ch := testservers.ClickHouse{Addr: []string{r.chAddr}, User: r.chUser, Password: r.chPass, Database: "default"}
	r.database = ch.CreateDatabase(r.t, "faults")
	r.ch = r.connect(r.database)
	r.t.Cleanup(func() { r.ch.Close() })
}

func (r *rig) connect(db string) driver.Conn {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr: []string{r.chAddr},
		Auth: clickhouse.Auth{Database: db, Username: r.chUser, Password: r.chPass},
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return conn
}

func (r *rig) config() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	r.httpAddr = ln.Addr().String()
	ln.Close()
	r.cfgPath = filepath.Join(r.dir, "driftwatch.yml")
	r.logPath = filepath.Join(r.dir, "driftwatch.log")
	cfg := fmt.Sprintf(`
kafka:
  brokers: [%q]
  topic: %q
  dead_letter_topic: %q
  group: %q
  max_future: 0s
  max_poll_records: 500              # many polls, so that offsets are committed as windows close
  session_timeout: 6s                # a killed member's partitions move after 6 s, not 45
labels:
  topic: %q
  dead_letter_topic: %q
windows:
  allowed_lateness: %s
baselines:
  dir: %q
sinks:
  clickhouse:
    enabled: true
    addr: [%q]
    database: %q
    username: %q
    password_env: DRIFTWATCH_TEST_CH_PASSWORD
    dial_timeout: 2s
    commit_timeout: 10s
  retry:
    initial: 200ms
    max: 2s
http:
  listen: %q
%slog:
  level: info
%s`, r.brokers[0], r.topic, r.dlq, r.group, r.labelsTopic, r.labelsTopic+".dlq", faultLateness, filepath.Join(r.dir, "baselines"), r.chAddr, r.database, r.chUser, r.httpAddr, r.httpYAML, r.alertsYAML)
	if r.scaleOut {
		// Every instance active; fold transactions every 100 ms; a killed
		// instance's open transaction aborted after 5 s (the broker looks
		// for expired ones every 10 s).
		cfg = strings.Replace(cfg, "  session_timeout: 6s", "  session_timeout: 6s\n  scale_out:\n    enabled: true\n    flush_interval: 100ms\n    transaction_timeout: 5s", 1)
	}
	if err := os.WriteFile(r.cfgPath, []byte(cfg), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// produce sends the records of the given windows (hash-partitioned by
// prediction id, as a serving stack would) and remembers where each landed.
func (r *rig) produce(windows ...int) {
	if err := r.send(r.prod, r.windowRecords(windows), r.msgs); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) windowRecords(windows []int) []*kgo.Record {
	var recs []*kgo.Record
	for i := range r.msgs {
		if !r.msgs[i].Label && slices.Contains(windows, r.msgs[i].Window) {
			recs = append(recs, &kgo.Record{Topic: r.topic, Key: r.msgs[i].Key, Value: r.msgs[i].Value, Context: context.WithValue(context.Background(), msgKey{}, i)})
		}
	}
	return recs
}

// produceClosers sends closersPerPartition closing records to each
// partition.
func (r *rig) produceClosers() {
	var recs []*kgo.Record
	for i, m := range r.closers {
		recs = append(recs, &kgo.Record{Topic: r.topic, Partition: int32(i % r.partitions), Key: m.Key, Value: m.Value, Context: context.WithValue(context.Background(), msgKey{}, i)})
	}
	if err := r.send(r.manual, recs, r.closers); err != nil {
		r.t.Fatal(err)
	}
}

type msgKey struct{}

// send produces recs (whose contexts index msgs) and records where each
// landed. It may run on any goroutine.
func (r *rig) send(cl *kgo.Client, recs []*kgo.Record, msgs []synth.Message) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := cl.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		return fmt.Errorf("produce %d records to %s: %w", len(recs), r.topic, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, pr := range res {
		i := pr.Record.Context.Value(msgKey{}).(int)
		r.produced[pr.Record.Partition] = append(r.produced[pr.Record.Partition], producedRecord{pr.Record.Offset, msgs[i]})
	}
	for p := range r.produced {
		slices.SortFunc(r.produced[p], func(a, b producedRecord) int { return int(a.offset - b.offset) })
	}
	return nil
}

// lateLabels reports whether the scenario sends labels on their own topic.
func (r *rig) lateLabels() bool {
	return slices.ContainsFunc(r.msgs, func(m synth.Message) bool { return m.Label })
}

// produceLabels sends late labels (hash-partitioned by prediction id) and
// remembers where each landed.
func (r *rig) produceLabels(msgs []synth.Message) {
	r.t.Helper()
	recs := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		recs[i] = &kgo.Record{Topic: r.labelsTopic, Key: m.Key, Value: m.Value}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := r.prod.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		r.t.Fatalf("produce %d labels: %v", len(recs), err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.labelsAt == nil {
		r.labelsAt = make(map[int32]map[int64]string)
	}
	for _, pr := range res {
		if r.labelsAt[pr.Record.Partition] == nil {
			r.labelsAt[pr.Record.Partition] = make(map[int64]string)
		}
		r.labelsAt[pr.Record.Partition][pr.Record.Offset] = string(pr.Record.Key)
	}
}

// storedLabels returns the prediction ids of the labels table.
func (r *rig) storedLabels(ctx context.Context) (map[string]bool, error) {
	rs, err := r.ch.Query(ctx, "SELECT prediction_id FROM labels")
	if err != nil {
		if strings.Contains(err.Error(), "doesn't exist") {
			return map[string]bool{}, nil
		}
		return nil, err
	}
	defer rs.Close()
	out := make(map[string]bool)
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rs.Err()
}

// waitLabels waits until the labels table holds n distinct labels: their
// batches, and the rows they changed, are committed.
func (r *rig) waitLabels(d *daemon, n int) {
	r.t.Helper()
	deadline := time.Now().Add(faultTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = r.checkCommitted(ctx)
		got, err := r.storedLabels(ctx)
		cancel()
		if err != nil {
			r.t.Fatalf("read labels: %v", err)
		}
		if len(got) >= n {
			return
		}
		if d.exited() {
			r.t.Fatalf("driftwatch exited (%v) with %d of %d labels stored; log:\n%s", d.err, len(got), n, r.logTail())
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d of %d labels stored after %s; log:\n%s", len(got), n, faultTimeout, r.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// daemon is one `driftwatch run` process.
type daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func (r *rig) start() *daemon { return r.startWith(r.cfgPath) }

// startWith starts `driftwatch run` with the config file cfgPath.
func (r *rig) startWith(cfgPath string) *daemon {
	r.t.Helper()
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		r.t.Fatal(err)
	}
	fmt.Fprintf(logf, "=== start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(os.Args[0], "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(), childEnv+"=1", "DRIFTWATCH_TEST_CH_PASSWORD="+r.chPass)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	d := &daemon{cmd: cmd, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		logf.Close()
		close(d.done)
	}()
	r.t.Cleanup(func() { d.signal(syscall.SIGKILL) })
	return d
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// signal sends sig and waits for the process to end.
func (d *daemon) signal(sig syscall.Signal) error {
	if d.exited() {
		return d.err
	}
	_ = d.cmd.Process.Signal(sig)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	return d.err
}

// logTail returns the end of the daemons' log, for failure messages.
// finish waits for the n windows and the dead letters, stops d, and checks
// the committed offsets and the rows against replay: the end of every
// scenario that completes.
func (r *rig) finish(d *daemon, n int) {
	r.t.Helper()
	r.waitWindows(d, n)
	r.waitDeadLetters(d)
	r.stop(d)
	r.mustCheckCommitted()
	r.verify()
}

// stop ends d with SIGTERM, as an operator would, and fails the test if
// it does not exit cleanly.
func (r *rig) stop(d *daemon) {
	r.t.Helper()
	if err := d.signal(syscall.SIGTERM); err != nil {
		r.t.Fatalf("driftwatch run ended with %v after SIGTERM; log:\n%s", err, r.logTail())
	}
}

func (r *rig) logTail() string {
	b, _ := os.ReadFile(r.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

type windowID struct {
	model, version string
	start          time.Time
}

// windowsPresent returns the windows with rows in drift_metrics.
func (r *rig) windowsPresent(ctx context.Context) (map[windowID]bool, error) {
	rows, err := r.ch.Query(ctx, "SELECT model, model_version, window_start FROM drift_metrics GROUP BY model, model_version, window_start")
	if err != nil {
		if strings.Contains(err.Error(), "doesn't exist") {
			return map[windowID]bool{}, nil // not migrated yet
		}
		return nil, err
	}
	defer rows.Close()
	out := make(map[windowID]bool)
	for rows.Next() {
		var w windowID
		if err := rows.Scan(&w.model, &w.version, &w.start); err != nil {
			return nil, err
		}
		w.start = w.start.UTC()
		out[w] = true
	}
	return out, rows.Err()
}

// waitWindows waits until drift_metrics holds at least n data windows,
// checking the committed offsets as it goes.
func (r *rig) waitWindows(d *daemon, n int) {
	r.t.Helper()
	deadline := time.Now().Add(faultTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = r.checkCommitted(ctx) // best effort while waiting; the tests end with mustCheckCommitted
		got, err := r.windowsPresent(ctx)
		cancel()
		if err != nil {
			r.t.Fatalf("read windows: %v", err)
		}
		if len(got) >= n {
			return
		}
		if d.exited() {
			r.t.Fatalf("driftwatch exited (%v) with %d of %d windows committed; log:\n%s", d.err, len(got), n, r.logTail())
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d of %d windows committed after %s; log:\n%s", len(got), n, faultTimeout, r.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitDeadLetters waits until dead_letters holds every bad record produced
// (the audit is written apart from windows, and retried on its own).
func (r *rig) waitDeadLetters(d *daemon) {
	r.t.Helper()
	want := 0
	r.mu.Lock()
	for _, prs := range r.produced {
		for _, pr := range prs {
			if pr.msg.Bad {
				want++
			}
		}
	}
	r.mu.Unlock()
	deadline := time.Now().Add(faultTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got, err := r.auditedDeadLetters(ctx)
		cancel()
		if err == nil && len(got) >= want {
			return
		}
		if d.exited() {
			r.t.Fatalf("driftwatch exited (%v) with %d of %d dead letters audited; log:\n%s", d.err, len(got), want, r.logTail())
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d of %d dead letters audited after %s (%v); log:\n%s", len(got), want, faultTimeout, err, r.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkCommitted reads the group's committed offsets, then the windows in
// ClickHouse (in that order: rows durable when the offsets were read are
// still there), and fails the test if any record below a committed offset
// is in a window ClickHouse does not hold, or, for a record that breaks the
// contract, is not in the dead-letter topic. It returns an error when it
// could not check (the group coordinator is still loading, ClickHouse is
// down in the outage test); callers that must check retry.
func (r *rig) checkCommitted(ctx context.Context) error {
	r.t.Helper()
	if r.scaleOut {
		// Scaled out, a committed source offset means the records before
		// it are in committed deltas of the partials topic, not yet in
		// ClickHouse: the rows' equality with replay is the check.
		return nil
	}
	offsets, err := r.adm.FetchOffsets(ctx, r.group)
	if err == nil {
		err = offsets.Error()
	}
	if err != nil {
		return fmt.Errorf("fetch committed offsets of %s: %w", r.group, err)
	}
	present, err := r.windowsPresent(ctx)
	if err != nil {
		return fmt.Errorf("read windows from clickhouse: %w", err)
	}
	audited, err := r.auditedDeadLetters(ctx)
	if err != nil {
		return fmt.Errorf("read dead_letters from clickhouse: %w", err)
	}
	labels, err := r.storedLabels(ctx)
	if err != nil {
		return fmt.Errorf("read labels from clickhouse: %w", err)
	}
	var dead map[string]bool
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks++
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.Topic == r.labelsTopic && o.Err == nil {
			for off, id := range r.labelsAt[o.Partition] {
				if off < o.At && !labels[id] {
					r.t.Errorf("labels partition %d committed at %d, but the label at %d (%s) is not in ClickHouse", o.Partition, o.At, off, id)
				}
			}
			return
		}
		if o.Topic != r.topic || o.Err != nil {
			return
		}
		for _, pr := range r.produced[o.Partition] {
			if pr.offset >= o.At {
				break
			}
			r.checked++
			m := pr.msg
			if m.Bad {
				if dead == nil {
					dead = r.deadLetters(ctx)
				}
				if src := fmt.Sprintf("%s/%d@%d", r.topic, o.Partition, pr.offset); !dead[src] {
					r.t.Errorf("partition %d committed at %d, but the bad record at %d is not in %s", o.Partition, o.At, pr.offset, r.dlq)
				} else if !audited[src] {
					r.t.Errorf("partition %d committed at %d, but the bad record at %d is not in dead_letters", o.Partition, o.At, pr.offset)
				}
				continue
			}
			w := windowID{m.Model, r.version(m.Model), m.Time.Truncate(r.scen.Window)}
			if !present[w] {
				r.t.Errorf("partition %d committed at %d, but the record at %d belongs to window %s %s, not in ClickHouse", o.Partition, o.At, pr.offset, w.model, w.start.Format(time.RFC3339))
				return
			}
		}
	})
	return nil
}

// mustCheckCommitted checks the committed offsets, retrying for up to 30 s
// until the check can be made.
func (r *rig) mustCheckCommitted() {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := r.checkCommitted(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("could not check committed offsets: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (r *rig) version(model string) string {
	for _, m := range r.scen.Models {
		if m.Name == model {
			return m.Version
		}
	}
	return ""
}

// auditedDeadLetters returns the sources (topic/partition@offset) in
// ClickHouse's dead_letters, each once, failing the test on a duplicate.
func (r *rig) auditedDeadLetters(ctx context.Context) (map[string]bool, error) {
	rows, err := r.ch.Query(ctx, "SELECT topic, kafka_partition, kafka_offset FROM dead_letters FINAL")
	if err != nil {
		if strings.Contains(err.Error(), "doesn't exist") {
			return map[string]bool{}, nil
		}
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]bool)
	for rows.Next() {
		var topic string
		var p int32
		var o int64
		if err := rows.Scan(&topic, &p, &o); err != nil {
			return nil, err
		}
		src := fmt.Sprintf("%s/%d@%d", topic, p, o)
		if out[src] {
			r.t.Errorf("dead letter %s twice in dead_letters FINAL", src)
		}
		out[src] = true
	}
	return out, rows.Err()
}

// deadLetters reads the dead-letter topic and returns the sources
// (topic/partition@offset) of the records in it.
func (r *rig) deadLetters(ctx context.Context) map[string]bool {
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.brokers...), kgo.ConsumeTopics(r.dlq), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		r.t.Fatal(err)
	}
	defer cl.Close()
	ends, err := r.adm.ListEndOffsets(ctx, r.dlq)
	if err != nil {
		r.t.Fatal(err)
	}
	want := int64(0)
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })
	out := make(map[string]bool)
	for n := int64(0); n < want; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			r.t.Fatalf("read %s: %d of %d records: %v", r.dlq, n, want, ctx.Err())
		}
		fs.EachRecord(func(rec *kgo.Record) {
			n++
			for _, h := range rec.Headers {
				if h.Key == consumer.HeaderSource {
					out[string(h.Value)] = true
				}
			}
		})
	}
	return out
}

// rowKey identifies a drift_metrics row (ReplacingMergeTree's key).
func rowKey(x drift.Row) string {
	return fmt.Sprintf("%s %s %s %s %s %s", x.Model, x.ModelVersion, x.WindowStart.Format(time.RFC3339), x.Family, x.Subject, x.Metric)
}

// rowText is a row as CONTRACT.md section 3 writes it, for failure messages.
func rowText(x drift.Row) string {
	b, _ := json.Marshal(x)
	return string(b)
}

// replay runs `driftwatch replay` over every produced record, in production
// order, and returns its rows of the data windows.
func (r *rig) replay() []drift.Row {
	t := r.t
	var in, labels bytes.Buffer
	for _, m := range append(slices.Clone(r.msgs), r.closers...) {
		to := &in
		if m.Label {
			to = &labels
		}
		to.Write(m.Value)
		to.WriteByte('\n')
	}
	inPath, outPath := filepath.Join(r.dir, "replay.in.jsonl"), filepath.Join(r.dir, "replay.out.jsonl")
	if err := os.WriteFile(inPath, in.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"replay", "--config", r.cfgPath, "--input", inPath, "--output", outPath, "--quiet"}
	if labels.Len() > 0 {
		labelsPath := filepath.Join(r.dir, "replay.labels.jsonl")
		if err := os.WriteFile(labelsPath, labels.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--labels", labelsPath)
	}
	var out, errOut bytes.Buffer
	if code := cli.Main(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("replay: %s", errOut.String())
	}
	f, err := os.Open(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []drift.Row
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var x drift.Row
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			t.Fatal(err)
		}
		if x.WindowStart.Before(r.dataEnd) {
			rows = append(rows, x)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// stored returns drift_metrics' rows of the data windows as dashboards read
// them (FINAL: the newest version of each key), and how many raw rows there
// are, counting versions not yet merged away.
func (r *rig) stored() (rows []drift.Row, raw uint64, rewritten int) {
	t := r.t
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := `SELECT model, model_version, window_start, window_end, family, subject, metric, value, p_value,
		threshold, drifted, severity, n_current, n_reference, baseline_id, threshold_source, mde, deciding
		FROM drift_metrics FINAL WHERE window_start < ?`
	rs, err := r.ch.Query(ctx, q, r.dataEnd)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var x drift.Row
		var drifted, deciding uint8
		if err := rs.Scan(&x.Model, &x.ModelVersion, &x.WindowStart, &x.WindowEnd, &x.Family, &x.Subject, &x.Metric, &x.Value, &x.PValue,
			&x.Threshold, &drifted, &x.Severity, &x.NCurrent, &x.NReference, &x.BaselineID, &x.ThresholdSource, &x.MDE, &deciding); err != nil {
			t.Fatal(err)
		}
		x.WindowStart, x.WindowEnd, x.Drifted, x.Primary = x.WindowStart.UTC(), x.WindowEnd.UTC(), drifted == 1, deciding == 1
		rows = append(rows, x)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.ch.QueryRow(ctx, "SELECT count() FROM drift_metrics WHERE window_start < ?", r.dataEnd).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	// Windows written more than once: more than one insert version.
	var n uint64
	if err := r.ch.QueryRow(ctx, `SELECT count() FROM (SELECT model, model_version, window_start FROM drift_metrics
		WHERE window_start < ? GROUP BY model, model_version, window_start HAVING uniqExact(inserted_at) > 1)`, r.dataEnd).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return rows, raw, int(n)
}

// verify compares ClickHouse with replay and logs the figures.
func (r *rig) verify() {
	t := r.t
	want := r.replay()
	got, raw, rewritten := r.stored()
	wantWindows, gotWindows := map[windowID]int{}, map[windowID]int{}
	for _, x := range want {
		wantWindows[windowID{x.Model, x.ModelVersion, x.WindowStart}]++
	}
	keys := map[string]int{}
	for _, x := range got {
		gotWindows[windowID{x.Model, x.ModelVersion, x.WindowStart}]++
		keys[rowKey(x)]++
	}
	dup := 0
	for _, n := range keys {
		if n > 1 {
			dup++
		}
	}
	t.Logf("windows expected %d, present %d, duplicated as read (FINAL) %d, written more than once %d; rows expected %d, present %d (%d raw, before merges); offsets checked %d times, %d records below them verified",
		len(wantWindows), len(gotWindows), dup, rewritten, len(want), len(got), raw, r.checks, r.checked)
	if want := r.scen.Windows * len(r.scen.Models); len(wantWindows) != want {
		t.Errorf("replay produced %d windows, want %d", len(wantWindows), want)
	}
	if dup > 0 {
		t.Errorf("%d metric rows appear more than once in drift_metrics FINAL", dup)
	}
	byKey := make(map[string]drift.Row, len(got))
	for _, x := range got {
		byKey[rowKey(x)] = x
	}
	bad := 0
	for _, w := range want {
		g, ok := byKey[rowKey(w)]
		switch {
		case !ok:
			t.Errorf("missing in ClickHouse: %s", rowText(w))
		case w.Family == drift.FamilyConcept && w.Subject == "error_stream" && r.lateLabels():
			// The detectors read errors as labels arrive, so their change
			// points depend on the arrival order; each error is read once.
			if g.NCurrent == w.NCurrent {
				delete(byKey, rowKey(w))
				continue
			}
			t.Errorf("detector fed %d errors, replay's %d:\n clickhouse %s\n replay     %s", g.NCurrent, w.NCurrent, rowText(g), rowText(w))
		case !sameRow(g, w):
			t.Errorf("differs from replay:\n clickhouse %s\n replay     %s", rowText(g), rowText(w))
		default:
			delete(byKey, rowKey(w))
			continue
		}
		if bad++; bad >= 10 {
			t.Fatal("stopping after 10 differences")
		}
		delete(byKey, rowKey(w))
	}
	for _, x := range byKey {
		t.Errorf("in ClickHouse but not in replay: %s", rowText(x))
	}
	r.verifySummaries()
	audited, err := r.auditedDeadLetters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	nbad := 0
	for _, prs := range r.produced {
		for _, pr := range prs {
			if pr.msg.Bad {
				nbad++
			}
		}
	}
	t.Logf("dead letters produced %d, in dead_letters %d", nbad, len(audited))
	if len(audited) != nbad {
		t.Errorf("%d dead letters audited, %d bad records produced", len(audited), nbad)
	}
	var nb uint64
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.ch.QueryRow(ctx, "SELECT count() FROM baselines FINAL").Scan(&nb); err != nil {
		t.Fatal(err)
	}
	if int(nb) != len(r.scen.Models) {
		t.Errorf("%d baselines recorded, want %d", nb, len(r.scen.Models))
	}
}

// verifySummaries checks that window_summaries holds each data window once,
// with the number of good, distinct records produced for it.
func (r *rig) verifySummaries() {
	t := r.t
	want := map[windowID]int64{}
	for _, m := range r.msgs {
		if !m.Bad && !m.Duplicate && !m.Label && m.Time.Before(r.dataEnd) {
			want[windowID{m.Model, r.version(m.Model), m.Time.Truncate(r.scen.Window)}]++
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rs, err := r.ch.Query(ctx, "SELECT model, model_version, window_start, records FROM window_summaries FINAL WHERE window_start < ?", r.dataEnd)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	got := map[windowID]int64{}
	for rs.Next() {
		var w windowID
		var n int64
		if err := rs.Scan(&w.model, &w.version, &w.start, &n); err != nil {
			t.Fatal(err)
		}
		w.start = w.start.UTC()
		if _, dup := got[w]; dup {
			t.Errorf("window %s %s@%s summarized twice", w.model, w.version, w.start.Format(time.RFC3339))
		}
		got[w] = n
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	for w, n := range want {
		if got[w] != n {
			t.Errorf("window %s %s@%s: summary says %d records, %d were produced", w.model, w.version, w.start.Format(time.RFC3339), got[w], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d window summaries, want %d", len(got), len(want))
	}
}

func sameRow(a, b drift.Row) bool {
	eqp := func(x, y *float64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	ap, bp, am, bm := a.PValue, b.PValue, a.MDE, b.MDE
	a.PValue, b.PValue, a.MDE, b.MDE = nil, nil, nil, nil
	return a == b && eqp(ap, bp) && eqp(am, bm)
}

// TestEndToEndMatchesReplay runs known-drift records through the real
// broker into the real ClickHouse and compares every row with replay.
func TestEndToEndMatchesReplay(t *testing.T) {
	r := newRig(t, "")
	r.produce(seq(r.scen.Windows)...)
	r.produceClosers()
	d := r.start()
	r.finish(d, r.scen.Windows*len(r.scen.Models))
}

// TestLateLabelsEndToEnd sends labels on their own topic, 1 to 48 hours
// after their predictions (event time), for half of the fraud model's
// predictions, whose truth flips from window 6 on: the labels stamped
// before the data's end are produced with the predictions (the job reads
// some before their prediction and holds them, others after), the rest
// once every window is committed, half before and half after the job is
// SIGKILLed. ClickHouse ends as replay --labels has it: every row of every
// window, the label, concept and fairness rows in their newest version.
func TestLateLabelsEndToEnd(t *testing.T) {
	r := newRigWith(t, "", lateLabelScenario)
	early, late := r.labelsByTime()
	began := time.Now()
	phase := func(what string) { t.Logf("%6.1fs %s", time.Since(began).Seconds(), what) }
	r.produce(seq(r.scen.Windows)...)
	r.produceLabels(early)
	r.produceClosers()
	d := r.start()
	total := r.scen.Windows * len(r.scen.Models)
	r.waitWindows(d, total)
	phase("every window committed")
	r.waitLabels(d, len(early))
	phase("early labels stored")
	r.produceLabels(late[:len(late)/2])
	r.waitLabels(d, len(early)+len(late)/2)
	phase("first half of the late labels stored")
	_ = d.signal(syscall.SIGKILL)
	r.mustCheckCommitted()
	d = r.start()
	r.waitLog("late-label join read back", 2) // once per start
	phase("restarted, join read back")
	r.produceLabels(late[len(late)/2:])
	r.waitLabels(d, len(early)+len(late))
	phase("every label stored")
	r.waitDeadLetters(d)
	r.stop(d)
	r.mustCheckCommitted()
	t.Logf("labels: %d produced with the predictions, %d after every window closed (%d before the SIGKILL, %d after the restart)",
		len(early), len(late), len(late)/2, len(late)-len(late)/2)
	r.verify()
}

// lateLabelScenario labels half of the binary model's predictions, 1 to
// 48 hours after them (event time), and flips their truth from window 6 on.
func lateLabelScenario(s *synth.Config) {
	for i := range s.Models {
		if len(s.Models[i].Classes) == 2 {
			m := &s.Models[i]
			m.LabelShare, m.FlipLabelsFrom, m.LabelDelay = 0.5, 6, [2]time.Duration{time.Hour, 48 * time.Hour}
		}
	}
}

// labelsByTime splits the scenario's labels into those stamped before the
// data's end and those after.
func (r *rig) labelsByTime() (early, late []synth.Message) {
	for _, m := range r.msgs {
		switch {
		case !m.Label:
		case m.Time.Before(r.dataEnd):
			early = append(early, m)
		default:
			late = append(late, m)
		}
	}
	if len(early) == 0 || len(late) < 2 {
		r.t.Fatalf("%d labels before the data's end, %d after: the scenario has no late labels", len(early), len(late))
	}
	return early, late
}

// TestSIGKILLMidStream kills the job while records are arriving and windows
// are being committed, checks the offsets it left, restarts it, and checks
// that every window ends up in ClickHouse exactly once, as replay has it.
func TestSIGKILLMidStream(t *testing.T) {
	r := newRig(t, "")
	total := r.scen.Windows * len(r.scen.Models)
	r.produce(0, 1, 2, 3)
	d := r.start()
	r.waitWindows(d, 4)
	sent := make(chan error, 1)
	go func() { sent <- r.send(r.prod, r.windowRecords([]int{4, 5, 6, 7, 8, 9}), r.msgs) }() // arriving while the job runs
	r.waitWindows(d, 8)
	_ = d.signal(syscall.SIGKILL)
	r.mustCheckCommitted()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before, _ := r.windowsPresent(ctx)
	t.Logf("killed with %d of %d windows committed", len(before), total)
	d = r.start()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	r.produceClosers()
	r.finish(d, total)
}

// TestClickHouseOutage stops a ClickHouse server of the test's own for 30 s
// while records arrive: the job must report itself not ready, stop
// committing offsets, keep its memory bounded, and catch up once the server
// is back, with every window present exactly once.
func TestClickHouseOutage(t *testing.T) {
	testservers.ClickHouseEnv(t, testservers.ClickHouseGate) // the shared server implies the package is installed
	ch := newPrivateClickHouse(t)
	ch.run(t, "start")
	r := newRig(t, ch.addr)
	total := r.scen.Windows * len(r.scen.Models)
	r.produce(0, 1, 2, 3)
	d := r.start()
	r.waitWindows(d, 4)

	rssBefore := rss(d.cmd.Process.Pid)
	ch.run(t, "stop")
	stopped := time.Now()
	r.produce(4, 5, 6, 7, 8, 9)
	r.produceClosers()
	var (
		notReady   bool
		maxRSS     int64
		committed  = map[int32]int64{}
		advanced   bool
		sawFailure time.Time
	)
	for time.Since(stopped) < 30*time.Second {
		if d.exited() {
			t.Fatalf("driftwatch exited during the outage: %v; log:\n%s", d.err, r.logTail())
		}
		if code := r.readyz(); code == http.StatusServiceUnavailable {
			if !notReady {
				sawFailure = time.Now()
			}
			notReady = true
		}
		maxRSS = max(maxRSS, rss(d.cmd.Process.Pid))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		offsets, err := r.adm.FetchOffsets(ctx, r.group)
		cancel()
		if err == nil {
			offsets.Each(func(o kadm.OffsetResponse) {
				if o.Topic != r.topic {
					return
				}
				// Once the sink is known to fail, nothing may be committed.
				if prev, ok := committed[o.Partition]; ok && o.At > prev && !sawFailure.IsZero() && time.Since(sawFailure) > 2*time.Second {
					advanced = true
				}
				committed[o.Partition] = o.At
			})
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !notReady {
		t.Error("/readyz never reported 503 while ClickHouse was down")
	}
	if advanced {
		t.Error("offsets were committed while ClickHouse was down")
	}
	ch.run(t, "start")
	r.ch.Close()
	r.ch = r.connect(r.database)
	recovered := time.Now()
	r.waitWindows(d, total)
	r.waitDeadLetters(d)
	t.Logf("ClickHouse down %s while %d records arrived: /readyz 503 %v, offsets frozen %v, RSS %d MiB before, %d MiB at most during; caught up %s after it returned",
		recovered.Sub(stopped).Round(time.Second), len(r.windowRecords([]int{4, 5, 6, 7, 8, 9}))+len(r.closers), notReady, !advanced,
		rssBefore>>20, maxRSS>>20, time.Since(recovered).Round(100*time.Millisecond))
	if code := r.readyz(); code != http.StatusOK {
		t.Errorf("/readyz %d after catching up, want 200", code)
	}
	r.stop(d)
	r.mustCheckCommitted()
	r.verify()
}

func (r *rig) readyz() int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + r.httpAddr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// rss is a process's resident set size in bytes (0 when unknown).
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// privateClickHouse is a ClickHouse server of one test, started and stopped
// with deploy/servers/clickhouse.sh on ports of its own.
type privateClickHouse struct {
	addr string
	env  []string
}

func newPrivateClickHouse(t *testing.T) *privateClickHouse {
	ports := freePorts(t, 3)
	ch := &privateClickHouse{
		addr: fmt.Sprintf("127.0.0.1:%d", ports[0]),
		env: append(os.Environ(),
			"DRIFTWATCH_CLICKHOUSE_DIR="+filepath.Join(t.TempDir(), "clickhouse"),
			fmt.Sprintf("DRIFTWATCH_CLICKHOUSE_TCP_PORT=%d", ports[0]),
			fmt.Sprintf("DRIFTWATCH_CLICKHOUSE_HTTP_PORT=%d", ports[1]),
			fmt.Sprintf("DRIFTWATCH_CLICKHOUSE_TLS_PORT=%d", ports[2]),
		),
	}
	t.Cleanup(func() { _ = ch.exec("stop") })
	return ch
}

func (ch *privateClickHouse) exec(verb string) error {
	cmd := exec.Command("bash", "../../deploy/servers/clickhouse.sh", verb)
	cmd.Env = ch.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("clickhouse.sh %s: %w\n%s", verb, err, out)
	}
	return nil
}

func (ch *privateClickHouse) run(t *testing.T, verb string) {
	t.Helper()
	if err := ch.exec(verb); err != nil {
		t.Fatal(err)
	}
}

func freePorts(t *testing.T, n int) []int {
	var out []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// waitLog waits until the daemons' log holds n lines containing s.
func (r *rig) waitLog(s string, n int) {
	r.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		b, _ := os.ReadFile(r.logPath)
		if strings.Count(string(b), s) >= n {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%q logged %d times after a minute, want %d; log:\n%s", s, strings.Count(string(b), s), n, r.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRebalanceHandOver runs two instances in one group: a second instance
// joining makes the group rebalance (the owner gives up its partitions,
// gets them back and re-reads what it had not committed); the owner then
// stops and the standby takes over mid-stream. Every window must still be
// in ClickHouse once, as replay has it, and no offset ahead of its rows.
func TestRebalanceHandOver(t *testing.T) {
	r := newRig(t, "")
	total := r.scen.Windows * len(r.scen.Models)
	r.produce(0, 1, 2, 3)
	first := r.start()
	r.waitWindows(first, 4)
	cfg, err := os.ReadFile(r.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg2 := filepath.Join(r.dir, "second.yml")
	if err := os.WriteFile(cfg2, bytes.Replace(cfg, []byte(r.httpAddr), []byte("127.0.0.1:0"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	second := r.startWith(cfg2)         // joins: rebalance; it stands by
	r.waitLog("partitions assigned", 2) // the owner's again, after the rebalance
	r.produce(4, 5, 6)
	r.waitWindows(first, 12)
	if err := first.signal(syscall.SIGTERM); err != nil { // leaves: the standby takes over
		t.Fatalf("first instance ended with %v; log:\n%s", err, r.logTail())
	}
	r.mustCheckCommitted()
	r.waitLog("partitions assigned", 3) // the standby's
	r.produce(7, 8, 9)
	r.produceClosers()
	r.waitWindows(second, total)
	r.waitDeadLetters(second)
	if err := second.signal(syscall.SIGTERM); err != nil {
		t.Fatalf("second instance ended with %v; log:\n%s", err, r.logTail())
	}
	r.mustCheckCommitted()
	r.verify()
	log, _ := os.ReadFile(r.logPath)
	assigned, revoked := strings.Count(string(log), "partitions assigned"), strings.Count(string(log), "partitions revoked")
	t.Logf("assignments %d, revocations %d, window commits %d over both instances", assigned, revoked, strings.Count(string(log), "window committed"))
	if assigned != 3 || revoked != 3 { // the rebalance, and each instance leaving
		t.Errorf("assignments %d, revocations %d: want the first instance's, the rebalance's and the takeover's; log:\n%s", assigned, revoked, log)
	}
}
