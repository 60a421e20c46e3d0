package stream

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/driftwatch/driftwatch/bench/stats/samples"
)

// stateful is a detector whose state survives MarshalBinary and
// UnmarshalBinary.
type stateful interface {
	Detector
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// stateKind is one detector type with the configurations its state tests
// run.
type stateKind struct {
	name    string
	tag     byte
	configs []func() stateful
	zero    func() stateful
}

func stateKinds() []stateKind {
	return []stateKind{
		{"adwin", tagADWIN, []func() stateful{
			func() stateful { return NewADWIN(DefaultADWINConfig()) },
			func() stateful {
				return NewADWIN(ADWINConfig{Delta: 0.1, Clock: 1, MaxBuckets: 2, MinWindowLength: 3, GracePeriod: 5})
			},
			func() stateful {
				return NewADWIN(ADWINConfig{Delta: 0.05, Clock: 3, MaxBuckets: 1, MinWindowLength: 2, GracePeriod: 8})
			},
		}, func() stateful { return new(ADWIN) }},
		{"page_hinkley", tagPageHinkley, []func() stateful{
			func() stateful { return NewPageHinkley(DefaultPageHinkleyConfig()) },
			func() stateful {
				return NewPageHinkley(PageHinkleyConfig{MinInstances: 10, Delta: 0.01, Threshold: 5, Alpha: 0.999, Mode: PageHinkleyUp})
			},
			func() stateful {
				return NewPageHinkley(PageHinkleyConfig{MinInstances: 0, Delta: 0, Threshold: 3, Alpha: 1, Mode: PageHinkleyDown})
			},
		}, func() stateful { return new(PageHinkley) }},
		{"ddm", tagDDM, []func() stateful{
			func() stateful { return NewDDM(DefaultDDMConfig()) },
			func() stateful { return NewDDM(DDMConfig{WarmStart: 10, WarningThreshold: 1.5, DriftThreshold: 2}) },
		}, func() stateful { return new(DDM) }},
		{"eddm", tagEDDM, []func() stateful{
			func() stateful { return NewEDDM(DefaultEDDMConfig()) },
			func() stateful { return NewEDDM(EDDMConfig{WarmStart: 5, Alpha: 0.99, Beta: 0.97}) },
		}, func() stateful { return new(EDDM) }},
		{"kswin", tagKSWIN, []func() stateful{
			func() stateful { return NewKSWIN(KSWINConfig{Alpha: 0.005, WindowSize: 100, StatSize: 30, Seed: 7}) },
			func() stateful { return NewKSWIN(KSWINConfig{Alpha: 0.05, WindowSize: 40, StatSize: 10, Seed: -3}) },
			// random.sample's set-based method (n > 21 + 4^⌈log₄ 3k⌉).
			func() stateful {
				return NewKSWIN(KSWINConfig{Alpha: 0.01, WindowSize: 400, StatSize: 10, Seed: 1 << 40})
			},
		}, func() stateful { return new(KSWIN) }},
	}
}

// observe returns what d exposes besides Update, as bits so that NaN
// compares equal to itself.
func observe(d Detector) []uint64 {
	bit := func(b bool) uint64 {
		if b {
			return 1
		}
		return 0
	}
	f := math.Float64bits
	switch d := d.(type) {
	case *ADWIN:
		return []uint64{uint64(d.Width()), f(d.Estimation()), f(d.Total()), f(d.Variance())}
	case *PageHinkley:
		return []uint64{f(d.Mean())}
	case *DDM:
		return []uint64{f(d.ErrorRate()), bit(d.Warning())}
	case *EDDM:
		return []uint64{bit(d.Warning())}
	case *KSWIN:
		return []uint64{f(d.PValue()), f(d.Statistic())}
	}
	panic(fmt.Sprintf("observe: %T", d))
}

// stateStreams are the streams of the property test, each a function of
// a seed: 0/1 errors whose rate changes, and real values whose mean and
// spread change, with values Update ignores in between.
var stateStreams = []struct {
	name string
	gen  func(seed uint64) []float64
}{
	{"binary", func(seed uint64) []float64 {
		r := rand.New(rand.NewPCG(seed, 1))
		xs := make([]float64, 3000)
		p := 0.05 + 0.2*r.Float64()
		for i := range xs {
			if i%1000 == 999 {
				p = 0.05 + 0.6*r.Float64() // a change of rate
			}
			if r.Float64() < p {
				xs[i] = 1
			}
		}
		return xs
	}},
	{"real", func(seed uint64) []float64 {
		r := rand.New(rand.NewPCG(seed, 2))
		xs := make([]float64, 3000)
		mean, sd := 0.0, 1.0
		for i := range xs {
			switch {
			case i%750 == 749:
				mean, sd = 4*r.NormFloat64(), 0.2+2*r.Float64()
			case r.IntN(50) == 0:
				xs[i] = []float64{math.NaN(), math.Inf(1), -2 * MaxAbs}[r.IntN(3)]
				continue
			}
			xs[i] = mean + sd*r.NormFloat64()
		}
		return xs
	}},
	{"grid", func(seed uint64) []float64 { // few distinct values: ties
		r := rand.New(rand.NewPCG(seed, 3))
		xs := make([]float64, 2000)
		for i := range xs {
			xs[i] = float64(r.IntN(4)+4*(i/1000)) / 4
		}
		return xs
	}},
}

// TestStateRestoreContinues is the property: marshal a detector anywhere
// in a stream, unmarshal into a zero value, and both detectors go on with
// identical Update results and accessors, equal to a detector that was
// never marshalled, and end in the same state.
func TestStateRestoreContinues(t *testing.T) {
	const seeds = 8
	for _, k := range stateKinds() {
		t.Run(k.name, func(t *testing.T) {
			tailDrifts, splits := 0, 0
			for ci, mk := range k.configs {
				for _, st := range stateStreams {
					for seed := range uint64(seeds) {
						xs := st.gen(seed)
						ref := mk()
						var want []bool
						firstDrift := -1
						for i, x := range xs {
							want = append(want, ref.Update(x))
							if want[i] && firstDrift < 0 {
								firstDrift = i
							}
						}
						r := rand.New(rand.NewPCG(seed, uint64(ci)))
						cuts := []int{r.IntN(len(xs) + 1)}
						if firstDrift >= 0 {
							cuts = append(cuts, firstDrift+1) // a pending post-drift reset
						}
						for _, cut := range cuts {
							name := fmt.Sprintf("config %d, %s stream, seed %d, cut %d", ci, st.name, seed, cut)
							tailDrifts += checkRestore(t, name, mk(), k.zero(), xs, want, cut)
							splits++
						}
					}
				}
			}
			t.Logf("%d drifts after %d restores", tailDrifts, splits)
			// The test is vacuous unless restored detectors signal drift.
			if tailDrifts < splits/4 {
				t.Errorf("%d drifts after %d restores; want at least %d", tailDrifts, splits, splits/4)
			}
		})
	}
}

// checkRestore feeds xs[:cut] to orig, restores its encoding into zero,
// feeds xs[cut:] to both, and checks them against want (the Update results
// of a detector that was never marshalled). It returns the number of drifts
// after cut.
func checkRestore(t *testing.T, name string, orig, zero stateful, xs []float64, want []bool, cut int) int {
	t.Helper()
	for _, x := range xs[:cut] {
		orig.Update(x)
	}
	data, err := orig.MarshalBinary()
	if err != nil {
		t.Fatalf("%s: MarshalBinary: %v", name, err)
	}
	restored := zero
	if err := restored.UnmarshalBinary(data); err != nil {
		t.Fatalf("%s: UnmarshalBinary: %v", name, err)
	}
	if again, err := restored.MarshalBinary(); err != nil || !bytes.Equal(again, data) {
		t.Fatalf("%s: re-encoding differs (error %v)", name, err)
	}
	if o, r := observe(orig), observe(restored); !slices.Equal(o, r) {
		t.Fatalf("%s: restored accessors %v, original %v", name, r, o)
	}
	drifts := 0
	for i := cut; i < len(xs); i++ {
		got, gotR := orig.Update(xs[i]), restored.Update(xs[i])
		if got != want[i] || gotR != want[i] {
			t.Fatalf("%s: Update(xs[%d] = %v): original %v, restored %v, never marshalled %v", name, i, xs[i], got, gotR, want[i])
		}
		if o, r := observe(orig), observe(restored); !slices.Equal(o, r) {
			t.Fatalf("%s: after xs[%d]: restored accessors %v, original %v", name, i, r, o)
		}
		if gotR {
			drifts++
		}
	}
	a, errA := orig.MarshalBinary()
	b, errB := restored.MarshalBinary()
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("%s: final states differ (errors %v, %v)", name, errA, errB)
	}
	return drifts
}

