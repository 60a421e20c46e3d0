package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHealthcheck: 0 on a 2xx answer, 1 with the reason on a 503 and on a
// refused connection, /readyz with --ready, and the address from a
// configuration's http.listen.
func TestHealthcheck(t *testing.T) {
	ready := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz":
			w.Write([]byte("ok\n"))
		case r.URL.Path == "/readyz" && ready:
			w.Write([]byte("ready\n"))
		case r.URL.Path == "/readyz":
			http.Error(w, "not ready: ClickHouse refuses commits", http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append([]string{"healthcheck"}, args...), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, out, errs := run("--url", srv.URL+"/healthz"); code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("alive: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if code, _, errs := run("--url", srv.URL+"/healthz", "--ready"); code != 1 || !strings.Contains(errs, "503") || !strings.Contains(errs, "ClickHouse refuses commits") {
		t.Errorf("not ready: exit %d, stderr %q; want 1 with the status and the reason", code, errs)
	}
	ready = true
	if code, _, errs := run("--url", srv.URL+"/healthz", "--ready"); code != 0 {
		t.Errorf("ready: exit %d, stderr %q", code, errs)
	}
	// A port nothing listens on.
	closed := freeAddr(t)
	if code, _, errs := run("--url", "http://"+closed+"/healthz"); code != 1 || !strings.Contains(errs, "refused") {
		t.Errorf("nothing listening: exit %d, stderr %q", code, errs)
	}
	// The address from http.listen: ":port" is probed on loopback.
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	cfg := filepath.Join(t.TempDir(), "driftwatch.yml")
	if err := os.WriteFile(cfg, []byte("http:\n  listen: \":"+port+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run("--config", cfg); code != 0 || !strings.Contains(out, "127.0.0.1:"+port+"/healthz") {
		t.Errorf("--config: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if code, _, _ := run("--config", cfg, "--url", srv.URL); code != 2 {
		t.Errorf("--config with --url: exit %d, want 2 (usage)", code)
	}
}
