package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	viewerSecret   = "v-3f9a1c-secret"
	operatorSecret = "o-77b2e0-secret"
	adminSecret    = "a-0c41d9-secret"
)

// guard returns a guard of three tokens, one per role, from the
// environment, a file and a hash, logging to log.
func guard(t *testing.T, cfg Config, log *bytes.Buffer) *Guard {
	t.Helper()
	file := filepath.Join(t.TempDir(), "operator.token")
	if err := os.WriteFile(file, []byte(operatorSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(adminSecret))
	cfg.Tokens = []TokenSource{
		{Name: "grafana", Role: "viewer", Env: "DW_VIEWER"},
		{Name: "ci", Role: "operator", File: file},
		{Name: "root", Role: "admin", SHA256: hex.EncodeToString(sum[:])},
	}
	env := map[string]string{"DW_VIEWER": viewerSecret}
	g, err := New(cfg, func(k string) string { return env[k] }, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func call(h http.Handler, secret, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/x", strings.NewReader(body))
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestRequire: no token 401, an unknown one 401, a role too low 403, a
// role high enough 200 with its caller in the context; the secret is in no
// log line and no response.
func TestRequire(t *testing.T) {
	var log bytes.Buffer
	g := guard(t, Config{}, &log)
	var who Caller
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { who, _ = CallerOf(r.Context()) })
	h := g.Require(Operator, ok)
	for _, c := range []struct {
		secret string
		code   int
		who    string
	}{
		{"", http.StatusUnauthorized, ""},
		{"not-a-token", http.StatusUnauthorized, ""},
		{viewerSecret, http.StatusForbidden, ""},
		{operatorSecret, http.StatusOK, "ci"},
		{adminSecret, http.StatusOK, "root"},
	} {
		who = Caller{}
		rec := call(h, c.secret, "")
		if rec.Code != c.code || who.Name != c.who {
			t.Errorf("token %q: %d, caller %q; want %d, %q", c.secret, rec.Code, who.Name, c.code, c.who)
		}
		if rec.Code == http.StatusUnauthorized && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without WWW-Authenticate: %v", rec.Header())
		}
		for _, s := range []string{viewerSecret, operatorSecret, adminSecret, "not-a-token"} {
			if strings.Contains(rec.Body.String(), s) {
				t.Errorf("response %q holds a secret", rec.Body.String())
			}
		}
	}
	for _, s := range []string{viewerSecret, operatorSecret, adminSecret, "not-a-token"} {
		if strings.Contains(log.String(), s) {
			t.Errorf("the log holds a secret:\n%s", log.String())
		}
	}
	if !strings.Contains(log.String(), "token=grafana") {
		t.Errorf("the refusal of a low role does not name its token:\n%s", log.String())
	}
}

// TestRateAndBody: past its burst a token gets 429 with Retry-After while
// another token is unaffected; a body past the cap cannot be read.
func TestRateAndBody(t *testing.T) {
	var log bytes.Buffer
	g := guard(t, Config{Rate: 0.001, Burst: 2, MaxBodyBytes: 16}, &log)
	var readErr error
	h := g.Require(Viewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
		if readErr != nil {
			http.Error(w, readErr.Error(), http.StatusRequestEntityTooLarge)
		}
	}))
	for i := range 2 {
		if rec := call(h, viewerSecret, ""); rec.Code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i+1, rec.Code)
		}
	}
	rec := call(h, viewerSecret, "")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("past the burst: %d, Retry-After %q; want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := call(h, adminSecret, ""); rec.Code != http.StatusOK {
		t.Errorf("another token: %d, want 200 (limits are per token)", rec.Code)
	}
	if rec := call(h, adminSecret, strings.Repeat("x", 17)); rec.Code != http.StatusRequestEntityTooLarge || readErr == nil {
		t.Errorf("a 17-byte body past a 16-byte cap: %d, read error %v", rec.Code, readErr)
	}
}

// TestNewRefuses: configurations New must refuse, with errors that name
// the token but never hold a secret.
func TestNewRefuses(t *testing.T) {
	env := func(k string) string { return map[string]string{"A": "s3cr3t-value", "B": "s3cr3t-value"}[k] }
	for name, tokens := range map[string][]TokenSource{
		"no name":      {{Role: "viewer", Env: "A"}},
		"bad role":     {{Name: "x", Role: "root", Env: "A"}},
		"two sources":  {{Name: "x", Role: "viewer", Env: "A", SHA256: strings.Repeat("0", 64)}},
		"no source":    {{Name: "x", Role: "viewer"}},
		"unset env":    {{Name: "x", Role: "viewer", Env: "UNSET"}},
		"bad hash":     {{Name: "x", Role: "viewer", SHA256: "abc"}},
		"missing file": {{Name: "x", Role: "viewer", File: "/nonexistent/token"}},
		"same name":    {{Name: "x", Role: "viewer", Env: "A"}, {Name: "x", Role: "admin", SHA256: strings.Repeat("0", 64)}},
		"same secret":  {{Name: "x", Role: "viewer", Env: "A"}, {Name: "y", Role: "admin", Env: "B"}},
	} {
		_, err := New(Config{Tokens: tokens}, env, nil)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t-value") {
			t.Errorf("%s: the error holds the secret: %v", name, err)
		}
	}
}

// TestQueryToken: a token in the URL's access_token parameter counts as a
// bearer token, and next no longer sees it in the URL; a header wins.
func TestQueryToken(t *testing.T) {
	var log bytes.Buffer
	g := guard(t, Config{}, &log)
	var seen string
	h := QueryToken(g.Require(Viewer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.URL.String() + " " + r.RequestURI
	})))
	for _, tc := range []struct {
		url, header string
		code        int
	}{
		{"/events?access_token=" + viewerSecret + "&x=1", "", http.StatusOK},
		{"/events?access_token=wrong", "", http.StatusUnauthorized},
		{"/events", "", http.StatusUnauthorized},
		{"/events?access_token=" + viewerSecret, "Bearer wrong", http.StatusUnauthorized},
	} {
		seen = ""
		req := httptest.NewRequest(http.MethodPost, tc.url, nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.code {
			t.Errorf("%s with header %q: %d, want %d", tc.url, tc.header, rec.Code, tc.code)
		}
		if strings.Contains(seen, "access_token") || tc.code == http.StatusOK && !strings.Contains(seen, "x=1") {
			t.Errorf("%s: the handler saw %q", tc.url, seen)
		}
	}
	if strings.Contains(log.String(), viewerSecret) {
		t.Errorf("the secret is in the log: %s", log.String())
	}
}
