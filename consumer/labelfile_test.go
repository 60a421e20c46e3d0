package consumer

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestReadLabels(t *testing.T) {
	in := `{"prediction_id": "a", "model": "fraud", "timestamp": "2026-11-27T08:00:00Z", "label": 1}

{"prediction_id": "b", "model": "fraud", "timestamp": "2026-11-27T08:00:01Z"}
not json
{"prediction_id": "c", "model": "fraud", "timestamp": "2026-11-27T08:00:02.5Z", "label": "fraud"}
`
	var dlq bytes.Buffer
	labels, c, err := ReadLabels(strings.NewReader(in), "labels.jsonl", 0, &dlq)
	if err != nil {
		t.Fatal(err)
	}
	if len(labels) != 2 || labels[0].PredictionID != "a" || labels[0].Value.Text() != "1" || labels[1].Value.Text() != "fraud" ||
		!labels[1].Time.Equal(time.Date(2026, 11, 27, 8, 0, 2, 5e8, time.UTC)) {
		t.Errorf("labels %+v", labels)
	}
	if c.Lines != 4 || c.Labels != 2 || c.DeadLetter[ReasonMissingField] != 1 || c.DeadLetter[ReasonNotJSON] != 1 {
		t.Errorf("counts %+v", c)
	}
	lines := readDeadLetterLines(t, &dlq)
	if len(lines) != 2 || lines[0].Line != 3 || lines[0].Reason != ReasonMissingField || lines[1].Line != 4 || lines[1].Record != "not json" {
		t.Errorf("dead letters %+v", lines)
	}
}
