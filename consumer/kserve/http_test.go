package kserve

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestHandler(t *testing.T) {
	var produced []*kgo.Record
	var down bool
	h := &Handler{Topic: "events", MaxBytes: 256, Produce: func(ctx context.Context, r *kgo.Record) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("produce without a deadline")
		}
		if down {
			return errors.New("broker down")
		}
		produced = append(produced, r)
		return nil
	}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(method string, header map[string]string, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+"/kserve/v1/events", strings.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	binaryHeaders := map[string]string{"Ce-Specversion": "1.0", "Ce-Id": "id-1", "Ce-Source": "pod", "Ce-Type": TypeRequest,
		"Ce-Time": "2026-11-20T10:15:03.120482Z", "Ce-Inferenceservicename": "iris", "Ce-Metadata": "{%22X-V%22:[%221%22]}", "Content-Type": "application/json"}

	// Binary mode, as KServe's logger posts.
	if code, body := post(http.MethodPost, binaryHeaders, v1Req); code != http.StatusOK {
		t.Fatalf("binary: %d %s", code, body)
	}
	if len(produced) != 1 {
		t.Fatalf("%d records produced", len(produced))
	}
	r := produced[0]
	ev, err := FromKafka(r.Headers, r.Value)
	if err != nil {
		t.Fatal(err)
	}
	if r.Topic != "events" || string(r.Key) != "id-1" || ev.Type() != TypeRequest || string(ev.Data) != v1Req ||
		ev.Attrs["metadata"] != `{"X-V":["1"]}` || !ev.Time.Equal(time.Date(2026, 11, 20, 10, 15, 3, 120482000, time.UTC)) {
		t.Errorf("binary mode record %+v, event %+v", r, ev)
	}
	// Structured mode: the record is binary mode all the same.
	code, body := post(http.MethodPost, map[string]string{"Content-Type": "application/cloudevents+json"},
		`{"specversion":"1.0","id":"id-1","source":"pod","type":"`+TypeResponse+`","inferenceservicename":"iris","datacontenttype":"application/json","data":{"predictions":[0]}}`)
	if code != http.StatusOK || len(produced) != 2 {
		t.Fatalf("structured: %d %s, %d records", code, body, len(produced))
	}
	r = produced[1]
	if ev, err = FromKafka(r.Headers, r.Value); err != nil || ev.Type() != TypeResponse || string(ev.Data) != `{"predictions":[0]}` || string(r.Key) != "id-1" {
		t.Errorf("structured mode record %+v: %+v %v", r, ev, err)
	}
	for _, h := range r.Headers {
		if h.Key == "content-type" && string(h.Value) != "application/json" {
			t.Errorf("content-type %q: want the data's, binary mode", h.Value)
		}
	}

	for _, tc := range []struct {
		name   string
		method string
		header map[string]string
		body   string
		code   int
		err    string
	}{
		{"GET", http.MethodGet, nil, "", http.StatusMethodNotAllowed, "post CloudEvents here"},
		{"no event", http.MethodPost, map[string]string{"Content-Type": "application/json"}, v1Req, http.StatusBadRequest, "not_cloudevent: no specversion"},
		{"batch", http.MethodPost, map[string]string{"Content-Type": "application/cloudevents-batch+json"}, "[]", http.StatusBadRequest, "a batch of events"},
		{"too big", http.MethodPost, binaryHeaders, strings.Repeat(" ", 257), http.StatusRequestEntityTooLarge, "larger than 256 bytes"},
	} {
		n := len(produced)
		if code, body := post(tc.method, tc.header, tc.body); code != tc.code || !strings.Contains(body, tc.err) {
			t.Errorf("%s: %d %s, want %d and %q", tc.name, code, body, tc.code, tc.err)
		}
		if len(produced) != n {
			t.Errorf("%s: produced a record", tc.name)
		}
	}
	down = true
	if code, body := post(http.MethodPost, binaryHeaders, v1Req); code != http.StatusServiceUnavailable || !strings.Contains(body, "broker down") {
		t.Errorf("broker down: %d %s", code, body)
	}
}
