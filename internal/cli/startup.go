package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/driftwatch/driftwatch/internal/api"
	"github.com/driftwatch/driftwatch/internal/auth"
	"github.com/driftwatch/driftwatch/internal/config"
	"github.com/driftwatch/driftwatch/internal/pipeline"
	"github.com/driftwatch/driftwatch/sinks/clickhouse"
)

// Reaching the servers at start and watching Kafka afterwards.
const (
	startupRetry    = 2 * time.Second  // between attempts to reach a server at start
	startupAttempt  = 5 * time.Second  // one attempt to reach Kafka, at most
	startupLogEvery = 10 * time.Second // the same failure is logged again after this
	kafkaProbeEvery = 5 * time.Second  // Kafka is pinged this often while running
)

// health is what /readyz answers: not ready while a server cannot be
// reached or refuses driftwatch's credentials (the problem, by server), or
// before the pipeline has started, or while its sink fails. Safe for
// concurrent use.
type health struct {
	mu       sync.Mutex
	problems map[string]string // by server: "kafka", "clickhouse"
	p        *pipeline.Pipeline
}

// set records err (nil: none) as the problem of server.
func (h *health) set(server string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		delete(h.problems, server)
		return
	}
	if h.problems == nil {
		h.problems = make(map[string]string)
	}
	h.problems[server] = err.Error()
}

// started makes readiness follow p's once no server has a problem.
func (h *health) started(p *pipeline.Pipeline) {
	h.mu.Lock()
	h.p = p
	h.mu.Unlock()
}

// ready returns "" when ready, else why not, one line per reason.
func (h *health) ready() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var why []string
	for _, server := range slices.Sorted(maps.Keys(h.problems)) {
		why = append(why, h.problems[server])
	}
	if h.p == nil {
		why = append(why, "starting")
	} else if ok, since := h.p.Ready(); !ok {
		why = append(why, fmt.Sprintf("sink failing since %s; reading paused", since.UTC().Format(time.RFC3339)))
	}
	return strings.Join(why, "\n")
}

// serveHTTP starts the HTTP server of run on ln: routes (each guarded
// by its handler: the API under /api/v1/, the KServe endpoint), /metrics
// from metrics, /healthz (the process is alive: always 200) and /readyz
// (200, or 503 with the reasons of h in the body); with guard, /metrics
// and the probes need a token where cfg.Auth says so; with cfg.TLS, HTTPS
// (and mutual TLS). It returns a function that stops it.
func serveHTTP(ln net.Listener, metrics http.Handler, h *health, cfg config.HTTP, guard *auth.Guard, routes map[string]http.Handler) (stop func(), err error) {
	protect := func(on bool, next http.Handler) http.Handler {
		if guard == nil || !on {
			return next
		}
		return guard.Require(auth.Viewer, next)
	}
	mux := http.NewServeMux()
	for pattern, handler := range routes {
		mux.Handle(pattern, handler)
	}
	mux.Handle("/metrics", protect(cfg.Auth.ProtectMetrics, metrics))
	mux.Handle("/healthz", protect(cfg.Auth.ProtectProbes, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })))
	mux.Handle("/readyz", protect(cfg.Auth.ProtectProbes, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if why := h.ready(); why != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, why)
			return
		}
		fmt.Fprintln(w, "ok")
	})))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if cfg.TLS.CertFile != "" {
		tc, err := serverTLS(cfg.TLS)
		if err != nil {
			return nil, err
		}
		ln = tls.NewListener(ln, tc)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return func() {
		srv.Close()
		<-done
	}, nil
}

