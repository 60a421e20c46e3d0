package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/driftwatch/driftwatch/bench/internal/daemon"
	"github.com/driftwatch/driftwatch/bench/workload"
	"github.com/driftwatch/driftwatch/consumer"
)

// Polling periods of a timed run.
const (
	scrapeEvery  = 20 * time.Millisecond // /metrics of each instance
	offsetsEvery = 40 * time.Millisecond // the group's committed offsets
)

// Throughput is the result of throughput mode.
type Throughput struct {
	Topic          string     `json:"topic"`
	Records        int        `json:"records"`
	Bytes          int64      `json:"bytes"`
	ProduceSeconds float64    `json:"produce_seconds"`
	Runs           []TimedRun `json:"runs"`
}

// TimedRun is one consumption of the whole topic by a fresh group.
type TimedRun struct {
	Round     int   `json:"round"`
	Instances int   `json:"instances"`
	Pinned    []int `json:"pinned_cpus"` // nil: unpinned
	// ServersOn are the CPUs the broker and ClickHouse were confined to
	// (taskset -a) during the run; nil: all.
	ServersOn []int     `json:"servers_cpus,omitempty"`
	Startup   float64   `json:"startup_seconds"` // from the start of the processes to the first record read
	Seconds   float64   `json:"seconds"`         // from the first record read to the offsets committed at the end
	Records   int64     `json:"records"`
	Rate      float64   `json:"records_per_second"`
	CPU       []float64 `json:"instance_cpu_seconds"`           // each instance's over Seconds
	Wait      []float64 `json:"instance_runqueue_wait_seconds"` // each instance's time runnable but waiting for its CPU, over Seconds
	Broker    float64   `json:"broker_cpu_seconds"`
	CH        float64   `json:"clickhouse_cpu_seconds"`
	Self      float64   `json:"bench_cpu_seconds"`        // this process's (scrapes, offset polls)
	Machine   float64   `json:"machine_busy_cpu_seconds"` // all CPUs' busy time over Seconds, whoever used it
	Aborts    float64   `json:"fold_aborts"`              // fold transactions aborted by rebalances
	MergeLag  int64     `json:"merge_lag_at_end"`         // records of <group>-partials not yet merged at the end
	Windows   float64   `json:"windows_closed_at_end"`
	Read      []float64 `json:"instance_records_read"` // driftwatch_consumer_records_total of each at the end: above Records in all, records read again
	// The same from the moment the group settled (every instance owns
	// partitions of the topic and all are assigned; after the first record
	// read), counting the records not committed by then: the rate without
	// the instances' join.
	Settle      float64 `json:"settle_seconds"` // from the first record read
	SettledRecs int64   `json:"settled_records"`
	SettledSecs float64 `json:"settled_seconds"`
	SettledRate float64 `json:"settled_records_per_second"`
}

// throughput produces the topic and times the rounds.
func (e *env) throughput(ctx context.Context) (*Throughput, error) {
	topic, drop, err := e.createTopics(ctx, "t")
	if err != nil {
		return nil, err
	}
	defer drop()
	t := &Throughput{Topic: topic, Records: e.knobs.Records}
	start := time.Now()
	if t.Bytes, err = workload.Produce(ctx, e.brokers, topic, e.knobs.Seed, e.knobs.Records); err != nil {
		return nil, err
	}
	t.ProduceSeconds = time.Since(start).Seconds()
	logf("produced %d records (%d bytes) to %s in %.1f s", e.knobs.Records, t.Bytes, topic, t.ProduceSeconds)
	end, err := e.endOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	// Each round: one instance on CPU 0, the same with the servers
	// confined to CPU 0 too (the whole deployment on one core, as the two
	// instances' run has it on two), and two instances on CPUs 0 and 1.
	kinds := []struct{ cpus, servers []int }{{[]int{0}, nil}, {[]int{0}, []int{0}}, {[]int{0, 1}, nil}}
	for r := 1; r <= e.knobs.Rounds; r++ {
		for _, k := range kinds {
			run, err := e.confinedRun(ctx, topic, end, k.cpus, k.servers)
			if err != nil {
				return t, fmt.Errorf("round %d, %d instances, servers on %v: %w", r, len(k.cpus), k.servers, err)
			}
			run.Round = r
			t.Runs = append(t.Runs, run)
			logf("round %d, %d instance(s) on cpus %v, servers on %v: %.0f records/s in %.2f s; instance cpu %v s, broker %.2f s, clickhouse %.2f s",
				r, run.Instances, k.cpus, k.servers, run.Rate, run.Seconds, run.CPU, run.Broker, run.CH)
		}
	}
	return t, nil
}