// TestStateRestoreGoldenRiver restores every golden case's detector at a
// third and two thirds of the input and after every drift: the restored
// detectors still signal drift and warnings exactly where River does.
func TestStateRestoreGoldenRiver(t *testing.T) {
	g := loadGolden(t)
	restores := 0
	for _, tc := range g.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			d, err := newFromParams(tc.Detector, tc.Params)
			if err != nil {
				t.Fatal(err)
			}
			cuts := map[int]bool{len(tc.Input) / 3: true, 2 * len(tc.Input) / 3: true}
			for _, i := range tc.Drifts {
				cuts[i+1] = true
			}
			var drifts, warnings []int
			for i, x := range tc.Input {
				if cuts[i] {
					d = restore(t, d.(stateful))
					restores++
				}
				if d.Update(x) {
					drifts = append(drifts, i)
				}
				if w, ok := d.(interface{ Warning() bool }); ok && w.Warning() {
					warnings = append(warnings, i)
				}
			}
			if !slices.Equal(drifts, tc.Drifts) {
				t.Errorf("drift indices with restores at %v\n got %v\nwant %v", cuts, drifts, tc.Drifts)
			}
			if _, ok := d.(interface{ Warning() bool }); ok && !slices.Equal(warnings, tc.Warnings) {
				t.Errorf("warning indices with restores at %v\n got %v\nwant %v", cuts, warnings, tc.Warnings)
			}
		})
	}
	if restores < 100 {
		t.Errorf("%d restores, want at least 100", restores)
	}
}

