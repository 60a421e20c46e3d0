package consumer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// DefaultMaxRecordBytes is the largest prediction log record Decode accepts
// unless told otherwise: 1 MiB, Kafka's default message size.
const DefaultMaxRecordBytes = 1 << 20

// Kind is the JSON type of a feature value in a prediction log record.
type Kind uint8

// The kinds of feature value. Null is a missing value.
const (
	Null Kind = iota
	Number
	String
	Bool
)

func (k Kind) String() string {
	switch k {
	case Number:
		return "number"
	case String:
		return "string"
	case Bool:
		return "bool"
	default:
		return "null"
	}
}

// Value is one feature value, prediction or label. Num holds a Number (and a
// Bool as 0 or 1); Str holds a String (and a Bool as "true" or "false").
type Value struct {
	Kind Kind
	Num  float64
	Str  string
}

// Text returns the value as a category: a string as is, a bool as "true" or
// "false", a number in Go's shortest decimal form, and "" for null.
func (v Value) Text() string {
	switch v.Kind {
	case String, Bool:
		return v.Str
	case Number:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	default:
		return ""
	}
}

// Record is one decoded prediction log record (CONTRACT.md section 1).
type Record struct {
	PredictionID string
	Model        string
	ModelVersion string
	Timestamp    time.Time
	Features     map[string]Value
	Prediction   Value // Number or String
	Scores       map[string]float64
	Label        Value // Null when absent
	Segments     map[string]string
	Variant      string
	LatencyMS    float64 // NaN when absent
}

// Reason codes of a record that breaks the contract. They are bounded and
// used as metric labels and in the dead-letter header.
const (
	ReasonTooBig       = "too_big"
	ReasonNotJSON      = "not_json"
	ReasonMissingField = "missing_field"
	ReasonWrongType    = "wrong_type"
	ReasonBadTimestamp = "bad_timestamp"
	ReasonNoBaseline   = "no_baseline"
)

// DecodeError says why a record breaks the contract: Code is one of the
// Reason constants, Detail names the field and what was wrong with it.
type DecodeError struct {
	Code   string
	Detail string
}

func (e *DecodeError) Error() string { return e.Code + ": " + e.Detail }

