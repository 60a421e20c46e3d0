package goldenjson

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
)

func TestFloats(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		in   string
		want []float64 // nil: null leaves the value nil
	}{
		{`[1, 2.5, -3e-2]`, []float64{1, 2.5, -0.03}},
		{`["NaN", "+Inf", "-Inf", 0]`, []float64{nan, inf, -inf, 0}},
		{`[]`, []float64{}},
		{`{"values": [1, "+Inf"], "counts": [2, 1]}`, []float64{1, 1, inf}},
		{`{"values": [], "counts": []}`, []float64{}},
		{`null`, nil},
	} {
		var got Floats
		if err := json.Unmarshal([]byte(tc.in), &got); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if (got == nil) != (tc.want == nil) || !slices.EqualFunc(got, tc.want, same) {
			t.Errorf("%s: got %#v, want %#v", tc.in, []float64(got), tc.want)
		}
	}
}

func TestFloat(t *testing.T) {
	for in, want := range map[string]float64{`3`: 3, `-0.5`: -0.5, `"NaN"`: math.NaN(), `"+Inf"`: math.Inf(1), `"-Inf"`: math.Inf(-1)} {
		var got Float
		if err := json.Unmarshal([]byte(in), &got); err != nil || !same(float64(got), want) {
			t.Errorf("%s: got %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	for _, in := range []string{
		`"inf"`, `"nan"`, `""`, `null`, `true`, `[1]`, `{}`,
	} {
		var f Float
		if err := json.Unmarshal([]byte(in), &f); err == nil {
			t.Errorf("Float %s: got %v, want an error", in, f)
		}
	}
	for _, in := range []string{
		`["Infinity"]`, `[null]`, `[[1]]`, `"NaN"`, `1`,
		`{}`, `{"a": 3, "b": 4}`, `{"values": [1, 2], "counts": [1]}`, `{"values": [1]}`, `{"values": ["x"], "counts": [1]}`,
	} {
		var v Floats
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("Floats %s: got %v, want an error", in, v)
		}
	}
}

// same reports whether a and b are equal, counting NaN equal to NaN.
func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
