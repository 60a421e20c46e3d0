// Package kserve reads KServe's inference logger as it is. The logger (the
// agent sidecar of an InferenceService, KServe's pkg/logger) sends one
// CloudEvent per request and one per response, of types TypeRequest and
// TypeResponse, with the same id; Knative's KafkaSink writes them to a
// topic in the CloudEvents Kafka binding (binary mode by default: ce_
// headers; structured mode: a JSON envelope), or the logger posts them
// over HTTP (Handler). The Converter reads that topic, joins each request
// to its response by id (Adapter), maps the pair's payload (V1
// instances/predictions or Open Inference Protocol V2 tensors) through the
// InferenceService's Mapping into prediction log records (CONTRACT.md
// section 1), and produces them to the predictions topic: the pipeline
// then reads them exactly as records a producer wrote in the contract's
// format. An event that cannot become records goes, unchanged, to a
// dead-letter topic with its reason (CONTRACT.md section 12).
//
// It deliberately does not window, validate records against the contract
// or know baselines: the consumer does all that, on the predictions topic,
// for these records as for any other.
package kserve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/consumer"
)

// The CloudEvents types of KServe's logger: one event of each per
// inference, with the same id.
const (
	TypeRequest  = "org.kubeflow.serving.inference.request"
	TypeResponse = "org.kubeflow.serving.inference.response"
)

// Reason codes of an event dead-lettered by the Converter (CONTRACT.md
// section 12). They are bounded: metric labels and dead-letter headers.
const (
	ReasonNotCloudEvent = "not_cloudevent" // no CloudEvent in binary or structured mode
	ReasonNotInference  = "not_inference"  // not a KServe request or response event
	ReasonUnknownModel  = "unknown_model"  // no kserve.models entry for its InferenceService
	ReasonUnmatched     = "unmatched"      // no pair within kserve.join_timeout, or evicted for kserve.max_pending
	ReasonDuplicate     = "duplicate"      // a second request (or response) of an id while the first waits
	ReasonUnmappable    = "unmappable"     // a pair whose payloads the mapping cannot turn into records
)

// Reasons lists the reason codes, for metrics.
var Reasons = []string{ReasonNotCloudEvent, ReasonNotInference, ReasonUnknownModel, ReasonUnmatched, ReasonDuplicate, ReasonUnmappable}

// The content type of the CloudEvents JSON format: a structured-mode
// message's, in HTTP and in Kafka.
const structuredType = "application/cloudevents+json"

// Event is one CloudEvent. Attrs holds its context attributes and
// extensions by name (specversion, id, source, type, time,
// inferenceservicename, namespace, component, endpoint, metadata, ...) as
// text; ContentType is its datacontenttype and Data its data, the
// inference payload for KServe's events. Time is the time attribute,
// zero when it has none. Data may share memory with what the event was
// decoded from.
type Event struct {
	Attrs       map[string]string
	ContentType string
	Data        []byte
	Time        time.Time
}

// ID returns the event's id, which a request and its response share.
func (e *Event) ID() string { return e.Attrs["id"] }

// Type returns the event's type.
func (e *Event) Type() string { return e.Attrs["type"] }

// FromKafka decodes a record of the CloudEvents Kafka binding: structured
// mode when its content-type header is application/cloudevents+json (the
// value is the JSON envelope), binary mode otherwise (attributes in ce_
// headers, the data content type in content-type, the data as the value).
// It returns a *consumer.DecodeError with ReasonNotCloudEvent when the
// record is neither, or lacks specversion 1.0, id, source or type, or has
// a time that is not RFC 3339.
func FromKafka(headers []kgo.RecordHeader, value []byte) (Event, error) {
	ev := Event{Attrs: make(map[string]string, len(headers))}
	for _, h := range headers {
		switch name := strings.ToLower(h.Key); {
		case name == "content-type":
			ev.ContentType = string(h.Value)
		case strings.HasPrefix(name, "ce_"):
			ev.Attrs[name[len("ce_"):]] = string(h.Value)
		}
	}
	if isStructured(ev.ContentType) {
		return fromEnvelope(value)
	}
	ev.Data = value
	err := ev.check() // sets ev.Time: before ev is returned
	return ev, err
}

