package main

import (
	"context"
	"syscall"
	"testing"
	"time"
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
	r.produce(0, 1, 2, 3)
	ds := []*daemon{r.start(), r.start(), r.start()}
	r.waitWindows(ds[0], 4)
	sent := make(chan error, 1)
	go func() { sent <- r.send(r.prod, r.windowRecords([]int{4, 5, 6, 7, 8, 9}), r.msgs) }() // arriving while the jobs run
	r.waitWindows(ds[0], 8)
	_ = ds[1].signal(syscall.SIGKILL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before, _ := r.windowsPresent(ctx)
	t.Logf("one of three killed with %d of %d windows committed", len(before), total)
	ds = append(ds, r.start())
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	r.produceClosers()
	r.waitWindows(ds[0], total)
	r.waitDeadLetters(ds[0])
	for _, d := range []*daemon{ds[0], ds[2], ds[3]} {
		r.stop(d)
	}
	r.verify()
}