func reject(code, format string, args ...any) *DecodeError {
	return &DecodeError{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// wire mirrors the JSON object; fields stay raw so that a wrong type is
// reported by field name instead of as a generic unmarshal error.
type wire struct {
	PredictionID json.RawMessage            `json:"prediction_id"`
	Model        json.RawMessage            `json:"model"`
	ModelVersion json.RawMessage            `json:"model_version"`
	Timestamp    json.RawMessage            `json:"timestamp"`
	Features     map[string]json.RawMessage `json:"features"`
	Prediction   json.RawMessage            `json:"prediction"`
	Scores       json.RawMessage            `json:"scores"`
	Label        json.RawMessage            `json:"label"`
	Segments     json.RawMessage            `json:"segments"`
	Variant      json.RawMessage            `json:"variant"`
	LatencyMS    json.RawMessage            `json:"latency_ms"`
}

// Decode parses one prediction log record. It returns a *DecodeError when the
// record breaks the contract: larger than maxBytes (0 means
// DefaultMaxRecordBytes), not a JSON object, a required field missing or
// null, a field of the wrong type, or a timestamp that is not RFC 3339.
// Unknown top-level fields are ignored. Decode is safe for concurrent use.
func Decode(data []byte, maxBytes int) (Record, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRecordBytes
	}
	if len(data) > maxBytes {
		return Record{}, reject(ReasonTooBig, "record is %d bytes, limit %d", len(data), maxBytes)
	}
	var w wire
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Record{}, reject(ReasonNotJSON, "not a JSON object")
	}
	if err := json.Unmarshal(trimmed, &w); err != nil {
		if _, ok := err.(*json.UnmarshalTypeError); ok {
			return Record{}, reject(ReasonWrongType, "features: want an object")
		}
		return Record{}, reject(ReasonNotJSON, "%v", err)
	}
	var r Record
	var err *DecodeError
	if r.PredictionID, err = requiredString("prediction_id", w.PredictionID); err != nil {
		return Record{}, err
	}
	if r.Model, err = requiredString("model", w.Model); err != nil {
		return Record{}, err
	}
	if r.ModelVersion, err = requiredString("model_version", w.ModelVersion); err != nil {
		return Record{}, err
	}
	ts, err := requiredString("timestamp", w.Timestamp)
	if err != nil {
		return Record{}, err
	}
	t, perr := time.Parse(time.RFC3339Nano, ts)
	if perr != nil {
		return Record{}, reject(ReasonBadTimestamp, "timestamp %q is not RFC 3339", truncate(ts, 64))
	}
	r.Timestamp = t.UTC()
	if w.Features == nil {
		return Record{}, reject(ReasonMissingField, "features")
	}
	r.Features = make(map[string]Value, len(w.Features))
	for name, raw := range w.Features {
		v, ok := scalar(raw)
		if !ok {
			return Record{}, reject(ReasonWrongType, "features.%s: want number, string, bool or null", truncate(name, 64))
		}
		r.Features[name] = v
	}
	if isAbsent(w.Prediction) {
		return Record{}, reject(ReasonMissingField, "prediction")
	}
	if r.Prediction, _ = scalar(w.Prediction); r.Prediction.Kind != Number && r.Prediction.Kind != String {
		return Record{}, reject(ReasonWrongType, "prediction: want number or string")
	}
	if !isAbsent(w.Scores) {
		if jerr := json.Unmarshal(w.Scores, &r.Scores); jerr != nil {
			return Record{}, reject(ReasonWrongType, "scores: want an object of numbers")
		}
	}
	if !isAbsent(w.Label) {
		v, ok := scalar(w.Label)
		if !ok {
			return Record{}, reject(ReasonWrongType, "label: want number, string, bool or null")
		}
		r.Label = v
	}
	if !isAbsent(w.Segments) {
		if r.Segments, err = segments(w.Segments); err != nil {
			return Record{}, err
		}
	}
	if !isAbsent(w.Variant) {
		if r.Variant, err = requiredString("variant", w.Variant); err != nil {
			return Record{}, err
		}
	}
	r.LatencyMS = math.NaN()
	if !isAbsent(w.LatencyMS) {
		v, _ := scalar(w.LatencyMS)
		if v.Kind != Number {
			return Record{}, reject(ReasonWrongType, "latency_ms: want a number")
		}
		r.LatencyMS = v.Num
	}
	return r, nil
}

func isAbsent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func requiredString(field string, raw json.RawMessage) (string, *DecodeError) {
	if isAbsent(raw) {
		return "", reject(ReasonMissingField, "%s", field)
	}
	if raw[0] != '"' {
		return "", reject(ReasonWrongType, "%s: want a string", field)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", reject(ReasonWrongType, "%s: want a string", field)
	}
	if s == "" {
		return "", reject(ReasonMissingField, "%s is empty", field)
	}
	return s, nil
}

// scalar decodes a JSON number, string, bool or null. ok is false for
// objects, arrays and numbers that do not fit a float64.
func scalar(raw json.RawMessage) (Value, bool) {
	if isAbsent(raw) {
		return Value{}, true
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Value{}, false
		}
		return Value{Kind: String, Str: s}, true
	case c == 't' && string(raw) == "true":
		return Value{Kind: Bool, Num: 1, Str: "true"}, true
	case c == 'f' && string(raw) == "false":
		return Value{Kind: Bool, Num: 0, Str: "false"}, true
	case c == '-' || (c >= '0' && c <= '9'):
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || math.IsInf(f, 0) {
			return Value{}, false
		}
		return Value{Kind: Number, Num: f}, true
	}
	return Value{}, false
}

func segments(raw json.RawMessage) (map[string]string, *DecodeError) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, reject(ReasonWrongType, "segments: want an object")
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		sv, ok := scalar(v)
		if !ok {
			return nil, reject(ReasonWrongType, "segments.%s: want a string, number or bool", truncate(k, 64))
		}
		if sv.Kind != Null {
			out[k] = sv.Text()
		}
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
