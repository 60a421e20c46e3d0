package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/consumer"
)

// TestScaleOutMatchesReplay runs three `driftwatch run` processes scaled out
// on a 12-partition topic (each model's records on every partition), kills
// one with SIGKILL while records arrive and windows close, adds a fourth,
// and checks that ClickHouse ends with every row of every window, column
// by column, as one `replay` of the same records writes them, each once;
// and every dead letter once.
func TestScaleOutMatchesReplay(t *testing.T) {
	r := buildRig(t, "", nil, 12, true)
	total := r.scen.Windows * len(r.scen.Models)
	start := r.anyPort()
	r.produce(0, 1, 2, 3)
	ds := []*daemon{start(), start(), start()}
	r.waitWindows(ds[0], 4)
	r.waitShared(r.group, r.topic, 3)
	r.waitShared(consumer.MergeGroup(r.group), consumer.PartialsTopic(r.group), 3)
	sent := make(chan error, 1)
	go func() { sent <- r.send(r.prod, r.windowRecords([]int{4, 5, 6, 7, 8, 9}), r.msgs) }() // arriving while the jobs run
	r.waitWindows(ds[0], 8)
	_ = ds[1].signal(syscall.SIGKILL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before, _ := r.windowsPresent(ctx)
	t.Logf("one of three killed with %d of %d windows committed", len(before), total)
	ds = append(ds, start())
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	r.produceClosers()
	r.waitWindows(ds[0], total)
	r.waitDeadLetters(ds[0])
	r.checkScaleOutMetrics()
	for _, d := range []*daemon{ds[0], ds[2], ds[3]} {
		r.stop(d)
	}
	r.verify()
}

// checkScaleOutMetrics scrapes every instance still serving /metrics (their
// addresses are in the log) and checks that together they report the
// fold's transactions and the merge's deltas, and serve the internal
// topic's lag and size.
func (r *rig) checkScaleOutMetrics() {
	r.t.Helper()
	b, err := os.ReadFile(r.logPath)
	if err != nil {
		r.t.Fatal(err)
	}
	sum := map[string]float64{}
	served := 0
	for _, m := range regexp.MustCompile(`msg="serving metrics" addr=(\S+)`).FindAllStringSubmatch(string(b), -1) {
		ms, err := scrapeMetrics(m[1])
		if err != nil {
			continue // the killed instance's
		}
		served++
		for k, v := range ms {
			sum[k] += v
		}
	}
	lag := fmt.Sprintf(`driftwatch_kafka_consumer_lag_records{group=%q,topic=%q}`, consumer.MergeGroup(r.group), consumer.PartialsTopic(r.group))
	size := fmt.Sprintf(`driftwatch_kafka_topic_size_bytes{topic=%q}`, consumer.PartialsTopic(r.group))
	_, hasLag := sum[lag]
	_, hasSize := sum[size]
	r.t.Logf("%d instances serve /metrics: fold commits %.0f, aborts %.0f; deltas written %.0f, merged %.0f; marks %.0f",
		served, sum["driftwatch_fold_commits_total"], sum["driftwatch_fold_aborts_total"], sum["driftwatch_partials_deltas_total"],
		sum[`driftwatch_merge_partials_records_total{kind="delta"}`], sum["driftwatch_partials_marks_total"])
	if served != 3 || sum["driftwatch_fold_commits_total"] == 0 || sum[`driftwatch_merge_partials_records_total{kind="delta"}`] == 0 ||
		sum["driftwatch_consumer_accepted_records_total"] == 0 || !hasLag || !hasSize {
		r.t.Errorf("scale-out metrics of %d instances: %v", served, sum)
	}
}

// waitShared waits until n members of group each own partitions of topic:
// the work is shared, not held by one with the others standing by.
func (r *rig) waitShared(group, topic string, n int) {
	r.t.Helper()
	deadline := time.Now().Add(faultTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		gs, err := r.adm.DescribeGroups(ctx, group)
		cancel()
		owners := 0
		if err == nil {
			for _, m := range gs[group].Members {
				if a, ok := m.Assigned.AsConsumer(); ok {
					for _, t := range a.Topics {
						if t.Topic == topic && len(t.Partitions) > 0 {
							owners++
						}
					}
				}
			}
		}
		if owners == n {
			r.t.Logf("%d members of %s share %s", n, group, topic)
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d members of %s own partitions of %s after %s, want %d (%v); log:\n%s", owners, group, topic, faultTimeout, n, err, r.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// anyPort returns a function that starts `driftwatch run` with r's config
// but /metrics on a port of its own, so that several run side by side.
func (r *rig) anyPort() func() *daemon {
	b, err := os.ReadFile(r.cfgPath)
	if err != nil {
		r.t.Fatal(err)
	}
	cfgPath := filepath.Join(r.dir, "driftwatch-any-port.yml")
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(string(b), strconv.Quote(r.httpAddr), `"127.0.0.1:0"`, 1)), 0o644); err != nil {
		r.t.Fatal(err)
	}
	return func() *daemon { return r.startWith(cfgPath) }
}

// TestScaleOutLateLabels is TestLateLabelsEndToEnd scaled out: three
// instances on a 12-partition topic join late labels (forwarded through
// the partials topic to the instance that merges their model), one is
// SIGKILLed after every window closed and half the late labels are in, a
// fourth joins, and the rest of the labels arrive: the join, read back
// from ClickHouse by the model's new owner, re-emits their windows, and
// ClickHouse ends as replay --labels has it.
func TestScaleOutLateLabels(t *testing.T) {
	r := buildRig(t, "", lateLabelScenario, 12, true)
	start := r.anyPort()
	early, late := r.labelsByTime()
	r.produce(seq(r.scen.Windows)...)
	r.produceLabels(early)
	r.produceClosers()
	ds := []*daemon{start(), start(), start()}
	total := r.scen.Windows * len(r.scen.Models)
	r.waitWindows(ds[0], total)
	r.waitLabels(ds[0], len(early))
	r.produceLabels(late[:len(late)/2])
	r.waitLabels(ds[0], len(early)+len(late)/2)
	_ = ds[1].signal(syscall.SIGKILL)
	ds = append(ds, start())
	r.produceLabels(late[len(late)/2:])
	r.waitLabels(ds[0], len(early)+len(late))
	r.waitDeadLetters(ds[0])
	for _, d := range []*daemon{ds[0], ds[2], ds[3]} {
		r.stop(d)
	}
	t.Logf("labels: %d produced with the predictions, %d after every window closed (%d before the SIGKILL, %d after)",
		len(early), len(late), len(late)/2, len(late)-len(late)/2)
	r.verify()
}
