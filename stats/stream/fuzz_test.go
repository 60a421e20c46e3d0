package stream

import (
	"encoding/binary"
	"math"
	"testing"
)

// Fuzz targets per entry point:
//
//	FuzzDetectors  NewADWIN, NewPageHinkley, NewDDM, NewEDDM, NewKSWIN and
//	               every detector's Update and Reset, with ADWIN.Width,
//	               Estimation, Total, Variance; PageHinkley.Mean;
//	               DDM.ErrorRate, Warning; EDDM.Warning; KSWIN.PValue,
//	               Statistic
//	FuzzConfigs    Default*Config, every *Config.Validate and New*'s
//	               documented panic on invalid configurations
//
// How FuzzDetectors decodes its input, and why. The first version read the
// stream as raw little-endian float64s, 8 bytes a value, with one fixed
// configuration per detector. Coverage-guided fuzzing then stalled after a
// few seconds: every new input the fuzzer kept was long (the detectors only
// reach new code after warm-ups, full windows and grown bucket rows, i.e.
// hundreds of values, thousands of bytes), and Go's fuzzer minimizes each
// new input before it goes on, trying O(len²) candidates
// (internal/fuzz/minimize.go removes every subrange) at a cost per
// candidate that grows with the length too, until -fuzzminimizetime (60s)
// runs out. Worse, removing one byte shifts every later float64, so almost
// no candidate kept the coverage and the minimizer walked all of them. The
// workers spent the run minimizing, at 0 execs/s. Raw bits were also a poor
// source of drift: random exponents make every value 1e±150-ish, one value
// dominates every mean, and the binary detectors need exact 0s and 1s.
//
// So now one byte is one value from an alphabet of binary, small-grid and
// special values, plus run-length opcodes that repeat the last value or the
// last eight values up to 2^12 times: a 20-byte input describes a stream of
// thousands of values with stationary segments and abrupt changes, a
// removed byte removes one value or one run, and both the input (at most
// maxOps bytes) and the stream (at most maxValues values) are capped, so an
// execution takes well under a millisecond and minimization seconds at
// most. A second input chooses each detector's configuration, so modes,
// clocks, bucket counts and window sizes are explored too.

const (
	maxOps    = 96   // stream bytes read per execution
	maxValues = 1024 // values per execution, repeats included
	rawEscape = 0xff // the 8 bytes after it are a raw float64
)

// specials are the values of bytes 0x80-0x8f: non-finite values, magnitudes
// whose sums or squares overflow, subnormals, and outliers.
var specials = [...]float64{
	math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e300, math.MaxFloat64, -math.MaxFloat64, 1e154,
	1e100, -1e100, 5e-324, math.Copysign(0, -1), 0.5, 2, 100, -100,
}

// decodeStream turns the ops in b into a stream of values:
//
//	0x00-0x3f  b&1: 0 or 1 (binary error streams)
//	0x40-0x7f  (b-0x40)/16 - 1: a grid on [-1, 2.9375] with many ties
//	0x80-0x8f  specials
//	0x90-0xcf  repeat the last value 2^(b&15 % 13) times
//	0xd0-0xfe  repeat the last 8 values 2^(b&15 % 9) times
//	0xff       a raw float64 from the next 8 bytes
func decodeStream(b []byte) []float64 {
	b = b[:min(len(b), maxOps)]
	var xs []float64
	for len(b) > 0 && len(xs) < maxValues {
		c := b[0]
		b = b[1:]
		switch {
		case c < 0x40:
			xs = append(xs, float64(c&1))
		case c < 0x80:
			xs = append(xs, float64(c-0x40)/16-1)
		case c < 0x90:
			xs = append(xs, specials[c-0x80])
		case c < 0xd0:
			if len(xs) > 0 {
				last := xs[len(xs)-1]
				for n := 1 << (int(c&15) % 13); n > 0 && len(xs) < maxValues; n-- {
					xs = append(xs, last)
				}
			}
		case c < rawEscape:
			k := min(len(xs), 8)
			tail := append([]float64(nil), xs[len(xs)-k:]...)
			for n := 1 << (int(c&15) % 9); n > 0 && k > 0 && len(xs) < maxValues; n-- {
				xs = append(xs, tail[:min(k, maxValues-len(xs))]...)
			}
		case len(b) >= 8:
			xs = append(xs, math.Float64frombits(binary.LittleEndian.Uint64(b)))
			b = b[8:]
		}
	}
	return xs
}

