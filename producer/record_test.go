package producer

import (
	"errors"
	"math"
	"reflect"
	"regexp"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/driftwatch/driftwatch/consumer"
)

var at = time.Date(2026, 11, 20, 10, 15, 3, 120e6, time.UTC)

// sample is a prediction with every field set.
func sample(id string) Prediction {
	return Prediction{
		ID: id, Model: "fraud", ModelVersion: "1.4.2", Time: at,
		Features:   map[string]any{"amount": 120.5, "country": "DE", "is_new_customer": true, "age": nil},
		Prediction: 0.87, Scores: map[string]float64{"fraud": 0.87, "legit": 0.13}, Label: 1,
		Segments: map[string]string{"gender": "f", "age_band": "30-39"}, Variant: "champion", Latency: 12400 * time.Microsecond,
	}
}

type country string

// TestAppendPrediction: what the producer writes is what the consumer
// reads: every field, Go's numeric types as the numbers they hold (a
// float32 in its own shortest form), named types by their kind, and
// strings with quotes, control characters and invalid UTF-8.
func TestAppendPrediction(t *testing.T) {
	p := sample("7d1e")
	p.Features = map[string]any{
		"f64": 120.5, "f32": float32(0.1), "int": -3, "i8": int8(-8), "i16": int16(16), "i32": int32(32), "i64": int64(1 << 40),
		"uint": uint(7), "u8": uint8(8), "u16": uint16(16), "u32": uint32(32), "u64": uint64(1 << 63),
		"tiny": 1e-9, "huge": 1e300, "zero": 0.0, "neg": -2.5e-7,
		"str": "DE", "named": country("FR"), "dur": time.Duration(1500), "bool": false, "null": nil,
		"esc\"\\\n\t\x01é": "a\"b\\c\r\n\x7f\x00", "bad\xffutf8": "x\xc3(y",
	}
	b, err := appendPrediction(nil, &p, p.Time)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(b) {
		t.Errorf("%q is not valid UTF-8", b)
	}
	r, err := consumer.Decode(b, 0)
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	num := func(x float64) consumer.Value { return consumer.Value{Kind: consumer.Number, Num: x} }
	str := func(s string) consumer.Value { return consumer.Value{Kind: consumer.String, Str: s} }
	want := consumer.Record{
		PredictionID: "7d1e", Model: "fraud", ModelVersion: "1.4.2", Timestamp: at,
		Features: map[string]consumer.Value{
			"f64": num(120.5), "f32": num(0.1), "int": num(-3), "i8": num(-8), "i16": num(16), "i32": num(32), "i64": num(1 << 40),
			"uint": num(7), "u8": num(8), "u16": num(16), "u32": num(32), "u64": num(1 << 63),
			"tiny": num(1e-9), "huge": num(1e300), "zero": num(0), "neg": num(-2.5e-7),
			"str": str("DE"), "named": str("FR"), "dur": num(1500), "bool": {Kind: consumer.Bool, Num: 0, Str: "false"}, "null": {},
			"esc\"\\\n\t\x01é": str("a\"b\\c\r\n\x7f\x00"), "bad\uFFFDutf8": str("x\uFFFD(y"),
		},
		Prediction: num(0.87), Scores: map[string]float64{"fraud": 0.87, "legit": 0.13}, Label: num(1),
		Segments: map[string]string{"gender": "f", "age_band": "30-39"}, Variant: "champion", LatencyMS: 12.4,
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("decoded %s\n got %+v\nwant %+v", b, r, want)
	}

	// The optional fields are left out when unset, and nil features are
	// an empty object.
	b, err = appendPrediction(nil, &Prediction{ID: "a", Model: "m", ModelVersion: "1", Prediction: "yes"}, at)
	if err != nil {
		t.Fatal(err)
	}
	const bare = `{"prediction_id":"a","model":"m","model_version":"1","timestamp":"2026-11-20T10:15:03.12Z","features":{},"prediction":"yes"}`
	if string(b) != bare {
		t.Errorf("bare prediction:\n got %s\nwant %s", b, bare)
	}

	// A failed prediction: its error class, and no prediction (null).
	b, err = appendPrediction(nil, &Prediction{ID: "a", Model: "m", ModelVersion: "1", Features: map[string]any{"x": 1}, Error: "time\"out"}, at)
	if err != nil {
		t.Fatal(err)
	}
	r, err = consumer.Decode(b, 0)
	if err != nil || r.Error != "time\"out" || r.Prediction.Kind != consumer.Null || r.Features["x"] != num(1) {
		t.Errorf("failed prediction %s read back as %+v, %v", b, r, err)
	}
	// Without an error, a missing prediction is the consumer's to refuse.
	b, _ = appendPrediction(nil, &Prediction{ID: "a", Model: "m", ModelVersion: "1"}, at)
	if _, err := consumer.Decode(b, 0); err == nil || err.(*consumer.DecodeError).Code != consumer.ReasonMissingField {
		t.Errorf("%s: %v, want missing_field", b, err)
	}
}

