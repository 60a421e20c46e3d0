package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/driftwatch/driftwatch/internal/synth"
)

// crashKills and crashLife are the crash loop: the job is SIGKILLed this
// many times, each time this long after it started consuming or committed
// a window.
const (
	crashKills = 10
	crashLife  = 2 * time.Second
)

// TestCrashLoopProgress kills `driftwatch run` 10 times while 100,000
// records arrive, one window's worth of each model before each life, then
// lets it finish. The first life is killed 2 s after it started consuming;
// each later one 2 s after it committed the window that its new records
// close. Offsets must be committed as soon as the rows behind them are
// durable, so that each short life moves the group forward: with only the
// client's 5-second autocommit, no life lasts long enough to commit, and
// every restart reads the topic again from the start. At the end every
// window is in ClickHouse once, as replay has it.
func TestCrashLoopProgress(t *testing.T) {
	r := newRigWith(t, "", func(s *synth.Config) { s.RecordsPerWindow = 5000 }) // 2 models x 10 windows
	if r.scen.Windows != crashKills {
		t.Fatalf("%d windows, want one per life (%d)", r.scen.Windows, crashKills)
	}
	// Static membership, as a StatefulSet runs the job: a restarted instance
	// takes its predecessor's partitions at once rather than waiting out the
	// killed one's session.
	cfg, err := os.ReadFile(r.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	group := fmt.Sprintf("  group: %q\n", r.group)
	cfg = bytes.Replace(cfg, []byte(group), []byte(group+fmt.Sprintf("  instance_id: %q\n", r.group+"-0")), 1)
	if err := os.WriteFile(r.cfgPath, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	records := len(r.closers)
	for _, m := range r.msgs {
		if !m.Label {
			records++
		}
	}

	began := time.Now()
	var (
		after    []int64         // records below the committed offsets after each kill
		starts   []int           // each life's start, in the log
		toEvent  []time.Duration // from each life's start to its event
		restarts int             // starts that ended by themselves
	)
	for i := range crashKills {
		r.produce(i) // closes window i-1
		consuming := strings.Count(r.log(), "msg=consuming")
		event := func(ctx context.Context) (bool, error) {
			if i == 0 {
				return strings.Count(r.log(), "msg=consuming") > consuming, nil
			}
			got, err := r.windowsPresent(ctx)
			return len(got) >= i*len(r.scen.Models), err
		}
		started := time.Now()
		d := r.start()
		for !r.until(d, event) {
			if restarts++; restarts > crashKills {
				t.Fatalf("driftwatch ended by itself %d times; log:\n%s", restarts, r.logTail())
			}
			t.Logf("life %d: driftwatch ended by itself (%v), restarted; its log:\n%s", i+1, d.err, r.lifeLog(strings.Count(r.log(), "=== start")-1))
			d = r.start()
		}
		starts = append(starts, strings.Count(r.log(), "=== start")-1)
		toEvent = append(toEvent, time.Since(started).Round(10*time.Millisecond))
		time.Sleep(crashLife) // the scenario: the job lives on this long
		if d.exited() {
			t.Fatalf("driftwatch exited by itself (%v) in life %d; log:\n%s", d.err, i+1, r.logTail())
		}
		_ = d.signal(syscall.SIGKILL)
		r.mustCheckCommitted()
		after = append(after, r.committedRecords())
	}
	loop := time.Since(began)
	t.Logf("records below the committed offsets after each of %d kills (of %d): %v; crash loop %s; from each start to its event: %v; %d starts ended by themselves",
		crashKills, records, after, loop.Round(100*time.Millisecond), toEvent, restarts)

	r.produceClosers() // closes the last window
	d := r.start()
	total := r.scen.Windows * len(r.scen.Models)
	r.waitWindows(d, total)
	r.waitDeadLetters(d)
	r.stop(d)
	t.Logf("finished %s after the last kill, %s in all", time.Since(began.Add(loop)).Round(100*time.Millisecond), time.Since(began).Round(100*time.Millisecond))
	r.mustCheckCommitted()
	r.verify()

	// Each life after the first committed a window 2 s before it was
	// killed: the offsets behind it must be committed by then.
	for i := 1; i < len(after); i++ {
		if after[i] <= after[i-1] {
			t.Errorf("life %d committed nothing: %d records below the committed offsets after it, %d before; its log:\n%s",
				i+1, after[i], after[i-1], r.lifeLog(starts[i]))
		}
	}
}

// until waits until event reports true, and then returns true, or until d
// ends, and then returns false. It checks the committed offsets as it goes.
func (r *rig) until(d *daemon, event func(context.Context) (bool, error)) bool {
	r.t.Helper()
	deadline := time.Now().Add(faultTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = r.checkCommitted(ctx)
		ok, err := event(ctx)
		cancel()
		if err != nil {
			r.t.Fatal(err)
		}
		if ok {
			return true
		}
		if d.exited() {
			return false
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no event after %s; log:\n%s", faultTimeout, r.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// committedRecords is the number of records of the predictions topic below
// the group's committed offsets.
func (r *rig) committedRecords() int64 {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	offsets, err := r.adm.FetchOffsets(ctx, r.group)
	if err == nil {
		err = offsets.Error()
	}
	if err != nil {
		r.t.Fatalf("fetch committed offsets of %s: %v", r.group, err)
	}
	var n int64
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.Topic == r.topic && o.At > 0 {
			n += o.At
		}
	})
	return n
}

// log returns the daemons' log.
func (r *rig) log() string {
	b, _ := os.ReadFile(r.logPath)
	return string(b)
}

// lifeLog returns the log of the i-th start (from 0) of the daemon.
func (r *rig) lifeLog(i int) string {
	lives := strings.Split(r.log(), "=== start ")
	if i+1 >= len(lives) {
		return ""
	}
	return lives[i+1]
}
