package consumer

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

const good = `{"prediction_id":"7d1e","model":"fraud","model_version":"1.4.2","timestamp":"2026-11-20T10:15:03.120Z",` +
	`"features":{"amount":120.5,"country":"DE","is_new_customer":true,"age":null},"prediction":0.87,` +
	`"scores":{"fraud":0.87,"legit":0.13},"label":null,"segments":{"gender":"f","age_band":"30-39"},` +
	`"variant":"champion","latency_ms":12.4,"extra":{"ignored":[1,2]}}`

func TestDecodeGood(t *testing.T) {
	r, err := Decode([]byte(good), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 20, 10, 15, 3, 120e6, time.UTC)
	if r.PredictionID != "7d1e" || r.Model != "fraud" || r.ModelVersion != "1.4.2" || !r.Timestamp.Equal(want) {
		t.Fatalf("header fields: %+v", r)
	}
	checks := map[string]Value{
		"amount":          {Kind: Number, Num: 120.5},
		"country":         {Kind: String, Str: "DE"},
		"is_new_customer": {Kind: Bool, Num: 1, Str: "true"},
		"age":             {},
	}
	for name, v := range checks {
		if got, ok := r.Features[name]; !ok || got != v {
			t.Errorf("feature %s = %+v (present %v), want %+v", name, got, ok, v)
		}
	}
	if r.Prediction != (Value{Kind: Number, Num: 0.87}) || r.Label.Kind != Null {
		t.Errorf("prediction %+v label %+v", r.Prediction, r.Label)
	}
	if r.Scores["legit"] != 0.13 || r.Segments["age_band"] != "30-39" || r.Variant != "champion" || r.LatencyMS != 12.4 {
		t.Errorf("optional fields: %+v", r)
	}
}