// TestNumbersAsEncodingJSON: numbers are written in encoding/json's form
// (no exponent from 1e-6 up to 1e21), so the wire reads as a hand-written
// record would.
func TestNumbersAsEncodingJSON(t *testing.T) {
	for _, c := range []struct {
		x    any
		want string
	}{
		{120.5, "120.5"}, {1e6, "1000000"}, {1e20, "100000000000000000000"}, {1e21, "1e+21"}, {1e-6, "0.000001"},
		{1e-7, "1e-07"}, {math.Copysign(0, -1), "-0"}, {float32(0.1), "0.1"}, {float32(1e21), "1e+21"}, {uint64(math.MaxUint64), "18446744073709551615"},
	} {
		b, err := appendScalar(nil, c.x, "f", "")
		if err != nil || string(b) != c.want {
			t.Errorf("%T %v: %s, %v; want %s", c.x, c.x, b, err, c.want)
		}
	}
}

// TestAppendLabel: a label reads back as the consumer's Label.
func TestAppendLabel(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string // Value.Text
	}{{1, "1"}, {"fraud", "fraud"}, {true, "true"}, {float32(0.25), "0.25"}} {
		b, err := appendLabel(nil, &Label{PredictionID: "7d1e", Model: "fraud", Value: c.v}, at)
		if err != nil {
			t.Fatal(err)
		}
		l, err := consumer.DecodeLabel(b, 0)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if l.PredictionID != "7d1e" || l.Model != "fraud" || !l.Time.Equal(at) || l.Value.Text() != c.want {
			t.Errorf("%s read back as %+v, want label %s", b, l, c.want)
		}
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewID()
		if !uuidV4.MatchString(id) || seen[id] {
			t.Fatalf("NewID() = %q (seen before: %v), want a new version 4 UUID", id, seen[id])
		}
		seen[id] = true
	}
}

// FuzzAppendPrediction: whatever strings and numbers a prediction holds,
// the consumer reads back the same values (invalid UTF-8 byte by byte as
// U+FFFD), or the producer refuses a number JSON cannot hold.
func FuzzAppendPrediction(f *testing.F) {
	f.Add("7d1e", "amount", "DE", 120.5)
	f.Add("\x00\"", "\xff", "\\u0000", math.NaN())
	f.Add("id", "", "é\xc3(", math.Inf(-1))
	f.Add("x", "k", "\u2028", 5e-324)
	f.Fuzz(func(t *testing.T, id, key, s string, x float64) {
		p := Prediction{ID: "id" + id, Model: "m" + s, ModelVersion: "1", Features: map[string]any{key: s, key + "n": x}, Prediction: x,
			Segments: map[string]string{key: s}, Error: "e" + s}
		b, err := appendPrediction(nil, &p, at)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			var de *consumer.DecodeError
			if !errors.As(err, &de) || de.Code != consumer.ReasonWrongType {
				t.Fatalf("%v: %v, want wrong_type", x, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		r, err := consumer.Decode(b, 0)
		if err != nil || !utf8.Valid(b) {
			t.Fatalf("%q (valid UTF-8: %v): %v", b, utf8.Valid(b), err)
		}
		valid := func(s string) string { return string([]rune(s)) }
		num := consumer.Value{Kind: consumer.Number, Num: x}
		if r.PredictionID != valid(p.ID) || r.Model != valid(p.Model) || r.Features[valid(key)] != (consumer.Value{Kind: consumer.String, Str: valid(s)}) ||
			r.Features[valid(key+"n")] != num || r.Prediction != num || r.Segments[valid(key)] != valid(s) || r.Error != valid("e"+s) {
			t.Fatalf("%q read back as %+v", b, r)
		}
	})
}
