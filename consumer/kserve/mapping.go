package kserve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/internal/jsontext"
)

// Mapping says how one InferenceService's payloads become prediction log
// records (the configuration's kserve.models.<name>). Validate checks it.
type Mapping struct {
	// Model is the records' model.
	Model string
	// Version is the records' model_version when VersionFrom is empty.
	Version string
	// VersionFrom says where each pair's model_version is:
	// "response.model_version" (the V2 response's field), "metadata.<Header>"
	// (a request header the logger records, logger.metadataHeaders, in the
	// metadata extension) or "ce.<attribute>" (an attribute or extension of
	// the request event, such as ce.endpoint).
	VersionFrom string
	// Features names the positional inputs: the elements of a V1 instance
	// that is a list, the columns of the V2 input tensor (Input). Empty: V1
	// instances must be objects (their keys are the names) and each V2
	// input tensor is one feature named after the tensor.
	Features []string
	// Input is the V2 input tensor whose columns Features names; "": the
	// first.
	Input string
	// Output is the V2 output tensor of the prediction ("": the first), or
	// the key of a V1 prediction that is an object.
	Output string
	// PredictionIndex picks the prediction from an output that is a list
	// per instance (class scores, say); -1: the output must be one value
	// per instance.
	PredictionIndex int
}

// The prefixes of Mapping.VersionFrom.
const (
	versionResponse = "response.model_version"
	versionMetadata = "metadata."
	versionCE       = "ce."
)

// Validate returns an error naming the mapping's field (as the
// configuration spells it) that is wrong.
func (m *Mapping) Validate() error {
	if m.Model == "" {
		return errors.New("model: must not be empty")
	}
	switch {
	case m.Version == "" && m.VersionFrom == "":
		return errors.New("version, version_from: set one: a fixed model_version, or where each event carries it")
	case m.Version != "" && m.VersionFrom != "":
		return errors.New("version, version_from: set one, not both")
	case m.VersionFrom == "" || m.VersionFrom == versionResponse:
	case strings.HasPrefix(m.VersionFrom, versionMetadata) && len(m.VersionFrom) > len(versionMetadata):
	case strings.HasPrefix(m.VersionFrom, versionCE) && len(m.VersionFrom) > len(versionCE):
	default:
		return fmt.Errorf("version_from: %q is not response.model_version, metadata.<header> or ce.<attribute>", m.VersionFrom)
	}
	for i, f := range m.Features {
		if f == "" {
			return fmt.Errorf("features[%d]: must not be empty", i)
		}
		if slices.Contains(m.Features[:i], f) {
			return fmt.Errorf("features[%d]: %q is named twice", i, f)
		}
	}
	if m.Input != "" && len(m.Features) == 0 {
		return errors.New("input: needs features (the names of its columns)")
	}
	if m.PredictionIndex < -1 {
		return fmt.Errorf("prediction_index: must not be negative, got %d", m.PredictionIndex)
	}
	return nil
}

// Record is one prediction log record (CONTRACT.md section 1) made from a
// joined pair: its prediction_id (also its Kafka key), timestamp (also its
// Kafka timestamp) and JSON.
type Record struct {
	ID    string
	Time  time.Time
	Value []byte
}

// field is one feature: its name and its value as JSON (a number, string,
// bool or null, as the payload has it).
type field struct {
	name string
	raw  json.RawMessage
}

// The payloads, as far as the mapping reads them: V1 {"instances": [...]}
// and {"predictions": [...]}; V2 {"inputs": [tensor...]} and
// {"outputs": [tensor...], "model_version": "..."}.
type (
	request struct {
		Instances json.RawMessage `json:"instances"`
		Inputs    []tensor        `json:"inputs"`
	}
	response struct {
		Predictions  json.RawMessage `json:"predictions"`
		Outputs      []tensor        `json:"outputs"`
		ModelVersion *string         `json:"model_version"`
	}
	tensor struct {
		Name  string          `json:"name"`
		Shape []int64         `json:"shape"`
		Data  json.RawMessage `json:"data"`
	}
)

