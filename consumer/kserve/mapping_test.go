package kserve

import (
	"strings"
	"testing"
	"time"
)

func TestRecords(t *testing.T) {
	pos := []string{"a", "b"}
	for _, tc := range []struct {
		name      string
		m         Mapping
		req, resp string
		attrs     map[string]string // the request event's, besides id
		want      []string          // records, as JSON
		err       string            // the unmappable detail's start
	}{
		{name: "V1 one instance: the event id", m: Mapping{Features: pos}, req: `{"instances": [[1.50, "x"]]}`, resp: `{"predictions": [0.25]}`,
			want: []string{`{"prediction_id":"id-1","model":"m","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{"a":1.50,"b":"x"},"prediction":0.25}`}},
		{name: "V1 batch: one record per instance, id/index", m: Mapping{Features: pos}, req: `{"instances": [[1, true], [2, null]]}`, resp: `{"predictions": ["cat", "dog"]}`,
			want: []string{
				`{"prediction_id":"id-1/0","model":"m","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{"a":1,"b":true},"prediction":"cat"}`,
				`{"prediction_id":"id-1/1","model":"m","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{"a":2,"b":null},"prediction":"dog"}`}},
		{name: "V1 objects, scores list", m: Mapping{PredictionIndex: 1}, req: `{"instances": [{"b": 2, "a": "y"}]}`, resp: `{"predictions": [[0.2, 0.8]]}`,
			want: []string{`{"prediction_id":"id-1","model":"m","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{"a":"y","b":2},"prediction":0.8}`}},
		{name: "V1 object prediction", m: Mapping{Features: pos, Output: "label"}, req: `{"instances": [[1, 2]]}`, resp: `{"predictions": [{"label": "spam", "p": 0.9}]}`,
			want: []string{`{"prediction_id":"id-1","model":"m","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{"a":1,"b":2},"prediction":"spam"}`}},
		{name: "V1 single values with one feature", m: Mapping{Features: []string{"text"}}, req: `{"instances": ["hello"]}`, resp: `{"predictions": [1]}`,
			want: []string{`{"prediction_id":"id-1","model":"m","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{"text":"hello"},"prediction":1}`}},
		{name: "V2 matrix, flat data, chosen input and output", m: Mapping{Features: pos, Input: "x", Output: "label"},
			req:  `{"inputs": [{"name": "other", "shape": [1], "datatype": "INT64", "data": [9]}, {"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}]}`,
			resp: `{"model_name": "m", "outputs": [{"name": "proba", "shape": [2, 2], "datatype": "FP32", "data": [[0.1, 0.9], [0.6, 0.4]]}, {"name": "label", "shape": [2, 1], "datatype": "BYTES", "data": ["b", "a"]}]}`,
			want: []string{
				`{"prediction_id":"id-1/0","model":"m","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{"a":1,"b":2},"prediction":"b"}`,
				`{"prediction_id":"id-1/1","model":"m","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{"a":3,"b":4},"prediction":"a"}`}},
		{name: "V2 a tensor per feature, prediction index", m: Mapping{PredictionIndex: 1},
			req:  `{"inputs": [{"name": "age", "shape": [2], "datatype": "INT32", "data": [30, 41]}, {"name": "country", "shape": [2, 1], "datatype": "BYTES", "data": [["DE"], ["FR"]]}]}`,
			resp: `{"outputs": [{"name": "p", "shape": [2, 2], "datatype": "FP32", "data": [0.1, 0.9, 0.6, 0.4]}]}`,
			want: []string{
				`{"prediction_id":"id-1/0","model":"m","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{"age":30,"country":"DE"},"prediction":0.9}`,
				`{"prediction_id":"id-1/1","model":"m","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{"age":41,"country":"FR"},"prediction":0.4}`}},
		{name: "version from the V2 response", m: Mapping{Features: pos, VersionFrom: "response.model_version"},
			req: `{"inputs": [{"name": "x", "shape": [1, 2], "data": [1, 2]}]}`, resp: `{"model_version": "v7", "outputs": [{"name": "y", "shape": [1], "data": [1]}]}`,
			want: []string{`{"prediction_id":"id-1","model":"m","model_version":"v7","timestamp":"2026-11-20T10:00:00Z","features":{"a":1,"b":2},"prediction":1}`}},
		{name: "version from a logged header", m: Mapping{Features: pos, VersionFrom: "metadata.x-model-version"},
			attrs: map[string]string{"metadata": `{"X-Model-Version":["2.1"]}`}, req: `{"instances": [[1, 2]]}`, resp: `{"predictions": [1]}`,
			want: []string{`{"prediction_id":"id-1","model":"m","model_version":"2.1","timestamp":"2026-11-20T10:00:00Z","features":{"a":1,"b":2},"prediction":1}`}},
		{name: "version from an attribute", m: Mapping{Features: pos, VersionFrom: "ce.endpoint"},
			attrs: map[string]string{"endpoint": "canary"}, req: `{"instances": [[1, 2]]}`, resp: `{"predictions": [1]}`,
			want: []string{`{"prediction_id":"id-1","model":"m","model_version":"canary","timestamp":"2026-11-20T10:00:00Z","features":{"a":1,"b":2},"prediction":1}`}},

		{name: "not JSON", m: Mapping{Features: pos}, req: `instances`, resp: `{}`, err: "request payload is not a JSON object"},
		{name: "neither protocol", m: Mapping{Features: pos}, req: `{"data": [1]}`, resp: `{}`, err: "request has neither instances (V1) nor inputs (V2)"},
		{name: "V1 request, V2 response", m: Mapping{Features: pos}, req: `{"instances": [[1, 2]]}`, resp: `{"outputs": []}`, err: "a V1 request (instances) with a response without predictions"},
		{name: "list instances without features", m: Mapping{}, req: `{"instances": [[1, 2]]}`, resp: `{"predictions": [1]}`, err: "instances[0] is a list: set features"},
		{name: "wrong width", m: Mapping{Features: pos}, req: `{"instances": [[1, 2], [3]]}`, resp: `{"predictions": [1, 1]}`, err: "instances[1] has 1 elements, features names 2"},
		{name: "nested feature", m: Mapping{Features: pos}, req: `{"instances": [[1, [2]]]}`, resp: `{"predictions": [1]}`, err: "instances[0][1] is not a number"},
		{name: "counts differ", m: Mapping{Features: pos}, req: `{"instances": [[1, 2], [3, 4]]}`, resp: `{"predictions": [1]}`, err: "2 instances in the request, 1 predictions"},
		{name: "no instance", m: Mapping{Features: pos}, req: `{"instances": []}`, resp: `{"predictions": []}`, err: "the request holds no instance"},
		{name: "list prediction without index", m: Mapping{Features: pos}, req: `{"instances": [[1, 2]]}`, resp: `{"predictions": [[0.1, 0.9]]}`, err: "predictions[0] is a list: set prediction_index"},
		{name: "bool prediction", m: Mapping{Features: pos}, req: `{"instances": [[1, 2]]}`, resp: `{"predictions": [true]}`, err: "predictions[0] is not a number or string"},
		{name: "V2 shape and data disagree", m: Mapping{Features: pos}, req: `{"inputs": [{"name": "x", "shape": [2, 2], "data": [1, 2, 3]}]}`,
			resp: `{"outputs": [{"name": "y", "shape": [2], "data": [1, 1]}]}`, err: `input "x" has 3 values, shape [2 2] says 4`},
		{name: "V2 no such input", m: Mapping{Features: pos, Input: "z"}, req: `{"inputs": [{"name": "x", "shape": [1, 2], "data": [1, 2]}]}`,
			resp: `{"outputs": [{"name": "y", "shape": [1], "data": [1]}]}`, err: `no input tensor "z"`},
		{name: "V2 matrix without features", m: Mapping{}, req: `{"inputs": [{"name": "x", "shape": [1, 2], "data": [1, 2]}]}`,
			resp: `{"outputs": [{"name": "y", "shape": [1], "data": [1]}]}`, err: `input "x" has 2 columns (shape [1 2]): set features`},
		{name: "V2 rank 3", m: Mapping{Features: pos}, req: `{"inputs": [{"name": "x", "shape": [1, 1, 2], "data": [1, 2]}]}`,
			resp: `{"outputs": [{"name": "y", "shape": [1], "data": [1]}]}`, err: `input "x" has shape [1 1 2]`},
		{name: "V2 output columns without index", m: Mapping{Features: pos}, req: `{"inputs": [{"name": "x", "shape": [1, 2], "data": [1, 2]}]}`,
			resp: `{"outputs": [{"name": "y", "shape": [1, 3], "data": [1, 2, 3]}]}`, err: `output "y" has 3 columns (shape [1 3]): set prediction_index`},
		{name: "version missing from the response", m: Mapping{Features: pos, VersionFrom: "response.model_version"},
			req: `{"inputs": [{"name": "x", "shape": [1, 2], "data": [1, 2]}]}`, resp: `{"model_version": null, "outputs": [{"name": "y", "shape": [1], "data": [1]}]}`,
			err: "version_from response.model_version: the response has no model_version"},
		{name: "version header not logged", m: Mapping{Features: pos, VersionFrom: "metadata.X-Model-Version"}, attrs: map[string]string{"metadata": "{}"},
			req: `{"instances": [[1, 2]]}`, resp: `{"predictions": [1]}`, err: "version_from metadata.X-Model-Version: the request's metadata has no X-Model-Version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.m
			m.Model = "m"
			if m.VersionFrom == "" {
				m.Version = "1"
			}
			if m.PredictionIndex == 0 { // no case picks index 0: 0 stands for none
				m.PredictionIndex = -1
			}
			if err := m.Validate(); err != nil {
				t.Fatalf("mapping: %v", err)
			}
			req := event(TypeRequest, "id-1", tc.req)
			for k, v := range tc.attrs {
				req.Attrs[k] = v
			}
			resp := event(TypeResponse, "id-1", tc.resp)
			recs, err := m.Records(&req, &resp, time.Time{})
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), ReasonUnmappable+": "+tc.err) {
					t.Fatalf("error %v, want %s: %s...", err, ReasonUnmappable, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, string(r.Value))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestRecordsTime: a request without a time attribute is stamped with
// the time given (when it was written to Kafka).
func TestRecordsTime(t *testing.T) {
	m := Mapping{Model: "m", Version: "1", Features: []string{"a", "b"}, PredictionIndex: -1}
	req, resp := event(TypeRequest, "id-1", v1Req), event(TypeResponse, "id-1", v1Resp)
	req.Time = time.Time{}
	at := time.Date(2026, 11, 20, 11, 0, 0, 5e6, time.FixedZone("CET", 3600))
	recs, err := m.Records(&req, &resp, at)
	if err != nil {
		t.Fatal(err)
	}
	if !recs[0].Time.Equal(at) || !strings.Contains(string(recs[0].Value), `"timestamp":"2026-11-20T10:00:00.005Z"`) {
		t.Errorf("record %s at %s", recs[0].Value, recs[0].Time)
	}
}

func TestMappingValidate(t *testing.T) {
	for _, tc := range []struct {
		m   Mapping
		err string
	}{
		{Mapping{Model: "m", Version: "1", PredictionIndex: -1}, ""},
		{Mapping{Model: "m", VersionFrom: "ce.endpoint", PredictionIndex: 2}, ""},
		{Mapping{Version: "1", PredictionIndex: -1}, "model: must not be empty"},
		{Mapping{Model: "m", PredictionIndex: -1}, "version, version_from: set one"},
		{Mapping{Model: "m", Version: "1", VersionFrom: "ce.endpoint", PredictionIndex: -1}, "version, version_from: set one, not both"},
		{Mapping{Model: "m", VersionFrom: "header.X", PredictionIndex: -1}, `version_from: "header.X" is not`},
		{Mapping{Model: "m", VersionFrom: "metadata.", PredictionIndex: -1}, `version_from: "metadata." is not`},
		{Mapping{Model: "m", Version: "1", Features: []string{"a", "a"}, PredictionIndex: -1}, `features[1]: "a" is named twice`},
		{Mapping{Model: "m", Version: "1", Features: []string{""}, PredictionIndex: -1}, "features[0]: must not be empty"},
		{Mapping{Model: "m", Version: "1", Input: "x", PredictionIndex: -1}, "input: needs features"},
		{Mapping{Model: "m", Version: "1", PredictionIndex: -2}, "prediction_index: must not be negative"},
	} {
		err := tc.m.Validate()
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)) {
			t.Errorf("%+v: error %v, want %q", tc.m, err, tc.err)
		}
	}
}
