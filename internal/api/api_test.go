package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/driftwatch/driftwatch/alerts"
	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/auth"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// fakeStore answers with one of each and remembers what it was asked.
type fakeStore struct {
	t0       time.Time
	filter   sinks.RowFilter
	since    time.Time
	err      error
	writes   []sinks.APIWrite
	silences []sinks.Silence
	writeErr error // of the audit trail's writes
}

func (f *fakeStore) WriteAPIWrite(_ context.Context, w sinks.APIWrite) error {
	if f.writeErr != nil {
		return f.writeErr
	}
	f.writes = append(f.writes, w)
	return nil
}

func (f *fakeStore) APIWrites(_ context.Context, since time.Time, _ int) ([]sinks.APIWrite, error) {
	f.since = since
	return f.writes, f.err
}

func (f *fakeStore) WriteSilence(_ context.Context, x sinks.Silence) error {
	f.silences = append(f.silences, x)
	return f.err
}

func (f *fakeStore) Rows(_ context.Context, q sinks.RowFilter) ([]drift.Row, error) {
	f.filter = q
	mde := 0.05
	return []drift.Row{{Model: "fraud", ModelVersion: "1.4.2", WindowStart: f.t0, WindowEnd: f.t0.Add(time.Hour), Family: "data", Subject: "amount",
		Metric: "psi", Value: 0.3, Threshold: 0.2, Drifted: true, Severity: "SEV-3", NCurrent: 4000, NReference: 100000,
		BaselineID: "fraud-1", ThresholdSource: "static", MDE: &mde}}, f.err
}

func (f *fakeStore) Verdicts(context.Context, string) ([]sinks.WindowVerdict, error) {
	return []sinks.WindowVerdict{{Model: "fraud", Version: "1.4.2", Start: f.t0, End: f.t0.Add(time.Hour), BaselineID: "fraud-1", Records: 4000, Subjects: 3,
		DriftedSubjects: []string{"amount"}, MaxSeverity: "SEV-3"}, {Model: "fraud", Version: "1.5.0", Start: f.t0, End: f.t0.Add(time.Hour)}}, f.err
}

func (f *fakeStore) alert(state string) sinks.AlertRecord {
	return sinks.AlertRecord{Model: "fraud", Version: "1.4.2", WindowStart: f.t0, WindowEnd: f.t0.Add(time.Hour), Family: "data", Subject: "amount",
		Metric: "psi", State: state, Alertname: "DriftwatchDrift", Severity: "SEV-3", Value: 0.3, Threshold: 0.2, Fingerprint: "abc",
		Receiver: "http://am:9093", SentAt: f.t0.Add(70 * time.Minute), Delivered: true}
}

func (f *fakeStore) LoadFiringAlerts(context.Context) ([]sinks.AlertRecord, error) {
	return []sinks.AlertRecord{f.alert("firing")}, f.err
}

func (f *fakeStore) AlertHistory(_ context.Context, _ string, since time.Time, _ int) ([]sinks.AlertRecord, error) {
	f.since = since
	return []sinks.AlertRecord{f.alert("resolved"), f.alert("firing")}, f.err
}

// writeBaseline builds and saves a small baseline of model created at t.
func writeBaseline(t *testing.T, dir, model string, created time.Time) *baselines.Baseline {
	t.Helper()
	b := baselines.NewBuilder(model, baselines.BuildOptions{Now: func() time.Time { return created }})
	for i := range 200 {
		b.AddNumber("x", float64(i))
		b.AddPredictionNumber(float64(i%10) / 10)
		b.EndRow()
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := bl.Save(filepath.Join(dir, bl.ID+".json")); err != nil {
		t.Fatal(err)
	}
	return bl
}

// conformance checks each response of a running server against
// openapi.yaml, and which operations were exercised.
type conformance struct {
	t      *testing.T
	srv    *httptest.Server
	router routers.Router
	seen   map[string]bool // "METHOD path-template"
}

// The report's answer is an HTML page: checked as a string.
func init() { openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.FileBodyDecoder) }