// restore returns a new detector of d's type with d's encoded state.
func restore(t *testing.T, d stateful) stateful {
	t.Helper()
	data, err := d.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	r := reflect.New(reflect.TypeOf(d).Elem()).Interface().(stateful)
	if err := r.UnmarshalBinary(data); err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	return r
}

// TestStateRoundTripFreshAndReset checks the encoding of a new detector
// and of one that was Reset: they decode into a detector that behaves as
// a new one, and a Reset detector encodes exactly as a new one.
func TestStateRoundTripFreshAndReset(t *testing.T) {
	xs := driftStream(3000)
	for _, k := range stateKinds() {
		for ci, mk := range k.configs {
			t.Run(fmt.Sprintf("%s/config_%d", k.name, ci), func(t *testing.T) {
				fresh, err := mk().MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if fresh[0] != k.tag || fresh[1] != stateVersion {
					t.Fatalf("header % x, want %q %d", fresh[:2], k.tag, stateVersion)
				}
				r := k.zero()
				if err := r.UnmarshalBinary(fresh); err != nil {
					t.Fatal(err)
				}
				if got, err := r.MarshalBinary(); err != nil || !bytes.Equal(got, fresh) {
					t.Fatalf("re-encoding of a new detector differs (error %v)", err)
				}
				want := detections(mk(), xs)
				if got := detections(r, xs); !slices.Equal(got, want) {
					t.Errorf("restored new detector drifts at %v, new detector at %v", got, want)
				}

				d := mk()
				detections(d, xs[:1700])
				d.Reset()
				if got, err := d.MarshalBinary(); err != nil || !bytes.Equal(got, fresh) {
					t.Fatalf("encoding after Reset differs from a new detector's (error %v)", err)
				}
				r = k.zero()
				if err := r.UnmarshalBinary(fresh); err != nil {
					t.Fatal(err)
				}
				if got, want := detections(r, xs), detections(d, xs); !slices.Equal(got, want) {
					t.Errorf("restored Reset detector drifts at %v, Reset detector at %v", got, want)
				}
			})
		}
	}
}

// TestStateZeroValueMarshal checks that a detector not built by New* is
// refused rather than encoded into bytes that do not decode.
func TestStateZeroValueMarshal(t *testing.T) {
	for _, k := range stateKinds() {
		if data, err := k.zero().MarshalBinary(); err == nil || !errors.Is(err, errInvalidState) {
			t.Errorf("%s: zero value MarshalBinary = % x, %v; want an error", k.name, data, err)
		}
	}
}

