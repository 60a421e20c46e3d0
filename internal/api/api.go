// Package api is driftwatch's HTTP API under /api/v1, described by
// openapi.yaml (served at /api/v1/openapi.yaml): models seen, baselines
// (list, fetch, promote). Reads need the role viewer and writes operator
// when a guard is set (package auth); without one reads are open and
// writes refused. Every write is recorded with who made it.
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/driftwatch/driftwatch/alerts"
	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/auth"
	"github.com/driftwatch/driftwatch/sinks"
)

// OpenAPI is the API's description.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Server serves the API.
type Server struct {
	// Guard checks tokens; nil: every call is let through.
	Guard *auth.Guard
	// Baselines is the directory of baselines run reads.
	Baselines string
	// Models is what has been committed (Models.Observe).
	Models *Models
	// Store is where rows, verdicts and alerts are read; nil (no
	// ClickHouse sink): those endpoints answer 503.
	Store Store
	// StoreComing says a store will be set (SetStore): until it is, writes
	// answer 503, since they could not be recorded.
	StoreComing bool
	late        atomic.Value // storeBox: the store SetStore set
	// Switch, when set, makes the running job switch to the baselines
	// now in the directory (after a promotion), returning the first window
	// start they apply to (zero: nothing changed).
	Switch func(ctx context.Context) (time.Time, error)
	// Build, when set, builds a baseline from the production records of
	// req's period (run: from its Kafka topic), adding the records it reads
	// to read, and saves it in the baselines directory. Builds run one at
	// a time on goroutines that stop when BuildCtx ends (Wait waits).
	Build    func(ctx context.Context, req BuildRequest, read *atomic.Int64) (*baselines.Baseline, error)
	BuildCtx context.Context
	jobs     builds
	// Report, when set, writes the HTML report of q from st (GET
	// /api/v1/report); it returns an error wrapping ErrNoData when there
	// is nothing to report. Nil: the endpoint answers 503.
	Report func(ctx context.Context, st Store, w io.Writer, q ReportQuery) error
	// Silences are the silences of driftwatch's alerts (the alert
	// manager's); nil: the silence endpoints answer 503.
	Silences *alerts.Silences
	Log      *slog.Logger
	Now      func() time.Time
}

// Handler routes /api/v1.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	read := func(h http.HandlerFunc) http.Handler { return s.guard(auth.Viewer, h) }
	write := func(h http.HandlerFunc) http.Handler { return s.guard(auth.Operator, h) }
	mux.Handle("GET /api/v1/openapi.yaml", read(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(OpenAPI)
	}))
	mux.Handle("GET /api/v1/models", read(s.models))
	mux.Handle("GET /api/v1/baselines", read(s.listBaselines))
	mux.Handle("GET /api/v1/baselines/{id}", read(s.getBaseline))
	mux.Handle("POST /api/v1/baselines", write(s.startBuild))
	mux.Handle("GET /api/v1/baselines/builds", read(s.listBuilds))
	mux.Handle("GET /api/v1/baselines/builds/{id}", read(s.getBuild))
	mux.Handle("POST /api/v1/baselines/{id}/promote", write(s.promote))
	mux.Handle("GET /api/v1/rows", read(s.rows))
	mux.Handle("GET /api/v1/verdicts/{model}", read(s.verdicts))
	mux.Handle("GET /api/v1/report", read(s.report))
	mux.Handle("GET /api/v1/alerts", read(s.firing))
	mux.Handle("GET /api/v1/audit", read(s.audit))
	mux.Handle("GET /api/v1/audit/writes", read(s.writes))
	mux.Handle("GET /api/v1/silences", read(s.listSilences))
	mux.Handle("POST /api/v1/silences", write(s.createSilence))
	mux.Handle("DELETE /api/v1/silences/{id}", write(s.expireSilence))
	mux.Handle("/api/v1/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, fmt.Errorf("no endpoint %s %s (see /api/v1/openapi.yaml)", r.Method, r.URL.Path))
	}))
	return mux
}

// guard lets calls of at least role min through: with a Guard, by their
// token; without one (no tokens configured) reads are open and writes
// refused, since nothing could say who made them.
func (s *Server) guard(min auth.Role, h http.Handler) http.Handler {
	switch {
	case s.Guard != nil:
		return s.Guard.Require(min, h)
	case min > auth.Viewer:
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fail(w, http.StatusForbidden, errors.New("writes need a token: set http.auth.tokens (README, \"Deploy\")"))
		})
	}
	return h
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// writeLog is the audit trail of the API's writes (sinks/clickhouse's
// api_writes), when the store keeps one.
type writeLog interface {
	WriteAPIWrite(ctx context.Context, w sinks.APIWrite) error
	APIWrites(ctx context.Context, since time.Time, limit int) ([]sinks.APIWrite, error)
}

// errStarting is a write refused while the audit trail is not open yet.
var errStarting = errors.New("starting: the audit trail is not open yet; try again shortly")

// failRecord answers a write that could not be recorded: 503 with
// Retry-After while starting, else 502.
func failRecord(w http.ResponseWriter, err error) {
	if errors.Is(err, errStarting) {
		w.Header().Set("Retry-After", "5")
		fail(w, http.StatusServiceUnavailable, err)
		return
	}
	fail(w, http.StatusBadGateway, err)
}

