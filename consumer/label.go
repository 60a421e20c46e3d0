package consumer

import (
	"time"

	"github.com/valyala/fastjson"
)

// Label is one decoded late label (CONTRACT.md section 2). It joins its
// prediction by (Model, PredictionID).
type Label struct {
	PredictionID string
	Model        string
	Time         time.Time // the label's "timestamp", UTC
	Value        Value     // the label: Number, String or Bool (never Null); Value.Text() is how it counts
}

// DecodeLabel parses one late label record. It returns a *DecodeError, with
// the reason codes of Decode, when the record breaks the contract: larger
// than maxBytes (0 means DefaultMaxRecordBytes), not a JSON object,
// prediction_id, model, timestamp or label missing or null, a field of the
// wrong type (a label that is an object or an array), or a timestamp that is
// not RFC 3339 or is outside MinEventTime to MaxEventTime. Unknown top-level fields are ignored; of a repeated key, the
// last counts. DecodeLabel is safe for concurrent use; the Label shares no
// memory with data.
func DecodeLabel(data []byte, maxBytes int) (Label, error) {
	return decodeObject(data, maxBytes, decodeLabel)
}

func decodeLabel(obj *fastjson.Object) (Label, *DecodeError) {
	var predictionID, model, timestamp, label *fastjson.Value
	obj.Visit(func(key []byte, v *fastjson.Value) {
		switch string(key) {
		case "prediction_id":
			predictionID = v
		case "model":
			model = v
		case "timestamp":
			timestamp = v
		case "label":
			label = v
		}
	})
	var l Label
	var err *DecodeError
	if l.PredictionID, err = requiredString("prediction_id", predictionID); err != nil {
		return Label{}, err
	}
	if l.Model, err = requiredString("model", model); err != nil {
		return Label{}, err
	}
	if l.Time, err = requiredTime("timestamp", timestamp); err != nil {
		return Label{}, err
	}
	if isAbsent(label) {
		return Label{}, reject(ReasonMissingField, "label")
	}
	v, ok := scalar(label)
	if !ok {
		return Label{}, reject(ReasonWrongType, "label: want number, string or bool")
	}
	l.Value = v
	return l, nil
}
