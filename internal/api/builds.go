package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
)

// BuildRequest is BuildRequest of openapi.yaml: a baseline from the
// production records of a period.
type BuildRequest struct {
	Model         string    `json:"model"`
	ModelVersion  string    `json:"model_version,omitempty"`
	From          time.Time `json:"from"`
	Until         time.Time `json:"until"`
	Bins          int       `json:"bins,omitempty"`
	MaxCategories int       `json:"max_categories,omitempty"`
	SampleSize    int       `json:"sample_size,omitempty"`
	Promote       bool      `json:"promote,omitempty"`
}

// MaxBuildPeriod bounds a build's period: a month of a busy topic is
// already hours of reading.
const MaxBuildPeriod = 31 * 24 * time.Hour

// maxBuilds is how many builds the server remembers.
const maxBuilds = 20

func (q *BuildRequest) validate() error {
	switch {
	case q.Model == "":
		return errors.New("model is required")
	case q.From.IsZero() || q.Until.IsZero():
		return errors.New("from and until are required (RFC 3339)")
	case !q.Until.After(q.From):
		return errors.New("until must be after from")
	case q.Until.Sub(q.From) > MaxBuildPeriod:
		return fmt.Errorf("a period of at most %s, this one is %s", MaxBuildPeriod, q.Until.Sub(q.From))
	case q.Bins < 0 || q.MaxCategories < 0 || q.SampleSize < -1:
		return errors.New("bins and max_categories must not be negative, sample_size at least -1 (none)")
	}
	return nil
}

// buildView is Build of openapi.yaml: one baseline build and how far it
// got.
type buildView struct {
	ID          string       `json:"id"`
	Request     BuildRequest `json:"request"`
	State       string       `json:"state"` // running, done, failed
	StartedAt   time.Time    `json:"started_at"`
	FinishedAt  *time.Time   `json:"finished_at,omitempty"`
	RecordsRead int64        `json:"records_read"`
	BaselineID  string       `json:"baseline_id,omitempty"`
	Rows        int64        `json:"rows,omitempty"`
	AppliesFrom *time.Time   `json:"applies_from,omitempty"`
	Error       string       `json:"error,omitempty"`
}

// build is a build as it runs; read counts the records read.
type build struct {
	buildView
	read atomic.Int64
}

// builds are the server's baseline builds, one running at a time.
type builds struct {
	mu   sync.Mutex
	all  []*build // oldest first
	busy bool
	wg   sync.WaitGroup
}

// Wait waits for the builds started to stop (they stop when BuildCtx
// ends).
func (s *Server) Wait() { s.jobs.wg.Wait() }

func (s *Server) snapshot(b *build) buildView {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	out := b.buildView
	out.RecordsRead = b.read.Load()
	return out
}

func (s *Server) startBuild(w http.ResponseWriter, r *http.Request) {
	if s.Build == nil || s.BuildCtx == nil {
		fail(w, http.StatusServiceUnavailable, errors.New("this server cannot build baselines (run builds them from its Kafka topic)"))
		return
	}
	var req BuildRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("build: the body is not a BuildRequest (see /api/v1/openapi.yaml): %w", err))
		return
	}
	if err := req.validate(); err != nil {
		fail(w, http.StatusBadRequest, fmt.Errorf("build: %w", err))
		return
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	b := &build{buildView: buildView{ID: "build-" + hex.EncodeToString(id[:]), Request: req, State: "running", StartedAt: s.now().UTC()}}
	s.jobs.mu.Lock()
	if s.jobs.busy {
		s.jobs.mu.Unlock()
		fail(w, http.StatusConflict, errors.New("a baseline build is running; one at a time (GET /api/v1/baselines/builds)"))
		return
	}
	s.jobs.busy = true
	s.jobs.mu.Unlock()
	if err := s.record(r, "build_baseline", b.ID, req); err != nil {
		s.jobs.mu.Lock()
		s.jobs.busy = false
		s.jobs.mu.Unlock()
		failRecord(w, err)
		return
	}
	s.jobs.mu.Lock()
	s.jobs.all = append(s.jobs.all, b)
	if len(s.jobs.all) > maxBuilds {
		s.jobs.all = s.jobs.all[1:]
	}
	s.jobs.mu.Unlock()
	s.jobs.wg.Add(1)
	go func() {
		defer s.jobs.wg.Done()
		s.runBuild(s.BuildCtx, b)
	}()
	w.Header().Set("Location", "/api/v1/baselines/builds/"+b.ID)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(s.snapshot(b))
}

// runBuild builds, saves and, if asked, promotes b's baseline, and
// switches the running job.
func (s *Server) runBuild(ctx context.Context, b *build) {
	req := b.Request
	bl, err := s.Build(ctx, req, &b.read)
	var from time.Time
	if err == nil && req.Promote {
		_, err = baselines.Promote(s.Baselines, bl.ID)
	}
	if err == nil && s.Switch != nil {
		from, err = s.Switch(ctx)
	}
	now := s.now().UTC()
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	s.jobs.busy = false
	b.FinishedAt = &now
	if bl != nil {
		b.BaselineID, b.Rows = bl.ID, bl.Rows
	}
	if !from.IsZero() {
		b.AppliesFrom = &from
	}
	if err != nil {
		b.State, b.Error = "failed", err.Error()
		if s.Log != nil {
			s.Log.Warn("baseline build failed", "build", b.ID, "model", req.Model, "err", err)
		}
		return
	}
	b.State = "done"
	if s.Log != nil {
		s.Log.Info("baseline built", "build", b.ID, "model", req.Model, "baseline_id", bl.ID, "rows", bl.Rows, "records_read", b.read.Load())
	}
}

func (s *Server) getBuild(w http.ResponseWriter, r *http.Request) {
	s.jobs.mu.Lock()
	var found *build
	for _, b := range s.jobs.all {
		if b.ID == r.PathValue("id") {
			found = b
		}
	}
	s.jobs.mu.Unlock()
	if found == nil {
		fail(w, http.StatusNotFound, fmt.Errorf("no build %q on this instance (builds are kept in memory, the last %d)", r.PathValue("id"), maxBuilds))
		return
	}
	reply(w, s.snapshot(found))
}

func (s *Server) listBuilds(w http.ResponseWriter, _ *http.Request) {
	s.jobs.mu.Lock()
	all := append([]*build(nil), s.jobs.all...)
	s.jobs.mu.Unlock()
	out := make([]buildView, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		out = append(out, s.snapshot(all[i]))
	}
	reply(w, out)
}
