package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/driftwatch/driftwatch/stats/drift"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestNewRejects(t *testing.T) {
	hook := Config{WebhookURL: "https://ml.example/hooks/driftwatch", Secret: testSecret}
	with := func(f func(*Config)) Config { c := hook; f(&c); return c }
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no destination", Config{Secret: testSecret}, "actions: no destination: set a webhook url or a topic"},
		{"no secret", Config{WebhookURL: "https://ml.example/hook"}, "actions webhook https://ml.example/hook: no secret to sign with"},
		{"scheme", with(func(c *Config) { c.WebhookURL = "ftp://ml.example/hook" }), `actions webhook url "ftp://ml.example/hook": scheme must be http or https`},
		{"relative", with(func(c *Config) { c.WebhookURL = "/hook" }), `actions webhook url "/hook": scheme must be http or https`},
		{"no host", with(func(c *Config) { c.WebhookURL = "http:///hook" }), `actions webhook url "http:///hook": no host`},
		{"unparsable", with(func(c *Config) { c.WebhookURL = "http://ml:port/" }), `actions webhook url "http://ml:port/": parse`},
		{"topic without client", Config{Topic: "driftwatch.actions"}, "actions topic driftwatch.actions: no kafka client"},
		{"bad topic", Config{Topic: "driftwatch actions", Client: &kgo.Client{}}, `actions topic "driftwatch actions": not a valid kafka topic name`},
		{"negative interval", with(func(c *Config) { c.Interval = -time.Hour }), "actions interval -1h0m0s: negative"},
		{"negative queue", with(func(c *Config) { c.QueueSize = -1 }), "actions queue_size -1: negative"},
		{"retry max below initial", with(func(c *Config) { c.RetryInitial, c.RetryMax = 2*time.Second, time.Second }), "actions retry_max 1s: below retry_initial 2s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	secret := []byte("s3cret")
	d := mustNew(t, Config{WebhookURL: "http://127.0.0.1:1/hook", Secret: secret})
	c := d.cfg
	if c.Interval != 24*time.Hour || c.Timeout != 10*time.Second || c.QueueSize != 256 || c.MaxTracked != 4096 ||
		c.RetryInitial != time.Second || c.RetryMax != time.Minute || c.FlushTimeout != 10*time.Second ||
		c.Now == nil || c.HTTPClient == nil {
		t.Fatalf("defaults: %+v", c)
	}
	secret[0] = 'S'
	if string(d.cfg.Secret) != "s3cret" {
		t.Error("the secret is not copied")
	}
}

