package producer

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/jsontext"
)

// Prediction is one served prediction, a record of the prediction log
// (CONTRACT.md section 1). The Producer reads it only during LogPrediction:
// the caller may reuse its maps afterwards.
type Prediction struct {
	// ID is the prediction_id: required, unique per model, and the Kafka
	// key (late labels name it). NewID makes one.
	ID           string
	Model        string // required
	ModelVersion string // required
	// Time is the event time; the zero Time means now (Config.Now). It
	// must be from consumer.MinEventTime to consumer.MaxEventTime, and at
	// most Config.MaxFuture ahead of now.
	Time time.Time
	// Features maps each feature name to a number (any Go integer or
	// float type, not NaN or ±Inf), a string, a bool, or nil (a missing
	// value). Named types of those kinds are accepted too. nil is an empty
	// object.
	Features map[string]any
	// Prediction is a number (a score or regression value) or a string (a
	// class). Required, but with Error, where nil leaves it null.
	Prediction any
	// Scores maps classes to probabilities; optional.
	Scores map[string]float64
	// Label is the ground truth when it is known at serving time (a
	// number, string or bool); nil leaves it out. Late labels go through
	// LogLabel.
	Label any
	// Segments are subgroup attributes for the fairness figures, such as
	// "gender": "f"; optional.
	Segments map[string]string
	// Variant is "champion", "challenger", "shadow", "canary" or any name;
	// "" leaves it out. A shadow deployment logs a prediction once per
	// variant with the same PredictionID (CONTRACT.md section 1): the
	// records share their key, so they land in one partition.
	Variant string
	// Latency is the serving latency, written as latency_ms (milliseconds,
	// fractions kept); 0 leaves it out.
	Latency time.Duration
	// Error makes the record a failed prediction: the class of the error
	// that kept the model from answering ("timeout", "model_exception",
	// ...); "" leaves it out. Its features still count (they were the
	// request), its prediction, label and segments do not.
	Error string
}

// Label is a late label (CONTRACT.md section 2): the ground truth of a
// prediction logged before.
type Label struct {
	PredictionID string // the prediction's ID; required
	Model        string // the prediction's model; required
	// Time is when the label became known; the zero Time means now
	// (Config.Now). It must be from consumer.MinEventTime to
	// consumer.MaxEventTime.
	Time time.Time
	// Value is the ground truth: a number, a string or a bool. Required.
	Value any
}

// appendPrediction appends p as a prediction log record, its event time at.
// It fails, with a *consumer.DecodeError, only on what JSON cannot hold
// (NaN, ±Inf) or what is no JSON scalar (another Go type); every other
// rule is the consumer's to check on the result.
func appendPrediction(b []byte, p *Prediction, at time.Time) ([]byte, error) {
	b = append(b, `{"prediction_id":`...)
	b = jsontext.AppendString(b, p.ID)
	b = append(b, `,"model":`...)
	b = jsontext.AppendString(b, p.Model)
	b = append(b, `,"model_version":`...)
	b = jsontext.AppendString(b, p.ModelVersion)
	b = append(b, `,"timestamp":"`...)
	b = at.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","features":{`...)
	var err error
	first := true
	for k, v := range p.Features {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = jsontext.AppendString(b, k)
		b = append(b, ':')
		if b, err = appendScalar(b, v, "features", k); err != nil {
			return b, err
		}
	}
	b = append(b, `},"prediction":`...)
	if b, err = appendScalar(b, p.Prediction, "prediction", ""); err != nil {
		return b, err
	}
	if p.Scores != nil {
		b = append(b, `,"scores":{`...)
		first := true
		for k, v := range p.Scores {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = jsontext.AppendString(b, k)
			b = append(b, ':')
			if b, err = appendFloat(b, v, 64, "scores", k); err != nil {
				return b, err
			}
		}
		b = append(b, '}')
	}
	if p.Label != nil {
		b = append(b, `,"label":`...)
		if b, err = appendScalar(b, p.Label, "label", ""); err != nil {
			return b, err
		}
	}
	if p.Segments != nil {
		b = append(b, `,"segments":{`...)
		first := true
		for k, v := range p.Segments {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = jsontext.AppendString(b, k)
			b = append(b, ':')
			b = jsontext.AppendString(b, v)
		}
		b = append(b, '}')
	}
	if p.Variant != "" {
		b = append(b, `,"variant":`...)
		b = jsontext.AppendString(b, p.Variant)
	}
	if p.Latency != 0 {
		b = append(b, `,"latency_ms":`...)
		b, _ = appendFloat(b, float64(p.Latency)/float64(time.Millisecond), 64, "", "")
	}
	if p.Error != "" {
		b = append(b, `,"error":`...)
		b = jsontext.AppendString(b, p.Error)
	}
	return append(b, '}'), nil
}

// appendLabel appends l as a labels topic record, its time at.
func appendLabel(b []byte, l *Label, at time.Time) ([]byte, error) {
	b = append(b, `{"prediction_id":`...)
	b = jsontext.AppendString(b, l.PredictionID)
	b = append(b, `,"model":`...)
	b = jsontext.AppendString(b, l.Model)
	b = append(b, `,"timestamp":"`...)
	b = at.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","label":`...)
	b, err := appendScalar(b, l.Value, "label", "")
	if err != nil {
		return b, err
	}
	return append(b, '}'), nil
}

// appendScalar appends v as a JSON number, string, bool or null. field and
// key (a member of field, or "") name it in an error.
func appendScalar(b []byte, v any, field, key string) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return jsontext.AppendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		return appendFloat(b, x, 64, field, key)
	case float32:
		return appendFloat(b, float64(x), 32, field, key)
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	}
	// Named types (type Country string, a time.Duration) by their kind.
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.String:
		return jsontext.AppendString(b, rv.String()), nil
	case reflect.Bool:
		return strconv.AppendBool(b, rv.Bool()), nil
	case reflect.Float64:
		return appendFloat(b, rv.Float(), 64, field, key)
	case reflect.Float32:
		return appendFloat(b, rv.Float(), 32, field, key)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(b, rv.Uint(), 10), nil
	}
	return b, &consumer.DecodeError{Code: consumer.ReasonWrongType,
		Detail: fmt.Sprintf("%s: want a number, string, bool or nil, got %T", path(field, key), v)}
}

// appendFloat appends x as a JSON number in the shortest form that reads
// back as the same float of bits bits, as encoding/json writes it. NaN and
// ±Inf, which JSON cannot hold, are a wrong_type error naming field and key.
func appendFloat(b []byte, x float64, bits int, field, key string) ([]byte, error) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return b, &consumer.DecodeError{Code: consumer.ReasonWrongType,
			Detail: fmt.Sprintf("%s: %v is not a number JSON can hold", path(field, key), x)}
	}
	format := byte('f')
	if abs := math.Abs(x); abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	return strconv.AppendFloat(b, x, format, -1, bits), nil
}

func path(field, key string) string {
	if key == "" {
		return field
	}
	return field + "." + key
}

// NewID returns a random version 4 UUID in its 8-4-4-4-12 hex form, for a
// Prediction.ID. It is safe for concurrent use.
func NewID() string { return uuid.NewString() }
