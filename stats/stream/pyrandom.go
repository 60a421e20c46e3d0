package stream

import (
	"math"
	"math/bits"
)

// pyRandom reproduces the integer draws of CPython's random.Random: the
// MT19937 generator of Matsumoto & Nishimura 1998 (ACM TOMACS 8(1)),
// seeded from an int by init_by_array over the 32-bit words of |seed|
// (Modules/_randommodule.c, random_seed), with getrandbits, _randbelow and
// sample as in Lib/random.py (CPython 3.11).
type pyRandom struct {
	mt  [624]uint32
	mti int
}

const (
	mtN       = 624
	mtM       = 397
	mtMatrixA = 0x9908b0df
	mtUpper   = 0x80000000
	mtLower   = 0x7fffffff
)

func (r *pyRandom) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < mtN; i++ {
		r.mt[i] = 1812433253*(r.mt[i-1]^(r.mt[i-1]>>30)) + uint32(i)
	}
	r.mti = mtN
}

func (r *pyRandom) initByArray(key []uint32) {
	r.initGenrand(19650218)
	i, j := 1, 0
	k := max(mtN, len(key))
	for ; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= mtN {
			r.mt[0] = r.mt[mtN-1]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k = mtN - 1; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= mtN {
			r.mt[0] = r.mt[mtN-1]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
}

// seed matches random.Random(seed) for an int seed: the key is |seed|
// split into little-endian 32-bit words, at least one.
func (r *pyRandom) seed(seed int64) {
	u := uint64(seed)
	if seed < 0 {
		u = -u
	}
	key := [2]uint32{uint32(u), uint32(u >> 32)}
	n := 1
	if key[1] != 0 {
		n = 2
	}
	r.initByArray(key[:n])
}

func (r *pyRandom) uint32() uint32 {
	if r.mti >= mtN {
		var kk int
		for kk = 0; kk < mtN-mtM; kk++ {
			y := (r.mt[kk] & mtUpper) | (r.mt[kk+1] & mtLower)
			r.mt[kk] = r.mt[kk+mtM] ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
		}
		for ; kk < mtN-1; kk++ {
			y := (r.mt[kk] & mtUpper) | (r.mt[kk+1] & mtLower)
			r.mt[kk] = r.mt[kk+(mtM-mtN)] ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
		}
		y := (r.mt[mtN-1] & mtUpper) | (r.mt[0] & mtLower)
		r.mt[mtN-1] = r.mt[mtM-1] ^ (y >> 1) ^ (-(y & 1) & mtMatrixA)
		r.mti = 0
	}
	y := r.mt[r.mti]
	r.mti++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// randBelow is random._randbelow_with_getrandbits for 0 < n < 2^32:
// rejection sampling of getrandbits(n.bit_length()).
func (r *pyRandom) randBelow(n int) int {
	k := bits.Len(uint(n))
	for {
		v := int(r.uint32() >> (32 - k))
		if v < n {
			return v
		}
	}
}

// sampleSetSize is random.sample's threshold between its two selection
// methods: 21, plus 4^⌈log₄(3k)⌉ when k > 5.
func sampleSetSize(k int) int {
	s := 21
	if k > 5 {
		s += 1 << (2 * int(math.Ceil(math.Log(float64(k*3))/math.Log(4))))
	}
	return s
}

// sample writes random.sample(range(n), len(out)) into out, consuming the
// generator exactly as CPython does. pool (len ≥ n) and seen (len ≥ n) are
// scratch space.
func (r *pyRandom) sample(n int, out, pool []int, seen []bool) {
	k := len(out)
	if n <= sampleSetSize(k) {
		pool = pool[:n]
		for i := range pool {
			pool[i] = i
		}
		for i := range k {
			j := r.randBelow(n - i)
			out[i] = pool[j]
			pool[j] = pool[n-i-1]
		}
		return
	}
	seen = seen[:n]
	clear(seen)
	for i := range k {
		j := r.randBelow(n)
		for seen[j] {
			j = r.randBelow(n)
		}
		seen[j] = true
		out[i] = j
	}
}

// degenerate reports whether r's generator state is the all-zero state,
// from which MT19937 outputs only zeros (random.sample would then loop
// forever). The state that the next regeneration reads is the top bit of
// mt[0] and all of mt[1:]; regeneration is a bijection on those 19937
// bits, so any other state stays on the generator's one full-period orbit.
// Seeding sets mt[0] = 0x80000000, so no seeded generator is degenerate.
func (r *pyRandom) degenerate() bool {
	if r.mt[0]&mtUpper != 0 {
		return false
	}
	for _, v := range r.mt[1:] {
		if v != 0 {
			return false
		}
	}
	return true
}
