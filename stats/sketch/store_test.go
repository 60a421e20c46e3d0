package sketch

import (
	"math/rand/v2"
	"testing"
)

// TestStoreMatchesReference compares the dense collapsing store with a map
// that applies the documented collapse rule to the final multiset.
func TestStoreMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := range 300 {
		maxB := 2 + r.IntN(100)
		st := store{maxBuckets: maxB}
		var idx []int
		center := r.IntN(2000) - 1000
		spread := 1 + r.IntN(300)
		for range r.IntN(500) {
			i := center + r.IntN(spread) - spread/2
			idx = append(idx, i)
			st.add(i, 1)
		}
		if len(idx) == 0 {
			continue
		}
		hi := idx[0]
		for _, i := range idx {
			hi = max(hi, i)
		}
		floor := hi - maxB + 1
		want := map[int]uint64{}
		for _, i := range idx {
			want[max(i, floor)]++
		}
		for i := floor - 5; i <= hi+5; i++ {
			if got := st.at(i); got != want[i] {
				t.Fatalf("trial %d (maxB %d): bucket %d = %d, want %d", trial, maxB, i, got, want[i])
			}
		}
		if st.n != uint64(len(idx)) {
			t.Fatalf("n = %d, want %d", st.n, len(idx))
		}
	}
}