// cfgByte returns cfg[i], or 0 (the defaults) past its end.
func cfgByte(cfg []byte, i int) int {
	if i < len(cfg) {
		return int(cfg[i])
	}
	return 0
}

func pick[T any](choices []T, c int) T { return choices[c%len(choices)] }

// detectorsFrom builds one detector of each kind from cfg; byte 0 of each
// detector's group selects River's defaults when it is 0.
func detectorsFrom(cfg []byte) (*ADWIN, *PageHinkley, *DDM, *EDDM, *KSWIN) {
	c := func(i int) int { return cfgByte(cfg, i) }
	ac := DefaultADWINConfig()
	if c(0) != 0 {
		ac = ADWINConfig{
			Delta:           pick([]float64{0.002, 0.1, 0.5, 1e-9, 0.999}, c(0)),
			Clock:           pick([]int{1, 2, 32, 5}, c(1)),
			MaxBuckets:      1 + c(2)%6,
			MinWindowLength: 1 + c(3)%8,
			GracePeriod:     1 + c(4)%16,
		}
	}
	pc := DefaultPageHinkleyConfig()
	if c(5) != 0 {
		pc = PageHinkleyConfig{
			MinInstances: c(5) % 40,
			Delta:        pick([]float64{0.005, 0, -1, 0.5, 1e100, -1e100}, c(6)),
			Threshold:    pick([]float64{50, 1, 0, -1, 10, 1e300}, c(7)),
			Alpha:        pick([]float64{1 - 0.0001, 1, 0.5, 1e-9}, c(8)),
			Mode:         pick([]PageHinkleyMode{PageHinkleyBoth, PageHinkleyUp, PageHinkleyDown}, c(9)),
		}
	}
	dc := DefaultDDMConfig()
	if c(10) != 0 {
		dc = DDMConfig{
			WarmStart:        c(10) % 40,
			WarningThreshold: pick([]float64{2, 0, 1, -1, 1e300}, c(11)),
			DriftThreshold:   pick([]float64{3, 2, 0.5, -1e300}, c(12)),
		}
	}
	ec := DefaultEDDMConfig()
	if c(13) != 0 {
		ec = EDDMConfig{WarmStart: c(13) % 40, Alpha: pick([]float64{0.95, 1, 0.5, math.Inf(1)}, c(14))}
		ec.Beta = pick([]float64{0.9, 0.5, 0, -1, ec.Alpha}, c(15))
		ec.Beta = min(ec.Beta, ec.Alpha)
	}
	kc := DefaultKSWINConfig()
	if c(16) != 0 {
		stat := 1 + c(16)%12
		kc = KSWINConfig{
			Alpha:      pick([]float64{0.005, 0.5, 1, 0}, c(17)),
			StatSize:   stat,
			WindowSize: 2*stat + c(18)%20,
			Seed:       int64(c(19)) - 128,
		}
	}
	return NewADWIN(ac), NewPageHinkley(pc), NewDDM(dc), NewEDDM(ec), NewKSWIN(kc)
}

// adwinState is the comparable part of an ADWIN's state.
type adwinState struct {
	total, variance, width float64
	tick, rows             int
	pendingReset           bool
}

func adwinOf(a *ADWIN) adwinState {
	return adwinState{a.total, a.variance, a.width, a.tick, len(a.cur), a.pendingReset}
}

// kswinState is the comparable part of a KSWIN's state.
type kswinState struct {
	head, size    int
	pValue, stat  float64
	rng           pyRandom
	pendingReset  bool
	first, latest float64
}