func TestDecodeOptionalAbsent(t *testing.T) {
	r, err := Decode([]byte(`{"prediction_id":"a","model":"m","model_version":"1","timestamp":"2026-11-20T10:15:03+01:00","features":{},"prediction":"cat"}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Prediction.Kind != String || r.Prediction.Str != "cat" || !math.IsNaN(r.LatencyMS) || r.Scores != nil || r.Segments != nil {
		t.Fatalf("got %+v", r)
	}
	if r.Timestamp.Location() != time.UTC || r.Timestamp.Hour() != 9 {
		t.Fatalf("timestamp not normalized to UTC: %v", r.Timestamp)
	}
}

func TestDecodeRejects(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("test bug: %q not in record", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	cases := []struct {
		name, in, code, detail string
	}{
		{"empty", ``, ReasonNotJSON, ""},
		{"array", `[1,2]`, ReasonNotJSON, ""},
		{"truncated", good[:40], ReasonNotJSON, ""},
		{"garbage after", good + "x", ReasonNotJSON, ""},
		{"raw control char before an escape", replace(`"country":"DE"`, "\"country\":\"D\x01E\\n\""), ReasonNotJSON, "control character 0x01"},
		{"missing id", replace(`"prediction_id":"7d1e",`, ``), ReasonMissingField, "prediction_id"},
		{"null model", replace(`"model":"fraud"`, `"model":null`), ReasonMissingField, "model"},
		{"empty version", replace(`"model_version":"1.4.2"`, `"model_version":""`), ReasonMissingField, "model_version"},
		{"numeric version", replace(`"model_version":"1.4.2"`, `"model_version":1.4`), ReasonWrongType, "model_version"},
		{"missing timestamp", replace(`"timestamp":"2026-11-20T10:15:03.120Z",`, ``), ReasonMissingField, "timestamp"},
		{"bad timestamp", replace(`2026-11-20T10:15:03.120Z`, `20/11/2026 10:15`), ReasonBadTimestamp, "timestamp"},
		{"epoch timestamp", replace(`"2026-11-20T10:15:03.120Z"`, `1763633703`), ReasonWrongType, "timestamp"},
		{"missing features", replace(`"features":{"amount":120.5,"country":"DE","is_new_customer":true,"age":null},`, ``), ReasonMissingField, "features"},
		{"features array", replace(`{"amount":120.5,"country":"DE","is_new_customer":true,"age":null}`, `[1]`), ReasonWrongType, "features"},
		{"feature object", replace(`"amount":120.5`, `"amount":{"v":1}`), ReasonWrongType, "features.amount"},
		{"feature huge number", replace(`"amount":120.5`, `"amount":1e999`), ReasonWrongType, "features.amount"},
		{"missing prediction", replace(`"prediction":0.87,`, ``), ReasonMissingField, "prediction"},
		{"bool prediction", replace(`"prediction":0.87`, `"prediction":true`), ReasonWrongType, "prediction"},
		{"scores strings", replace(`"fraud":0.87,"legit":0.13`, `"fraud":"high"`), ReasonWrongType, "scores"},
		{"label object", replace(`"label":null`, `"label":{}`), ReasonWrongType, "label"},
		{"segments array", replace(`{"gender":"f","age_band":"30-39"}`, `["f"]`), ReasonWrongType, "segments"},
		{"variant number", replace(`"variant":"champion"`, `"variant":2`), ReasonWrongType, "variant"},
		{"latency string", replace(`"latency_ms":12.4`, `"latency_ms":"12ms"`), ReasonWrongType, "latency_ms"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.in), 0)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DecodeError", err)
			}
			if de.Code != c.code || !strings.Contains(de.Detail, c.detail) {
				t.Fatalf("got %s %q, want %s containing %q", de.Code, de.Detail, c.code, c.detail)
			}
		})
	}
}

func TestDecodeTooBig(t *testing.T) {
	_, err := Decode([]byte(good), 100)
	var de *DecodeError
	if !errors.As(err, &de) || de.Code != ReasonTooBig {
		t.Fatalf("err = %v, want too_big", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"prediction_id":"a","model":"m","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{},"prediction":"x"}`))
	f.Add([]byte(`{"features":{"a":[1]}}`))
	f.Add([]byte(`{"prediction_id":"\u0000","model":"m","model_version":"1","timestamp":"0000-01-01T00:00:00Z","features":{"":-0},"prediction":-1e308}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(data, 4096)
		// Check agrees with Decode.
		if ts, cerr := Check(data, 4096); (cerr == nil) != (err == nil) || err != nil && cerr.Error() != err.Error() || err == nil && !ts.Equal(r.Timestamp) {
			t.Fatalf("Check: %v, %v; Decode: %v, %v", ts, cerr, r.Timestamp, err)
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Code == "" {
				t.Fatalf("error %v is not a coded *DecodeError", err)
			}
			return
		}
		// Whatever decodes must satisfy the contract's required fields.
		if r.PredictionID == "" || r.Model == "" || r.ModelVersion == "" || r.Timestamp.IsZero() && !strings.Contains(string(data), "0001-01-01") {
			t.Fatalf("decoded record misses a required field: %+v", r)
		}
		if r.Features == nil || (r.Prediction.Kind != Number && r.Prediction.Kind != String && !(r.Prediction.Kind == Null && r.Error != "")) {
			t.Fatalf("decoded record has no features or a bad prediction: %+v", r)
		}
		for name, v := range r.Features {
			if v.Kind == Number && (math.IsNaN(v.Num) || math.IsInf(v.Num, 0)) {
				t.Fatalf("feature %q is not finite: %v", name, v.Num)
			}
		}
	})
}

// FuzzDecodeMatchesOracle checks Decode against the encoding/json decoder it
// replaced: the same verdict (reason code) for every input, and the same
// record for every accepted one.
func FuzzDecodeMatchesOracle(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"prediction_id":"a","model":"m","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{"a":1,"a":"x"},"prediction":"x","segments":{"g":null}}`))
	f.Add([]byte(`{"prediction_id":"a","prediction_id":null,"model":"m"}`))
	f.Add([]byte(`{"features":[1],"model":3}`))
	f.Add([]byte(`{"prediction_id":"a","model":"m","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{},"prediction":1e400}`))
	f.Add([]byte(` {"prediction_id":"a","model":"m","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{},"prediction":-0.0,"scores":{"a":null,"b":1}} `))
	f.Add([]byte(`{"prediction_id":"a","model":"m","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{},"prediction":1,"scores":{"a":1,"a":null}}`))
	f.Add([]byte(`{"prediction_id":"a","model":"m","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{"x":1},"error":"timeout"}`))
	f.Add([]byte(`{"prediction_id":"a","model":"m","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{},"prediction":null,"error":""}`))
	f.Add([]byte(`{"prediction_id":"a","model":"m","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{},"prediction":true,"error":"x","error":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if caseVariantKey(data, recordFields) {
			t.Skip("encoding/json matches field names case-insensitively; Decode, as the contract, exactly")
		}
		got, gerr := Decode(data, 4096)
		want, werr := oracleDecode(data, 4096)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("Decode err %v, oracle err %v", gerr, werr)
		}
		if gerr != nil {
			if g, w := gerr.(*DecodeError).Code, werr.(*DecodeError).Code; g != w {
				t.Fatalf("reason %s (%v), oracle %s (%v)", g, gerr, w, werr)
			}
			return
		}
		if !reflect.DeepEqual(got, want) && !(math.IsNaN(got.LatencyMS) && math.IsNaN(want.LatencyMS) && equalButLatency(got, want)) {
			t.Fatalf("decoded\n%+v\noracle\n%+v", got, want)
		}
	})
}

func equalButLatency(a, b Record) bool {
	a.LatencyMS, b.LatencyMS = 0, 0
	return reflect.DeepEqual(a, b)
}

// recordFields are the top-level fields of a prediction log record.
var recordFields = []string{"prediction_id", "model", "model_version", "timestamp", "features", "prediction",
	"scores", "label", "segments", "variant", "latency_ms", "error"}

// caseVariantKey reports whether a top-level key differs from one of the
// contract's field names only by case.
func caseVariantKey(data []byte, fields []string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return false
	}
	for k := range m {
		for _, f := range fields {
			if k != f && strings.EqualFold(k, f) {
				return true
			}
		}
	}
	return false
}
