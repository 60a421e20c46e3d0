package windows

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
)

// mvBaseline has a numeric and a categorical feature and a multivariate
// model of both (the codes: DE 0, FR 1, US 2).
func mvBaseline() *baselines.Baseline {
	return &baselines.Baseline{
		Format: 1, ID: "mv1", Model: "fraud",
		Features: []baselines.Feature{
			{Name: "amount", Kind: baselines.Numeric, Count: 4, Edges: []float64{0, 10, 100}, Counts: []int64{0, 2, 1, 1}, Sums: []float64{0, 8, 50, 100}},
			{Name: "country", Kind: baselines.Categorical, Count: 4, Categories: map[string]int64{"DE": 2, "FR": 1, "US": 1}},
		},
		Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Numeric, Count: 4, Edges: []float64{0.5}, Counts: []int64{2, 2}, Sums: []float64{0.5, 1.5}},
		Multivariate: &baselines.Multivariate{
			Features: []baselines.MultivariateFeature{
				{Name: "amount", Kind: baselines.Numeric, Fill: 40, Center: 40, Scale: 30},
				{Name: "country", Kind: baselines.Categorical, Categories: []string{"DE", "FR", "US"}, Frequencies: []float64{0.5, 0.25, 0.25}, Center: 0.375, Scale: 0.125},
			},
			FitRows: 4, Mean: []float64{0, 0}, Components: [][]float64{{1, 0}, {0, 1}}, Variances: []float64{1, 1}, Kept: 1,
		},
	}
}

// mvRecord is one record of mvBaseline's features.
type mvRecord struct {
	id      string
	at      time.Duration
	amount  float64 // NaN: null
	country string  // "": null
}

// mvRecords are n records over one hour: some amounts null, some
// countries null or never seen.
func mvRecords(seed uint64, n int) []mvRecord {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]mvRecord, n)
	for i := range out {
		r := mvRecord{id: fmt.Sprintf("req-%06d", i), at: time.Duration(rng.Int64N(int64(time.Hour))), amount: math.Round(rng.Float64()*20000) / 100}
		if rng.IntN(10) == 0 {
			r.amount = math.NaN()
		}
		r.country = []string{"DE", "FR", "US", "XX", ""}[rng.IntN(5)]
		out[i] = r
	}
	return out
}

func mvBatch(base *baselines.Baseline, wm time.Duration, recs []mvRecord) consumer.Batch {
	bb := consumer.NewBatchBuilder(base)
	defer bb.Release()
	for _, r := range recs {
		f := map[string]consumer.Value{}
		if !math.IsNaN(r.amount) {
			f["amount"] = consumer.Value{Kind: consumer.Number, Num: r.amount}
		}
		if r.country != "" {
			f["country"] = consumer.Value{Kind: consumer.String, Str: r.country}
		}
		bb.Append(&consumer.Record{PredictionID: r.id, Model: "fraud", ModelVersion: "v1", Timestamp: t0.Add(r.at),
			Features: f, Prediction: consumer.Value{Kind: consumer.Number, Num: 0.5}})
	}
	return consumer.Batch{Model: "fraud", Baseline: base, Rec: bb.NewRecordBatch(), Watermark: t0.Add(wm), Ack: func(error) {}}
}

// wantSample is the bottom-k sample of recs computed directly: the k
// records of smallest RowHash, with their raw values.
func wantSample(recs []mvRecord, k int) ([]uint64, []float64) {
	sorted := slices.Clone(recs)
	slices.SortFunc(sorted, func(a, b mvRecord) int { return cmp.Compare(baselines.RowHash(a.id), baselines.RowHash(b.id)) })
	var hashes []uint64
	var values []float64
	for _, r := range sorted[:min(k, len(sorted))] {
		hashes = append(hashes, baselines.RowHash(r.id))
		code := math.NaN()
		if r.country != "" {
			code = float64(slices.Index([]string{"DE", "FR", "US"}, r.country)) // -1 for XX
		}
		values = append(values, r.amount, code)
	}
	return hashes, values
}

func sameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// TestSampleIsBottomK: a window's sample is the k records of smallest
// hash of their prediction_id, with their values (numbers, codes, -1 for
// a category the model does not know, NaN for nulls), whatever the order
// and batches records arrive in, and never holds more than 2k rows.
func TestSampleIsBottomK(t *testing.T) {
	base := mvBaseline()
	recs := mvRecords(1, 3000)
	for _, k := range []int{1, 50, 500, 5000} {
		wantH, wantV := wantSample(recs, k)
		for trial := range 3 {
			rng := rand.New(rand.NewPCG(uint64(trial), 9))
			order := slices.Clone(recs)
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			a := New(Config{Size: time.Hour, SampleRows: k})
			var w *Window
			for len(order) > 0 {
				n := min(len(order), 1+rng.IntN(400))
				b := mvBatch(base, 0, order[:n])
				order = order[n:]
				a.process(b)
				for _, byStart := range a.open {
					for _, ow := range byStart {
						w = ow.w
					}
				}
				if w.Sample.Len() > 2*k {
					t.Fatalf("k %d: %d rows between prunings", k, w.Sample.Len())
				}
			}
			w.Seal()
			if w.Sample.K != k || !slices.Equal(w.Sample.Hashes, wantH) || !sameBits(w.Sample.Values, wantV) {
				t.Errorf("k %d trial %d: sample of %d rows differs from the %d of smallest hash", k, trial, w.Sample.Len(), len(wantH))
			}
		}
	}
}

