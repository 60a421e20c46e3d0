package kserve

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/consumer"
)

func headers(kv ...string) []kgo.RecordHeader {
	var h []kgo.RecordHeader
	for i := 0; i+1 < len(kv); i += 2 {
		h = append(h, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
	}
	return h
}

// binary is a binary-mode request event's headers, with kv added.
func binary(kv ...string) []kgo.RecordHeader {
	return headers(append([]string{"ce_specversion", "1.0", "ce_id", "id-1", "ce_source", "pod-a", "ce_type", TypeRequest,
		"ce_time", "2026-11-20T10:15:03.120482Z", "ce_inferenceservicename", "iris", "content-type", "application/json"}, kv...)...)
}

func TestFromKafka(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers []kgo.RecordHeader
		value   string
		attrs   map[string]string // a subset the event must have
		data    string
		time    time.Time
		err     string // the detail's start; "" no error
	}{
		{name: "binary", headers: binary("ce_component", "predictor"), value: `{"instances": [[1]]}`,
			attrs: map[string]string{"id": "id-1", "type": TypeRequest, "inferenceservicename": "iris", "component": "predictor"},
			data:  `{"instances": [[1]]}`, time: time.Date(2026, 11, 20, 10, 15, 3, 120482000, time.UTC)},
		{name: "binary header names in any case", headers: headers("CE_SPECVERSION", "1.0", "Ce_Id", "x", "ce_source", "s", "ce_type", "t"),
			attrs: map[string]string{"id": "x", "type": "t"}},
		{name: "binary without time", headers: headers("ce_specversion", "1.0", "ce_id", "x", "ce_source", "s", "ce_type", "t")},
		{name: "structured, JSON data", headers: headers("content-type", "application/cloudevents+json; charset=UTF-8"),
			value: `{"specversion":"1.0","id":"e","source":"s","type":"t","datacontenttype":"application/json","inferenceservicename":"iris","sequence":7,"flag":true,"data":{"predictions":[1]}}`,
			attrs: map[string]string{"id": "e", "inferenceservicename": "iris", "sequence": "7", "flag": "true"}, data: `{"predictions":[1]}`},
		{name: "structured, base64 data", headers: headers("content-type", "application/cloudevents+json"),
			value: `{"specversion":"1.0","id":"e","source":"s","type":"t","datacontenttype":"application/x-www-form-urlencoded","data_base64":"eyJhIjoxfQ=="}`,
			data:  `{"a":1}`},
		{name: "structured, string data of a text type", headers: headers("content-type", "application/cloudevents+json"),
			value: `{"specversion":"1.0","id":"e","source":"s","type":"t","datacontenttype":"text/plain","data":"{\"a\":1}"}`, data: `{"a":1}`},
		{name: "structured ignores ce_ headers", headers: headers("content-type", "application/cloudevents+json", "ce_id", "header"),
			value: `{"specversion":"1.0","id":"body","source":"s","type":"t"}`, attrs: map[string]string{"id": "body"}},
		{name: "no specversion", headers: headers("ce_id", "x", "ce_source", "s", "ce_type", "t"), err: "no specversion"},
		{name: "other specversion", headers: headers("ce_specversion", "0.3", "ce_id", "x", "ce_source", "s", "ce_type", "t"), err: `specversion "0.3"`},
		{name: "no id", headers: headers("ce_specversion", "1.0", "ce_source", "s", "ce_type", "t"), err: "no id"},
		{name: "no type", headers: headers("ce_specversion", "1.0", "ce_id", "x", "ce_source", "s"), err: "no type"},
		{name: "bad time", headers: binary("ce_time", "yesterday"), err: `time "yesterday"`},
		{name: "structured, not JSON", headers: headers("content-type", "application/cloudevents+json"), value: `{"specversion":`, err: "structured mode: the value is not a JSON object"},
		{name: "structured, object attribute", headers: headers("content-type", "application/cloudevents+json"),
			value: `{"specversion":"1.0","id":"e","source":"s","type":"t","x":{}}`, err: "structured mode: attribute x"},
		{name: "structured, both data", headers: headers("content-type", "application/cloudevents+json"),
			value: `{"specversion":"1.0","id":"e","source":"s","type":"t","data":1,"data_base64":"MQ=="}`, err: "structured mode: both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := FromKafka(tc.headers, []byte(tc.value))
			if tc.err != "" {
				var derr *consumer.DecodeError
				if !errors.As(err, &derr) || derr.Code != ReasonNotCloudEvent || !strings.HasPrefix(derr.Detail, tc.err) {
					t.Fatalf("error %v, want %s: %s...", err, ReasonNotCloudEvent, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.attrs {
				if ev.Attrs[k] != v {
					t.Errorf("attribute %s %q, want %q", k, ev.Attrs[k], v)
				}
			}
			if tc.data != "" && string(ev.Data) != tc.data {
				t.Errorf("data %q, want %q", ev.Data, tc.data)
			}
			if !ev.Time.Equal(tc.time) {
				t.Errorf("time %s, want %s", ev.Time, tc.time)
			}
		})
	}
}

func TestFromHTTP(t *testing.T) {
	// Binary mode, as KServe's logger posts: the metadata extension
	// percent-encoded as the HTTP binding says.
	h := http.Header{}
	h.Set("Ce-Specversion", "1.0")
	h.Set("Ce-Id", "id-1")
	h.Set("Ce-Source", "pod-a")
	h.Set("Ce-Type", TypeResponse)
	h.Set("Ce-Inferenceservicename", "iris")
	h.Set("Ce-Metadata", "{%22X-Model-Version%22:[%221.0.0%22]}")
	h.Set("Content-Type", "application/json")
	h.Set("Authorization", "Bearer secret") // not an attribute
	ev, err := FromHTTP(h, []byte(`{"predictions":[1]}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type() != TypeResponse || ev.ID() != "id-1" || ev.Attrs["metadata"] != `{"X-Model-Version":["1.0.0"]}` || ev.ContentType != "application/json" {
		t.Errorf("binary: %+v", ev)
	}
	if len(ev.Attrs) != 6 {
		t.Errorf("attributes %v: want the 6 ce- headers only", ev.Attrs)
	}
	// Structured mode.
	sh := http.Header{"Content-Type": {"application/cloudevents+json; charset=utf-8"}}
	ev, err = FromHTTP(sh, []byte(`{"specversion":"1.0","id":"e","source":"s","type":"t","data":{"a":1}}`))
	if err != nil || ev.ID() != "e" || string(ev.Data) != `{"a":1}` {
		t.Errorf("structured: %+v %v", ev, err)
	}
	// A batch is refused.
	bh := http.Header{"Content-Type": {"application/cloudevents-batch+json"}}
	if _, err := FromHTTP(bh, []byte(`[]`)); err == nil || !strings.Contains(err.Error(), "batch") {
		t.Errorf("batch: %v", err)
	}
	// Binary mode without the required headers.
	if _, err := FromHTTP(http.Header{"Content-Type": {"application/json"}}, []byte(`{}`)); err == nil {
		t.Error("a plain JSON post decoded as an event")
	}
}

// TestKafkaRecordRoundTrip: an event written as a binary-mode record reads
// back the same.
func TestKafkaRecordRoundTrip(t *testing.T) {
	ev, err := FromKafka(binary("ce_metadata", `{"X":["1"]}`), []byte(`{"instances":[[1]]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := ev.KafkaRecord("events")
	if r.Topic != "events" || string(r.Key) != "id-1" {
		t.Fatalf("record %+v", r)
	}
	back, err := FromKafka(r.Headers, r.Value)
	if err != nil {
		t.Fatal(err)
	}
	if !sameEvent(ev, back) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, ev)
	}
}

func sameEvent(a, b Event) bool {
	if len(a.Attrs) != len(b.Attrs) || a.ContentType != b.ContentType || !bytes.Equal(a.Data, b.Data) || !a.Time.Equal(b.Time) {
		return false
	}
	for k, v := range a.Attrs {
		if b.Attrs[k] != v {
			return false
		}
	}
	return true
}

// checkDecoded holds for whatever a decoder returns: an error is a
// not_cloudevent DecodeError; an event has the required attributes and
// survives a round trip through a binary-mode record.
func checkDecoded(t *testing.T, ev Event, err error) {
	if err != nil {
		var derr *consumer.DecodeError
		if !errors.As(err, &derr) || derr.Code != ReasonNotCloudEvent {
			t.Fatalf("error %v is not a %s DecodeError", err, ReasonNotCloudEvent)
		}
		return
	}
	if ev.Attrs["specversion"] != "1.0" || ev.ID() == "" || ev.Type() == "" || ev.Attrs["source"] == "" {
		t.Fatalf("an event without its required attributes: %+v", ev)
	}
	r := ev.KafkaRecord("t")
	back, err := FromKafka(r.Headers, r.Value)
	if err != nil {
		t.Fatalf("the event's own record does not decode: %v (%+v)", err, ev)
	}
	if strings.HasPrefix(strings.ToLower(ev.ContentType), structuredType) {
		return // a binary record whose content type says structured is read as structured
	}
	if !sameEvent(ev, back) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, ev)
	}
}

func FuzzFromKafka(f *testing.F) {
	for _, name := range sampleFiles {
		for _, r := range loadSamples(f, name) {
			var hb []byte
			for _, h := range r.Headers {
				hb = append(hb, h.Key+"\x00"+string(h.Value)+"\x00"...)
			}
			f.Add(hb, r.Value)
		}
	}
	f.Add([]byte("content-type\x00application/cloudevents+json\x00"), []byte(`{"specversion":"1.0","id":"e","source":"s","type":"t","data_base64":"eyJhIjoxfQ=="}`))
	f.Fuzz(func(t *testing.T, hb, value []byte) {
		parts := bytes.Split(hb, []byte{0})
		var hs []kgo.RecordHeader
		for i := 0; i+1 < len(parts); i += 2 {
			hs = append(hs, kgo.RecordHeader{Key: string(parts[i]), Value: parts[i+1]})
		}
		ev, err := FromKafka(hs, value)
		checkDecoded(t, ev, err)
	})
}

func FuzzFromHTTP(f *testing.F) {
	f.Add("application/json", "1.0", "id-1", TypeRequest, "{%22a%22:1}", []byte(`{"instances":[[1]]}`))
	f.Add("application/cloudevents+json", "", "", "", "", []byte(`{"specversion":"1.0","id":"e","source":"s","type":"t","data":{"a":1}}`))
	f.Fuzz(func(t *testing.T, ct, spec, id, typ, meta string, body []byte) {
		for _, s := range []string{ct, spec, id, typ, meta} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n") {
				return // not a header value net/http would deliver
			}
		}
		h := http.Header{"Content-Type": {ct}, "Ce-Specversion": {spec}, "Ce-Id": {id}, "Ce-Source": {"s"}, "Ce-Type": {typ}, "Ce-Metadata": {meta}}
		ev, err := FromHTTP(h, body)
		checkDecoded(t, ev, err)
	})
}