// confinedRun is timedRun with the broker and ClickHouse confined to the
// CPUs servers (nil: left alone) for its duration.
func (e *env) confinedRun(ctx context.Context, topic string, end map[int32]int64, cpus, servers []int) (TimedRun, error) {
	if servers != nil {
		if err := e.pinServers(servers); err != nil {
			return TimedRun{}, err
		}
		defer func() {
			if err := e.pinServers(nil); err != nil {
				fmt.Fprintln(os.Stderr, "scaleout bench:", err)
			}
		}()
	}
	run, err := e.timedRun(ctx, topic, end, cpus)
	run.ServersOn = servers
	return run, err
}

// pinServers sets the CPU affinity of every thread of the broker and
// ClickHouse to cpus (nil: every CPU of the machine).
func (e *env) pinServers(cpus []int) error {
	list := fmt.Sprintf("0-%d", runtime.NumCPU()-1)
	if cpus != nil {
		parts := make([]string, len(cpus))
		for i, c := range cpus {
			parts[i] = strconv.Itoa(c)
		}
		list = strings.Join(parts, ",")
	}
	for _, pid := range []int{e.pids.Kafka, e.pids.ClickHouse} {
		if out, err := exec.Command("taskset", "-a", "-p", "-c", list, strconv.Itoa(pid)).CombinedOutput(); err != nil {
			return fmt.Errorf("taskset -a -p -c %s %d: %v: %s", list, pid, err, out)
		}
	}
	return nil
}

// timedRun starts one instance per entry of cpus (pinned to it; -1:
// unpinned) in a fresh group and database and times them reading topic up
// to end.
func (e *env) timedRun(ctx context.Context, topic string, end map[int32]int64, cpus []int) (TimedRun, error) {
	group := e.name("g")
	db, dropDB, err := e.createDatabase(ctx)
	if err != nil {
		return TimedRun{}, err
	}
	defer dropDB()
	defer e.deleteTopics(consumer.PartialsTopic(group))
	defer e.deleteGroups(group, consumer.MergeGroup(group))
	ds, stopAll, err := e.startInstances(topic, group, db, cpus, e.knobs.ThroughputFlush, e.knobs.ThroughputWindow)
	defer stopAll()
	if err != nil {
		return TimedRun{}, err
	}
	var total int64
	for _, o := range end {
		total += o
	}
	run := TimedRun{Instances: len(cpus), Records: total, CPU: make([]float64, len(ds))}
	if cpus[0] >= 0 {
		run.Pinned = cpus
	}
	started := time.Now()
	deadline := started.Add(e.timeout)
	var (
		first     time.Time
		cpu0      []float64
		wait0     []float64
		broker0   float64
		ch0       float64
		self0     float64
		machine0  float64
		lastPoll  time.Time
		settled   time.Time
		settledAt int64 // committed offsets when the group settled
		odd       bool
	)
	for {
		if err := ctx.Err(); err != nil {
			return run, err
		}
		for i, d := range ds {
			if err := d.Exited(); err != nil {
				return run, fmt.Errorf("instance %d exited: %v; its log:\n%s", i, err, d.LogTail(3000))
			}
		}
		now := time.Now()
		if now.After(deadline) {
			return run, fmt.Errorf("the group did not commit the topic's end offsets within %s; log of instance 0:\n%s", e.timeout, ds[0].LogTail(3000))
		}
		if first.IsZero() {
			var read float64
			for _, d := range ds {
				if m, err := d.Scrape(); err == nil {
					read += m["driftwatch_consumer_records_total"]
				}
			}
			if read > 0 {
				first = time.Now()
				cpu0, wait0 = cpuOf(ds), waitOf(ds)
				broker0, ch0, self0 = daemon.CPUSeconds(e.pids.Kafka), daemon.CPUSeconds(e.pids.ClickHouse), daemon.CPUSeconds(os.Getpid())
				machine0 = daemon.MachineBusySeconds()
				run.Startup = first.Sub(started).Seconds()
			}
		} else if now.Sub(lastPoll) >= offsetsEvery && settled.IsZero() && odd {
			// Alternate with the offsets poll, until the group settled.
			lastPoll, odd = now, false
			ok, err := e.settled(ctx, group, topic, len(ds))
			if err != nil {
				return run, err
			}
			if ok {
				settled = time.Now()
				c, err := e.committed(ctx, group, topic)
				if err != nil {
					return run, err
				}
				for _, o := range c {
					settledAt += o
				}
			}
		} else if now.Sub(lastPoll) >= offsetsEvery {
			lastPoll, odd = now, true
			done, err := e.committedAll(ctx, group, topic, end)
			if err != nil {
				return run, err
			}
			if done {
				stop := time.Now()
				cpu1, wait1 := cpuOf(ds), waitOf(ds)
				run.Broker = daemon.CPUSeconds(e.pids.Kafka) - broker0
				run.CH = daemon.CPUSeconds(e.pids.ClickHouse) - ch0
				run.Self = daemon.CPUSeconds(os.Getpid()) - self0
				run.Machine = daemon.MachineBusySeconds() - machine0
				run.Wait = make([]float64, len(ds))
				for i := range ds {
					run.CPU[i] = cpu1[i] - cpu0[i]
					run.Wait[i] = wait1[i] - wait0[i]
				}
				run.Seconds = stop.Sub(first).Seconds()
				run.Rate = float64(total) / run.Seconds
				if settled.IsZero() || !settled.After(first) {
					settled, settledAt = first, 0
				}
				run.Settle = settled.Sub(first).Seconds()
				run.SettledRecs = total - settledAt
				run.SettledSecs = stop.Sub(settled).Seconds()
				run.SettledRate = float64(run.SettledRecs) / run.SettledSecs
				run.Read = make([]float64, len(ds))
				for i, d := range ds {
					if m, err := d.Scrape(); err == nil {
						run.Aborts += m["driftwatch_fold_aborts_total"]
						run.Windows += m["driftwatch_windows_closed_total"]
						run.Read[i] = m["driftwatch_consumer_records_total"]
					}
				}
				if run.MergeLag, err = e.lag(ctx, consumer.MergeGroup(group), consumer.PartialsTopic(group)); err != nil {
					return run, err
				}
				return run, nil
			}
		}
		time.Sleep(scrapeEvery)
	}
}

