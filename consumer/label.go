package consumer

import (
	"time"
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
	s := scanners.Get().(*scanner)
	defer scanners.Put(s)
	if err := s.scan(data, maxBytes, labelFieldOf); err != nil {
		return Label{}, err
	}
	if err := s.checkLabel(); err != nil {
		return Label{}, err
	}
	return Label{
		PredictionID: string(s.text(s.fields[fPredictionID])),
		Model:        string(s.text(s.fields[fModel])),
		Time:         time.Unix(0, s.ts).UTC(),
		Value:        s.valueOf(s.fields[fLabel]),
	}, nil
}