// FuzzRecords: whatever the payloads, the mapping returns records that
// are one JSON object each with the event's id, or an unmappable error.
func FuzzRecords(f *testing.F) {
	for _, name := range sampleFiles {
		recs := loadSamples(f, name)
		req, _ := FromKafka(recs[0].Headers, recs[0].Value)
		resp, _ := FromKafka(recs[1].Headers, recs[1].Value)
		f.Add(req.Data, resp.Data, false)
	}
	f.Add([]byte(`{"instances":[{"a":1,"b":"x"}]}`), []byte(`{"predictions":[{"label":"x"}]}`), true)
	f.Add([]byte(`{"inputs":[{"name":"a","shape":[2],"data":[1,2]},{"name":"b","shape":[2,1],"data":[[true],[null]]}]}`),
		[]byte(`{"outputs":[{"name":"p","shape":[2,3],"data":[0.1,0.2,0.7,0.3,0.3,0.4]}]}`), true)
	f.Fuzz(func(t *testing.T, reqData, respData []byte, named bool) {
		m := Mapping{Model: "m", Version: "1", Features: []string{"a", "b", "c", "d"}, PredictionIndex: -1}
		if named {
			m = Mapping{Model: "m", Version: "1", Output: "label", PredictionIndex: 2}
		}
		req := &Event{Attrs: map[string]string{"id": "id-1"}, Data: reqData, Time: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
		resp := &Event{Attrs: map[string]string{"id": "id-1"}, Data: respData}
		recs, err := m.Records(req, resp, time.Time{})
		if err != nil {
			var derr *consumer.DecodeError
			if !errors.As(err, &derr) || derr.Code != ReasonUnmappable {
				t.Fatalf("error %v is not an %s DecodeError", err, ReasonUnmappable)
			}
			return
		}
		for i, r := range recs {
			var obj map[string]any
			if err := json.Unmarshal(r.Value, &obj); err != nil {
				t.Fatalf("record %d is not JSON: %v: %s", i, err, r.Value)
			}
			if obj["prediction_id"] != r.ID || !strings.HasPrefix(r.ID, "id-1") {
				t.Fatalf("record %d: id %q, JSON %v", i, r.ID, obj["prediction_id"])
			}
			if _, err := consumer.Decode(r.Value, 0); err != nil && !strings.HasPrefix(err.Error(), consumer.ReasonWrongType) {
				// Only a number beyond float64 (passed through as the
				// payload has it) may break the contract.
				t.Fatalf("record %d: %v: %s", i, err, r.Value)
			}
		}
	})
}