func kswinOf(k *KSWIN) kswinState {
	s := kswinState{head: k.head, size: k.size, pValue: k.pValue, stat: k.stat, rng: k.rng, pendingReset: k.pendingReset}
	if k.size > 0 {
		w := len(k.ring)
		s.first, s.latest = k.ring[k.head], k.ring[(k.head+k.size-1)%w]
	}
	return s
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func FuzzDetectors(f *testing.F) {
	seed := make([]byte, 0, 64)
	for i, x := range driftStream(64) {
		seed = append(seed, byte(x)+byte(i%5)*2) // 0/1 with some grid noise
	}
	for _, s := range []struct{ cfg, data []byte }{
		{nil, nil},
		{nil, []byte{0x80}},             // NaN only
		{nil, seed},                     // a binary drift stream
		{nil, []byte{0, 0xcc, 1, 0xcc}}, // 0 x4097, then 1 x4097: an abrupt change
		{nil, []byte{0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xd8, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00, 0x01, 0x01, 0xd8}}, // 12% then 75% errors
		{[]byte{1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 3, 7}, []byte{0x50, 0xcb, 0x70, 0xcb}},                      // small configurations, mean shift
		{nil, []byte{0x83, 0x84, 0x83, 0x84, 0xcc}},                                                                        // ±1e300: overflowing sums
		{nil, []byte{0x85, 0x86, 0x00, 0xcc, 0x01, 0xcc}},                                                                  // ±MaxFloat64, then a drift
		{nil, []byte{0x80, 0x81, 0x82, 0x00, 0xcc, 0x80, 0x01, 0xcc}},                                                      // non-finite values between segments
		{[]byte{3, 0, 5, 4, 15, 39, 5, 4, 3, 2, 39, 4, 3, 39, 2, 4, 11, 2, 19, 255}, []byte{0x8a, 0x8b, 0xc8, 0x01, 0xc8}}, // subnormals and -0
		{nil, []byte{rawEscape, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0xcb}},                                                       // a raw 1.0
	} {
		f.Add(s.cfg, s.data)
	}
	f.Fuzz(func(t *testing.T, cfg, data []byte) {
		xs := decodeStream(data)
		ad, ph, ddm, eddm, ks := detectorsFrom(cfg)
		n := 0 // accepted values so far
		for i, x := range xs {
			if ignored(x) {
				// Ignored: Update returns false and changes nothing.
				a0, p0, d0, e0, k0 := adwinOf(ad), *ph, *ddm, *eddm, kswinOf(ks)
				if ad.Update(x) || ph.Update(x) || ddm.Update(x) || eddm.Update(x) || ks.Update(x) {
					t.Fatalf("value %d (%v): drift signalled", i, x)
				}
				if adwinOf(ad) != a0 || *ph != p0 || *ddm != d0 || *eddm != e0 || kswinOf(ks) != k0 {
					t.Fatalf("value %d (%v) changed a detector's state", i, x)
				}
				continue
			}
			n++
			ad.Update(x)
			ph.Update(x)
			if ddm.Update(x) && ddm.Warning() {
				t.Fatalf("value %d: DDM signals drift and warning together", i)
			}
			wasWarning := eddm.Warning()
			if eddm.Update(x) && eddm.Warning() != wasWarning {
				t.Fatalf("value %d: EDDM changed its warning on drift", i)
			}
			if ks.Update(x) && !(ks.PValue() <= ks.cfg.Alpha && ks.Statistic() > 0.1) {
				t.Fatalf("value %d: KSWIN drift with p %v, D %v", i, ks.PValue(), ks.Statistic())
			}

			// The statistics stay defined: huge finite values must not
			// leave NaN or ±Inf behind (that would silence a detector).
			if w := ad.Width(); w < 0 || w > n {
				t.Fatalf("value %d: ADWIN width %d outside [0, %d]", i, w, n)
			}
			if v := ad.Variance(); v < 0 {
				t.Fatalf("value %d: ADWIN variance %v < 0", i, v)
			}
			if !finite(ad.Total(), ad.Estimation(), ad.Variance()) || !finite(ph.Mean(), ph.sumInc, ph.sumDec) ||
				!finite(ddm.ErrorRate()) || !finite(eddm.distMean, eddm.distS) {
				t.Fatalf("value %d (%v): non-finite state: ADWIN total %v mean %v var %v, PageHinkley mean %v sums %v %v, DDM rate %v, EDDM %v %v",
					i, x, ad.Total(), ad.Estimation(), ad.Variance(), ph.Mean(), ph.sumInc, ph.sumDec, ddm.ErrorRate(), eddm.distMean, eddm.distS)
			}
			if p, d := ks.PValue(), ks.Statistic(); !(p >= 0 && p <= 1 && d >= 0 && d <= 1) {
				t.Fatalf("value %d: KSWIN p %v, D %v", i, p, d)
			}
		}

		// Reset returns every detector to its freshly constructed state.
		fa, fp, fd, fe, fk := detectorsFrom(cfg)
		ad.Reset()
		ph.Reset()
		ddm.Reset()
		eddm.Reset()
		ks.Reset()
		if adwinOf(ad) != adwinOf(fa) || *ph != *fp || *ddm != *fd || *eddm != *fe || kswinOf(ks) != kswinOf(fk) {
			t.Fatal("Reset does not restore the initial state")
		}
	})
}

func FuzzConfigs(f *testing.F) {
	f.Add(0.002, 32, 5, 5, 10, 30, 0.005, 50.0, 0.9999, "both", 30, 2.0, 3.0, 0.95, 0.9, 0.005, 100, 30)
	f.Add(0.0, 0, 0, 0, 0, -1, math.NaN(), math.Inf(1), 0.0, "sideways", -1, math.NaN(), math.Inf(-1), 0.8, 0.9, 2.0, 50, 30)
	f.Add(1.0, 1, 1, 1, 1, 0, 0.0, 0.0, 1.0, "up", 0, 0.0, 0.0, math.NaN(), 0.0, math.NaN(), 30000, 10001)
	f.Add(0.5, 1, 1, 1, 1, 0, 1e308, -1e308, 1e-300, "down", 0, 1e308, -1e308, math.Inf(1), math.Inf(-1), 1.0, 2, 1)
	f.Fuzz(func(t *testing.T, aDelta float64, aClock, aBuckets, aMinLen, aGrace int,
		pMin int, pDelta, pThreshold, pAlpha float64, pMode string,
		dWarm int, dWarn, dDrift float64, eAlpha, eBeta float64, kAlpha float64, kWindow, kStat int) {
		// Keep allocations bounded: NewKSWIN allocates O(WindowSize).
		kWindow, kStat = kWindow%(1<<16), kStat%(1<<14)
		aBuckets %= 1 << 10
		for _, c := range []struct {
			name     string
			err      error
			mk       func()
			defaults error
		}{
			{"adwin", ADWINConfig{aDelta, aClock, aBuckets, aMinLen, aGrace}.Validate(),
				func() { NewADWIN(ADWINConfig{aDelta, aClock, aBuckets, aMinLen, aGrace}) }, DefaultADWINConfig().Validate()},
			{"page_hinkley", PageHinkleyConfig{pMin, pDelta, pThreshold, pAlpha, PageHinkleyMode(pMode)}.Validate(),
				func() { NewPageHinkley(PageHinkleyConfig{pMin, pDelta, pThreshold, pAlpha, PageHinkleyMode(pMode)}) },
				DefaultPageHinkleyConfig().Validate()},
			{"ddm", DDMConfig{dWarm, dWarn, dDrift}.Validate(), func() { NewDDM(DDMConfig{dWarm, dWarn, dDrift}) }, DefaultDDMConfig().Validate()},
			{"eddm", EDDMConfig{dWarm, eAlpha, eBeta}.Validate(), func() { NewEDDM(EDDMConfig{dWarm, eAlpha, eBeta}) }, DefaultEDDMConfig().Validate()},
			{"kswin", KSWINConfig{kAlpha, kWindow, kStat, int64(pMin)}.Validate(),
				func() { NewKSWIN(KSWINConfig{kAlpha, kWindow, kStat, int64(pMin)}) }, DefaultKSWINConfig().Validate()},
		} {
			if c.defaults != nil {
				t.Fatalf("%s: default configuration invalid: %v", c.name, c.defaults)
			}
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				c.mk()
				return false
			}()
			if panicked != (c.err != nil) {
				t.Fatalf("%s: New panicked %v, Validate = %v", c.name, panicked, c.err)
			}
		}
	})
}
