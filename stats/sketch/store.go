package sketch

// store holds the counts of one sign's logarithmic buckets in a dense window
// of at most maxBuckets slots, collapsing the lowest indices (the smallest
// magnitudes) into one bucket when the non-empty range would exceed
// maxBuckets.
//
// Invariants when n > 0: lo <= hi, counts[lo-offset] > 0 and
// counts[hi-offset] > 0, every slot outside [lo, hi] is zero, and
// hi-lo+1 <= maxBuckets. If collapsed, bucket lo holds every value whose
// index is <= lo, and lo == hi-maxBuckets+1 or the range was folded onto
// lo when an index above hi arrived.
//
// The state is a function of the multiset of indices added (order and
// grouping do not matter): with M the largest index ever added and
// F = M-maxBuckets+1, indices below F are counted at F and the rest where
// they are. Adding a new maximum only raises F, and counts folded onto an
// old floor are folded again onto the new one.
type store struct {
	counts     []uint64 // counts[i-offset] is the count of bucket i
	offset     int
	lo, hi     int
	n          uint64
	maxBuckets int
	collapsed  bool
}

// add counts c > 0 values at bucket idx. It allocates only when the window
// must grow; once the window spans the data's range it never allocates.
func (s *store) add(idx int, c uint64) {
	if s.n == 0 {
		s.ensure(idx, idx)
		s.lo, s.hi = idx, idx
	} else if idx > s.hi {
		var folded uint64
		if floor := idx - s.maxBuckets + 1; floor > s.lo {
			for i := s.lo; i <= min(s.hi, floor-1); i++ {
				folded += s.counts[i-s.offset]
				s.counts[i-s.offset] = 0
			}
			s.lo = floor
			s.collapsed = true
		}
		s.ensure(s.lo, idx)
		s.counts[s.lo-s.offset] += folded
		s.hi = idx
	} else if idx < s.lo {
		if floor := s.hi - s.maxBuckets + 1; idx < floor {
			idx = floor
			s.collapsed = true
		}
		if idx < s.lo {
			s.ensure(idx, s.hi)
			s.lo = idx
		}
	}
	s.counts[idx-s.offset] += c
	s.n += c
}

// ensure makes the window cover [lo, hi] (hi-lo+1 <= maxBuckets), keeping
// the counts of every bucket in both the old and the new window. Counts of
// buckets outside the new window must be zero.
func (s *store) ensure(lo, hi int) {
	if len(s.counts) > 0 && lo >= s.offset && hi < s.offset+len(s.counts) {
		return
	}
	need := hi - lo + 1
	size := len(s.counts)
	dst := s.counts
	if need > size {
		size = min(max(2*need, 64), s.maxBuckets)
		dst = make([]uint64, size)
	}
	// Centre [lo, hi] in the window, leaving room to grow on both sides.
	off := lo - (size-need)/2
	if &dst[0] != firstOrNil(s.counts) {
		// Fresh slice: copy the overlap of the old window.
		a, b := max(s.offset, off), min(s.offset+len(s.counts), off+size)
		if a < b {
			copy(dst[a-off:b-off], s.counts[a-s.offset:b-s.offset])
		}
	} else {
		// Same slice: move the overlap (copy is a memmove), clear the rest.
		a, b := max(s.offset, off), min(s.offset+size, off+size)
		if a < b {
			copy(dst[a-off:b-off], s.counts[a-s.offset:b-s.offset])
			clear(dst[:a-off])
			clear(dst[b-off:])
		} else {
			clear(dst)
		}
	}
	s.counts, s.offset = dst, off
}

func firstOrNil(c []uint64) *uint64 {
	if len(c) == 0 {
		return nil
	}
	return &c[0]
}

// merge adds every count of o (same maxBuckets) to s. It visits o's buckets
// from the highest index down, so s collapses at most once.
func (s *store) merge(o *store) {
	if o.n == 0 {
		return
	}
	for i := o.hi; i >= o.lo; i-- {
		if c := o.counts[i-o.offset]; c > 0 {
			s.add(i, c)
		}
	}
	s.collapsed = s.collapsed || o.collapsed
}

// at returns the count of bucket i.
func (s *store) at(i int) uint64 {
	if s.n == 0 || i < s.lo || i > s.hi {
		return 0
	}
	return s.counts[i-s.offset]
}

// reset empties the store, keeping its window for reuse.
func (s *store) reset() {
	if s.n > 0 {
		clear(s.counts[s.lo-s.offset : s.hi-s.offset+1])
	}
	s.n, s.lo, s.hi, s.collapsed = 0, 0, 0, false
}
