package reference

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/driftwatch/driftwatch/baselines"
)

// fuzzRead runs read over data and checks what must hold for any input: no
// panic, a consistent Summary, and a baseline that validates whenever one is
// built, with Count + Nulls equal to Rows for every feature.
func fuzzRead(t *testing.T, data []byte, read func(io.Reader, string, *baselines.Builder, *Summary) error) {
	opts := testOptions()
	opts.Bins = 7
	opts.MaxCategories = 3
	b := baselines.NewBuilder("fraud", opts)
	var sum Summary
	if err := read(bytes.NewReader(data), "fraud", b, &sum); err != nil {
		return
	}
	if sum.Rows < 0 || sum.Skipped < int64(len(sum.FirstErrors)) || len(sum.FirstErrors) > maxFirstErrors {
		t.Fatalf("summary %+v", sum)
	}
	bl, err := b.Build()
	if err != nil {
		return
	}
	if err := bl.Validate(); err != nil {
		t.Fatalf("built baseline does not validate: %v", err)
	}
	if bl.Rows != sum.Rows {
		t.Fatalf("baseline of %d rows, summary %d", bl.Rows, sum.Rows)
	}
	for _, f := range append(bl.Features, bl.Prediction) {
		if f.Count+f.Nulls != bl.Rows && !(f.Name == baselines.PredictionName && f.Count+f.Nulls == 0) {
			t.Fatalf("feature %q: count %d + nulls %d != rows %d", f.Name, f.Count, f.Nulls, bl.Rows)
		}
		if len(f.Categories) > opts.MaxCategories {
			t.Fatalf("feature %q: %d categories", f.Name, len(f.Categories))
		}
	}
}

func addTestdata(f *testing.F, pattern string) {
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzCSV(f *testing.F) {
	addTestdata(f, "*.csv")
	for _, s := range []string{
		"x,prediction\n1,a\n2,b\n",
		"x\n\"unterminated\n1\n",
		"a,a\n1,2\n",
		"\ufeffx,model\n1e400,fraud\n-0,\n",
		"x,y\n1\n1,2,3\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, data, readCSV) })
}

func FuzzReadJSONL(f *testing.F) {
	addTestdata(f, "*.json*")
	for _, s := range []string{
		`{"prediction_id":"p","model":"fraud","model_version":"1","timestamp":"2026-01-01T00:00:00Z","features":{"a":1e308,"b":"x","c":true,"d":null},"prediction":1}`,
		`{"prediction_id":"p","model":"fraud","model_version":"1","timestamp":"2026-01-01T00:00:00Z","features":{},"prediction":"yes"}`,
		"\n\n[\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, func(r io.Reader, model string, b *baselines.Builder, sum *Summary) error {
			return readJSONL(r, model, b, sum, &Select{})
		})
	})
}
