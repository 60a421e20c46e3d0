package kserve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/consumer"
)

// sampleModels are the mappings of the InferenceServices of
// testdata/samples: the V1 one reads its version from a request header
// the logger records, the V2 one from the response.
func sampleModels() map[string]Mapping {
	features := []string{"sepal_length", "sepal_width", "petal_length", "petal_width"}
	return map[string]Mapping{
		"sklearn-iris":    {Model: "iris", VersionFrom: "metadata.X-Model-Version", Features: features, PredictionIndex: -1},
		"sklearn-v2-iris": {Model: "iris", VersionFrom: "response.model_version", Features: features, Input: "input-0", PredictionIndex: -1},
	}
}

// loadSamples reads a file of testdata/samples as Kafka records.
func loadSamples(t testing.TB, name string) []*kgo.Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	var in []struct {
		Key       *string     `json:"key"`
		Timestamp time.Time   `json:"timestamp"`
		Headers   [][2]string `json:"headers"`
		Value     string      `json:"value"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []*kgo.Record
	for _, r := range in {
		rec := &kgo.Record{Value: []byte(r.Value), Timestamp: r.Timestamp}
		if r.Key != nil {
			rec.Key = []byte(*r.Key)
		}
		for _, h := range r.Headers {
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h[0], Value: []byte(h[1])})
		}
		out = append(out, rec)
	}
	return out
}

// sampleFiles are the recorded inferences, in the order of expected.jsonl.
var sampleFiles = []string{"v1-binary.json", "v1-structured.json", "v2-binary.json", "v2-structured.json"}

// TestSamples: the recorded events of both payload formats, in both
// modes, become records the consumer accepts (no dead letter) and decodes
// exactly as the same predictions written by hand in the contract's
// format.
func TestSamples(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "samples", "expected.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []consumer.Record
	for sc := bufio.NewScanner(f); sc.Scan(); {
		r, err := consumer.Decode(sc.Bytes(), 0)
		if err != nil {
			t.Fatalf("expected.jsonl: %v", err)
		}
		want = append(want, r)
	}
	ad := NewAdapter[*kgo.Record](sampleModels(), time.Minute, 10)
	now := time.Date(2026, 11, 20, 10, 20, 0, 0, time.UTC)
	var got []consumer.Record
	for _, name := range sampleFiles {
		recs := loadSamples(t, name)
		if len(recs) != 2 {
			t.Fatalf("%s: %d records, want a request and a response", name, len(recs))
		}
		var outs []Outcome[*kgo.Record]
		for _, r := range recs {
			ev, err := FromKafka(r.Headers, r.Value)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			outs = append(outs, ad.Add(ev, r, now)...)
		}
		if len(outs) != 1 || outs[0].Reason != "" {
			t.Fatalf("%s: outcomes %+v, want one pair of records", name, outs)
		}
		if !reflect.DeepEqual(outs[0].Sources, recs) {
			t.Errorf("%s: the outcome's sources are not the request and the response", name)
		}
		for _, r := range outs[0].Records {
			dec, err := consumer.Decode(r.Value, 0)
			if err != nil {
				t.Fatalf("%s: the consumer dead-letters %s: %v", name, r.Value, err)
			}
			if dec.PredictionID != r.ID || !dec.Timestamp.Equal(r.Time) {
				t.Errorf("%s: record id %q time %s, its JSON %q %s", name, r.ID, r.Time, dec.PredictionID, dec.Timestamp)
			}
			got = append(got, dec)
		}
	}
	if ad.Pending() != 0 {
		t.Errorf("%d events still wait", ad.Pending())
	}
	// Records compare by their printed form: a LatencyMS NaN is not
	// equal to itself; maps print sorted.
	if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w || len(got) != len(want) {
		t.Errorf("records:\n got %s\nwant %s", g, w)
	}
}

// TestSamplesOverHTTP: the same events posted as KServe's logger posts
// them (binary HTTP mode) and written to Kafka by Handler make the same
// records as the KafkaSink's.
func TestSamplesOverHTTP(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 20, 0, 0, time.UTC)
	viaSink := NewAdapter[int](sampleModels(), time.Minute, 10)
	viaHTTP := NewAdapter[int](sampleModels(), time.Minute, 10)
	for _, name := range sampleFiles {
		var a, b []Record
		for _, r := range loadSamples(t, name) {
			ev, err := FromKafka(r.Headers, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range viaSink.Add(ev, 0, now) {
				a = append(a, o.Records...)
			}
			// As the logger would post it: each attribute a ce- header.
			h := httpHeader(ev)
			ev2, err := FromHTTP(h, ev.Data)
			if err != nil {
				t.Fatal(err)
			}
			kr := ev2.KafkaRecord("events")
			if string(kr.Key) != ev.ID() {
				t.Errorf("%s: key %q, want the id", name, kr.Key)
			}
			ev3, err := FromKafka(kr.Headers, kr.Value)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range viaHTTP.Add(ev3, 0, now) {
				b = append(b, o.Records...)
			}
		}
		if len(a) == 0 || !reflect.DeepEqual(a, b) {
			t.Errorf("%s:\nvia the sink %s\n    via HTTP %s", name, values(a), values(b))
		}
	}
}

func values(rs []Record) [][]byte {
	var out [][]byte
	for _, r := range rs {
		out = append(out, r.Value)
	}
	return out
}

// httpHeader returns the binary-mode HTTP headers of ev, as the
// CloudEvents Go SDK writes them (percent-encoding what the binding says).
func httpHeader(ev Event) map[string][]string {
	h := map[string][]string{"Content-Type": {ev.ContentType}}
	for k, v := range ev.Attrs {
		var enc bytes.Buffer
		for _, c := range []byte(v) {
			if c <= ' ' || c >= 0x7f || c == '"' || c == '%' {
				enc.WriteString("%" + string("0123456789ABCDEF"[c>>4]) + string("0123456789ABCDEF"[c&15]))
				continue
			}
			enc.WriteByte(c)
		}
		h["Ce-"+string(bytes.ToUpper([]byte(k[:1])))+k[1:]] = []string{enc.String()}
	}
	return h
}
