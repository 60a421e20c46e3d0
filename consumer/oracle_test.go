package consumer

// The decoder driftwatch used before it moved to fastjson, kept as a test
// oracle: FuzzDecodeMatchesOracle checks that both accept, reject and decode
// the same records, and FuzzDecodeLabel does the same for late labels.

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// wire mirrors the JSON object; fields stay raw so that a wrong type is
// reported by field name instead of as a generic unmarshal error.
type oracleWire struct {
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
	Error        json.RawMessage            `json:"error"`
}

// Decode parses one prediction log record. It returns a *DecodeError when the
// record breaks the contract: larger than maxBytes (0 means
// DefaultMaxRecordBytes), not a JSON object, a required field missing or
// null, a field of the wrong type, or a timestamp that is not RFC 3339.
// Unknown top-level fields are ignored. Decode is safe for concurrent use.
func oracleDecode(data []byte, maxBytes int) (Record, error) {
	trimmed, derr := oraclePrologue(data, maxBytes)
	if derr != nil {
		return Record{}, derr
	}
	var w oracleWire
	if err := json.Unmarshal(trimmed, &w); err != nil {
		if _, ok := err.(*json.UnmarshalTypeError); ok {
			return Record{}, reject(ReasonWrongType, "features: want an object")
		}
		return Record{}, reject(ReasonNotJSON, "%v", err)
	}
	var r Record
	var err *DecodeError
	if r.PredictionID, err = oracleRequiredString("prediction_id", w.PredictionID); err != nil {
		return Record{}, err
	}
	if r.Model, err = oracleRequiredString("model", w.Model); err != nil {
		return Record{}, err
	}
	if r.ModelVersion, err = oracleRequiredString("model_version", w.ModelVersion); err != nil {
		return Record{}, err
	}
	ts, err := oracleRequiredString("timestamp", w.Timestamp)
	if err != nil {
		return Record{}, err
	}
	t, perr := time.Parse(time.RFC3339Nano, ts)
	if perr != nil {
		return Record{}, reject(ReasonBadTimestamp, "timestamp %q is not RFC 3339", oracleTruncate(ts, 64))
	}
	if t.Before(MinEventTime) || !t.Before(MaxEventTime) { // the contract's accepted range
		return Record{}, reject(ReasonBadTimestamp, "timestamp out of range")
	}
	r.Timestamp = t.UTC()
	if w.Features == nil {
		return Record{}, reject(ReasonMissingField, "features")
	}
	r.Features = make(map[string]Value, len(w.Features))
	for name, raw := range w.Features {
		v, ok := oracleScalar(raw)
		if !ok {
			return Record{}, reject(ReasonWrongType, "features.%s: want number, string, bool or null", oracleTruncate(name, 64))
		}
		r.Features[name] = v
	}
	failed := !oracleIsAbsent(w.Error)
	if failed {
		if r.Error, err = oracleRequiredString("error", w.Error); err != nil {
			return Record{}, err
		}
	}
	switch {
	case oracleIsAbsent(w.Prediction):
		if !failed {
			return Record{}, reject(ReasonMissingField, "prediction")
		}
	default:
		if r.Prediction, _ = oracleScalar(w.Prediction); r.Prediction.Kind != Number && r.Prediction.Kind != String {
			return Record{}, reject(ReasonWrongType, "prediction: want number or string")
		}
	}
	if !oracleIsAbsent(w.Scores) {
		if jerr := json.Unmarshal(w.Scores, &r.Scores); jerr != nil {
			return Record{}, reject(ReasonWrongType, "scores: want an object of numbers")
		}
	}
	if !oracleIsAbsent(w.Label) {
		v, ok := oracleScalar(w.Label)
		if !ok {
			return Record{}, reject(ReasonWrongType, "label: want number, string, bool or null")
		}
		r.Label = v
	}
	if !oracleIsAbsent(w.Segments) {
		if r.Segments, err = oracleSegments(w.Segments); err != nil {
			return Record{}, err
		}
	}
	if !oracleIsAbsent(w.Variant) {
		if r.Variant, err = oracleRequiredString("variant", w.Variant); err != nil {
			return Record{}, err
		}
	}
	r.LatencyMS = math.NaN()
	if !oracleIsAbsent(w.LatencyMS) {
		v, _ := oracleScalar(w.LatencyMS)
		if v.Kind != Number {
			return Record{}, reject(ReasonWrongType, "latency_ms: want a number")
		}
		r.LatencyMS = v.Num
	}
	return r, nil
}

// oraclePrologue applies the size limit and returns data without its
// surrounding whitespace, if it may be a JSON object.
func oraclePrologue(data []byte, maxBytes int) ([]byte, *DecodeError) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRecordBytes
	}
	if len(data) > maxBytes {
		return nil, reject(ReasonTooBig, "record is %d bytes, limit %d", len(data), maxBytes)
	}
	trimmed := bytes.Trim(data, " \t\r\n") // JSON whitespace only
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, reject(ReasonNotJSON, "not a JSON object")
	}
	return trimmed, nil
}

type oracleLabelWire struct {
	PredictionID json.RawMessage `json:"prediction_id"`
	Model        json.RawMessage `json:"model"`
	Timestamp    json.RawMessage `json:"timestamp"`
	Label        json.RawMessage `json:"label"`
}

// oracleDecodeLabel is DecodeLabel written with encoding/json.
func oracleDecodeLabel(data []byte, maxBytes int) (Label, error) {
	trimmed, derr := oraclePrologue(data, maxBytes)
	if derr != nil {
		return Label{}, derr
	}
	var w oracleLabelWire
	if err := json.Unmarshal(trimmed, &w); err != nil {
		return Label{}, reject(ReasonNotJSON, "%v", err)
	}
	var l Label
	var err *DecodeError
	if l.PredictionID, err = oracleRequiredString("prediction_id", w.PredictionID); err != nil {
		return Label{}, err
	}
	if l.Model, err = oracleRequiredString("model", w.Model); err != nil {
		return Label{}, err
	}
	ts, err := oracleRequiredString("timestamp", w.Timestamp)
	if err != nil {
		return Label{}, err
	}
	t, perr := time.Parse(time.RFC3339Nano, ts)
	if perr != nil {
		return Label{}, reject(ReasonBadTimestamp, "timestamp %q is not RFC 3339", oracleTruncate(ts, 64))
	}
	if t.Before(MinEventTime) || !t.Before(MaxEventTime) { // the contract's accepted range
		return Label{}, reject(ReasonBadTimestamp, "timestamp out of range")
	}
	l.Time = t.UTC()
	if oracleIsAbsent(w.Label) {
		return Label{}, reject(ReasonMissingField, "label")
	}
	v, ok := oracleScalar(w.Label)
	if !ok {
		return Label{}, reject(ReasonWrongType, "label: want number, string or bool")
	}
	l.Value = v
	return l, nil
}

func oracleIsAbsent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func oracleRequiredString(field string, raw json.RawMessage) (string, *DecodeError) {
	if oracleIsAbsent(raw) {
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
func oracleScalar(raw json.RawMessage) (Value, bool) {
	if oracleIsAbsent(raw) {
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

func oracleSegments(raw json.RawMessage) (map[string]string, *DecodeError) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, reject(ReasonWrongType, "segments: want an object")
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		sv, ok := oracleScalar(v)
		if !ok {
			return nil, reject(ReasonWrongType, "segments.%s: want a string, number or bool", oracleTruncate(k, 64))
		}
		if sv.Kind != Null {
			out[k] = sv.Text()
		}
	}
	return out, nil
}

func oracleTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