// serverTLS is the TLS configuration of http.tls: the server's
// certificate, and with a client CA, clients must present a certificate
// it signed.
func serverTLS(c config.HTTPTLS) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("http.tls: %w", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("http.tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("http.tls.client_ca_file %s: no PEM certificate in it", c.ClientCAFile)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// httpGuard is the token guard of http.auth, nil when it has no tokens.
func httpGuard(cfg config.HTTPAuth, log *slog.Logger) (*auth.Guard, error) {
	if len(cfg.Tokens) == 0 {
		return nil, nil
	}
	ac := auth.Config{Rate: cfg.Rate, Burst: cfg.Burst, MaxBodyBytes: cfg.MaxBodyBytes}
	for _, t := range cfg.Tokens {
		ac.Tokens = append(ac.Tokens, auth.TokenSource{Name: t.Name, Role: t.Role, Env: t.TokenEnv, File: t.TokenFile, SHA256: t.TokenSHA256})
	}
	g, err := auth.New(ac, os.Getenv, log)
	if err != nil {
		return nil, fmt.Errorf("http.auth: %w", err)
	}
	return g, nil
}

// reach runs try until it succeeds, ctx ends, or deadline passes, waiting
// startupRetry between attempts. Each failure becomes server's problem on
// h; the first is logged at once, the same one again every
// startupLogEvery, a different one at once. Past the deadline it returns
// the last failure, saying that startup_timeout ran out.
func reach(ctx context.Context, log *slog.Logger, h *health, server string, deadline time.Time, timeout time.Duration, try func(context.Context) error) error {
	var last string
	var logged time.Time
	for attempt := 1; ; attempt++ {
		err := try(ctx)
		if err == nil {
			h.set(server, nil)
			if attempt > 1 {
				log.Info(server+" reached", "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		h.set(server, err)
		if msg := err.Error(); msg != last || time.Since(logged) >= startupLogEvery {
			log.Error("cannot reach "+server, "err", err, "attempt", attempt, "gives_up_at", deadline.UTC().Format(time.RFC3339))
			last, logged = msg, time.Now()
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return fmt.Errorf("%w (gave up after startup_timeout %s)", err, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(wait, startupRetry)):
		}
	}
}

// kafkaServer names the brokers of k and how driftwatch authenticates to
// them (never the password).
func kafkaServer(k config.Kafka) string {
	auth := "no SASL"
	if k.SASL.Mechanism != "" {
		auth = fmt.Sprintf("SASL %s as user %s", k.SASL.Mechanism, k.SASL.Username)
	}
	tls := "no TLS"
	if k.TLS.Enabled {
		tls = "TLS"
	}
	return fmt.Sprintf("kafka brokers %s (%s, %s)", strings.Join(k.Brokers, ","), auth, tls)
}

// clickhouseServer names the ClickHouse server of ch and how driftwatch
// authenticates to it (never the password).
func clickhouseServer(ch config.ClickHouse) string {
	tls := "no TLS"
	if ch.TLS.Enabled {
		tls = "TLS"
	}
	return fmt.Sprintf("clickhouse %s (database %s, password of user %s, %s)", strings.Join(ch.Addr, ","), ch.Database, ch.Username, tls)
}

// problem says what kind of failure err is: authentication, the
// connection, or neither ("").
func problem(err error) string {
	var opErr *net.OpError
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), clickhouse.IsAuthFailure(err):
		return "authentication failed"
	case errors.Is(err, kerr.UnsupportedSaslMechanism), errors.Is(err, kerr.IllegalSaslState):
		return "SASL mechanism refused"
	case errors.As(err, &opErr), errors.Is(err, context.DeadlineExceeded):
		return "unreachable"
	}
	return ""
}

// serverError prefixes err with server and, when known, the kind of failure.
func serverError(server string, err error) error {
	if what := problem(err); what != "" {
		return fmt.Errorf("%s: %s: %w", server, what, err)
	}
	return fmt.Errorf("%s: %w", server, err)
}

// kafkaPing pings the brokers of k with ping, bounded by startupAttempt,
// and says what failed: authentication, the connection, or else.
func kafkaPing(ctx context.Context, k config.Kafka, ping func(context.Context) error) error {
	actx, cancel := context.WithTimeout(ctx, startupAttempt)
	defer cancel()
	if err := ping(actx); err != nil {
		return serverError(kafkaServer(k), err)
	}
	return nil
}

// watchKafka pings the brokers every interval (kafkaProbeEvery) until ctx
// ends, keeping h's kafka problem current and logging each change.
func watchKafka(ctx context.Context, log *slog.Logger, h *health, k config.Kafka, interval time.Duration, ping func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := kafkaPing(ctx, k, ping)
		if ctx.Err() != nil {
			return
		}
		h.set("kafka", err)
		switch {
		case err != nil && !failing:
			log.Error("cannot reach kafka", "err", err)
		case err == nil && failing:
			log.Info("kafka reachable again")
		}
		failing = err != nil
	}
}

// The API reads rows, verdicts and alerts from the ClickHouse sink.
var _ api.Store = (*clickhouse.Sink)(nil)