// FromHTTP decodes a request of the CloudEvents HTTP binding: structured
// mode when Content-Type is application/cloudevents+json, binary mode
// otherwise (attributes in ce- headers, percent-decoded). Errors are as
// FromKafka's; a batch (application/cloudevents-batch+json) is one too.
func FromHTTP(h http.Header, body []byte) (Event, error) {
	ct := h.Get("Content-Type")
	if isStructured(ct) {
		return fromEnvelope(body)
	}
	if mt, _, _ := mime.ParseMediaType(ct); mt == "application/cloudevents-batch+json" {
		return Event{}, notEvent("a batch of events (%s): post one event per request", mt)
	}
	ev := Event{Attrs: make(map[string]string, len(h)), ContentType: ct, Data: body}
	for name, vs := range h {
		lower := strings.ToLower(name)
		if !strings.HasPrefix(lower, "ce-") || len(vs) == 0 {
			continue
		}
		v := vs[0]
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		ev.Attrs[lower[len("ce-"):]] = v
	}
	err := ev.check() // sets ev.Time: before ev is returned
	return ev, err
}

// isStructured reports whether a content type is the CloudEvents JSON
// format's.
func isStructured(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == structuredType
}

// fromEnvelope decodes a structured-mode message: a JSON object of the
// attributes, with the data in "data" (as JSON when datacontenttype is
// JSON or absent, else a string) or, base64, in "data_base64".
func fromEnvelope(b []byte) (Event, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(b, &env); err != nil {
		return Event{}, notEvent("structured mode: the value is not a JSON object: %v", err)
	}
	ev := Event{Attrs: make(map[string]string, len(env))}
	var data, data64 json.RawMessage
	for k, raw := range env {
		k = strings.ToLower(k) // names are lowercase (CloudEvents 1.0), as in binary mode
		switch k {
		case "data":
			data = raw
			continue
		case "data_base64":
			data64 = raw
			continue
		}
		v, ok := attrText(raw)
		if !ok {
			return Event{}, notEvent("structured mode: attribute %s is not a string, number or bool", k)
		}
		if k == "datacontenttype" {
			ev.ContentType = v
			continue
		}
		if raw[0] != 'n' { // null: absent
			ev.Attrs[k] = v
		}
	}
	switch {
	case data != nil && data64 != nil:
		return Event{}, notEvent("structured mode: both data and data_base64")
	case data64 != nil:
		var s string
		if json.Unmarshal(data64, &s) != nil {
			return Event{}, notEvent("structured mode: data_base64 is not a string")
		}
		d, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return Event{}, notEvent("structured mode: data_base64: %v", err)
		}
		ev.Data = d
	case data != nil && data[0] == '"' && !isJSON(ev.ContentType):
		var s string
		_ = json.Unmarshal(data, &s) // valid: the envelope parsed
		ev.Data = []byte(s)
	case data != nil && !bytes.Equal(data, []byte("null")):
		ev.Data = data
	}
	err := ev.check() // sets ev.Time: before ev is returned
	return ev, err
}

// attrText returns a JSON attribute value as text: a string's content, a
// number's or bool's JSON text, "" for null; ok is false for an object or
// array.
func attrText(raw json.RawMessage) (string, bool) {
	switch raw[0] {
	case '{', '[':
		return "", false
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case 'n':
		return "", true
	}
	return string(raw), true
}

// isJSON reports whether a data content type is JSON (application/json,
// any +json type, or none: the JSON format's default).
func isJSON(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json")
}

// check validates the required attributes and parses time.
func (e *Event) check() error {
	if v := e.Attrs["specversion"]; v != "1.0" {
		if v == "" {
			return notEvent("no specversion attribute (ce_specversion header in binary mode)")
		}
		return notEvent("specversion %q: want 1.0", v)
	}
	for _, a := range []string{"id", "source", "type"} {
		if e.Attrs[a] == "" {
			return notEvent("no %s attribute", a)
		}
	}
	if s, ok := e.Attrs["time"]; ok && s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return notEvent("time %q is not RFC 3339", s)
		}
		e.Time = t
	}
	return nil
}

func notEvent(format string, args ...any) *consumer.DecodeError {
	return reject(ReasonNotCloudEvent, format, args...)
}

// reject returns a DecodeError with a reason code of this package.
func reject(code, format string, args ...any) *consumer.DecodeError {
	return &consumer.DecodeError{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// KafkaRecord returns the event as a record of topic in the Kafka
// binding's binary mode, as Knative's KafkaSink writes it by default: an
// attribute per ce_ header (in name order), the data content type in
// content-type, the data as value; keyed by the id, so that a request and
// its response land in one partition.
func (e *Event) KafkaRecord(topic string) *kgo.Record {
	names := make([]string, 0, len(e.Attrs))
	for k := range e.Attrs {
		names = append(names, k)
	}
	slices.Sort(names)
	r := &kgo.Record{Topic: topic, Key: []byte(e.ID()), Value: e.Data, Headers: make([]kgo.RecordHeader, 0, len(names)+1)}
	for _, k := range names {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: "ce_" + k, Value: []byte(e.Attrs[k])})
	}
	if e.ContentType != "" {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: "content-type", Value: []byte(e.ContentType)})
	}
	return r
}
