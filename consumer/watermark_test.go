package consumer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
)

// TestEventClockIsTheKthNewest: the clock is the (outliers+1)-th newest
// event time read, whatever the order, zero until that many were read, and
// never goes back.
func TestEventClockIsTheKthNewest(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(1, 2))
	for _, outliers := range []int{0, 1, 3, 100} {
		c := eventClock{outliers: outliers}
		var seen []time.Time
		var last time.Time
		for i := range 2000 {
			ts := t0.Add(time.Duration(i)*time.Second + time.Duration(r.IntN(600)-300)*time.Second)
			if i%97 == 0 {
				ts = ts.Add(14 * time.Hour)
			}
			c.observe(ts)
			seen = append(seen, ts)
			slices.SortFunc(seen, func(a, b time.Time) int { return b.Compare(a) })
			var want time.Time
			if len(seen) > outliers {
				want = seen[outliers]
			}
			if got := c.mark(); !got.Equal(want) {
				t.Fatalf("outliers %d, after %d records: clock %v, want the %d-th newest %v", outliers, i+1, got, outliers+1, want)
			}
			if c.mark().Before(last) {
				t.Fatalf("outliers %d: clock went back from %v to %v", outliers, last, c.mark())
			}
			last = c.mark()
			if !c.newest.Equal(seen[0]) {
				t.Fatalf("outliers %d: newest %v, want %v", outliers, c.newest, seen[0])
			}
		}
	}
}

// TestPartitionClocksIgnoreOutliers: with outliers 2, two records 14 h
// ahead in every partition move no watermark, a third in one partition
// moves only that partition's clock, and a partition must deliver three
// good records before the watermark moves; idleness is unchanged: an idle
// partition stops holding the watermark back, and once every partition is
// idle the watermark is the newest event time read, the records ahead
// included.
func TestPartitionClocksIgnoreOutliers(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	c := newPartitionClocks(time.Minute, 2, func() time.Time { return now })
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	ahead := t0.Add(14 * time.Hour)
	c.assign([]int32{0, 1})
	for i := range 2 {
		c.observe(0, t0.Add(time.Duration(i)*time.Minute), true)
		c.observe(1, t0.Add(time.Duration(i)*time.Minute), true)
	}
	if wm := c.watermark(); !wm.IsZero() {
		t.Fatalf("watermark %v after two records per partition, want none before three", wm)
	}
	c.observe(0, t0.Add(2*time.Minute), true)
	c.observe(1, t0.Add(3*time.Minute), true)
	if wm := c.watermark(); !wm.Equal(t0) {
		t.Fatalf("watermark %v, want the oldest partition clock, the third newest of partition 0: %v", wm, t0)
	}
	for _, p := range []int32{0, 1} {
		c.observe(p, ahead, true)
		c.observe(p, ahead.Add(time.Minute), true)
	}
	// Each partition's third newest is now its newest record before them.
	if wm := c.watermark(); !wm.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("watermark %v after two records 14 h ahead per partition, want %v", wm, t0.Add(2*time.Minute))
	}
	c.observe(0, ahead.Add(2*time.Minute), true) // a third ahead in partition 0: its clock moves
	c.observe(1, t0.Add(10*time.Minute), true)
	if wm := c.watermark(); !wm.Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("watermark %v, want partition 1's clock %v", wm, t0.Add(10*time.Minute))
	}
	// Partition 1 falls silent: partition 0 alone holds the watermark.
	now = now.Add(time.Minute)
	c.observe(0, t0.Add(20*time.Minute), true)
	if wm := c.watermark(); !wm.Equal(ahead) {
		t.Fatalf("watermark %v with partition 1 idle, want partition 0's clock %v", wm, ahead)
	}
	now = now.Add(time.Hour) // everything idle: nothing is arriving
	if wm := c.watermark(); !wm.Equal(ahead.Add(2 * time.Minute)) {
		t.Fatalf("watermark %v with every partition idle, want the newest read %v", wm, ahead.Add(2*time.Minute))
	}
}

// TestFileSourceIgnoresOutliers: replay's file source follows the same
// rule, one partition: records ahead move no batch's watermark, and the
// last batch carries the newest time read, as an idle Kafka source does.
func TestFileSourceIgnoresOutliers(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	ahead := t0.Add(14 * time.Hour)
	var lines []string
	for i := range 400 {
		lines = append(lines, line(fmt.Sprint("r", i), "fraud", t0.Add(time.Duration(i)*time.Second), 1.0, "DE"))
		if i%50 == 10 { // 8 records ahead
			lines = append(lines, line(fmt.Sprint("ahead", i), "fraud", ahead.Add(time.Duration(i)*time.Second), 1.0, "DE"))
		}
	}
	for _, tc := range []struct {
		outliers int
		// the range of the largest watermark of the batches before the last
		from, to time.Time
	}{
		{outliers: 8, from: t0.Add(390 * time.Second), to: t0.Add(400 * time.Second)}, // follows the data, not the records ahead
		{outliers: 0, from: ahead, to: ahead.Add(400 * time.Second)},                  // the old rule: the newest
	} {
		src := NewFileSource(mem, strings.NewReader(strings.Join(lines, "\n")), "in.jsonl", FileConfig{
			Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, BatchRecords: 20, WatermarkOutliers: tc.outliers,
		})
		out := make(chan Batch, 100)
		if err := src.Run(context.Background(), out); err != nil {
			t.Fatal(err)
		}
		var wms []time.Time
		for b := range out {
			wms = append(wms, b.Watermark)
			b.Ack(nil)
			b.Rec.Release()
		}
		last := wms[len(wms)-1]
		if !last.Equal(ahead.Add(360 * time.Second)) {
			t.Errorf("outliers %d: last watermark %v, want the newest time read %v", tc.outliers, last, ahead.Add(360*time.Second))
		}
		var top time.Time
		for _, wm := range wms[:len(wms)-1] {
			if wm.After(top) {
				top = wm
			}
		}
		if top.Before(tc.from) || !top.Before(tc.to) {
			t.Errorf("outliers %d: batches before the last reached watermark %v, want it in [%v, %v)", tc.outliers, top, tc.from, tc.to)
		}
	}
}

// BenchmarkEventClock: the cost per good record of the default clock (100
// outliers) on times that mostly increase, as a partition delivers them.
func BenchmarkEventClock(b *testing.B) {
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	times := make([]time.Time, 4096)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range times {
		times[i] = t0.Add(time.Duration(i)*time.Second + time.Duration(r.IntN(60))*time.Second)
	}
	c := eventClock{outliers: 100}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.observe(times[i%len(times)].Add(time.Duration(i/len(times)) * time.Hour * 2))
		i++
	}
}
