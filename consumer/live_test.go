package consumer

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
)

// With a Live set, each task is decoded with the set current when its
// decoding starts: a model whose baseline is swapped in is decoded from
// the next task on, with the new baseline's features.
func TestRouterFollowsLiveBaselines(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	old := scanBaseline()
	live := baselines.NewLive(map[string]*baselines.Baseline{"other": testBaseline()})
	r := newRouter(mem, routerConfig{Live: live, Decoders: 1})
	defer r.release()
	round := 0
	decode := func() (accepted int64, batches []Batch) {
		t.Helper()
		tk := r.newTasks(1)[0]
		tk.values = allocRecords(3)
		for i, v := range tk.values { // new prediction ids, past the duplicate filter
			tk.values[i] = bytes.Replace(v, []byte(`"prediction_id":"p`), fmt.Appendf(nil, `"prediction_id":"r%d-p`, round), 1)
		}
		round++
		before := r.counts.Accepted
		r.decode([]*task{tk})
		r.settle(tk, nil)
		return r.counts.Accepted - before, r.flush(time.Time{})
	}
	if n, _ := decode(); n != 0 {
		t.Fatalf("%d records of fraud accepted before fraud had a baseline", n)
	}
	live.Swap(map[string]*baselines.Baseline{"fraud": old}, time.Time{})
	n, batches := decode()
	if n != 3 || len(batches) != 1 || batches[0].Baseline != old {
		t.Fatalf("after the swap: %d accepted, %d batches", n, len(batches))
	}
	batches[0].Rec.Release()
	swapped := testBaseline() // fewer features
	swapped.ID = "b2"
	live.Swap(map[string]*baselines.Baseline{"fraud": swapped}, time.Time{})
	_, batches = decode()
	if len(batches) != 1 || batches[0].Baseline != swapped || int(batches[0].Rec.NumCols()) != FirstFeatureCol+len(swapped.Features) {
		t.Fatalf("after the second swap: batches %+v", batches)
	}
	batches[0].Rec.Release()
}
