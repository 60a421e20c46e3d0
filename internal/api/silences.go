package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/driftwatch/driftwatch/alerts"
	"github.com/driftwatch/driftwatch/internal/auth"
	"github.com/driftwatch/driftwatch/sinks"
)

// silenceStore keeps silences for every instance and restart (sinks/
// clickhouse's silences), when the store does.
type silenceStore interface {
	WriteSilence(ctx context.Context, x sinks.Silence) error
}

var errNoSilences = errors.New("silences are kept by run's alert manager, and this server has none")

func (s *Server) listSilences(w http.ResponseWriter, _ *http.Request) {
	if s.Silences == nil {
		fail(w, http.StatusServiceUnavailable, errNoSilences)
		return
	}
	out := s.Silences.Active(s.now())
	if out == nil {
		out = []sinks.Silence{}
	}
	reply(w, out)
}

// silenceRequest is SilenceRequest of openapi.yaml.
type silenceRequest struct {
	Matchers map[string]string `json:"matchers"`
	StartsAt time.Time         `json:"starts_at"`
	EndsAt   time.Time         `json:"ends_at"`
	Duration string            `json:"duration"`
	Comment  string            `json:"comment"`
}

func (s *Server) createSilence(w http.ResponseWriter, r *http.Request) {
	if s.Silences == nil {
		fail(w, http.StatusServiceUnavailable, errNoSilences)
		return
	}
	var req silenceRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("silence: the body is not a SilenceRequest (see /api/v1/openapi.yaml): %w", err))
		return
	}
	now := s.now()
	switch {
	case req.Duration != "" && !req.EndsAt.IsZero():
		fail(w, http.StatusBadRequest, errors.New("silence: give ends_at or duration, not both"))
		return
	case req.Duration != "":
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			fail(w, http.StatusBadRequest, fmt.Errorf("silence: duration %q is not a positive duration such as 2h", req.Duration))
			return
		}
		start := req.StartsAt
		if start.IsZero() {
			start = now
		}
		req.EndsAt = start.Add(d)
	case req.EndsAt.IsZero():
		fail(w, http.StatusBadRequest, errors.New("silence: ends_at or duration is required"))
		return
	}
	who := ""
	if c, ok := auth.CallerOf(r.Context()); ok {
		who = c.Name
	}
	x, err := alerts.NewSilence(req.Matchers, req.StartsAt, req.EndsAt, who, req.Comment, now)
	if err != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("silence: %w", err))
		return
	}
	if !s.keepSilence(w, r, "create_silence", x) {
		return
	}
	w.Header().Set("Location", "/api/v1/silences/"+x.ID)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(x)
}

func (s *Server) expireSilence(w http.ResponseWriter, r *http.Request) {
	if s.Silences == nil {
		fail(w, http.StatusServiceUnavailable, errNoSilences)
		return
	}
	now := s.now().UTC()
	x, ok := s.Silences.Get(r.PathValue("id"))
	if !ok || !x.EndsAt.After(now) {
		fail(w, http.StatusNotFound, fmt.Errorf("no active silence %q", r.PathValue("id")))
		return
	}
	x.EndsAt, x.UpdatedAt = now, now
	if x.StartsAt.After(now) {
		x.StartsAt = now
	}
	if s.keepSilence(w, r, "expire_silence", x) {
		reply(w, x)
	}
}

// keepSilence records the write, stores x where every instance reads it,
// and makes it the alert manager's; on failure it answers and reports
// false.
func (s *Server) keepSilence(w http.ResponseWriter, r *http.Request, action string, x sinks.Silence) bool {
	if err := s.record(r, action, x.ID, x); err != nil {
		failRecord(w, err)
		return false
	}
	if st, ok := s.store().(silenceStore); ok {
		if err := st.WriteSilence(r.Context(), x); err != nil {
			fail(w, http.StatusBadGateway, fmt.Errorf("silence %s not kept: %w", x.ID, err))
			return false
		}
	}
	s.Silences.Put(x)
	return true
}

// apiWrite is APIWrite of openapi.yaml.
type apiWrite struct {
	At     time.Time       `json:"at"`
	Who    string          `json:"who"`
	Role   string          `json:"role"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

func (s *Server) writes(w http.ResponseWriter, r *http.Request) {
	wl, ok := s.store().(writeLog)
	if !ok {
		fail(w, http.StatusServiceUnavailable, errNoStore)
		return
	}
	since, limit, err := s.sinceAndLimit(r)
	if err != nil {
		fail(w, http.StatusBadRequest, err)
		return
	}
	ws, err := wl.APIWrites(r.Context(), since, limit)
	if err != nil {
		fail(w, http.StatusBadGateway, err)
		return
	}
	out := make([]apiWrite, 0, len(ws))
	for _, x := range ws {
		a := apiWrite{At: x.At, Who: x.Who, Role: x.Role, Action: x.Action, Target: x.Target}
		if x.Detail != "" && json.Valid([]byte(x.Detail)) {
			a.Detail = json.RawMessage(x.Detail)
		}
		out = append(out, a)
	}
	reply(w, out)
}