// TestWebhook: one action reaches the webhook as a signed POST with its
// id in the headers, and the body in the wire format with its evidence.
func TestWebhook(t *testing.T) {
	rcv := newReceiver(nil)
	srv := serve(t, rcv)
	clk := newClock(t0.Add(time.Hour + 5*time.Second).In(time.FixedZone("PST", -8*3600)))
	ds := newDeliveries()
	d := mustNew(t, Config{
		WebhookURL: srv.URL + "/hooks/driftwatch?team=ml", Secret: testSecret, HTTPClient: httpClient(t),
		Now: clk.Now, OnDelivery: ds.add,
	})
	a := action(KindRetrain, "fraud", "3")
	if !d.Trigger(a) {
		t.Fatal("Trigger: suppressed")
	}
	stop := start(t, d)
	ds.waitFor(t, "the delivery", func(ds []Delivery) bool { return len(ds) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	got := ds.all()[0]
	if got.Err != nil || got.Dropped || got.Attempt != 1 || got.Destination != srv.URL+"/hooks/driftwatch?team=ml" || got.Action.ID != a.ID || !got.At.Equal(clk.Now()) {
		t.Errorf("delivery %+v", got)
	}
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/hooks/driftwatch" {
		t.Errorf("request %s %s, want POST /hooks/driftwatch", r.Method, r.Path)
	}
	wantID := "retrain/fraud/3/2026-11-23T12:00:00Z"
	for name, want := range map[string]string{
		"Content-Type":           "application/json",
		"X-Driftwatch-Timestamp": strconv.FormatInt(clk.Now().Unix(), 10),
		"X-Driftwatch-Delivery":  wantID,
		"Idempotency-Key":        wantID,
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("header %s: %q, want %q", name, got, want)
		}
	}
	ts, sig := r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Errorf("signature %q, want sha256=<64 hex digits>", sig)
	}
	if err := Verify(testSecret, ts, sig, r.Body, WithClock(clk.Now)); err != nil {
		t.Errorf("Verify with the secret: %v", err)
	}
	if err := Verify([]byte("not the secret"), ts, sig, r.Body, WithClock(clk.Now)); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify with a wrong secret: %v, want ErrSignature", err)
	}

	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("body: %v\n%s", err, r.Body)
	}
	for field, want := range map[string]any{
		"version": 1.0, "id": wantID, "action": "retrain", "model": "fraud", "model_version": "3",
		"reason": "FeatureDrift", "severity": "SEV-2", "window_start": "2026-11-23T12:00:00Z",
		"window_end": "2026-11-23T13:00:00Z", "triggered_at": "2026-11-23T13:00:05Z",
	} {
		if body[field] != want {
			t.Errorf("body %s: %v, want %v", field, body[field], want)
		}
	}
	if len(body) != 11 {
		t.Errorf("body has %d fields, want 11: %s", len(body), r.Body)
	}
	var ev struct{ Evidence []drift.Row }
	if err := json.Unmarshal(r.Body, &ev); err != nil {
		t.Fatal(err)
	}
	if want := utcRows(a.Evidence); !reflect.DeepEqual(ev.Evidence, want) {
		t.Errorf("evidence:\n got %+v\nwant %+v", ev.Evidence, want)
	}
	if !strings.Contains(string(r.Body), `"window_start":"2026-11-23T12:00:00Z","window_end":"2026-11-23T13:00:00Z","family":"data"`) {
		t.Errorf("evidence times not in UTC: %s", r.Body)
	}
	var back Action
	if err := json.Unmarshal(r.Body, &back); err != nil {
		t.Fatal(err)
	}
	want := a
	want.At, want.Evidence = clk.Now().UTC(), utcRows(a.Evidence)
	if !reflect.DeepEqual(back, want) {
		t.Errorf("UnmarshalJSON:\n got %+v\nwant %+v", back, want)
	}

	st := d.Stats()
	if st.Triggered != 1 || len(st.Destinations) != 1 {
		t.Fatalf("stats %+v", st)
	}
	if got, want := st.Destinations[0], (DestinationStats{Destination: srv.URL + "/hooks/driftwatch?team=ml", Delivered: 1}); got != want {
		t.Errorf("destination stats %+v, want %+v", got, want)
	}
}

// utcRows is rows with their times in UTC, as the body carries them.
func utcRows(rows []drift.Row) []drift.Row {
	out := make([]drift.Row, len(rows))
	for i, r := range rows {
		r.WindowStart, r.WindowEnd = r.WindowStart.UTC(), r.WindowEnd.UTC()
		out[i] = r
	}
	return out
}

// TestIntervalSuppression: at most one action per kind, model and model
// version per Interval, on a fake clock; other versions, kinds and models
// are not held back.
func TestIntervalSuppression(t *testing.T) {
	clk := newClock(t0)
	d := mustNew(t, Config{WebhookURL: "http://127.0.0.1:1/hook", Secret: testSecret, Now: clk.Now})
	steps := []struct {
		at                   time.Duration // after t0
		kind, model, version string
		want                 bool
	}{
		{0, KindRetrain, "fraud", "3", true},
		{time.Minute, KindRetrain, "fraud", "3", false},
		{time.Minute, KindRollback, "fraud", "3", true},
		{time.Minute, KindRetrain, "fraud", "4", true},
		{time.Minute, KindRetrain, "churn", "3", true},
		{time.Hour, KindRollback, "fraud", "3", false},
		{24*time.Hour - time.Nanosecond, KindRetrain, "fraud", "3", false},
		{24 * time.Hour, KindRetrain, "fraud", "3", true},
		{25 * time.Hour, KindRetrain, "fraud", "3", false}, // measured from the last one let through
		{24*time.Hour + time.Minute, KindRollback, "fraud", "3", true},
	}
	for i, s := range steps {
		clk.Set(t0.Add(s.at))
		a := action(s.kind, s.model, s.version)
		a.ID = fmt.Sprintf("%s-%d", a.ID, i)
		if got := d.Trigger(a); got != s.want {
			t.Errorf("step %d: Trigger(%s %s %s) at t0+%v = %v, want %v", i, s.kind, s.model, s.version, s.at, got, s.want)
		}
	}
	// An explicit At counts, not the clock (churn 3 went at t0+1m).
	clk.Set(t0.Add(48 * time.Hour))
	a := action(KindRetrain, "churn", "3")
	a.At = t0.Add(2 * time.Minute)
	if d.Trigger(a) {
		t.Error("Trigger with At a minute after the last: not suppressed")
	}
	a.At = t0.Add(24*time.Hour + time.Minute)
	if !d.Trigger(a) {
		t.Error("Trigger with At 24h after the last: suppressed")
	}
	st := d.Stats()
	if st.Triggered != 7 || st.Suppressed != 5 || st.Rejected != 0 || st.Destinations[0].Pending != 7 {
		t.Errorf("stats %+v", st)
	}
}

