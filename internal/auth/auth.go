// Package auth guards driftwatch's HTTP endpoints: bearer tokens with a
// role each, compared as SHA-256 hashes in constant time, per-token rate
// limits and a cap on request bodies.
//
// Tokens come from the environment, a file or, for a configuration that
// must not hold the secret at all, as their SHA-256 in hex; in every case
// only the hash is kept. A token is never logged, put in a metric or in an
// error: what identifies a caller is the token's name.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Role is what a token may do; each role may do what the ones below it
// may.
type Role int

const (
	Viewer   Role = iota + 1 // read
	Operator                 // read; baselines, silences
	Admin                    // everything
)

// Roles are the role names, lowest first.
var Roles = []string{"viewer", "operator", "admin"}

func (r Role) String() string {
	if r >= Viewer && r <= Admin {
		return Roles[r-1]
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	for i, name := range Roles {
		if s == name {
			return Role(i + 1), nil
		}
	}
	return 0, fmt.Errorf("role %q is not one of %s", s, strings.Join(Roles, ", "))
}

// TokenSource is one token of the configuration: its name (who, in logs
// and the audit trail), its role, and where its secret is, exactly one of
// Env (an environment variable holding it), File (a file holding it; a
// trailing newline is ignored) and SHA256 (its hash, hex).
type TokenSource struct {
	Name, Role        string
	Env, File, SHA256 string
}

// Config is the guard's configuration.
type Config struct {
	Tokens []TokenSource
	// Rate and Burst limit each token's requests (per second, and at
	// once); Rate 0: no limit.
	Rate  float64
	Burst int
	// MaxBodyBytes caps a request's body; larger ones get 413.
	MaxBodyBytes int64
}

type token struct {
	name    string
	role    Role
	hash    [sha256.Size]byte
	limiter *rate.Limiter
}

// Guard checks requests' bearer tokens.
type Guard struct {
	tokens  []token
	maxBody int64
	log     *slog.Logger
}

// New resolves the tokens' secrets (getenv reads the environment; nil:
// os.Getenv) and keeps their hashes. It fails on a missing or empty
// secret, a bad role or hash, or two tokens with one name or one secret.
func New(cfg Config, getenv func(string) string, log *slog.Logger) (*Guard, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Guard{maxBody: cfg.MaxBodyBytes, log: log}
	names := map[string]bool{}
	for i, ts := range cfg.Tokens {
		what := fmt.Sprintf("token %d (%q)", i+1, ts.Name)
		if ts.Name == "" {
			return nil, fmt.Errorf("%s: a name is required (it is who the token is in logs and the audit trail)", what)
		}
		if names[ts.Name] {
			return nil, fmt.Errorf("%s: two tokens are named %q", what, ts.Name)
		}
		names[ts.Name] = true
		role, err := ParseRole(ts.Role)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		t := token{name: ts.Name, role: role}
		if cfg.Rate > 0 {
			t.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), max(cfg.Burst, 1))
		}
		switch n := btoi(ts.Env != "") + btoi(ts.File != "") + btoi(ts.SHA256 != ""); {
		case n != 1:
			return nil, fmt.Errorf("%s: give exactly one of env, file and sha256", what)
		case ts.Env != "":
			secret := getenv(ts.Env)
			if secret == "" {
				return nil, fmt.Errorf("%s: environment variable %s is empty or unset", what, ts.Env)
			}
			t.hash = sha256.Sum256([]byte(secret))
		case ts.File != "":
			b, err := os.ReadFile(ts.File)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			secret := strings.TrimRight(string(b), "\r\n")
			if secret == "" {
				return nil, fmt.Errorf("%s: file %s is empty", what, ts.File)
			}
			t.hash = sha256.Sum256([]byte(secret))
		default:
			h, err := hex.DecodeString(ts.SHA256)
			if err != nil || len(h) != sha256.Size {
				return nil, fmt.Errorf("%s: sha256 must be 64 hex digits (sha256sum of the token)", what)
			}
			copy(t.hash[:], h)
		}
		for _, o := range g.tokens {
			if o.hash == t.hash {
				return nil, fmt.Errorf("%s: the same secret as token %q", what, o.name)
			}
		}
		g.tokens = append(g.tokens, t)
	}
	return g, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

type ctxKey struct{}

// Caller is who made a request: the name and role of its token.
type Caller struct {
	Name string
	Role Role
}

// CallerOf returns the caller Require let through, if any.
func CallerOf(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(ctxKey{}).(Caller)
	return c, ok
}

// match returns the token whose hash is the presented secret's, comparing
// it with every token in constant time.
func (g *Guard) match(secret string) (*token, bool) {
	h := sha256.Sum256([]byte(secret))
	found := -1
	for i := range g.tokens {
		if subtle.ConstantTimeCompare(h[:], g.tokens[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil, false
	}
	return &g.tokens[found], true
}

// Require lets a request through to next only with a bearer token of at
// least role min: 401 without one or with an unknown one, 403 when its
// role is lower, 429 with Retry-After past its rate; its body is capped
// at MaxBodyBytes (413 when a handler reads past it). The request's
// context carries its Caller.
func (g *Guard) Require(min Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="driftwatch"`)
			refuse(w, http.StatusUnauthorized, "a bearer token is required")
			return
		}
		t, ok := g.match(strings.TrimSpace(secret))
		if !ok {
			g.log.Warn("request with an unknown token refused", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="driftwatch", error="invalid_token"`)
			refuse(w, http.StatusUnauthorized, "unknown token")
			return
		}
		if t.role < min {
			g.log.Warn("request refused: role too low", "token", t.name, "role", t.role, "needs", min, "method", r.Method, "path", r.URL.Path)
			refuse(w, http.StatusForbidden, fmt.Sprintf("token %q has role %s; this needs %s", t.name, t.role, min))
			return
		}
		if t.limiter != nil {
			res := t.limiter.Reserve()
			if d := res.Delay(); d > 0 {
				res.Cancel()
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
				refuse(w, http.StatusTooManyRequests, fmt.Sprintf("token %q is over its rate; retry in %s", t.name, d.Round(time.Millisecond)))
				return
			}
		}
		if g.maxBody > 0 && r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, g.maxBody)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, Caller{Name: t.name, Role: t.role})))
	})
}

// refuse answers code with a JSON object {"error": msg}, as the API
// answers its errors.
func refuse(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// QueryToken lets a client that can set no header give its bearer token
// as the URL's access_token parameter (RFC 6750, section 2.3): a request
// without an Authorization header that has one gets it as the header,
// and loses it from its URL, before next (Require) reads it. The RFC
// discourages the parameter, as URLs end up in logs and histories; use it
// only where the client has no other way, such as KServe's logger, whose
// configuration is one URL.
func QueryToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if tok := q.Get("access_token"); tok != "" && r.Header.Get("Authorization") == "" {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok)
			q.Del("access_token")
			r.URL.RawQuery = q.Encode()
			r.RequestURI = r.URL.RequestURI()
		}
		next.ServeHTTP(w, r)
	})
}