// encodedAfter returns the encoding of mk() after n values of driftStream.
func encodedAfter(t testing.TB, mk func() stateful, n int) []byte {
	t.Helper()
	d := mk()
	for _, x := range driftStream(n) {
		d.Update(x)
	}
	data, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkRejected checks that d.UnmarshalBinary(data) fails with an error
// containing want and leaves d unchanged.
func checkRejected(t *testing.T, d stateful, data []byte, want string) {
	t.Helper()
	before, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	err = d.UnmarshalBinary(data)
	switch {
	case err == nil:
		t.Fatalf("UnmarshalBinary(% x) succeeded, want error %q", data[:min(len(data), 96)], want)
	case !errors.Is(err, errInvalidState) || !strings.Contains(err.Error(), want):
		t.Fatalf("UnmarshalBinary: error %q, want %q", err, want)
	}
	if after, _ := d.MarshalBinary(); !bytes.Equal(after, before) {
		t.Fatal("failed UnmarshalBinary changed the detector")
	}
}

func TestStateRejectsMalformed(t *testing.T) {
	kinds := stateKinds()
	valid := make([][]byte, len(kinds))
	for i, k := range kinds {
		valid[i] = encodedAfter(t, k.configs[0], 2500)
	}
	for i, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			recv := k.configs[0]()
			recv.Update(1) // a receiver whose state differs from valid[i]
			data := valid[i]
			if err := k.zero().UnmarshalBinary(data); err != nil {
				t.Fatalf("valid encoding rejected: %v", err)
			}
			for n := range len(data) {
				checkRejected(t, recv, data[:n], "truncated")
			}
			checkRejected(t, recv, append(slices.Clip(data), 0), "trailing")
			for _, v := range []byte{0, 2, 0xff} {
				checkRejected(t, recv, append([]byte{data[0], v}, data[2:]...), fmt.Sprintf("unknown format version %d", v))
			}
			for _, tag := range []byte{0, 'Z', 0xff, tagADWIN + 0x20} {
				checkRejected(t, recv, append([]byte{tag}, data[1:]...), "unknown type byte")
			}
			for j, other := range kinds {
				if j != i {
					checkRejected(t, recv, valid[j], "data is "+other.name+" state")
				}
			}
			r := rand.New(rand.NewPCG(uint64(i), 9))
			for range 2000 {
				garbage := make([]byte, r.IntN(2*len(data)+1))
				for j := range garbage {
					garbage[j] = byte(r.Uint32())
				}
				if len(garbage) >= 2 && r.IntN(2) == 0 {
					garbage[0], garbage[1] = k.tag, stateVersion
				}
				checkRejected(t, recv, garbage, "")
			}
			// Random bit flips in a valid encoding: rejected or, if the
			// result is consistent, decoded canonically.
			for range 2000 {
				flipped := slices.Clone(data)
				flipped[r.IntN(len(flipped))] ^= 1 << r.IntN(8)
				d := k.zero()
				if err := d.UnmarshalBinary(flipped); err == nil {
					if again, err := d.MarshalBinary(); err != nil || !bytes.Equal(again, flipped) {
						t.Fatalf("accepted flipped encoding re-encodes differently (error %v)", err)
					}
				}
			}
		})
	}
}

func putInt(b []byte, off int, v int64) []byte {
	b = slices.Clone(b)
	binary.LittleEndian.PutUint64(b[off:], uint64(v))
	return b
}

func putFloat(b []byte, off int, v float64) []byte {
	return putInt(b, off, int64(math.Float64bits(v)))
}

func putByte(b []byte, off int, v byte) []byte {
	b = slices.Clone(b)
	b[off] = v
	return b
}

