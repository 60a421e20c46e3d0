package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// Store is where the API reads what driftwatch wrote (sinks/clickhouse).
type Store interface {
	Rows(ctx context.Context, f sinks.RowFilter) ([]drift.Row, error)
	Verdicts(ctx context.Context, model string) ([]sinks.WindowVerdict, error)
	LoadFiringAlerts(ctx context.Context) ([]sinks.AlertRecord, error)
	AlertHistory(ctx context.Context, model string, since time.Time, limit int) ([]sinks.AlertRecord, error)
}

// SetStore sets the store once it is open (run opens ClickHouse after the
// server starts); safe while the server runs.
func (s *Server) SetStore(st Store) { s.late.Store(storeBox{st}) }

type storeBox struct{ Store }

// store is the store set by SetStore, else Store.
func (s *Server) store() Store {
	if b, ok := s.late.Load().(storeBox); ok && b.Store != nil {
		return b.Store
	}
	return s.Store
}

// maxRows is the most rows GET /rows returns (openapi.yaml: "at most
// 10,000"), whatever its limit: the store honours larger limits for
// readers that need them (reports).
const maxRows = 10_000

var errNoStore = errors.New("no ClickHouse sink: rows, verdicts and alerts are read from it (sinks.clickhouse.enabled)")

// queryTime parses an RFC 3339 query parameter; "" is the zero time.
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %q is not an RFC 3339 time", name, v)
	}
	return t, nil
}

func queryLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("limit: %q is not a positive integer", v)
	}
	return n, nil
}

func (s *Server) rows(w http.ResponseWriter, r *http.Request) {
	st := s.store()
	if st == nil {
		fail(w, http.StatusServiceUnavailable, errNoStore)
		return
	}
	q := r.URL.Query()
	f := sinks.RowFilter{Model: q.Get("model"), Version: q.Get("model_version"), Family: q.Get("family"), Subject: q.Get("subject")}
	var err error
	if f.From, err = queryTime(r, "from"); err == nil {
		if f.To, err = queryTime(r, "to"); err == nil {
			f.Limit, err = queryLimit(r)
			f.Limit = min(f.Limit, maxRows)
		}
	}
	if err == nil && f.Model == "" {
		err = errors.New("model is required")
	}
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	rows, err := st.Rows(r.Context(), f)
	if err != nil {
		fail(w, http.StatusBadGateway, err)
		return
	}
	if rows == nil {
		rows = []drift.Row{}
	}
	reply(w, rows)
}

// verdict is Verdict of openapi.yaml.
type verdict struct {
	ModelVersion    string    `json:"model_version"`
	WindowStart     time.Time `json:"window_start"`
	WindowEnd       time.Time `json:"window_end"`
	BaselineID      string    `json:"baseline_id"`
	Records         int64     `json:"records"`
	Subjects        int64     `json:"subjects"`
	DriftedSubjects []string  `json:"drifted_subjects"`
	MaxSeverity     string    `json:"max_severity"`
}

func (s *Server) verdicts(w http.ResponseWriter, r *http.Request) {
	st := s.store()
	if st == nil {
		fail(w, http.StatusServiceUnavailable, errNoStore)
		return
	}
	vs, err := st.Verdicts(r.Context(), r.PathValue("model"))
	if err != nil {
		fail(w, http.StatusBadGateway, err)
		return
	}
	out := make([]verdict, 0, len(vs))
	for _, v := range vs {
		d := v.DriftedSubjects
		if d == nil {
			d = []string{}
		}
		out = append(out, verdict{ModelVersion: v.Version, WindowStart: v.Start, WindowEnd: v.End, BaselineID: v.BaselineID,
			Records: v.Records, Subjects: v.Subjects, DriftedSubjects: d, MaxSeverity: v.MaxSeverity})
	}
	reply(w, out)
}

// alert is Alert of openapi.yaml: one record of the audit trail.
type alert struct {
	Alertname    string    `json:"alertname"`
	Severity     string    `json:"severity"`
	State        string    `json:"state"`
	Model        string    `json:"model"`
	ModelVersion string    `json:"model_version"`
	Family       string    `json:"family"`
	Subject      string    `json:"subject"`
	Metric       string    `json:"metric"`
	Value        float64   `json:"value"`
	Threshold    float64   `json:"threshold"`
	WindowStart  time.Time `json:"window_start"`
	WindowEnd    time.Time `json:"window_end"`
	Fingerprint  string    `json:"fingerprint"`
	Receiver     string    `json:"receiver"`
	SentAt       time.Time `json:"sent_at"`
	Delivered    bool      `json:"delivered"`
	Error        string    `json:"error,omitempty"`
}

func alertsOf(recs []sinks.AlertRecord) []alert {
	out := make([]alert, 0, len(recs))
	for _, r := range recs {
		out = append(out, alert{Alertname: r.Alertname, Severity: r.Severity, State: r.State, Model: r.Model, ModelVersion: r.Version,
			Family: r.Family, Subject: r.Subject, Metric: r.Metric, Value: r.Value, Threshold: r.Threshold, WindowStart: r.WindowStart,
			WindowEnd: r.WindowEnd, Fingerprint: r.Fingerprint, Receiver: r.Receiver, SentAt: r.SentAt, Delivered: r.Delivered, Error: r.Error})
	}
	return out
}

func (s *Server) firing(w http.ResponseWriter, r *http.Request) {
	st := s.store()
	if st == nil {
		fail(w, http.StatusServiceUnavailable, errNoStore)
		return
	}
	recs, err := st.LoadFiringAlerts(r.Context())
	if err != nil {
		fail(w, http.StatusBadGateway, err)
		return
	}
	reply(w, alertsOf(recs))
}

// sinceAndLimit reads an audit trail's query: since (default 7 days ago)
// and limit.
func (s *Server) sinceAndLimit(r *http.Request) (time.Time, int, error) {
	since, err := queryTime(r, "since")
	if err != nil {
		return since, 0, err
	}
	limit, err := queryLimit(r)
	if since.IsZero() {
		since = s.now().Add(-7 * 24 * time.Hour)
	}
	return since, limit, err
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	st := s.store()
	if st == nil {
		fail(w, http.StatusServiceUnavailable, errNoStore)
		return
	}
	since, limit, err := s.sinceAndLimit(r)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	recs, err := st.AlertHistory(r.Context(), r.URL.Query().Get("model"), since, limit)
	if err != nil {
		fail(w, http.StatusBadGateway, err)
		return
	}
	reply(w, alertsOf(recs))
}