// Records maps a joined request and response to one record per instance:
// prediction_id the event id (id/0, id/1, ... when the request holds more
// than one instance), the request's time as timestamp (at, when the
// request has none). The error (a ReasonUnmappable *consumer.DecodeError)
// says what in which payload does not fit the mapping.
func (m *Mapping) Records(req, resp *Event, at time.Time) ([]Record, error) {
	var rq request
	if err := json.Unmarshal(req.Data, &rq); err != nil {
		return nil, unmappable("request payload is not a JSON object: %v", err)
	}
	var rs response
	if err := json.Unmarshal(resp.Data, &rs); err != nil {
		return nil, unmappable("response payload is not a JSON object: %v", err)
	}
	var rows [][]field
	var preds []json.RawMessage
	var err error
	switch {
	case rq.Instances != nil:
		if rows, err = m.instances(rq.Instances); err != nil {
			return nil, err
		}
		if rs.Predictions == nil {
			return nil, unmappable("a V1 request (instances) with a response without predictions")
		}
		if preds, err = m.predictionsV1(rs.Predictions); err != nil {
			return nil, err
		}
	case rq.Inputs != nil:
		if rows, err = m.inputs(rq.Inputs); err != nil {
			return nil, err
		}
		if rs.Outputs == nil {
			return nil, unmappable("a V2 request (inputs) with a response without outputs")
		}
		if preds, err = m.outputs(rs.Outputs); err != nil {
			return nil, err
		}
	default:
		return nil, unmappable("request has neither instances (V1) nor inputs (V2)")
	}
	if len(rows) != len(preds) {
		return nil, unmappable("%d instances in the request, %d predictions in the response", len(rows), len(preds))
	}
	if len(rows) == 0 {
		return nil, unmappable("the request holds no instance")
	}
	version, err := m.version(req, &rs)
	if err != nil {
		return nil, err
	}
	t := req.Time
	if t.IsZero() {
		t = at
	}
	ts := t.UTC().Format(time.RFC3339Nano)
	out := make([]Record, len(rows))
	for i, row := range rows {
		id := req.ID()
		if len(rows) > 1 {
			id += "/" + strconv.Itoa(i)
		}
		b := make([]byte, 0, 128+32*len(row))
		b = append(b, `{"prediction_id":`...)
		b = jsontext.AppendString(b, id)
		b = append(b, `,"model":`...)
		b = jsontext.AppendString(b, m.Model)
		b = append(b, `,"model_version":`...)
		b = jsontext.AppendString(b, version)
		b = append(b, `,"timestamp":`...)
		b = jsontext.AppendString(b, ts)
		b = append(b, `,"features":{`...)
		for j, f := range row {
			if j > 0 {
				b = append(b, ',')
			}
			b = jsontext.AppendString(b, f.name)
			b = append(b, ':')
			b = append(b, f.raw...)
		}
		b = append(b, `},"prediction":`...)
		b = append(b, preds[i]...)
		b = append(b, '}')
		out[i] = Record{ID: id, Time: t, Value: b}
	}
	return out, nil
}

// instances reads V1 instances: lists (positional, named by Features),
// objects (named by their keys) or, with one feature, single values.
func (m *Mapping) instances(raw json.RawMessage) ([][]field, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, unmappable("instances is not a list")
	}
	rows := make([][]field, len(list))
	for i, inst := range list {
		switch inst[0] {
		case '[':
			var elems []json.RawMessage
			_ = json.Unmarshal(inst, &elems) // valid: the payload parsed
			if len(m.Features) == 0 {
				return nil, unmappable("instances[%d] is a list: set features to name its elements", i)
			}
			if len(elems) != len(m.Features) {
				return nil, unmappable("instances[%d] has %d elements, features names %d", i, len(elems), len(m.Features))
			}
			row := make([]field, len(elems))
			for j, e := range elems {
				if !scalar(e) {
					return nil, unmappable("instances[%d][%d] is not a number, string, bool or null", i, j)
				}
				row[j] = field{m.Features[j], e}
			}
			rows[i] = row
		case '{':
			var obj map[string]json.RawMessage
			_ = json.Unmarshal(inst, &obj)
			names := make([]string, 0, len(obj))
			for k := range obj {
				names = append(names, k)
			}
			slices.Sort(names)
			row := make([]field, len(names))
			for j, k := range names {
				if !scalar(obj[k]) {
					return nil, unmappable("instances[%d].%s is not a number, string, bool or null", i, k)
				}
				row[j] = field{k, obj[k]}
			}
			rows[i] = row
		default:
			if len(m.Features) != 1 {
				return nil, unmappable("instances[%d] is a single value: set features to one name", i)
			}
			rows[i] = []field{{m.Features[0], inst}}
		}
	}
	return rows, nil
}