// TestStateRejectsInconsistent patches single fields of valid encodings
// (offsets from the layouts in each AppendBinary's doc) into states no
// sequence of Updates reaches.
func TestStateRejectsInconsistent(t *testing.T) {
	mustEncode := func(d stateful) []byte {
		data, err := d.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	a := NewADWIN(DefaultADWINConfig())
	for _, x := range []float64{0.25, 0.5, 1} {
		a.Update(x)
	}
	adwin3 := mustEncode(a) // 1 row of 3 buckets, width 3, tick 3
	adwinBig := encodedAfter(t, func() stateful { return NewADWIN(DefaultADWINConfig()) }, 5000)
	// An extra row 1 after adwin3's row 0: count, total, variance.
	row1 := func(count int64) []byte {
		b := putInt(adwin3, 75, 2)
		b = binary.LittleEndian.AppendUint64(b, uint64(count))
		for range count {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(1))
			b = binary.LittleEndian.AppendUint64(b, 0)
		}
		return b
	}
	// 55 rows, only the top one holding a bucket: a window of 2^54 values.
	huge := slices.Clone(adwin3[:83])
	huge = putFloat(putFloat(huge, 42, 1), 58, 1<<54)
	huge = putInt(putInt(huge, 66, 1<<55), 75, 55)
	huge = append(huge, make([]byte, 8*54)...)
	huge = binary.LittleEndian.AppendUint64(huge, 1)
	huge = binary.LittleEndian.AppendUint64(huge, math.Float64bits(1))
	huge = binary.LittleEndian.AppendUint64(huge, 0)
	ph := encodedAfter(t, func() stateful { return NewPageHinkley(DefaultPageHinkleyConfig()) }, 20)
	phFresh := encodedAfter(t, func() stateful { return NewPageHinkley(DefaultPageHinkleyConfig()) }, 0)
	ddm := encodedAfter(t, func() stateful { return NewDDM(DefaultDDMConfig()) }, 50)
	ddmFresh := encodedAfter(t, func() stateful { return NewDDM(DefaultDDMConfig()) }, 0)
	e := NewEDDM(DefaultEDDMConfig())
	for i := range 400 { // an error every 10 values: no drift
		e.Update(float64(i % 10 / 9))
	}
	if e.nErrors < 5 || e.nErrors == e.n {
		t.Fatalf("EDDM base state has %d errors in %d values", e.nErrors, e.n)
	}
	eddm := mustEncode(e)
	kp, kf := NewKSWIN(DefaultKSWINConfig()), NewKSWIN(DefaultKSWINConfig())
	for i, x := range driftStream(150) {
		if i < 50 {
			kp.Update(x)
		}
		kf.Update(x)
	}
	if kp.size != 50 || kf.size != 100 || kf.head == 0 {
		t.Fatalf("KSWIN base states hold %d and %d values (head %d)", kp.size, kf.size, kf.head)
	}
	kswinPartial, kswinFull := mustEncode(kp), mustEncode(kf)
	zeroMT := slices.Clone(kswinFull)
	clear(zeroMT[75 : 75+4*mtN])

	for _, tc := range []struct {
		name string
		kind int // index in stateKinds
		data []byte
		want string
	}{
		{"adwin delta NaN", 0, putFloat(adwin3, 2, math.NaN()), "adwin: delta NaN outside (0, 1)"},
		{"adwin clock 0", 0, putInt(adwin3, 10, 0), "adwin: clock 0 < 1"},
		{"adwin max_buckets above bound", 0, putInt(adwin3, 18, 1<<11), "adwin: max_buckets 2048 > 1024"},
		{"adwin max_buckets huge", 0, putInt(adwin3, 18, 1<<60), "max_buckets 1152921504606846976 > 1024"},
		{"adwin row above max_buckets", 0, putInt(adwin3, 18, 2), "row 0 holds 3 buckets, outside [0, 2]"},
		{"adwin total NaN", 0, putFloat(adwin3, 42, math.NaN()), "total NaN"},
		{"adwin variance Inf", 0, putFloat(adwin3, 50, math.Inf(1)), "variance +Inf"},
		{"adwin width", 0, putFloat(adwin3, 58, 4), "width 4, buckets hold 3 values"},
		{"adwin width big", 0, putFloat(adwinBig, 58, 1e6), "width 1e+06, buckets hold"},
		{"adwin tick below width", 0, putInt(adwin3, 66, 2), "3 values in the window after 2 updates"},
		{"adwin tick negative", 0, putInt(adwin3, 66, -32), "after -32 updates"},
		{"adwin bool byte", 0, putByte(adwin3, 74, 2), "bool byte 2"},
		{"adwin drift between tests", 0, putByte(adwin3, 74, 1), "drift signalled at update 3, between cut tests every 32"},
		{"adwin no rows", 0, putInt(adwin3, 75, 0), "0 bucket rows outside [1, 64]"},
		{"adwin 65 rows", 0, putInt(adwin3, 75, 65), "65 bucket rows outside [1, 64]"},
		{"adwin rows huge", 0, putInt(adwin3, 75, 1<<62), "bucket rows outside"},
		{"adwin negative bucket count", 0, putInt(adwin3, 83, -1), "row 0 holds -1 buckets"},
		{"adwin bucket count beyond data", 0, putInt(adwin3, 83, 4), "truncated"},
		{"adwin row 0 variance", 0, putFloat(adwin3, 99, 0.5), "bucket 0 of row 0: total 0.25, variance 0.5"},
		{"adwin row 0 ignored value", 0, putFloat(adwin3, 91, 2*MaxAbs), "bucket 0 of row 0: total 2e+100"},
		{"adwin empty top row", 0, row1(0), "top row 1 is empty"},
		{"adwin width above 2^53", 0, huge, "width 1.8014398509481984e+16 above 2^53"},
		{"adwin row 1 not counted", 0, row1(1), "width 3, buckets hold 5 values"},
		{"ph mode", 1, putByte(ph, 34, 3), "mode byte 3 outside [0, 2]"},
		{"ph alpha", 1, putFloat(ph, 26, 0), "page_hinkley: alpha 0 outside (0, 1]"},
		{"ph count fraction", 1, putFloat(ph, 35, 20.5), "count 20.5 is not a whole number"},
		{"ph count negative", 1, putFloat(ph, 35, -1), "count -1 is not"},
		{"ph count NaN", 1, putFloat(ph, 35, math.NaN()), "count NaN is not"},
		{"ph fresh with mean", 1, putFloat(phFresh, 43, 1), "no values seen"},
		{"ph fresh min", 1, putFloat(phFresh, 67, 0), "no values seen"},
		{"ph drift before min_instances", 1, putByte(ph, 83, 1), "drift signalled after 20 values, min_instances 30"},
		{"ddm warm_start", 2, putInt(ddm, 2, -1), "ddm: warm_start -1 < 0"},
		{"ddm drift threshold", 2, putFloat(ddm, 18, math.Inf(-1)), "ddm: drift_threshold -Inf not finite"},
		{"ddm count huge", 2, putFloat(ddm, 26, 1<<54), "count 1.8014398509481984e+16 is not"},
		{"ddm fresh psMin", 2, putFloat(ddmFresh, 58, 0), "no values seen"},
		{"ddm warning and drift", 2, putByte(putByte(ddm, 66, 1), 67, 1), "warning and drift signalled together"},
		{"ddm warning in warm-up", 2, putByte(putFloat(ddm, 26, 30), 66, 1), "warning or drift signalled after 30 values, warm_start 30"},
		{"eddm alpha below beta", 3, putFloat(eddm, 10, 0.5), "eddm: alpha 0.5 must be greater or equal to beta 0.9"},
		{"eddm errors above values", 3, putInt(eddm, 42, int64(e.n+1)), fmt.Sprintf("%d errors, the last at %d, in %d values", e.n+1, e.lastError, e.n)},
		{"eddm last error after values", 3, putInt(eddm, 34, int64(e.n+1)), fmt.Sprintf("the last at %d, in %d values", e.n+1, e.n)},
		{"eddm no last error", 3, putInt(eddm, 34, 0), fmt.Sprintf("%d errors, the last at 0, %d distances", e.nErrors, e.nErrors)},
		{"eddm distances", 3, putFloat(eddm, 50, 1), fmt.Sprintf("%d errors, the last at %d, 1 distances", e.nErrors, e.lastError)},
		{"eddm count negative", 3, putInt(eddm, 26, -1), "in -1 values"},
		{"eddm fresh p2sMax", 3, putFloat(mustEncode(NewEDDM(DefaultEDDMConfig())), 74, 0), "no errors seen"},
		{"eddm drift in warm-up", 3, putByte(putInt(putFloat(eddm, 50, 3), 42, 3), 83, 1), fmt.Sprintf("warning or drift signalled after %d values and 3 errors", e.n)},
		{"kswin window size", 4, putInt(kswinFull, 10, 101), "truncated: 800 bytes of window, want 8 × window_size 101"},
		{"kswin window size smaller", 4, putInt(kswinFull, 10, 99), "8 trailing bytes after the window of window_size 99"},
		{"kswin window size huge", 4, putInt(kswinFull, 10, 1<<30), "want 8 × window_size 1073741824"},
		{"kswin window size above bound", 4, putInt(kswinFull, 10, 1<<31), "kswin: window_size 2147483648 > 1073741824"},
		{"kswin stat size", 4, putInt(kswinFull, 18, 51), "kswin: window_size 100 < 2*stat_size 102"},
		{"kswin head before full", 4, putInt(kswinPartial, 34, 5), "window of 50 values at 5"},
		{"kswin head out of range", 4, putInt(kswinFull, 34, 100), "window of 100 values at 100"},
		{"kswin head negative", 4, putInt(kswinFull, 34, -1), "window of 100 values at -1"},
		{"kswin size", 4, putInt(kswinFull, 42, 101), "window of 101 values"},
		{"kswin size negative", 4, putInt(kswinPartial, 42, -1), "window of -1 values"},
		{"kswin sampler position negative", 4, putInt(kswinFull, 67, -1), "sampler position -1"},
		{"kswin p-value", 4, putFloat(kswinFull, 50, 1.5), "p-value 1.5"},
		{"kswin statistic NaN", 4, putFloat(kswinFull, 58, math.NaN()), "statistic NaN"},
		{"kswin test before full", 4, putFloat(kswinPartial, 50, 0.5), "test result before the window filled (50 of 100 values)"},
		{"kswin drift before full", 4, putByte(kswinPartial, 66, 1), "test result before the window filled"},
		{"kswin sampler position", 4, putInt(kswinFull, 67, 625), "sampler position 625 outside [0, 624]"},
		{"kswin sampler zero", 4, zeroMT, "sampler state is all zero"},
		{"kswin window NaN", 4, putFloat(kswinFull, kswinFixedLen+8*99, math.NaN()), "window slot 99 holds NaN"},
		{"kswin window huge", 4, putFloat(kswinPartial, kswinFixedLen+8*49, -2*MaxAbs), "window slot 49 holds -2e+100"},
		{"kswin unused slot", 4, putFloat(kswinPartial, kswinFixedLen+8*50, 1), "unused window slot 50 holds 1"},
		{"kswin unused slot -0", 4, putFloat(kswinPartial, kswinFixedLen+8*99, math.Copysign(0, -1)), "unused window slot 99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := stateKinds()[tc.kind]
			recv := k.configs[0]()
			checkRejected(t, recv, tc.data, tc.want)
		})
	}

	// The unpatched encodings decode: the rejections above are the patches'.
	for i, data := range [][]byte{adwin3, adwinBig, ph, phFresh, ddm, ddmFresh, eddm, kswinPartial, kswinFull} {
		kind := map[byte]int{tagADWIN: 0, tagPageHinkley: 1, tagDDM: 2, tagEDDM: 3, tagKSWIN: 4}[data[0]]
		if err := stateKinds()[kind].zero().UnmarshalBinary(data); err != nil {
			t.Errorf("base encoding %d: %v", i, err)
		}
	}
}