func newConformance(t *testing.T, h http.Handler) *conformance {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	doc.Servers = openapi3.Servers{{URL: srv.URL + "/api/v1"}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &conformance{t: t, srv: srv, router: router, seen: map[string]bool{}}
}

// call makes a request with token and checks the answer's status is want
// and that openapi.yaml documents it, body and all.
func (c *conformance) call(method, path, token string, want int) []byte {
	c.t.Helper()
	return c.callBody(method, path, token, "", want)
}

// callBody is call with a JSON body; a body of a call that should succeed
// is checked against the document too.
func (c *conformance) callBody(method, path, token, body string, want int) []byte {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+"/api/v1"+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		c.t.Errorf("%s %s: %d %s, want %d", method, path, resp.StatusCode, got, want)
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Errorf("%s %s: not in openapi.yaml: %v", method, path, err)
		return got
	}
	c.seen[method+" "+route.Path] = true
	reqIn := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if body != "" && want < 400 {
		req.Body = io.NopCloser(strings.NewReader(body))
		if err := openapi3filter.ValidateRequest(context.Background(), reqIn); err != nil {
			c.t.Errorf("%s %s: the request is not what openapi.yaml says: %v", method, path, err)
		}
	}
	body = string(got)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqIn,
		Status:                 resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(got)),
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		c.t.Errorf("%s %s -> %d: the answer is not what openapi.yaml says: %v\n%s", method, path, resp.StatusCode, err, body)
	}
	return got
}