// record writes a write into the audit trail, with its caller, before it
// is made: a write that cannot be recorded is not made (the caller
// answers the error). Without a store that keeps a trail it is only
// logged.
func (s *Server) record(r *http.Request, action, target string, detail any) error {
	if s.StoreComing && s.store() == nil {
		return errStarting
	}
	w := sinks.APIWrite{At: s.now().UTC(), Action: action, Target: target}
	if c, ok := auth.CallerOf(r.Context()); ok {
		w.Who, w.Role = c.Name, c.Role.String()
	}
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("record %s: %w", action, err)
		}
		w.Detail = string(b)
	}
	if s.Log != nil {
		s.Log.Info("api write", "who", w.Who, "role", w.Role, "action", w.Action, "target", w.Target)
	}
	if wl, ok := s.store().(writeLog); ok {
		if err := wl.WriteAPIWrite(r.Context(), w); err != nil {
			return fmt.Errorf("not done: the audit trail could not record it: %w", err)
		}
	}
	return nil
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func fail(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

// baselineInfo is BaselineInfo of openapi.yaml.
type baselineInfo struct {
	ID           string    `json:"id"`
	Model        string    `json:"model"`
	ModelVersion string    `json:"model_version,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	Rows         int64     `json:"rows"`
	Source       string    `json:"source"`
	InUse        bool      `json:"in_use"`
}

func (s *Server) baselineInfos() ([]baselineInfo, error) {
	all, err := baselines.List(s.Baselines)
	if err != nil {
		return nil, err
	}
	active, err := baselines.InUse(s.Baselines, all)
	if err != nil {
		return nil, err
	}
	out := make([]baselineInfo, 0, len(all))
	for _, b := range all {
		out = append(out, baselineInfo{ID: b.ID, Model: b.Model, ModelVersion: b.ModelVersion, CreatedAt: b.CreatedAt.UTC(),
			Rows: b.Rows, Source: b.Source, InUse: active[b.Model] != nil && active[b.Model].ID == b.ID})
	}
	return out, nil
}

func (s *Server) listBaselines(w http.ResponseWriter, _ *http.Request) {
	infos, err := s.baselineInfos()
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	reply(w, infos)
}

func (s *Server) getBaseline(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	path, ok := baselines.File(s.Baselines, id)
	if !ok {
		fail(w, http.StatusNotFound, fmt.Errorf("no baseline %q", id))
		return
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fail(w, http.StatusNotFound, fmt.Errorf("no baseline %q in the baselines directory", id))
	case err != nil:
		fail(w, http.StatusInternalServerError, fmt.Errorf("read baseline %s: %w", id, err))
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Write(data)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// promoted is Promoted of openapi.yaml.
type promoted struct {
	baselineInfo
	AppliesFrom *time.Time `json:"applies_from,omitempty"`
	SwitchError string     `json:"switch_error,omitempty"`
}

func (s *Server) promote(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if path, ok := baselines.File(s.Baselines, id); !ok || !fileExists(path) {
		fail(w, http.StatusNotFound, fmt.Errorf("no baseline %q in the baselines directory", id))
		return
	}
	if err := s.record(r, "promote_baseline", id, nil); err != nil {
		failRecord(w, err)
		return
	}
	b, err := baselines.Promote(s.Baselines, id)
	switch {
	case errors.Is(err, baselines.ErrNotFound):
		fail(w, http.StatusNotFound, fmt.Errorf("no baseline %q in the baselines directory", id))
		return
	case err != nil:
		fail(w, http.StatusInternalServerError, err)
		return
	}
	out := promoted{baselineInfo: baselineInfo{ID: b.ID, Model: b.Model, ModelVersion: b.ModelVersion, CreatedAt: b.CreatedAt.UTC(),
		Rows: b.Rows, Source: b.Source, InUse: true}}
	if s.Switch != nil {
		from, err := s.Switch(r.Context())
		if err != nil {
			// Promoted, not switched yet: the job tries again at its next look.
			out.SwitchError = err.Error()
		} else if !from.IsZero() {
			out.AppliesFrom = &from
		}
	}
	reply(w, out)
}

// Models remembers the model versions whose windows were committed:
// their first and newest window and how many. Safe for concurrent use.
type Models struct {
	mu sync.Mutex
	m  map[string]map[string]*versionSeen
}

type versionSeen struct {
	First   time.Time `json:"first_window"`
	Last    time.Time `json:"last_window"`
	Windows int64     `json:"windows"`
}

// Observe notes a committed window of model version.
func (m *Models) Observe(model, version string, start time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = make(map[string]map[string]*versionSeen)
	}
	vs := m.m[model]
	if vs == nil {
		vs = make(map[string]*versionSeen)
		m.m[model] = vs
	}
	v := vs[version]
	if v == nil {
		v = &versionSeen{First: start, Last: start}
		vs[version] = v
	}
	v.First, v.Last, v.Windows = minTime(v.First, start), maxTime(v.Last, start), v.Windows+1
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	type version struct {
		Version string `json:"version"`
		versionSeen
	}
	type model struct {
		Model    string    `json:"model"`
		Versions []version `json:"versions"`
	}
	out := []model{}
	if s.Models != nil {
		s.Models.mu.Lock()
		for name, vs := range s.Models.m {
			md := model{Model: name}
			for v, seen := range vs {
				sv := *seen
				sv.First, sv.Last = sv.First.UTC(), sv.Last.UTC()
				md.Versions = append(md.Versions, version{Version: v, versionSeen: sv})
			}
			slices.SortFunc(md.Versions, func(a, b version) int { return strings.Compare(a.Version, b.Version) })
			out = append(out, md)
		}
		s.Models.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b model) int { return strings.Compare(a.Model, b.Model) })
	reply(w, out)
}