// TestStateDegenerateSampler checks the claim behind rejecting the
// all-zero sampler state: from it, the generator never leaves zero.
func TestStateDegenerateSampler(t *testing.T) {
	var r pyRandom
	r.mt[0] = mtLower // the low bits of mt[0] do not enter the recurrence
	if !r.degenerate() {
		t.Fatal("state with only mt[0]'s low bits set not degenerate")
	}
	for i := range 3 * mtN {
		if v := r.uint32(); i >= mtN && v != 0 {
			t.Fatalf("draw %d from the degenerate state = %d", i, v)
		}
	}
	r.seed(0)
	if r.degenerate() {
		t.Fatal("seeded generator degenerate")
	}
}

// fuzzStateValues are fed to every detector FuzzUnmarshal decodes: few,
// because the fuzzer's minimizer executes an accepted input's one-byte
// variants (32 per byte) and most of them decode too.
var fuzzStateValues = func() []float64 {
	xs := driftStream(64)
	for i := range xs {
		switch i % 13 {
		case 5:
			xs[i] = math.NaN()
		case 7:
			xs[i] = -MaxAbs
		case 11:
			xs[i] = 0.5 + float64(i)
		}
	}
	return xs
}()

// FuzzUnmarshal feeds arbitrary bytes to every detector's UnmarshalBinary.
// At most the detector named by the type byte accepts them; when it does,
// the encoding is canonical (MarshalBinary gives the same bytes back, and
// decoding those again gives them once more) and Update runs on the state.
//
// A KSWIN encoding is at least 2571 bytes, 2496 of them the sampler's
// state, and the fuzzer spends its time minimizing such long inputs (an
// O(len²) search, see fuzz_test.go) instead of executing. So KSWIN seeds
// are in a short form (expandKSWIN) that FuzzUnmarshal expands and decodes
// too, besides the input as it is; seeds are at most maxFuzzSeed bytes
// (KSWIN windows up to 40 values).
func FuzzUnmarshal(f *testing.F) {
	const maxFuzzSeed = 512
	add := func(data []byte) {
		if len(data) <= maxFuzzSeed {
			f.Add(data)
		}
	}
	for _, k := range stateKinds() {
		for _, mk := range k.configs {
			for _, n := range []int{0, 3, 40, 150, 400, 1100, 2500} {
				d := mk()
				for _, x := range driftStream(n) {
					d.Update(x)
				}
				if ks, ok := d.(*KSWIN); ok {
					add(compactKSWIN(ks))
					continue
				}
				data, err := d.MarshalBinary()
				if err != nil {
					f.Fatal(err)
				}
				add(data)
			}
		}
	}
	f.Add([]byte{})
	f.Add([]byte{tagADWIN, stateVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecoded(t, data)
		if long := expandKSWIN(data); long != nil {
			checkDecoded(t, long)
		}
	})
}