// TestAPIConformsToOpenAPI exercises every operation of openapi.yaml on a
// running server with tokens, and checks every answer (status, content
// type, body) against the document: reads with a viewer token, the
// promotion refused to a viewer and made by an operator (recorded with who
// made it, and the baselines list then marks it in use), 401 without a
// token, 404 for an unknown baseline.
func TestAPIConformsToOpenAPI(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	old := writeBaseline(t, dir, "fraud", t0)
	newer := writeBaseline(t, dir, "fraud", t0.Add(24*time.Hour))
	writeBaseline(t, dir, "churn", t0)
	env := map[string]string{"V": "viewer-token-1", "O": "operator-token-1"}
	g, err := auth.New(auth.Config{Tokens: []auth.TokenSource{{Name: "grafana", Role: "viewer", Env: "V"}, {Name: "ci", Role: "operator", Env: "O"}}},
		func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	models := &Models{}
	models.Observe("fraud", "1.4.2", t0.Add(48*time.Hour))
	models.Observe("fraud", "1.4.2", t0.Add(47*time.Hour))
	models.Observe("fraud", "1.5.0", t0.Add(49*time.Hour))
	store := &fakeStore{t0: t0}
	silences := &alerts.Silences{}
	release := make(chan struct{}) // holds the first build until the second was refused
	var builtReq BuildRequest
	s := &Server{Guard: g, Baselines: dir, Models: models, Store: store, Silences: silences,
		Now:      func() time.Time { return t0.Add(50 * time.Hour) },
		BuildCtx: t.Context(),
		Build: func(_ context.Context, req BuildRequest, read *atomic.Int64) (*baselines.Baseline, error) {
			<-release
			builtReq = req
			read.Add(1234)
			if req.Model == "nothing" {
				return nil, errors.New("no records of model nothing")
			}
			return writeBaseline(t, dir, req.Model, t0.Add(72*time.Hour)), nil
		}}
	c := newConformance(t, s.Handler())

	c.call("GET", "/models", "", http.StatusUnauthorized)
	var ms []struct {
		Model    string `json:"model"`
		Versions []struct {
			Version string    `json:"version"`
			First   time.Time `json:"first_window"`
			Windows int       `json:"windows"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(c.call("GET", "/models", "viewer-token-1", http.StatusOK), &ms); err != nil || len(ms) != 1 ||
		len(ms[0].Versions) != 2 || ms[0].Versions[0].Windows != 2 || !ms[0].Versions[0].First.Equal(t0.Add(47*time.Hour)) {
		t.Errorf("models %+v (%v)", ms, err)
	}
	inUse := func() map[string]bool {
		var bs []baselineInfo
		if err := json.Unmarshal(c.call("GET", "/baselines", "viewer-token-1", http.StatusOK), &bs); err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, b := range bs {
			out[b.ID] = b.InUse
		}
		return out
	}
	if u := inUse(); len(u) != 3 || !u[newer.ID] || u[old.ID] {
		t.Errorf("in use before the promotion: %v, want the newer fraud baseline", u)
	}
	if body := c.call("GET", "/baselines/"+old.ID, "viewer-token-1", http.StatusOK); !strings.Contains(string(body), `"id": "`+old.ID+`"`) &&
		!strings.Contains(string(body), `"id":"`+old.ID+`"`) {
		t.Errorf("GET baseline: %.200s", body)
	}
	c.call("GET", "/baselines/no-such-baseline", "viewer-token-1", http.StatusNotFound)
	c.call("POST", "/baselines/"+old.ID+"/promote", "viewer-token-1", http.StatusForbidden)
	c.call("POST", "/baselines/no-such-baseline/promote", "operator-token-1", http.StatusNotFound)
	// A write the audit trail cannot record is not made.
	store.writeErr = errors.New("clickhouse: connection refused")
	c.call("POST", "/baselines/"+old.ID+"/promote", "operator-token-1", http.StatusBadGateway)
	if u := inUse(); u[old.ID] {
		t.Error("promoted though the audit trail could not record it")
	}
	store.writeErr = nil
	c.call("POST", "/baselines/"+old.ID+"/promote", "operator-token-1", http.StatusOK)
	if u := inUse(); !u[old.ID] || u[newer.ID] {
		t.Errorf("in use after promoting the older: %v", u)
	}
	if w := store.writes; len(w) != 1 || w[0].Who != "ci" || w[0].Role != "operator" || w[0].Action != "promote_baseline" || w[0].Target != old.ID ||
		!w[0].At.Equal(t0.Add(50*time.Hour)) {
		t.Errorf("recorded writes %+v, want the one promotion by ci", w)
	}

	// Baseline builds from a production period: one at a time, followed
	// at their Location, recorded.
	c.callBody("POST", "/baselines", "viewer-token-1", `{"model": "fraud", "from": "2026-11-01T00:00:00Z", "until": "2026-11-02T00:00:00Z"}`, http.StatusForbidden)
	c.callBody("POST", "/baselines", "operator-token-1", `{"model": "fraud", "from": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}`, http.StatusBadRequest)
	c.callBody("POST", "/baselines", "operator-token-1", `{"model": "fraud", "from": "2026-10-01T00:00:00Z", "until": "2026-12-01T00:00:00Z"}`, http.StatusBadRequest)
	var started struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	body := `{"model": "fraud", "model_version": "1.4.2", "from": "2026-11-01T00:00:00Z", "until": "2026-11-02T00:00:00Z", "promote": true}`
	if err := json.Unmarshal(c.callBody("POST", "/baselines", "operator-token-1", body, http.StatusAccepted), &started); err != nil || started.State != "running" {
		t.Fatalf("build started %+v (%v)", started, err)
	}
	c.callBody("POST", "/baselines", "operator-token-1", body, http.StatusConflict)
	close(release)
	s.Wait()
	var built struct {
		State       string `json:"state"`
		BaselineID  string `json:"baseline_id"`
		RecordsRead int64  `json:"records_read"`
	}
	if err := json.Unmarshal(c.call("GET", "/baselines/builds/"+started.ID, "viewer-token-1", http.StatusOK), &built); err != nil ||
		built.State != "done" || built.BaselineID == "" || built.RecordsRead != 1234 {
		t.Errorf("build %+v (%v)", built, err)
	}
	if builtReq.ModelVersion != "1.4.2" || !builtReq.Until.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("built %+v", builtReq)
	}
	if u := inUse(); !u[built.BaselineID] {
		t.Errorf("the build asked to promote, and %s is not in use: %v", built.BaselineID, u)
	}
	c.callBody("POST", "/baselines", "operator-token-1", `{"model": "nothing", "from": "2026-11-01T00:00:00Z", "until": "2026-11-02T00:00:00Z"}`, http.StatusAccepted)
	s.Wait()
	var builds []struct{ State, Error string }
	if err := json.Unmarshal(c.call("GET", "/baselines/builds", "viewer-token-1", http.StatusOK), &builds); err != nil || len(builds) != 2 ||
		builds[0].State != "failed" || !strings.Contains(builds[0].Error, "no records") {
		t.Errorf("builds %+v (%v)", builds, err)
	}
	c.call("GET", "/baselines/builds/build-none", "viewer-token-1", http.StatusNotFound)
	if w := store.writes; len(w) != 3 || w[1].Action != "build_baseline" || w[1].Target != started.ID {
		t.Errorf("recorded writes %+v, want the build after the promotion", w)
	}

	// Silences: made and expired by an operator, recorded, kept in the
	// store and the alert manager's set; listed to a viewer.
	c.callBody("POST", "/silences", "viewer-token-1", `{"matchers": {"model": "fraud"}, "duration": "2h"}`, http.StatusForbidden)
	c.callBody("POST", "/silences", "operator-token-1", `{"matchers": {}, "duration": "2h"}`, http.StatusBadRequest)
	c.callBody("POST", "/silences", "operator-token-1", `{"matchers": {"model": "fraud"}}`, http.StatusBadRequest)
	c.callBody("POST", "/silences", "operator-token-1", `{"matchers": {"model": "fraud"}, "duration": "2h", "until": "x"}`, http.StatusBadRequest)
	var made sinks.Silence
	if err := json.Unmarshal(c.callBody("POST", "/silences", "operator-token-1", `{"matchers": {"model": "fraud", "subject": "amount"}, "duration": "2h", "comment": "retraining"}`, http.StatusCreated), &made); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(50 * time.Hour)
	if made.CreatedBy != "ci" || !made.EndsAt.Equal(now.Add(2*time.Hour)) || len(store.silences) != 1 {
		t.Errorf("silence made %+v, stored %d", made, len(store.silences))
	}
	if _, ok := silences.Match(map[string]string{"model": "fraud", "subject": "amount", "alertname": "DriftwatchDrift"}, now.Add(time.Hour)); !ok {
		t.Error("the alert manager's silences do not have it")
	}
	var listed []sinks.Silence
	if err := json.Unmarshal(c.call("GET", "/silences", "viewer-token-1", http.StatusOK), &listed); err != nil || len(listed) != 1 || listed[0].ID != made.ID {
		t.Errorf("silences listed %+v (%v)", listed, err)
	}
	c.call("DELETE", "/silences/"+made.ID, "viewer-token-1", http.StatusForbidden)
	c.call("DELETE", "/silences/"+made.ID, "operator-token-1", http.StatusOK)
	c.call("DELETE", "/silences/"+made.ID, "operator-token-1", http.StatusNotFound) // already ended
	if _, ok := silences.Match(map[string]string{"model": "fraud", "subject": "amount"}, now); ok {
		t.Error("matches after its expiry")
	}
	var trail []map[string]any
	if err := json.Unmarshal(c.call("GET", "/audit/writes?limit=10", "viewer-token-1", http.StatusOK), &trail); err != nil || len(trail) != 5 ||
		trail[3]["action"] != "create_silence" || trail[4]["action"] != "expire_silence" || trail[4]["target"] != made.ID {
		t.Errorf("the API's audit trail %v (%v)", trail, err)
	}
	// Rows, verdicts, alerts and the audit trail, from the store.
	var rows []map[string]any
	if err := json.Unmarshal(c.call("GET", "/rows?model=fraud&model_version=1.4.2&family=data&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&limit=5", "viewer-token-1", http.StatusOK), &rows); err != nil || len(rows) != 1 || rows[0]["p_value"] != nil {
		t.Errorf("rows %v (%v)", rows, err)
	}
	if f := store.filter; f.Model != "fraud" || f.Version != "1.4.2" || f.Family != "data" || !f.From.Equal(t0) || !f.To.Equal(t0.Add(24*time.Hour)) || f.Limit != 5 {
		t.Errorf("the store was asked %+v", f)
	}
	c.call("GET", "/rows", "viewer-token-1", http.StatusBadRequest) // no model
	c.call("GET", "/rows?model=fraud&from=yesterday", "viewer-token-1", http.StatusBadRequest)
	c.call("GET", "/rows?model=fraud&limit=0", "viewer-token-1", http.StatusBadRequest)
	c.call("GET", "/rows?model=fraud&limit=50000", "viewer-token-1", http.StatusOK)
	if f := store.filter; f.Limit != 10_000 {
		t.Errorf("a limit of 50,000 asked the store for %d rows, want the API's most, 10,000", f.Limit)
	}
	c.call("GET", "/verdicts/fraud", "viewer-token-1", http.StatusOK)
	c.call("GET", "/alerts", "viewer-token-1", http.StatusOK)
	c.call("GET", "/audit?model=fraud&limit=10", "viewer-token-1", http.StatusOK)
	if !store.since.Equal(t0.Add(50*time.Hour - 7*24*time.Hour)) {
		t.Errorf("the audit trail was read since %v, want 7 days before now", store.since)
	}
	c.call("GET", "/audit?since=soon", "viewer-token-1", http.StatusBadRequest)
	// The report: the query reaches Server.Report with the week before
	// now by default; nothing of the model is 404.
	var asked ReportQuery
	s.Report = func(ctx context.Context, st Store, w io.Writer, q ReportQuery) error {
		asked = q
		if q.Model != "fraud" {
			return fmt.Errorf("report: %w: no metric rows of model %q", ErrNoData, q.Model)
		}
		rows, err := st.Rows(ctx, sinks.RowFilter{Model: q.Model})
		fmt.Fprintf(w, "<!DOCTYPE html><title>%s</title><p>%d rows</p>", q.Model, len(rows))
		return err
	}
	if page := string(c.call("GET", "/report?model=fraud", "viewer-token-1", http.StatusOK)); !strings.Contains(page, "<p>1 rows</p>") {
		t.Errorf("report page %q", page)
	}
	if now := t0.Add(50 * time.Hour); asked.Model != "fraud" || !asked.To.Equal(now) || !asked.From.Equal(now.AddDate(0, 0, -7)) || asked.Card {
		t.Errorf("the report was asked %+v, want fraud over the 7 days before %v", asked, now)
	}
	c.call("GET", "/report?model=fraud&model_version=1.4.2&from=2026-11-01&to=2026-11-02T12:00:00Z&card=true", "viewer-token-1", http.StatusOK)
	if asked.Version != "1.4.2" || !asked.From.Equal(t0) || !asked.To.Equal(t0.Add(36*time.Hour)) || !asked.Card {
		t.Errorf("the report was asked %+v", asked)
	}
	c.call("GET", "/report?model=churn", "viewer-token-1", http.StatusNotFound)
	c.call("GET", "/report", "viewer-token-1", http.StatusBadRequest)
	c.call("GET", "/report?model=fraud&card=maybe", "viewer-token-1", http.StatusBadRequest)
	c.call("GET", "/report?model=fraud&from=2026-11-02&to=2026-11-01", "viewer-token-1", http.StatusBadRequest)
	store.err = errors.New("clickhouse: connection refused")
	c.call("GET", "/report?model=fraud", "viewer-token-1", http.StatusBadGateway)
	c.call("GET", "/verdicts/fraud", "viewer-token-1", http.StatusBadGateway)
	store.err = nil
	// Without a ClickHouse sink those answer 503.
	nc := newConformance(t, (&Server{Baselines: dir}).Handler())
	for _, path := range []string{"/rows?model=fraud", "/verdicts/fraud", "/alerts", "/audit", "/audit/writes", "/silences", "/report?model=fraud"} {
		nc.call("GET", path, "", http.StatusServiceUnavailable)
	}
	// While the store that records writes is not open yet, writes wait.
	sc := newConformance(t, (&Server{Guard: g, Baselines: dir, StoreComing: true, Silences: &alerts.Silences{}}).Handler())
	sc.call("POST", "/baselines/"+newer.ID+"/promote", "operator-token-1", http.StatusServiceUnavailable)
	sc.callBody("POST", "/silences", "operator-token-1", `{"matchers": {"model": "fraud"}, "duration": "1h"}`, http.StatusServiceUnavailable)
	// Every operation of the document was exercised.
	doc, _ := openapi3.NewLoader().LoadFromData(OpenAPI)
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !c.seen[method+" "+path] {
				t.Errorf("%s %s of openapi.yaml is not exercised", method, path)
			}
		}
	}
}

// TestAPIWithoutTokens: without tokens reads are open and writes refused;
// a path the API does not have is a JSON 404.
func TestAPIWithoutTokens(t *testing.T) {
	dir := t.TempDir()
	b := writeBaseline(t, dir, "fraud", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	srv := httptest.NewServer((&Server{Baselines: dir}).Handler())
	defer srv.Close()
	status := func(resp *http.Response, err error) int {
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := status(http.Get(srv.URL + "/api/v1/baselines")); code != http.StatusOK {
		t.Errorf("read without tokens: %d, want 200", code)
	}
	if code := status(http.Post(srv.URL+"/api/v1/baselines/"+b.ID+"/promote", "", nil)); code != http.StatusForbidden {
		t.Errorf("write without tokens: %d, want 403", code)
	}
	resp, err := http.Get(srv.URL + "/api/v1/nothing")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e map[string]string
	if resp.StatusCode != http.StatusNotFound || json.NewDecoder(resp.Body).Decode(&e) != nil || e["error"] == "" {
		t.Errorf("unknown endpoint: %d %v", resp.StatusCode, e)
	}
}