// inputs reads V2 input tensors: the columns of Input (or the first) named
// by Features, or, without Features, each tensor as one feature.
func (m *Mapping) inputs(ts []tensor) ([][]field, error) {
	if len(ts) == 0 {
		return nil, unmappable("inputs is empty")
	}
	if len(m.Features) > 0 {
		t := &ts[0]
		if m.Input != "" {
			if t = find(ts, m.Input); t == nil {
				return nil, unmappable("no input tensor %q", m.Input)
			}
		}
		n, cols, flat, err := matrix(t, "input")
		if err != nil {
			return nil, err
		}
		if cols != len(m.Features) {
			return nil, unmappable("input %q has %d columns (shape %v), features names %d", t.Name, cols, t.Shape, len(m.Features))
		}
		rows := make([][]field, n)
		for i := range rows {
			rows[i] = make([]field, cols)
			for j := range cols {
				rows[i][j] = field{m.Features[j], flat[i*cols+j]}
			}
		}
		return rows, nil
	}
	var rows [][]field
	for k := range ts {
		t := &ts[k]
		n, cols, flat, err := matrix(t, "input")
		if err != nil {
			return nil, err
		}
		if cols != 1 {
			return nil, unmappable("input %q has %d columns (shape %v): set features to name them (and input to choose it)", t.Name, cols, t.Shape)
		}
		if k == 0 {
			rows = make([][]field, n)
		} else if n != len(rows) {
			return nil, unmappable("input %q has %d rows, input %q %d", t.Name, n, ts[0].Name, len(rows))
		}
		for i := range rows {
			rows[i] = append(rows[i], field{t.Name, flat[i]})
		}
	}
	return rows, nil
}

// predictionsV1 reads V1 predictions: one value per instance, a list
// (PredictionIndex picks) or an object (Output names the key).
func (m *Mapping) predictionsV1(raw json.RawMessage) ([]json.RawMessage, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, unmappable("predictions is not a list")
	}
	out := make([]json.RawMessage, len(list))
	for i, p := range list {
		switch p[0] {
		case '[':
			var elems []json.RawMessage
			_ = json.Unmarshal(p, &elems)
			if m.PredictionIndex < 0 {
				return nil, unmappable("predictions[%d] is a list: set prediction_index", i)
			}
			if m.PredictionIndex >= len(elems) {
				return nil, unmappable("predictions[%d] has %d elements, prediction_index is %d", i, len(elems), m.PredictionIndex)
			}
			p = elems[m.PredictionIndex]
		case '{':
			var obj map[string]json.RawMessage
			_ = json.Unmarshal(p, &obj)
			if m.Output == "" {
				return nil, unmappable("predictions[%d] is an object: set output to the key of the prediction", i)
			}
			v, ok := obj[m.Output]
			if !ok {
				return nil, unmappable("predictions[%d] has no key %q", i, m.Output)
			}
			p = v
		}
		if !prediction(p) {
			return nil, unmappable("predictions[%d] is not a number or string", i)
		}
		out[i] = p
	}
	return out, nil
}

// outputs reads the V2 output tensor of the prediction: one value per
// instance, or PredictionIndex's column.
func (m *Mapping) outputs(ts []tensor) ([]json.RawMessage, error) {
	if len(ts) == 0 {
		return nil, unmappable("outputs is empty")
	}
	t := &ts[0]
	if m.Output != "" {
		if t = find(ts, m.Output); t == nil {
			return nil, unmappable("no output tensor %q", m.Output)
		}
	}
	n, cols, flat, err := matrix(t, "output")
	if err != nil {
		return nil, err
	}
	col := 0
	switch {
	case cols > 1 && m.PredictionIndex < 0:
		return nil, unmappable("output %q has %d columns (shape %v): set prediction_index", t.Name, cols, t.Shape)
	case m.PredictionIndex >= cols:
		return nil, unmappable("output %q has %d columns (shape %v), prediction_index is %d", t.Name, cols, t.Shape, m.PredictionIndex)
	case m.PredictionIndex >= 0:
		col = m.PredictionIndex
	}
	out := make([]json.RawMessage, n)
	for i := range out {
		p := flat[i*cols+col]
		if !prediction(p) {
			return nil, unmappable("output %q element %d is not a number or string", t.Name, i*cols+col)
		}
		out[i] = p
	}
	return out, nil
}

