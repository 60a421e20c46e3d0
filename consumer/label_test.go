package consumer

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const goodLabel = `{"prediction_id":"7d1e0c5a","model":"fraud","timestamp":"2026-11-27T08:00:00Z","label":1}`

// labelFields are the top-level fields of a late label.
var labelFields = []string{"prediction_id", "model", "timestamp", "label"}

func TestDecodeLabel(t *testing.T) {
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		name, in string
		want     Label
	}{
		{"number", goodLabel, Label{PredictionID: "7d1e0c5a", Model: "fraud", Time: at, Value: Value{Kind: Number, Num: 1}}},
		{"string, offset timestamp, whitespace", " {\"prediction_id\":\"a\",\"model\":\"m\",\"timestamp\":\"2026-11-27T09:00:00+01:00\",\"label\":\"fraud\"}\n",
			Label{PredictionID: "a", Model: "m", Time: at, Value: Value{Kind: String, Str: "fraud"}}},
		{"bool", `{"prediction_id":"a","model":"m","timestamp":"2026-11-27T08:00:00Z","label":false}`,
			Label{PredictionID: "a", Model: "m", Time: at, Value: Value{Kind: Bool, Num: 0, Str: "false"}}},
		{"unknown fields ignored", `{"prediction_id":"a","model":"m","timestamp":"2026-11-27T08:00:00Z","label":0.5,"model_version":3,"extra":{"x":[1]}}`,
			Label{PredictionID: "a", Model: "m", Time: at, Value: Value{Kind: Number, Num: 0.5}}},
		{"last of a repeated key", `{"prediction_id":"a","model":"m","timestamp":"2026-11-27T08:00:00Z","label":null,"label":"x"}`,
			Label{PredictionID: "a", Model: "m", Time: at, Value: Value{Kind: String, Str: "x"}}},
		{"invalid UTF-8 replaced", "{\"prediction_id\":\"a\xff\",\"model\":\"m\",\"timestamp\":\"2026-11-27T08:00:00Z\",\"label\":1}",
			Label{PredictionID: "a\uFFFD", Model: "m", Time: at, Value: Value{Kind: Number, Num: 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeLabel([]byte(c.in), 0)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			if got.Time.Location() != time.UTC {
				t.Fatalf("time %v not in UTC", got.Time)
			}
		})
	}
}

func TestDecodeLabelRejects(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(goodLabel, old) {
			t.Fatalf("test bug: %q not in label", old)
		}
		return strings.Replace(goodLabel, old, new, 1)
	}
	cases := []struct {
		name, in string
		max      int
		code     string
		detail   string
	}{
		{"too big", goodLabel, 40, ReasonTooBig, "limit 40"},
		{"empty", ``, 0, ReasonNotJSON, ""},
		{"array", `[1]`, 0, ReasonNotJSON, ""},
		{"truncated", goodLabel[:30], 0, ReasonNotJSON, ""},
		{"garbage after", goodLabel + "}", 0, ReasonNotJSON, ""},
		{"raw control char before an escape", replace(`"fraud"`, "\"fr\x02aud\\t\""), 0, ReasonNotJSON, "control character 0x02"},
		{"missing id", replace(`"prediction_id":"7d1e0c5a",`, ``), 0, ReasonMissingField, "prediction_id"},
		{"empty id", replace(`"7d1e0c5a"`, `""`), 0, ReasonMissingField, "prediction_id"},
		{"numeric id", replace(`"7d1e0c5a"`, `7`), 0, ReasonWrongType, "prediction_id"},
		{"null model", replace(`"fraud"`, `null`), 0, ReasonMissingField, "model"},
		{"missing timestamp", replace(`"timestamp":"2026-11-27T08:00:00Z",`, ``), 0, ReasonMissingField, "timestamp"},
		{"epoch timestamp", replace(`"2026-11-27T08:00:00Z"`, `1795766400`), 0, ReasonWrongType, "timestamp"},
		{"bad timestamp", replace(`2026-11-27T08:00:00Z`, `27/11/2026`), 0, ReasonBadTimestamp, "timestamp"},
		{"missing label", replace(`,"label":1`, ``), 0, ReasonMissingField, "label"},
		{"null label", replace(`"label":1`, `"label":null`), 0, ReasonMissingField, "label"},
		{"object label", replace(`"label":1`, `"label":{"y":1}`), 0, ReasonWrongType, "label"},
		{"array label", replace(`"label":1`, `"label":[1]`), 0, ReasonWrongType, "label"},
		{"huge label", replace(`"label":1`, `"label":1e999`), 0, ReasonWrongType, "label"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeLabel([]byte(c.in), c.max)
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

// FuzzDecodeLabel checks DecodeLabel against the encoding/json oracle: the
// same verdict (reason code) for every input, the same label for every
// accepted one, and every accepted label has what the contract requires.
func FuzzDecodeLabel(f *testing.F) {
	f.Add([]byte(goodLabel))
	f.Add([]byte(`{"prediction_id":"a","model":"m","timestamp":"2026-11-27T09:00:00.5+01:00","label":"x","extra":[{}]}`))
	f.Add([]byte(`{"prediction_id":"a","model":"m","timestamp":"2026-11-27T08:00:00Z","label":true,"label":null}`))
	f.Add([]byte(`{"prediction_id":"\u00e9\\","model":"m","timestamp":"0001-01-01T00:00:00Z","label":-0.0}`))
	f.Add([]byte(`{"prediction_id":"a","model":"m","timestamp":"2026-11-27T08:00:00Z","label":1e400}`))
	f.Add([]byte(`{"prediction_id":"a","model":"m","timestamp":"2026-11-27T08:00:00Z","label":{"a":1}}`))
	f.Add([]byte(`{"model":3,"label":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if caseVariantKey(data, labelFields) {
			t.Skip("encoding/json matches field names case-insensitively; DecodeLabel, as the contract, exactly")
		}
		got, gerr := DecodeLabel(data, 4096)
		want, werr := oracleDecodeLabel(data, 4096)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("DecodeLabel err %v, oracle err %v", gerr, werr)
		}
		if gerr != nil {
			var de *DecodeError
			if !errors.As(gerr, &de) || de.Code == "" {
				t.Fatalf("error %v is not a coded *DecodeError", gerr)
			}
			if w := werr.(*DecodeError).Code; de.Code != w {
				t.Fatalf("reason %s (%v), oracle %s (%v)", de.Code, gerr, w, werr)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded\n%+v\noracle\n%+v", got, want)
		}
		if got.PredictionID == "" || got.Model == "" || got.Value.Kind == Null || got.Time.Location() != time.UTC {
			t.Fatalf("decoded label misses a required field: %+v", got)
		}
	})
}
