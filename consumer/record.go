package consumer

import (
	"fmt"
	"strconv"
	"sync"
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
	// Prediction is a Number or a String; Null only for a failed
	// prediction (Error set) that has none.
	Prediction Value
	Scores     map[string]float64
	Label      Value // Null when absent
	Segments   map[string]string
	Variant    string
	LatencyMS  float64 // NaN when absent
	// Error is the error class of a failed prediction ("timeout",
	// "model_exception", ...); "" for a served one.
	Error string
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

// DefaultMaxFuture is how far ahead of the clock run accepts a
// prediction's event time unless told otherwise (kafka.max_future).
const DefaultMaxFuture = time.Hour

// CheckFuture returns the *DecodeError (ReasonBadTimestamp) with which run
// rejects a prediction whose event time t is more than maxFuture ahead of
// now (kafka.max_future, CONTRACT.md section 1), or nil. A maxFuture of 0
// or less checks nothing. Decode does not apply it (it has no clock);
// run's sources and producers of the prediction log do.
func CheckFuture(t, now time.Time, maxFuture time.Duration) error {
	if maxFuture <= 0 || !t.After(now.Add(maxFuture)) {
		return nil
	}
	return aheadOfClock(t, maxFuture)
}

func aheadOfClock(t time.Time, maxFuture time.Duration) *DecodeError {
	return reject(ReasonBadTimestamp, "timestamp %s is more than %s ahead of the clock", t.UTC().Format(time.RFC3339), maxFuture)
}

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

// scanners are reused across Decode and DecodeLabel calls.
var scanners = sync.Pool{New: func() any { return new(scanner) }}

// Decode parses one prediction log record. It returns a *DecodeError when the
// record breaks the contract: larger than maxBytes (0 means
// DefaultMaxRecordBytes), not a JSON object, a required field missing or
// null, a field of the wrong type, or a timestamp that is not RFC 3339 or is outside
// MinEventTime to MaxEventTime. The prediction is required but in a
// record with an "error" (a failed prediction), where it may be null or
// absent.
// Unknown top-level fields are ignored; of a repeated key, the last counts.
// Strings that are not valid UTF-8 have invalid bytes replaced by U+FFFD.
// Decode is safe for concurrent use; the Record shares no memory with data.
func Decode(data []byte, maxBytes int) (Record, error) {
	s := scanners.Get().(*scanner)
	defer scanners.Put(s)
	if err := s.checkAll(data, maxBytes); err != nil {
		return Record{}, err
	}
	return s.record(), nil
}

// Check is Decode without the Record: it returns the error Decode
// returns for data, and the event time (UTC) of a good record. It
// allocates nothing for a good record: producers run it on what they
// send. Check is safe for concurrent use.
func Check(data []byte, maxBytes int) (time.Time, error) {
	s := scanners.Get().(*scanner)
	defer scanners.Put(s)
	if err := s.checkAll(data, maxBytes); err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, s.ts).UTC(), nil
}

// checkAll scans data and checks it as a prediction log record.
func (s *scanner) checkAll(data []byte, maxBytes int) *DecodeError {
	if err := s.scan(data, maxBytes, fieldOf); err != nil {
		return err
	}
	return s.checkRecord()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
