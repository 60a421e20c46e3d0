// Package goldenjson decodes the numbers in the golden files that
// stats/testdata/golden/goldenjson.py writes, for the tests that read them.
// JSON has no NaN or infinities, so the files write them as the strings
// "NaN", "+Inf" and "-Inf", and a long sorted sample may be run-length
// encoded as {"values": [...], "counts": [...]}. The tests of several
// packages read such files; this package holds their one decoder, so the
// reading side follows the writer's conventions in one place.
//
// It deliberately decodes values only: each test keeps its own structs
// mirroring its file, and its own tolerances. It is not for production
// code, which has no golden files to read.
package goldenjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// Float is a float64 written as a JSON number or as one of the strings
// "NaN", "+Inf" and "-Inf". Any other string, and null, are errors.
type Float float64

// UnmarshalJSON decodes a number or one of the strings "NaN", "+Inf" and "-Inf".
func (f *Float) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		switch s {
		case "NaN":
			*f = Float(math.NaN())
		case "+Inf":
			*f = Float(math.Inf(1))
		case "-Inf":
			*f = Float(math.Inf(-1))
		default:
			return fmt.Errorf("unknown float string %q", s)
		}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// Floats is a []float64 written as a JSON array of Float values, or as a
// sorted sample run-length encoded as {"values": [...], "counts": [...]}:
// each value repeated count times. An object without both fields is an
// error, so a test may try Floats before another form (such as counts per
// category). null leaves it unchanged (nil when decoded into a zero
// Floats), so a field may be optional.
type Floats []float64

// UnmarshalJSON decodes an array of Float values, a run-length object or null.
func (v *Floats) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '{' {
		var r struct {
			Values []Float
			Counts []int
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		if r.Values == nil || r.Counts == nil || len(r.Values) != len(r.Counts) {
			return fmt.Errorf("run-length sample: %d values, %d counts", len(r.Values), len(r.Counts))
		}
		out := []float64{}
		for i, x := range r.Values {
			for range r.Counts[i] {
				out = append(out, float64(x))
			}
		}
		*v = out
		return nil
	}
	var fs []Float
	if err := json.Unmarshal(b, &fs); err != nil {
		return err
	}
	out := make([]float64, len(fs))
	for i, x := range fs {
		out[i] = float64(x)
	}
	*v = out
	return nil
}
