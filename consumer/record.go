package consumer

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
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

// The event times the contract accepts (a prediction's and a label's
// "timestamp"): from MinEventTime, inclusive, to MaxEventTime, exclusive.
// Others are rejected with ReasonBadTimestamp. The range keeps every time
// derived from an event time (window starts and ends, alert and label
// times) inside what ClickHouse's DateTime columns hold on every server
// version (1970-01-01 to 2106-02-07, unsigned 32-bit seconds) with decades
// to spare for window sizes and label horizons, and inside what Go's
// time.Time.UnixNano represents.
var (
	MinEventTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxEventTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
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

// parsers are reused across Decode calls; a fastjson.Parser is not safe for
// concurrent use, the pool is.
var parsers fastjson.ParserPool

// Decode parses one prediction log record. It returns a *DecodeError when the
// record breaks the contract: larger than maxBytes (0 means
// DefaultMaxRecordBytes), not a JSON object, a required field missing or
// null, a field of the wrong type, or a timestamp that is not RFC 3339 or is outside
// MinEventTime to MaxEventTime.
// Unknown top-level fields are ignored; of a repeated key, the last counts.
// Strings that are not valid UTF-8 have invalid bytes replaced by U+FFFD.
// Decode is safe for concurrent use; the Record shares no memory with data.
func Decode(data []byte, maxBytes int) (Record, error) {
	return decodeObject(data, maxBytes, decodeRecord)
}

// decodeObject checks what every record of the contract must be (at most
// maxBytes, 0 meaning DefaultMaxRecordBytes; one strict JSON object) and
// hands the parsed object to decode. The object and everything reached from
// it belong to a pooled parser: decode must copy what it keeps.
func decodeObject[T any](data []byte, maxBytes int, decode func(*fastjson.Object) (T, *DecodeError)) (T, error) {
	var zero T
	if maxBytes <= 0 {
		maxBytes = DefaultMaxRecordBytes
	}
	if len(data) > maxBytes {
		return zero, reject(ReasonTooBig, "record is %d bytes, limit %d", len(data), maxBytes)
	}
	i := 0
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n') {
		i++
	}
	if i == len(data) || data[i] != '{' {
		return zero, reject(ReasonNotJSON, "not a JSON object")
	}
	// The parser is lenient (it takes "." or "inf" for numbers); the
	// validator is strict JSON, so it decides what is JSON at all.
	if verr := fastjson.ValidateBytes(data); verr != nil {
		return zero, reject(ReasonNotJSON, "%s", truncate(verr.Error(), 120))
	}
	// Strings without escapes were fully checked by the validator.
	if bytes.IndexByte(data, '\\') >= 0 {
		if i := rawControlInString(data); i >= 0 {
			return zero, reject(ReasonNotJSON, "control character 0x%02X in a string at byte %d", data[i], i)
		}
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, perr := p.ParseBytes(data)
	if perr != nil {
		return zero, reject(ReasonNotJSON, "%s", truncate(perr.Error(), 120))
	}
	obj, _ := v.Object() // valid JSON starting with '{' is an object
	out, derr := decode(obj)
	if derr != nil {
		return zero, derr // not the typed nil: a nil *DecodeError is a non-nil error
	}
	return out, nil
}

// decodeRecord decodes a prediction log record's fields (see Decode).
func decodeRecord(obj *fastjson.Object) (Record, *DecodeError) {
	var f struct {
		predictionID, model, modelVersion, timestamp, features *fastjson.Value
		prediction, scores, label, segments, variant, latency  *fastjson.Value
	}
	obj.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "prediction_id":
			f.predictionID = v
		case "model":
			f.model = v
		case "model_version":
			f.modelVersion = v
		case "timestamp":
			f.timestamp = v
		case "features":
			f.features = v
		case "prediction":
			f.prediction = v
		case "scores":
			f.scores = v
		case "label":
			f.label = v
		case "segments":
			f.segments = v
		case "variant":
			f.variant = v
		case "latency_ms":
			f.latency = v
		}
	})
	// A wrong type for features is reported before the required fields, as a
	// whole-document decoding into typed fields would.
	if !isAbsent(f.features) && f.features.Type() != fastjson.TypeObject {
		return Record{}, reject(ReasonWrongType, "features: want an object")
	}
	var r Record
	var err *DecodeError
	if r.PredictionID, err = requiredString("prediction_id", f.predictionID); err != nil {
		return Record{}, err
	}
	if r.Model, err = requiredString("model", f.model); err != nil {
		return Record{}, err
	}
	if r.ModelVersion, err = requiredString("model_version", f.modelVersion); err != nil {
		return Record{}, err
	}
	if r.Timestamp, err = requiredTime("timestamp", f.timestamp); err != nil {
		return Record{}, err
	}
	if isAbsent(f.features) {
		return Record{}, reject(ReasonMissingField, "features")
	}
	fo, _ := f.features.Object()
	r.Features = make(map[string]Value, fo.Len())
	if err = eachScalar(fo, func(key string, v Value, ok bool) *DecodeError {
		if !ok {
			return reject(ReasonWrongType, "features.%s: want number, string, bool or null", truncate(key, 64))
		}
		r.Features[key] = v
		return nil
	}); err != nil {
		return Record{}, err
	}
	if isAbsent(f.prediction) {
		return Record{}, reject(ReasonMissingField, "prediction")
	}
	if r.Prediction, _ = scalar(f.prediction); r.Prediction.Kind != Number && r.Prediction.Kind != String {
		return Record{}, reject(ReasonWrongType, "prediction: want number or string")
	}
	if !isAbsent(f.scores) {
		so, serr := f.scores.Object()
		if serr != nil {
			return Record{}, reject(ReasonWrongType, "scores: want an object of numbers")
		}
		r.Scores = make(map[string]float64, so.Len())
		if err = eachScalar(so, func(key string, v Value, ok bool) *DecodeError {
			if !ok || (v.Kind != Number && v.Kind != Null) {
				return reject(ReasonWrongType, "scores: want an object of numbers")
			}
			r.Scores[key] = v.Num // a null is 0, as encoding/json leaves it
			return nil
		}); err != nil {
			return Record{}, err
		}
	}
	if !isAbsent(f.label) {
		v, ok := scalar(f.label)
		if !ok {
			return Record{}, reject(ReasonWrongType, "label: want number, string, bool or null")
		}
		r.Label = v
	}
	if !isAbsent(f.segments) {
		so, serr := f.segments.Object()
		if serr != nil {
			return Record{}, reject(ReasonWrongType, "segments: want an object")
		}
		r.Segments = make(map[string]string, so.Len())
		if err = eachScalar(so, func(key string, v Value, ok bool) *DecodeError {
			if !ok {
				return reject(ReasonWrongType, "segments.%s: want a string, number or bool", truncate(key, 64))
			}
			if v.Kind != Null {
				r.Segments[key] = v.Text()
			} else {
				delete(r.Segments, key)
			}
			return nil
		}); err != nil {
			return Record{}, err
		}
	}
	if !isAbsent(f.variant) {
		if r.Variant, err = requiredString("variant", f.variant); err != nil {
			return Record{}, err
		}
	}
	r.LatencyMS = math.NaN()
	if !isAbsent(f.latency) {
		v, _ := scalar(f.latency)
		if v.Kind != Number {
			return Record{}, reject(ReasonWrongType, "latency_ms: want a number")
		}
		r.LatencyMS = v.Num
	}
	return r, nil
}