// TestRestore: a restored trigger time suppresses like a triggered one.
func TestRestore(t *testing.T) {
	clk := newClock(t0)
	d := mustNew(t, Config{WebhookURL: "http://127.0.0.1:1/hook", Secret: testSecret, Now: clk.Now, Interval: time.Hour})
	d.Restore(KindRollback, "fraud", "3", t0.Add(-30*time.Minute))
	d.Restore(KindRollback, "fraud", "3", t0.Add(-2*time.Hour)) // older: ignored
	if d.Trigger(action(KindRollback, "fraud", "3")) {
		t.Error("Trigger 30 min after a restored one: not suppressed")
	}
	clk.Set(t0.Add(30 * time.Minute))
	if !d.Trigger(action(KindRollback, "fraud", "3")) {
		t.Error("Trigger an interval after a restored one: suppressed")
	}
}

// TestSuppressionBounded: past MaxTracked, expired entries go first, then
// the oldest, counted.
func TestSuppressionBounded(t *testing.T) {
	clk := newClock(t0)
	d := mustNew(t, Config{WebhookURL: "http://127.0.0.1:1/hook", Secret: testSecret, Now: clk.Now, Interval: time.Hour, MaxTracked: 2})
	d.Trigger(action(KindRetrain, "a", "1"))
	clk.Set(t0.Add(time.Minute))
	d.Trigger(action(KindRetrain, "b", "1"))
	clk.Set(t0.Add(2 * time.Minute))
	d.Trigger(action(KindRetrain, "c", "1")) // evicts a
	if len(d.last) != 2 || d.Stats().Evicted != 1 {
		t.Fatalf("tracked %v, evicted %d", d.last, d.Stats().Evicted)
	}
	if d.Trigger(action(KindRetrain, "c", "1")) {
		t.Error("c: not suppressed")
	}
	if !d.Trigger(action(KindRetrain, "a", "1")) { // evicts b
		t.Error("a, evicted: suppressed")
	}
	clk.Set(t0.Add(2*time.Minute + time.Hour))
	d.Trigger(action(KindRetrain, "d", "1")) // c and a expired: no eviction
	if st := d.Stats(); st.Evicted != 2 || len(d.last) != 1 {
		t.Errorf("evicted %d, tracked %v", st.Evicted, d.last)
	}
}

func TestTriggerRejects(t *testing.T) {
	d := mustNew(t, Config{WebhookURL: "http://127.0.0.1:1/hook", Secret: testSecret})
	nan := math.NaN()
	cases := map[string]func(*Action){
		"no id":         func(a *Action) { a.ID = "" },
		"newline in id": func(a *Action) { a.ID = "retrain/x\r\nX-Evil: 1" },
		"kind":          func(a *Action) { a.Kind = "restart" },
		"no model":      func(a *Action) { a.Model = "" },
		"nan value":     func(a *Action) { a.Evidence[0].Value = nan },
		"inf threshold": func(a *Action) { a.Evidence[1].Threshold = math.Inf(1) },
		"nan p-value":   func(a *Action) { a.Evidence[1].PValue = &nan },
		"nan mde":       func(a *Action) { a.Evidence[0].MDE = &nan },
	}
	for name, f := range cases {
		a := action(KindRetrain, "fraud", "3")
		f(&a)
		if a.Validate() == nil {
			t.Errorf("%s: Validate: nil", name)
		}
		if d.Trigger(a) {
			t.Errorf("%s: Trigger: true", name)
		}
	}
	if st := d.Stats(); st.Rejected != uint64(len(cases)) || st.Triggered != 0 {
		t.Errorf("stats %+v", st)
	}
	if !d.Trigger(action(KindRetrain, "fraud", "3")) {
		t.Error("a valid action after rejected ones: suppressed")
	}
}