// version returns the pair's model_version, as VersionFrom says.
func (m *Mapping) version(req *Event, rs *response) (string, error) {
	switch from := m.VersionFrom; {
	case from == "":
		return m.Version, nil
	case from == versionResponse:
		if rs.ModelVersion == nil || *rs.ModelVersion == "" {
			return "", unmappable("version_from %s: the response has no model_version", from)
		}
		return *rs.ModelVersion, nil
	case strings.HasPrefix(from, versionMetadata):
		header := from[len(versionMetadata):]
		var md map[string][]string
		if s := req.Attrs["metadata"]; s != "" {
			if err := json.Unmarshal([]byte(s), &md); err != nil {
				return "", unmappable("version_from %s: the metadata extension is not a JSON object of lists: %v", from, err)
			}
		}
		for k, vs := range md {
			if strings.EqualFold(k, header) && len(vs) > 0 && vs[0] != "" {
				return vs[0], nil
			}
		}
		return "", unmappable("version_from %s: the request's metadata has no %s (list it in the logger's metadataHeaders)", from, header)
	default:
		attr := strings.ToLower(from[len(versionCE):])
		if v := req.Attrs[attr]; v != "" {
			return v, nil
		}
		return "", unmappable("version_from %s: the request event has no %s attribute", from, attr)
	}
}

// matrix reads a tensor of shape [n], [n, cols] (or [n, 1]) as n rows of
// cols values, flattening its data (flat or nested, row-major).
func matrix(t *tensor, what string) (n, cols int, flat []json.RawMessage, err error) {
	switch len(t.Shape) {
	case 1:
		n, cols = int(t.Shape[0]), 1
	case 2:
		n, cols = int(t.Shape[0]), int(t.Shape[1])
	default:
		return 0, 0, nil, unmappable("%s %q has shape %v: want [rows] or [rows, columns]", what, t.Name, t.Shape)
	}
	if n < 0 || cols < 1 || t.Shape[0] > 1<<24 || t.Shape[len(t.Shape)-1] > 1<<24 {
		return 0, 0, nil, unmappable("%s %q has shape %v", what, t.Name, t.Shape)
	}
	if flat, err = flatten(t.Data, flat, 0); err != nil {
		return 0, 0, nil, unmappable("%s %q: %v", what, t.Name, err)
	}
	if len(flat) != n*cols {
		return 0, 0, nil, unmappable("%s %q has %d values, shape %v says %d", what, t.Name, len(flat), t.Shape, n*cols)
	}
	return n, cols, flat, nil
}

// flatten appends the scalars of a (nested) JSON list to flat, in order.
func flatten(raw json.RawMessage, flat []json.RawMessage, depth int) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return nil, errors.New("data is not a list")
	}
	if depth > 2 {
		return nil, errors.New("data is nested deeper than its shape")
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	for i, e := range list {
		if e[0] == '[' {
			var err error
			if flat, err = flatten(e, flat, depth+1); err != nil {
				return nil, err
			}
			continue
		}
		if !scalar(e) {
			return nil, fmt.Errorf("data element %d is not a number, string, bool or null", i)
		}
		flat = append(flat, e)
	}
	return flat, nil
}

func find(ts []tensor, name string) *tensor {
	for i := range ts {
		if ts[i].Name == name {
			return &ts[i]
		}
	}
	return nil
}

// scalar reports whether a JSON value is a feature value the contract
// takes: a number, string, bool or null.
func scalar(v json.RawMessage) bool { return len(v) > 0 && v[0] != '{' && v[0] != '[' }

// prediction reports whether a JSON value is a prediction the contract
// takes: a number or a string.
func prediction(v json.RawMessage) bool {
	return len(v) > 0 && (v[0] == '"' || v[0] == '-' || v[0] >= '0' && v[0] <= '9')
}

func unmappable(format string, args ...any) error {
	return reject(ReasonUnmappable, format, args...)
}