// TestSampleMergeEqualsWhole: the records split among three folds in any
// way, their deltas encoded, decoded and merged in any order, give the
// whole window's sample.
func TestSampleMergeEqualsWhole(t *testing.T) {
	base := mvBaseline()
	recs := mvRecords(2, 2000)
	const k = 100
	whole := New(Config{Size: time.Hour, SampleRows: k})
	whole.process(mvBatch(base, 0, recs))
	var want *Window
	for _, byStart := range whole.open {
		for _, ow := range byStart {
			want = ow.w
		}
	}
	want.Seal()
	resolve := func(string, string) *baselines.Baseline { return base }
	for trial := range 5 {
		rng := rand.New(rand.NewPCG(uint64(trial), 3))
		folds := []*Fold{NewFold(Config{Size: time.Hour, SampleRows: k}), NewFold(Config{Size: time.Hour, SampleRows: k}), NewFold(Config{Size: time.Hour, SampleRows: k})}
		parts := make([][]mvRecord, len(folds))
		for _, r := range recs {
			i := rng.IntN(len(folds))
			parts[i] = append(parts[i], r)
		}
		var deltas [][]byte
		for i, f := range folds {
			for start := 0; start < len(parts[i]); start += 300 { // several flushes per fold
				f.Add(mvBatch(base, 0, parts[i][start:min(start+300, len(parts[i]))]))
				deltas = append(deltas, flushed(t, f)...)
			}
		}
		rng.Shuffle(len(deltas), func(i, j int) { deltas[i], deltas[j] = deltas[j], deltas[i] })
		got := NewWindow(want.Key, want.Start, want.End, base, want.MaxCategories)
		for _, b := range deltas {
			d, err := UnmarshalDelta(b, resolve)
			if err != nil {
				t.Fatal(err)
			}
			if err := got.Merge(d.Window); err != nil {
				t.Fatal(err)
			}
		}
		if got.Sample == nil || got.Sample.K != k || !slices.Equal(got.Sample.Hashes, want.Sample.Hashes) || !sameBits(got.Sample.Values, want.Sample.Values) {
			t.Errorf("trial %d: merged sample differs from the whole's", trial)
		}
		if got.Records != 2000 {
			t.Errorf("trial %d: %d records merged", trial, got.Records)
		}
	}
}

// TestSampleDecodeRejects: a delta's sample that does not fit its
// baseline's model does not decode.
func TestSampleDecodeRejects(t *testing.T) {
	base := mvBaseline()
	f := NewFold(Config{Size: time.Hour, SampleRows: 10})
	f.Add(mvBatch(base, 0, mvRecords(3, 50)))
	d := f.take()[0]
	resolve := func(string, string) *baselines.Baseline { return base }
	for _, c := range []struct {
		name   string
		break_ func(s *Sample)
	}{
		{"code out of range", func(s *Sample) { s.Values[1] = 3 }},
		{"fractional code", func(s *Sample) { s.Values[1] = 0.5 }},
		{"infinite value", func(s *Sample) { s.Values[0] = math.Inf(1) }},
		{"ragged rows", func(s *Sample) { s.Values = s.Values[:len(s.Values)-1] }},
		{"too many rows", func(s *Sample) { s.K = 1 }},
		{"wrong width", func(s *Sample) { s.Width = 3 }},
	} {
		w := *d.Window
		s := *d.Window.Sample
		s.Hashes, s.Values = slices.Clone(s.Hashes), slices.Clone(s.Values)
		c.break_(&s)
		w.Sample = &s
		b, err := MarshalDelta(Delta{Window: &w, Rows: d.Rows})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := UnmarshalDelta(b, resolve); err == nil {
			t.Errorf("%s: decoded", c.name)
		}
	}
	// Against a baseline without a model, a delta with a sample is another
	// baseline's.
	b, err := MarshalDelta(d)
	if err != nil {
		t.Fatal(err)
	}
	plain := mvBaseline()
	plain.Multivariate = nil
	if _, err := UnmarshalDelta(b, func(string, string) *baselines.Baseline { return plain }); err == nil {
		t.Error("a sample decoded against a baseline without a multivariate model")
	}
	if _, err := UnmarshalDelta(b, resolve); err != nil {
		t.Errorf("the unbroken delta: %v", err)
	}
}

// FuzzUnmarshalDeltaSample fuzzes deltas of a baseline with a numeric and
// a categorical multivariate feature: what decodes merges into a window,
// stays within twice its K, and encodes into finite rows.
func FuzzUnmarshalDeltaSample(f *testing.F) {
	base := mvBaseline()
	fold := NewFold(Config{Size: time.Hour, SampleRows: 20})
	fold.Add(mvBatch(base, 0, mvRecords(4, 60)))
	parts, err := fold.Flush()
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range parts {
		f.Add(p.Value)
	}
	resolve := func(string, string) *baselines.Baseline { return base }
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := UnmarshalDelta(data, resolve)
		if err != nil {
			return
		}
		w := NewWindow(d.Window.Key, d.Window.Start, d.Window.End, base, d.Window.MaxCategories)
		for range 2 {
			if err := w.Merge(d.Window); err != nil {
				t.Fatal(err)
			}
		}
		s := w.Sample
		if s == nil {
			return
		}
		if s.Len() > s.K || len(s.Values) != s.Len()*s.Width {
			t.Fatalf("sealed sample of %d rows, K %d, %d values", s.Len(), s.K, len(s.Values))
		}
		z := make([]float64, s.Width)
		for i := range s.Len() {
			base.Multivariate.Encode(s.Row(i), z)
			for _, v := range z {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("row %v encodes to %v", s.Row(i), z)
				}
			}
		}
	})
}
