package workload

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
)

// TestStream checks the stream's shape: exactly n records, byte-identical
// for a seed and different for another, each a valid contract record of
// about 1 KB with the 40 features (30 numeric, 10 categorical).
func TestStream(t *testing.T) {
	const n = 2_000
	a, err := Records(DefaultSeed, n)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Records(DefaultSeed, n)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Records(DefaultSeed+1, n)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave different records")
	}
	if bytes.Equal(a, c) {
		t.Error("another seed gave the same records")
	}
	if len(NumericFeatures) != 30 || len(CategoricalFeatures) != 10 {
		t.Errorf("%d numeric and %d categorical features, want 30 and 10", len(NumericFeatures), len(CategoricalFeatures))
	}
	lines := bytes.Split(bytes.TrimSuffix(a, []byte{'\n'}), []byte{'\n'})
	if len(lines) != n {
		t.Fatalf("%d records, want %d", len(lines), n)
	}
	if per := len(a) / n; per < 900 || per > 1300 {
		t.Errorf("%d bytes per record, want about 1 KB", per)
	}
	for i, line := range lines {
		r, err := consumer.Decode(line, 0)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		var raw struct{ Features map[string]any }
		if err := json.Unmarshal(line, &raw); err != nil {
			t.Fatal(err)
		}
		if r.Model != Model || r.ModelVersion != Version || len(raw.Features) != 40 {
			t.Fatalf("record %d: model %s %s with %d features, want %s %s with 40", i, r.Model, r.ModelVersion, len(raw.Features), Model, Version)
		}
	}
}

// TestBaseline checks that the baseline built from the reference knows the
// 40 features with their kinds.
func TestBaseline(t *testing.T) {
	b, err := Baseline(DefaultSeed, 2_000, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]baselines.Kind{}
	for _, f := range b.Features {
		kinds[f.Name] = f.Kind
	}
	for _, name := range NumericFeatures {
		if kinds[name] != baselines.Numeric {
			t.Errorf("feature %s: kind %v, want numeric", name, kinds[name])
		}
	}
	for _, name := range CategoricalFeatures {
		if kinds[name] != baselines.Categorical {
			t.Errorf("feature %s: kind %v, want categorical", name, kinds[name])
		}
	}
	if len(b.Features) != 40 {
		t.Errorf("%d features, want 40", len(b.Features))
	}
}

// TestReplayAllocations asserts issue 14's allocation budget: replay's
// whole hot path (file source, decoding, windows, statistics, rows out)
// makes at most two heap allocations per record of the workload. The
// records span several windows, so closing windows and evaluating them is
// in the count too.
func TestReplayAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 60,000 records")
	}
	const n = 60_000
	log, err := Records(DefaultSeed, n)
	if err != nil {
		t.Fatal(err)
	}
	base, err := Baseline(DefaultSeed, 5_000, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]*baselines.Baseline{Model: base}
	var rows int64
	perRecord := testing.AllocsPerRun(2, func() {
		if rows, err = Replay(bytes.NewReader(log), set, io.Discard); err != nil {
			t.Fatal(err)
		}
	}) / n
	if rows == 0 {
		t.Fatal("replay wrote no rows")
	}
	t.Logf("%.3f allocations per record (%d rows)", perRecord, rows)
	if perRecord > 2 {
		t.Fatalf("%.2f allocations per record, want at most 2", perRecord)
	}
}