// TestRetries: answers worth retrying (5xx, 408, 429, a dropped
// connection) are retried until the webhook takes the action; the rest
// (other 4xx, 3xx) drop it at once.
func TestRetries(t *testing.T) {
	cases := []struct {
		code  int
		retry bool
	}{
		{http.StatusInternalServerError, true},
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusTooManyRequests, true},
		{http.StatusRequestTimeout, true},
		{0, true}, // connection closed without an answer
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusNotFound, false},
		{http.StatusUnprocessableEntity, false},
		{http.StatusFound, false}, // not followed
	}
	for _, c := range cases {
		t.Run(strconv.Itoa(c.code), func(t *testing.T) {
			// The first action fails once with the code; the second is
			// taken at once, so that nothing can be retried after it.
			rcv := newReceiver(func(n int) int {
				if n == 1 {
					return c.code
				}
				return http.StatusOK
			})
			srv := serve(t, rcv)
			ds := newDeliveries()
			d := mustNew(t, Config{
				WebhookURL: srv.URL, Secret: testSecret, HTTPClient: httpClient(t),
				RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond, OnDelivery: ds.add,
			})
			first, second := action(KindRetrain, "fraud", "3"), action(KindRollback, "fraud", "3")
			d.Trigger(first)
			d.Trigger(second)
			stop := start(t, d)
			ds.waitFor(t, "the second action", func(ds []Delivery) bool {
				return len(ds) > 0 && ds[len(ds)-1].Action.ID == second.ID
			})
			if err := stop(); err != nil {
				t.Fatal(err)
			}

			var ids []string
			for _, r := range rcv.requests() {
				ids = append(ids, r.Header.Get(HeaderDelivery))
			}
			got := ds.all()
			var se *StatusError
			if c.code != 0 && (!errors.As(got[0].Err, &se) || se.Code != c.code || se.ID != first.ID || se.URL != srv.URL) {
				t.Errorf("first attempt: error %v, want a StatusError %d", got[0].Err, c.code)
			}
			tot := d.Stats().Total()
			if c.retry {
				if want := []string{first.ID, first.ID, second.ID}; !reflect.DeepEqual(ids, want) {
					t.Fatalf("requests %q, want %q", ids, want)
				}
				if len(got) != 3 || got[0].Dropped || got[0].Attempt != 1 || got[1].Err != nil || got[1].Attempt != 2 || got[2].Attempt != 1 {
					t.Errorf("deliveries %+v", got)
				}
				if tot != (DestinationStats{Delivered: 2, Failed: 1}) {
					t.Errorf("stats %+v", tot)
				}
				return
			}
			if want := []string{first.ID, second.ID}; !reflect.DeepEqual(ids, want) {
				t.Fatalf("requests %q, want %q (no retry)", ids, want)
			}
			if len(got) != 2 || !got[0].Dropped || got[0].Attempt != 1 || got[1].Err != nil {
				t.Errorf("deliveries %+v", got)
			}
			if tot != (DestinationStats{Delivered: 1, Failed: 1, Dropped: 1}) {
				t.Errorf("stats %+v", tot)
			}
		})
	}
}

// TestRetrySignsAfresh: each attempt carries its own timestamp and a
// signature over it, and the same body and id.
func TestRetrySignsAfresh(t *testing.T) {
	rcv := newReceiver(func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	srv := serve(t, rcv)
	clk := newClock(t0)
	ds := newDeliveries()
	d := mustNew(t, Config{
		WebhookURL: srv.URL, Secret: testSecret, HTTPClient: httpClient(t), Now: clk.Now,
		RetryInitial: time.Millisecond, RetryMax: time.Millisecond,
		OnDelivery: func(x Delivery) { clk.Set(clk.Now().Add(time.Minute)); ds.add(x) },
	})
	d.Trigger(action(KindRetrain, "fraud", "3"))
	start(t, d)
	ds.waitFor(t, "the delivery", func(ds []Delivery) bool { return len(ds) == 2 })
	reqs := rcv.requests()
	if string(reqs[0].Body) != string(reqs[1].Body) || reqs[0].Header.Get(HeaderDelivery) != reqs[1].Header.Get(HeaderDelivery) {
		t.Error("a retry changed the body or the id")
	}
	if ts0, ts1 := reqs[0].Header.Get(HeaderTimestamp), reqs[1].Header.Get(HeaderTimestamp); ts1 != strconv.FormatInt(t0.Add(time.Minute).Unix(), 10) || ts0 == ts1 {
		t.Errorf("timestamps %s then %s", ts0, ts1)
	}
	for i, r := range reqs {
		if err := Verify(testSecret, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), r.Body, WithClock(clk.Now)); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
	}
}

