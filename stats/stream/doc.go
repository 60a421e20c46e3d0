// Package stream implements streaming concept-drift detectors that consume
// one value at a time, typically a per-prediction error or loss, and signal
// when the stream's distribution has changed.
//
// It does: ADWIN, Page-Hinkley, DDM, EDDM and KSWIN, each a faithful port of
// the detector of the same name in River 0.26.1 (the Python library
// `river`, modules river.drift and river.drift.binary), with River's
// defaults and River's arithmetic order, so that a detector signals drift at
// exactly the same input indices as River on the same sequence. This is
// checked by golden tests: testdata/golden/gen_stream.py runs River and
// writes testdata/golden/stream.json, which stream_golden_test.go replays.
//
// It deliberately does not: read or write anything (no I/O, logging or
// metrics), decide what a drift means for a model (retraining, alerting),
// merge detectors across instances (the detectors' states are sequential,
// not mergeable), or compute error streams from predictions. Detectors are
// not safe for concurrent use; each is owned by one goroutine.
//
// Shared conventions, identical across detectors:
//
//   - Update returns true exactly on the value at which River's
//     drift_detected becomes true. As in River, a detector that signalled
//     drift resets itself at the start of the next Update, so its
//     accessors (ADWIN.Width, DDM.Warning, ...) still describe the state
//     that produced the drift until then.
//   - Non-finite values (NaN, +Inf, -Inf) and values larger than MaxAbs
//     (1e100) in magnitude are ignored: Update returns false and the state
//     is left untouched. River would propagate NaN into its statistics and
//     stop detecting for good; values beyond 1e100 would do the same here
//     by overflowing the float64 sums of squares (two values of ±1e300
//     made ADWIN's variance +Inf and Page-Hinkley's and DDM's means NaN).
//     A pending post-drift reset waits for the next accepted value.
//   - Configurations have a Default*Config constructor and a Validate
//     method. New* panics on an invalid configuration (a programmer error);
//     validate untrusted configurations first.
//   - Update does not allocate for ADWIN, PageHinkley, DDM and EDDM; KSWIN
//     reuses preallocated buffers as well.
//   - MarshalBinary (and AppendBinary) encode a detector's whole state,
//     configuration included, and UnmarshalBinary into a zero value
//     restores it, so that a restarted process goes on exactly where the
//     old one stopped: same Update results, bit for bit. The format
//     (state.go) is a type byte, a version byte and fixed-width
//     little-endian fields; it is canonical, and UnmarshalBinary rejects
//     other detectors' states, unknown versions, invalid configurations and
//     inconsistent states without panicking or allocating beyond a bound,
//     so it is safe on untrusted input.
//
// Detectors and references:
//
//	Detector      Type          Reference
//	ADWIN         ADWIN         Bifet & Gavaldà 2007, Learning from time-changing data with adaptive windowing, SIAM SDM, 443-448
//	Page-Hinkley  PageHinkley   Page 1954, Continuous inspection schemes, Biometrika 41(1/2); Hinkley 1971, Inference about the change-point from cumulative sum tests, Biometrika 58(3)
//	DDM           DDM           Gama, Medas, Castillo & Rodrigues 2004, Learning with drift detection, SBIA, LNCS 3171, 286-295
//	EDDM          EDDM          Baena-García, del Campo-Ávila, Fidalgo, Bifet, Gavaldà & Morales-Bueno 2006, Early drift detection method, IWKDDS
//	KSWIN         KSWIN         Raab, Heusinger & Schleif 2020, Reactive soft prototype computing for concept drift streams, Neurocomputing 416, 340-351
//
// KSWIN draws its reference sample with Python's random.Random(seed)
// (MT19937 seeded by init_by_array, random.sample's two selection methods)
// and computes SciPy's exact two-sample Kolmogorov-Smirnov p-value
// (scipy.stats.ks_2samp, method="auto", equal sample sizes), both
// reimplemented here bit-for-bit.
package stream

import "math"

// MaxAbs is the largest magnitude Update accepts; larger values are ignored
// like NaN and ±Inf. With |x| <= 1e100 the detectors' sums of values and of
// squared deviations stay below about 1e213 even over 2^40 values, far from
// the float64 limit of 1.8e308, so their statistics stay finite.
const MaxAbs = 1e100

// ignored reports whether Update skips x: NaN, ±Inf or |x| > MaxAbs.
func ignored(x float64) bool { return !(math.Abs(x) <= MaxAbs) }

// Detector is a streaming drift detector. Update consumes the next value of
// the stream and reports whether drift is signalled at that value; Reset
// returns the detector to its freshly constructed state.
//
// Implementations in this package are not safe for concurrent use.
type Detector interface {
	Update(x float64) (drift bool)
	Reset()
}

// The detectors in this package implement Detector.
var (
	_ Detector = (*ADWIN)(nil)
	_ Detector = (*PageHinkley)(nil)
	_ Detector = (*DDM)(nil)
	_ Detector = (*EDDM)(nil)
	_ Detector = (*KSWIN)(nil)
)