func checkDecoded(t *testing.T, data []byte) {
	for _, k := range stateKinds() {
		d := k.zero()
		if err := d.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, errInvalidState) {
				t.Fatalf("%s: error %v does not wrap errInvalidState", k.name, err)
			}
			continue
		}
		if data[0] != k.tag {
			t.Fatalf("%s accepted data with type byte %q", k.name, data[0])
		}
		enc, err := d.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: MarshalBinary of a decoded state: %v", k.name, err)
		}
		if !bytes.Equal(enc, data) {
			t.Fatalf("%s: decoded state re-encodes differently\n got % x\nwant % x", k.name, enc, data)
		}
		r := k.zero()
		if err := r.UnmarshalBinary(enc); err != nil {
			t.Fatalf("%s: re-encoding rejected: %v", k.name, err)
		}
		if again, err := r.MarshalBinary(); err != nil || !bytes.Equal(again, enc) {
			t.Fatalf("%s: second round trip differs (error %v)", k.name, err)
		}
		for _, x := range fuzzStateValues {
			d.Update(x)
		}
	}
}

// kswinMTOff is the offset of the sampler state mt in a KSWIN encoding.
const kswinMTOff = kswinFixedLen - 4*mtN

// expandKSWIN returns the KSWIN encoding that compact stands for, or nil
// if compact is not in the short form: the encoding with its 2496 bytes of
// sampler state mt replaced by 9 bytes, a seed s (int64) and a count j
// (byte), standing for the state of random.Random(s) after j%32
// regenerations (j·624 draws).
func expandKSWIN(compact []byte) []byte {
	if len(compact) < kswinMTOff+9 || compact[0] != tagKSWIN {
		return nil
	}
	var r pyRandom
	r.seed(int64(binary.LittleEndian.Uint64(compact[kswinMTOff:])))
	for range compact[kswinMTOff+8] % 32 {
		r.mti = mtN
		r.uint32()
	}
	out := make([]byte, 0, len(compact)-9+4*mtN)
	out = append(out, compact[:kswinMTOff]...)
	for _, v := range r.mt {
		out = binary.LittleEndian.AppendUint32(out, v)
	}
	return append(out, compact[kswinMTOff+9:]...)
}

