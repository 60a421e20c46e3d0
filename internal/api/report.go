package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// ReportQuery is what GET /api/v1/report asks for: a model (and
// optionally one version) over [From, To), the whole report or the model
// card alone.
type ReportQuery struct {
	Model, Version string
	From, To       time.Time
	Card           bool
}

// ErrNoData is what Server.Report returns (wrapped) when the period holds
// nothing of the model: the API answers 404.
var ErrNoData = errors.New("no data")

// reportDays is the period of a report by default: the week before now.
const reportDays = 7

// report answers GET /api/v1/report with the HTML page Server.Report
// writes. The page is made whole before the first byte is sent, so an
// error mid-way is an error status, not half a page.
func (s *Server) report(w http.ResponseWriter, r *http.Request) {
	st := s.store()
	if st == nil || s.Report == nil {
		fail(w, http.StatusServiceUnavailable, errNoStore)
		return
	}
	q := ReportQuery{Model: r.URL.Query().Get("model"), Version: r.URL.Query().Get("model_version")}
	if q.Model == "" {
		fail(w, http.StatusBadRequest, errors.New("model: required"))
		return
	}
	var err error
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if *p.t, err = dayOrTime(r, p.name); err != nil {
			fail(w, http.StatusBadRequest, err)
			return
		}
	}
	if v := r.URL.Query().Get("card"); v != "" {
		if q.Card, err = strconv.ParseBool(v); err != nil {
			fail(w, http.StatusBadRequest, fmt.Errorf("card: %q is not true or false", v))
			return
		}
	}
	if q.To.IsZero() {
		q.To = s.now().UTC().Truncate(time.Hour)
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(0, 0, -reportDays)
	}
	if !q.From.Before(q.To) {
		fail(w, http.StatusBadRequest, fmt.Errorf("from %s is not before to %s", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339)))
		return
	}
	var page bytes.Buffer
	if err := s.Report(r.Context(), st, &page, q); err != nil {
		status := http.StatusBadGateway
		if errors.Is(err, ErrNoData) {
			status = http.StatusNotFound
		}
		fail(w, status, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.Copy(w, &page)
}

// dayOrTime parses a query parameter that is an RFC 3339 time or a date
// (midnight UTC); "" is the zero time.
func dayOrTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return queryTime(r, name)
}
