package consumer

import (
	"math/rand/v2"
	"testing"
)

// TestIDSetMatchesModel checks the duplicate filter against a map and a
// queue of the last max ids: the same answer for every add, through the
// table's growth and many evictions, with hashes crowded into few home
// slots so that runs are long and removals shift them.
func TestIDSetMatchesModel(t *testing.T) {
	for _, max := range []int{1, 7, 1000, 5000} {
		rng := rand.New(rand.NewPCG(uint64(max), 1))
		s := newIDSet(max)
		model := map[idHash]bool{}
		var queue []idHash
		for i := range 60_000 {
			// A small universe, so ids come back both while remembered and
			// after they were forgotten; one slot in eight a home, so runs
			// are long and interleave.
			x := rng.Uint64N(4*uint64(max) + 3)
			h := idHash{x * 0x9E3779B97F4A7C15 &^ 7, x % 3}
			if i%1000 == 0 {
				h = idHash{} // the empty slot's mark, as an id's hash
			}
			want := !model[normalize(h)]
			if want {
				model[normalize(h)] = true
				queue = append(queue, normalize(h))
				if len(queue) > max {
					delete(model, queue[0])
					queue = queue[1:]
				}
			}
			if got := s.add(h); got != want {
				t.Fatalf("max %d, add %d (%x): new = %v, want %v", max, i, h, got, want)
			}
			if s.n != len(model) {
				t.Fatalf("max %d, after add %d: %d hashes in the table, want %d", max, i, s.n, len(model))
			}
		}
		if 2*s.n > len(s.slots) {
			t.Errorf("max %d: table %d slots for %d hashes: more than half full", max, len(s.slots), s.n)
		}
	}
}

func normalize(h idHash) idHash {
	if h == (idHash{}) {
		h[1] = 1
	}
	return h
}

// BenchmarkIDSet adds distinct ids to a full filter: a look-up, an
// eviction and an insert each.
func BenchmarkIDSet(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	hs := make([]idHash, 1<<20)
	for i := range hs {
		hs[i] = idHash{rng.Uint64(), rng.Uint64()}
	}
	s := newIDSet(DefaultDedupCapacity)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.add(hs[i&(len(hs)-1)])
	}
}