// compactKSWIN returns the short form of k's encoding (expandKSWIN), or
// nil (which add skips) if its sampler has been regenerated 32 times or
// more.
func compactKSWIN(k *KSWIN) []byte {
	data, err := k.MarshalBinary()
	if err != nil {
		panic(err)
	}
	var r pyRandom
	r.seed(k.cfg.Seed)
	for j := range 32 {
		if r.mt == k.rng.mt {
			c := slices.Concat(data[:kswinMTOff], binary.LittleEndian.AppendUint64(nil, uint64(k.cfg.Seed)), []byte{byte(j)}, data[kswinFixedLen:])
			if !bytes.Equal(expandKSWIN(c), data) {
				panic("compactKSWIN: short form does not expand to the encoding")
			}
			return c
		}
		r.mti = mtN
		r.uint32()
	}
	return nil
}

// BenchmarkMarshalBinary encodes and decodes detectors that have seen 10^6
// values: ADWIN on a stationary Bernoulli(0.3) stream (no cuts: the widest
// window, the most buckets) and on samples.Errors (BenchmarkDetector's
// stream, with drifts), the others on samples.Errors. SetBytes is the
// encoding's length. A detector is fed only if a sub-benchmark using it
// runs.
func BenchmarkMarshalBinary(b *testing.B) {
	const n = 1_000_000
	stationary := sync.OnceValue(func() []float64 {
		r := rand.New(rand.NewPCG(1, 1))
		xs := make([]float64, n)
		for i := range xs {
			if r.Float64() < 0.3 {
				xs[i] = 1
			}
		}
		return xs
	})
	errs := sync.OnceValue(func() []float64 { return samples.Errors(n) })
	for _, c := range []struct {
		name   string
		mk     func() stateful
		stream func() []float64
	}{
		{"ADWIN/stationary", func() stateful { return NewADWIN(DefaultADWINConfig()) }, stationary},
		{"ADWIN/errors", func() stateful { return NewADWIN(DefaultADWINConfig()) }, errs},
		{"PageHinkley/errors", func() stateful { return NewPageHinkley(DefaultPageHinkleyConfig()) }, errs},
		{"DDM/errors", func() stateful { return NewDDM(DefaultDDMConfig()) }, errs},
		{"EDDM/errors", func() stateful { return NewEDDM(DefaultEDDMConfig()) }, errs},
		{"KSWIN/errors", func() stateful { return NewKSWIN(DefaultKSWINConfig()) }, errs},
	} {
		fed := sync.OnceValues(func() (stateful, []byte) {
			d := c.mk()
			for _, x := range c.stream() {
				d.Update(x)
			}
			data, err := d.MarshalBinary()
			if err != nil {
				panic(err)
			}
			return d, data
		})
		b.Run(c.name+"/n=1e6/marshal", func(b *testing.B) {
			d, data := fed()
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := d.MarshalBinary(); err != nil {
					b.Fatal(err)
				}
			}
			if a, ok := d.(*ADWIN); ok {
				b.ReportMetric(float64(a.Width()), "width")
				b.ReportMetric(float64(len(a.cur)), "rows")
			}
		})
		b.Run(c.name+"/n=1e6/unmarshal", func(b *testing.B) {
			d, data := fed()
			zero := reflect.TypeOf(d).Elem()
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := reflect.New(zero).Interface().(stateful).UnmarshalBinary(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestCompactKSWIN(t *testing.T) {
	n := 0
	for _, mk := range stateKinds()[4].configs {
		for _, m := range []int{0, 40, 150, 400} {
			d := mk().(*KSWIN)
			for _, x := range driftStream(m) {
				d.Update(x)
			}
			if compactKSWIN(d) != nil { // panics if it does not expand back
				n++
			}
		}
	}
	if n < 8 {
		t.Errorf("%d of 12 KSWIN states have a short form, want at least 8", n)
	}
}

// TestRestoredUpdateDoesNotAllocate checks that restored detectors keep
// the preallocation of new ones (TestUpdateDoesNotAllocate).
func TestRestoredUpdateDoesNotAllocate(t *testing.T) {
	xs := driftStream(20000)
	for _, k := range stateKinds() {
		t.Run(k.name, func(t *testing.T) { checkUpdateDoesNotAllocate(t, restore(t, k.configs[0]()), xs) })
	}
}
