package alertmanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// posted is one alert as the fake Alertmanager decoded it, times as sent.
type posted struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

func (p posted) endsAt(t testing.TB) time.Time {
	t.Helper()
	return parseTime(t, p.EndsAt)
}

func parseTime(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s) // accepts fractional seconds
	if err != nil {
		t.Fatalf("time %q: not RFC 3339: %v", s, err)
	}
	return at
}

// request is one POST the fake received, with the status it answered.
type request struct {
	Alerts []posted
	Code   int
}

// fakeAM is an Alertmanager API v2 alerts endpoint that records what it is
// posted. While down, its transport refuses connections (in-memory use);
// status, if set, chooses the response code of each request.
type fakeAM struct {
	t       testing.TB
	mu      sync.Mutex
	reqs    []request
	down    bool
	status  func([]posted) int
	changed chan struct{} // signalled after each request
}

func newFakeAM(t testing.TB) *fakeAM {
	return &fakeAM{t: t, changed: make(chan struct{}, 1)}
}

func (f *fakeAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != apiPath {
		f.t.Errorf("fake alertmanager: %s %s, want POST %s", r.Method, r.URL.Path, apiPath)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("fake alertmanager: Content-Type %q", ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var alerts []posted
	if err := dec.Decode(&alerts); err != nil {
		f.t.Errorf("fake alertmanager: decode: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	code := http.StatusOK
	if f.status != nil {
		code = f.status(alerts)
	}
	f.reqs = append(f.reqs, request{alerts, code})
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
	if code != http.StatusOK {
		http.Error(w, fmt.Sprintf("rejected with %d by the fake", code), code)
	}
}

func (f *fakeAM) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *fakeAM) setStatus(status func([]posted) int) {
	f.mu.Lock()
	f.status = status
	f.mu.Unlock()
}

func (f *fakeAM) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// accepted is every alert of the requests answered 200, in order.
func (f *fakeAM) accepted() []posted {
	var out []posted
	for _, r := range f.requests() {
		if r.Code == http.StatusOK {
			out = append(out, r.Alerts...)
		}
	}
	return out
}

// waitUntil waits until cond, checked each time changed is signalled,
// holds, failing the test after 10 s.
func waitUntil(t testing.TB, changed <-chan struct{}, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// memTransport routes each request to the fakeAM of its host, in the
// calling goroutine, so that tests run inside a synctest bubble.
type memTransport map[string]*fakeAM

func (m memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	f := m[r.URL.Host]
	if f == nil {
		return nil, fmt.Errorf("dial %s: no such host", r.URL.Host)
	}
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return nil, fmt.Errorf("dial tcp %s: %w", r.URL.Host, errors.New("connection refused"))
	}
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// realHTTPClient is an HTTP client with a transport of its own, whose idle
// connections are closed when the test ends (for goleak).
func realHTTPClient(t testing.TB) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// startServer serves h over HTTP on addr ("127.0.0.1:0" for any port) until
// the test ends.
func startServer(t testing.TB, h http.Handler, addr string) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// deliveries records OnDelivery calls.
type deliveries struct {
	mu      sync.Mutex
	ds      []Delivery
	changed chan struct{} // signalled after each call
}

func newDeliveries() *deliveries { return &deliveries{changed: make(chan struct{}, 1)} }

func (d *deliveries) add(x Delivery) {
	d.mu.Lock()
	d.ds = append(d.ds, x)
	d.mu.Unlock()
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

func (d *deliveries) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitUntil(t, d.changed, what, cond)
}

func (d *deliveries) all() []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Delivery(nil), d.ds...)
}