// TestQueueOverflow: past QueueSize the oldest waiting action is dropped,
// counted and reported; the rest go out in order.
func TestQueueOverflow(t *testing.T) {
	rcv := newReceiver(nil)
	srv := serve(t, rcv)
	ds := newDeliveries()
	d := mustNew(t, Config{WebhookURL: srv.URL, Secret: testSecret, HTTPClient: httpClient(t), QueueSize: 2, OnDelivery: ds.add})
	var as []Action
	for _, v := range []string{"1", "2", "3", "4"} {
		a := action(KindRetrain, "fraud", v)
		as = append(as, a)
		if !d.Trigger(a) {
			t.Fatalf("Trigger %s: suppressed", v)
		}
	}
	got := ds.all()
	if len(got) != 2 || got[0].Action.ID != as[0].ID || got[1].Action.ID != as[1].ID {
		t.Fatalf("drops %+v, want versions 1 and 2", got)
	}
	for _, x := range got {
		if !x.Dropped || !errors.Is(x.Err, ErrQueueFull) || x.Attempt != 0 || x.Destination != srv.URL {
			t.Errorf("drop %+v", x)
		}
	}
	if st := d.Stats(); st.Triggered != 4 || st.Destinations[0] != (DestinationStats{Destination: srv.URL, Dropped: 2, Pending: 2}) {
		t.Errorf("stats %+v", st)
	}
	stop := start(t, d)
	ds.waitFor(t, "the deliveries", func(ds []Delivery) bool { return len(ds) == 4 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rcv.requests() {
		ids = append(ids, r.Header.Get(HeaderDelivery))
	}
	if want := []string{as[2].ID, as[3].ID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("delivered %q, want %q", ids, want)
	}
}

// TestRunStopsWithContext: when ctx ends with an action in flight to a
// webhook that never answers, Run returns within FlushTimeout, reports the
// action dropped, leaves no goroutine behind, and refuses later triggers.
func TestRunStopsWithContext(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, leaks) }) // after the server and the client are closed
	arrived := make(chan struct{}, 8)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server sees the client go
		arrived <- struct{}{}
		<-r.Context().Done() // hangs until the client gives up
	}))
	ds := newDeliveries()
	d := mustNew(t, Config{
		WebhookURL: srv.URL, Secret: testSecret, HTTPClient: httpClient(t),
		Timeout: time.Minute, FlushTimeout: 100 * time.Millisecond, OnDelivery: ds.add,
	})
	d.Trigger(action(KindRetrain, "fraud", "3"))
	d.Trigger(action(KindRetrain, "fraud", "4"))
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx) }()
	<-arrived
	if p := d.Stats().Destinations[0].Pending; p != 2 {
		t.Errorf("pending %d while the first is in flight, want 2", p)
	}
	cancel()
	var err error
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if err == nil || !strings.Contains(err.Error(), "flush actions to "+srv.URL+": 2 not delivered within 100ms") {
		t.Errorf("Run: %v", err)
	}
	got := ds.all()
	if len(got) != 2 || !got[0].Dropped || !errors.Is(got[0].Err, ErrShutdown) || got[0].Attempt != 2 || // cut by the stop, then by the flush timeout
		!got[1].Dropped || !errors.Is(got[1].Err, ErrShutdown) || got[1].Attempt != 0 {
		t.Errorf("deliveries %+v", got)
	}
	if tot := d.Stats().Total(); tot != (DestinationStats{Dropped: 2}) {
		t.Errorf("stats %+v", tot)
	}
	if d.Trigger(action(KindRetrain, "fraud", "5")) || d.Stats().Rejected != 1 {
		t.Error("Trigger after Run returned: accepted")
	}
	if err := d.Run(context.Background()); err == nil {
		t.Error("Run called twice: no error")
	}
}

// TestFlushDelivers: what is queued when ctx ends still goes out if the
// destination answers within FlushTimeout.
func TestFlushDelivers(t *testing.T) {
	rcv := newReceiver(nil)
	srv := serve(t, rcv)
	d := mustNew(t, Config{WebhookURL: srv.URL, Secret: testSecret, HTTPClient: httpClient(t)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d.Trigger(action(KindRetrain, "fraud", "3"))
	d.Trigger(action(KindRollback, "fraud", "3"))
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if tot := d.Stats().Total(); tot != (DestinationStats{Delivered: 2}) {
		t.Errorf("stats %+v", tot)
	}
}