// settled says whether n members of group own partitions of topic and
// every partition of it is assigned.
func (e *env) settled(ctx context.Context, group, topic string, n int) (bool, error) {
	owners, parts, err := e.owners(ctx, group, topic)
	return owners == n && parts == Partitions, err
}

// owners returns how many members of group own partitions of topic, and
// how many partitions of it they own together.
func (e *env) owners(ctx context.Context, group, topic string) (owners, parts int, err error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	gs, err := e.adm.DescribeGroups(ctx, group)
	if err != nil {
		return 0, 0, fmt.Errorf("describe group %s: %w", group, err)
	}
	for _, m := range gs[group].Members {
		if a, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range a.Topics {
				if t.Topic == topic && len(t.Partitions) > 0 {
					owners++
					parts += len(t.Partitions)
				}
			}
		}
	}
	return owners, parts, nil
}

// startInstances starts one instance per entry of cpus and returns them
// with a function that stops them all (safe to call on failure).
func (e *env) startInstances(topic, group, db string, cpus []int, flush, window time.Duration) ([]*daemon.Daemon, func(), error) {
	var ds []*daemon.Daemon
	stopAll := func() {
		for i, d := range ds {
			if err := d.Stop(); err != nil {
				fmt.Fprintf(os.Stderr, "stop instance %d: %v\n", i, err)
			}
		}
	}
	for i, cpu := range cpus {
		dir := filepath.Join(e.work, fmt.Sprintf("%s-%d", group, i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return ds, stopAll, err
		}
		d, err := daemon.Start(daemon.Options{Bin: e.bin, Dir: dir, Config: e.instanceConfig(topic, group, db, flush, window), CPU: cpu})
		if err != nil {
			return ds, stopAll, fmt.Errorf("instance %d: %w", i, err)
		}
		ds = append(ds, d)
	}
	return ds, stopAll, nil
}

func cpuOf(ds []*daemon.Daemon) []float64 { return perPid(ds, daemon.CPUSeconds) }

func waitOf(ds []*daemon.Daemon) []float64 { return perPid(ds, daemon.RunqueueWaitSeconds) }

func perPid(ds []*daemon.Daemon, f func(pid int) float64) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = f(d.Pid)
	}
	return out
}

// endOffsets returns the end offset of each partition of topic.
func (e *env) endOffsets(ctx context.Context, topic string) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	lo, err := e.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	out := make(map[int32]int64)
	lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}

// committed returns group's committed offset of each partition of topic
// (absent: nothing committed).
func (e *env) committed(ctx context.Context, group, topic string) (map[int32]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	rs, err := e.adm.FetchOffsets(ctx, group)
	if err == nil {
		err = rs.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("fetch the committed offsets of group %s: %w", group, err)
	}
	out := make(map[int32]int64)
	rs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.At >= 0 {
			out[o.Partition] = o.At
		}
	})
	return out, nil
}

// committedAll says whether group has committed end on every partition
// of topic.
func (e *env) committedAll(ctx context.Context, group, topic string, end map[int32]int64) (bool, error) {
	c, err := e.committed(ctx, group, topic)
	if err != nil {
		return false, err
	}
	for p, o := range end {
		if c[p] < o {
			return false, nil
		}
	}
	return true, nil
}

// lag is the records of topic group has not committed: the sum over the
// partitions of the end offset minus the committed one (0 when none).
func (e *env) lag(ctx context.Context, group, topic string) (int64, error) {
	end, err := e.endOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	c, err := e.committed(ctx, group, topic)
	if err != nil {
		return 0, err
	}
	var lag int64
	for p, o := range end {
		lag += max(o-c[p], 0)
	}
	return lag, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}