// eachScalar calls fn with each member of o decoded by scalar, in document
// order, and stops at the first error fn returns.
func eachScalar(o *fastjson.Object, fn func(key string, v Value, ok bool) *DecodeError) *DecodeError {
	var err *DecodeError
	o.Visit(func(key []byte, raw *fastjson.Value) {
		if err == nil {
			v, ok := scalar(raw)
			err = fn(text(key), v, ok)
		}
	})
	return err
}

// rawControlInString returns the offset of the first unescaped control
// character (below 0x20) inside a JSON string of data, or -1. JSON forbids
// them; fastjson's validator misses those that precede an escape sequence
// in the same string (its escape path checks only the tail after the last
// escape).
func rawControlInString(data []byte) int {
	in, esc := false, false
	for i, c := range data {
		switch {
		case esc:
			esc = false
		case !in:
			in = c == '"'
		case c == '\\':
			esc = true
		case c == '"':
			in = false
		case c < 0x20:
			return i
		}
	}
	return -1
}

func isAbsent(v *fastjson.Value) bool {
	return v == nil || v.Type() == fastjson.TypeNull
}

func requiredString(field string, v *fastjson.Value) (string, *DecodeError) {
	if isAbsent(v) {
		return "", reject(ReasonMissingField, "%s", field)
	}
	if v.Type() != fastjson.TypeString {
		return "", reject(ReasonWrongType, "%s: want a string", field)
	}
	s := text(v.GetStringBytes())
	if s == "" {
		return "", reject(ReasonMissingField, "%s is empty", field)
	}
	return s, nil
}

// requiredTime decodes a required RFC 3339 timestamp, in UTC, from
// MinEventTime to MaxEventTime.
func requiredTime(field string, v *fastjson.Value) (time.Time, *DecodeError) {
	s, err := requiredString(field, v)
	if err != nil {
		return time.Time{}, err
	}
	t, terr := time.Parse(time.RFC3339Nano, s)
	if terr != nil {
		return time.Time{}, reject(ReasonBadTimestamp, "%s %q is not RFC 3339", field, truncate(s, 64))
	}
	if t.Before(MinEventTime) || !t.Before(MaxEventTime) {
		return time.Time{}, reject(ReasonBadTimestamp, "%s %s is outside the accepted %s to %s", field,
			t.UTC().Format(time.RFC3339Nano), MinEventTime.Format(time.RFC3339), MaxEventTime.Format(time.RFC3339))
	}
	return t.UTC(), nil
}

// scalar decodes a JSON number, string, bool or null. ok is false for
// objects, arrays and numbers that do not fit a float64.
func scalar(v *fastjson.Value) (Value, bool) {
	switch v.Type() {
	case fastjson.TypeNull:
		return Value{}, true
	case fastjson.TypeString:
		return Value{Kind: String, Str: text(v.GetStringBytes())}, true
	case fastjson.TypeTrue:
		return Value{Kind: Bool, Num: 1, Str: "true"}, true
	case fastjson.TypeFalse:
		return Value{Kind: Bool, Num: 0, Str: "false"}, true
	case fastjson.TypeNumber:
		// strconv, not fastjson's own parser, so numbers round exactly as
		// encoding/json rounds them.
		f, err := strconv.ParseFloat(string(v.MarshalTo(nil)), 64)
		if err != nil || math.IsInf(f, 0) {
			return Value{}, false
		}
		return Value{Kind: Number, Num: f}, true
	}
	return Value{}, false
}

// text copies b into a string, replacing each invalid UTF-8 byte with U+FFFD
// as encoding/json does.
func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
