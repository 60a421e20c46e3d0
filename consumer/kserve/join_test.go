package kserve

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// event returns a KServe event of the InferenceService iris.
func event(typ, id, data string) Event {
	return Event{Attrs: map[string]string{"specversion": "1.0", "id": id, "source": "pod", "type": typ,
		"inferenceservicename": "iris", "component": "predictor"}, Data: []byte(data), Time: t0}
}

func irisModels() map[string]Mapping {
	return map[string]Mapping{"iris": {Model: "iris", Version: "1", Features: []string{"a", "b"}, PredictionIndex: -1}}
}

const (
	v1Req  = `{"instances": [[1, 2]]}`
	v1Resp = `{"predictions": [0]}`
)

func TestJoin(t *testing.T) {
	type step struct {
		ev  Event
		src string
		at  time.Duration // after t0
	}
	for _, tc := range []struct {
		name  string
		steps []step
		// want is each outcome of the steps, in order: "records:<sources>"
		// or "<reason>:<sources>".
		want    []string
		pending int
	}{
		{name: "request first", steps: []step{{event(TypeRequest, "x", v1Req), "req", 0}, {event(TypeResponse, "x", v1Resp), "resp", time.Second}},
			want: []string{"records:req,resp"}},
		{name: "response first", steps: []step{{event(TypeResponse, "x", v1Resp), "resp", 0}, {event(TypeRequest, "x", v1Req), "req", time.Second}},
			want: []string{"records:req,resp"}},
		{name: "interleaved ids", steps: []step{
			{event(TypeRequest, "x", v1Req), "req-x", 0}, {event(TypeRequest, "y", v1Req), "req-y", 0},
			{event(TypeResponse, "y", v1Resp), "resp-y", 0}, {event(TypeResponse, "x", v1Resp), "resp-x", 0}},
			want: []string{"records:req-y,resp-y", "records:req-x,resp-x"}},
		{name: "duplicate request", steps: []step{{event(TypeRequest, "x", v1Req), "req", 0}, {event(TypeRequest, "x", v1Req), "again", 0},
			{event(TypeResponse, "x", v1Resp), "resp", 0}},
			want: []string{"duplicate:again", "records:req,resp"}},
		{name: "not an inference event", steps: []step{{func() Event { e := event("com.example.other", "x", ""); return e }(), "e", 0}},
			want: []string{"not_inference:e"}},
		{name: "no inference service", steps: []step{{func() Event { e := event(TypeRequest, "x", v1Req); delete(e.Attrs, "inferenceservicename"); return e }(), "e", 0}},
			want: []string{"not_inference:e"}},
		{name: "unknown model", steps: []step{{func() Event { e := event(TypeRequest, "x", v1Req); e.Attrs["inferenceservicename"] = "other"; return e }(), "e", 0}},
			want: []string{"unknown_model:e"}},
		{name: "unmappable pair", steps: []step{{event(TypeRequest, "x", `{"instances": [[1, 2, 3]]}`), "req", 0}, {event(TypeResponse, "x", v1Resp), "resp", 0}},
			want: []string{"unmappable:req,resp"}},
		{name: "components join apart", steps: []step{{event(TypeRequest, "x", v1Req), "req", 0},
			{func() Event { e := event(TypeResponse, "x", v1Resp); e.Attrs["component"] = "transformer"; return e }(), "resp", 0}},
			pending: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAdapter[string](irisModels(), 30*time.Second, 10)
			var got []string
			for _, s := range tc.steps {
				for _, o := range a.Add(s.ev, s.src, t0.Add(s.at)) {
					got = append(got, describe(o))
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("outcomes %q, want %q", got, tc.want)
			}
			if a.Pending() != tc.pending {
				t.Errorf("%d pending, want %d", a.Pending(), tc.pending)
			}
		})
	}
}

func describe(o Outcome[string]) string {
	if o.Reason == "" {
		return "records:" + strings.Join(o.Sources, ",")
	}
	return o.Reason + ":" + strings.Join(o.Sources, ",")
}

// TestJoinTimeout: an event waits the join timeout from its arrival, on
// the clock given, then is dead-lettered as unmatched; its pair arriving
// later waits in its turn.
func TestJoinTimeout(t *testing.T) {
	a := NewAdapter[string](irisModels(), 30*time.Second, 10)
	a.Add(event(TypeRequest, "x", v1Req), "req-x", t0)
	a.Add(event(TypeResponse, "y", v1Resp), "resp-y", t0.Add(10*time.Second))
	if at, ok := a.Next(); !ok || !at.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("next expiry %s %v, want t0+30s", at, ok)
	}
	if out := a.Expire(t0.Add(30*time.Second - time.Nanosecond)); len(out) != 0 {
		t.Fatalf("expired before the timeout: %+v", out)
	}
	out := a.Expire(t0.Add(30 * time.Second))
	if len(out) != 1 || describe(out[0]) != "unmatched:req-x" || !strings.Contains(out[0].Detail, `request event with id "x": no response within kserve.join_timeout (30s)`) {
		t.Fatalf("at the timeout: %+v", out)
	}
	out = a.Expire(t0.Add(time.Hour))
	if len(out) != 1 || describe(out[0]) != "unmatched:resp-y" || !strings.Contains(out[0].Detail, "no request within") {
		t.Fatalf("later: %+v", out)
	}
	if _, ok := a.Next(); ok || a.Pending() != 0 {
		t.Fatalf("%d still pending", a.Pending())
	}
	// The response of x, after x expired, waits for a request of its own.
	if out := a.Add(event(TypeResponse, "x", v1Resp), "resp-x", t0.Add(time.Hour)); len(out) != 0 || a.Pending() != 1 {
		t.Fatalf("late response: %+v, %d pending", out, a.Pending())
	}
}

// TestJoinMaxPending: past max pending, the oldest waiting event is
// dead-lettered as unmatched, so that the table stays bounded.
func TestJoinMaxPending(t *testing.T) {
	a := NewAdapter[string](irisModels(), time.Hour, 2)
	a.Add(event(TypeRequest, "1", v1Req), "r1", t0)
	a.Add(event(TypeRequest, "2", v1Req), "r2", t0)
	out := a.Add(event(TypeRequest, "3", v1Req), "r3", t0)
	if len(out) != 1 || describe(out[0]) != "unmatched:r1" || !strings.Contains(out[0].Detail, "kserve.max_pending") {
		t.Fatalf("outcomes %+v, want r1 evicted", out)
	}
	if a.Pending() != 2 {
		t.Fatalf("%d pending, want 2", a.Pending())
	}
	// A pair completing makes room without evicting.
	if out := a.Add(event(TypeResponse, "2", v1Resp), "s2", t0); len(out) != 1 || describe(out[0]) != "records:r2,s2" {
		t.Fatalf("pair: %+v", out)
	}
	a.Reset()
	if a.Pending() != 0 {
		t.Fatal("reset kept events")
	}
	if out := a.Add(event(TypeResponse, "3", v1Resp), "s3", t0); len(out) != 0 {
		t.Fatalf("a reset adapter joined with a forgotten event: %+v", out)
	}
}
