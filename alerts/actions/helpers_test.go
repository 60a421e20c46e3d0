package actions

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/stats/drift"
)

var (
	testSecret = []byte("0123456789abcdef0123456789abcdef")
	t0         = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
)

// action is a retrain or rollback of fraud at version with two evidence
// rows, for the window starting at t0.
func action(kind, model, version string) Action {
	pv := 0.003
	mde := 0.04
	cet := time.FixedZone("CET", 3600)
	rows := []drift.Row{
		{
			Model: model, ModelVersion: version, WindowStart: t0.In(cet), WindowEnd: t0.Add(time.Hour).In(cet),
			Family: "data", Subject: "amount", Metric: "psi", Value: 0.31, Threshold: 0.2, Drifted: true,
			Severity: "SEV-2", NCurrent: 5000, NReference: 20000, BaselineID: "bl-7", ThresholdSource: drift.SourceStatic, MDE: &mde,
		},
		{
			Model: model, ModelVersion: version, WindowStart: t0, WindowEnd: t0.Add(time.Hour),
			Family: "data", Subject: "amount", Metric: "ks", Value: 0.12, PValue: &pv, Threshold: 0.05, Drifted: true,
			Severity: "SEV-2", NCurrent: 5000, NReference: 20000, BaselineID: "bl-7", ThresholdSource: drift.SourceStatic,
		},
	}
	return Action{
		ID: MakeID(kind, model, version, t0), Kind: kind, Model: model, ModelVersion: version,
		Reason: "FeatureDrift", Severity: "SEV-2", WindowStart: t0, WindowEnd: t0.Add(time.Hour), Evidence: rows,
	}
}

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(at time.Time) *clock { return &clock{now: at} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(at time.Time) {
	c.mu.Lock()
	c.now = at
	c.mu.Unlock()
}

// received is one request a receiver got.
type received struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	Code         int // answered
}

// receiver is a webhook endpoint that records its requests; status, if
// set, chooses the answer to the n-th request (from 1): an HTTP status, or
// 0 to close the connection without answering.
type receiver struct {
	mu      sync.Mutex
	reqs    []received
	status  func(n int) int
	changed chan struct{} // signalled after each request
}

func newReceiver(status func(n int) int) *receiver {
	return &receiver{status: status, changed: make(chan struct{}, 1)}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	r.mu.Lock()
	code := http.StatusNoContent
	if r.status != nil {
		code = r.status(len(r.reqs) + 1)
	}
	r.reqs = append(r.reqs, received{req.Method, req.URL.Path, req.Header.Clone(), body, code})
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	switch {
	case code == 0:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	case code/100 == 3:
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(code)
	case code/100 != 2:
		http.Error(w, "refused by the test receiver", code)
	default:
		w.WriteHeader(code)
	}
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

// serve starts an HTTP server for h on loopback until the test ends.
func serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// httpClient is an HTTP client with a transport of its own, whose idle
// connections are closed when the test ends (for goleak).
func httpClient(t testing.TB) *http.Client {
	tr := &http.Transport{DialContext: (&net.Dialer{}).DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
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

func (d *deliveries) all() []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Delivery(nil), d.ds...)
}

// waitFor waits until cond, checked after each delivery, holds.
func (d *deliveries) waitFor(t testing.TB, what string, cond func([]Delivery) bool) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !cond(d.all()) {
		select {
		case <-d.changed:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; deliveries: %+v", what, d.all())
		}
	}
}

func mustNew(t testing.TB, cfg Config) *Dispatcher {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// start runs d until the returned stop is called, or the test ends; stop
// returns Run's error.
func start(t testing.TB, d *Dispatcher) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx) }()
	var (
		once sync.Once
		err  error
	)
	stop = func() error {
		once.Do(func() { cancel(); err = <-errc })
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}
