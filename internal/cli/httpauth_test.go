package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/internal/api"
	"github.com/driftwatch/driftwatch/internal/config"
)

// testCA makes a CA and certificates it signs, written as PEM files in dir.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "driftwatch test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, dir: t.TempDir()}
	ca.write(t, "ca.pem", "CERTIFICATE", der)
	return ca
}

func (ca *testCA) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(ca.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue returns the cert and key files of a certificate for name (server:
// 127.0.0.1; client otherwise) and its tls.Certificate.
func (ca *testCA) issue(t *testing.T, name string, server bool) (certFile, keyFile string, pair tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage, tmpl.IPAddresses = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = ca.write(t, name+".pem", "CERTIFICATE", der), ca.write(t, name+"-key.pem", "EC PRIVATE KEY", kder)
	pair, err = tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pair
}

// TestHTTPAuthAndTLS: run's server over mutual TLS with tokens: a client
// without a certificate is refused at the handshake; with one, /metrics
// needs a token (protect_metrics) while the probes stay open.
func TestHTTPAuthAndTLS(t *testing.T) {
	ca := newTestCA(t)
	certFile, keyFile, _ := ca.issue(t, "server", true)
	_, _, client := ca.issue(t, "prometheus", false)
	t.Setenv("DW_TEST_VIEWER_TOKEN", "viewer-5e1f-token")
	cfg := config.HTTP{
		TLS: config.HTTPTLS{CertFile: certFile, KeyFile: keyFile, ClientCAFile: filepath.Join(ca.dir, "ca.pem")},
		Auth: config.HTTPAuth{Tokens: []config.HTTPToken{{Name: "prometheus", Role: "viewer", TokenEnv: "DW_TEST_VIEWER_TOKEN"}},
			Rate: 100, Burst: 100, MaxBodyBytes: 1 << 20, ProtectMetrics: true},
	}
	guard, err := httpGuard(cfg.Auth, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("driftwatch_up 1\n")) })
	stop, err := serveHTTP(ln, metrics, &health{}, cfg, guard, map[string]http.Handler{"/api/v1/": (&api.Server{Guard: guard, Baselines: t.TempDir()}).Handler()})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	base := "https://" + ln.Addr().String()
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	get := func(c *http.Client, path, token string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	anonymous := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	if _, err := get(anonymous, "/healthz", ""); err == nil {
		t.Error("a client without a certificate got an answer under mutual TLS")
	}
	// The image's health check probes its own server over HTTPS; under
	// mutual TLS it is refused (documented), without a client CA it passes.
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "driftwatch.yml")
	writeCfg := func(clientCA string) {
		y := "http:\n  listen: \"" + ln.Addr().String() + "\"\n  tls:\n    cert_file: " + certFile + "\n    key_file: " + keyFile + "\n"
		if clientCA != "" {
			y += "    client_ca_file: " + clientCA + "\n"
		}
		if err := os.WriteFile(cfgFile, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg(filepath.Join(ca.dir, "ca.pem"))
	if code := Main(context.Background(), []string{"healthcheck", "--config", cfgFile}, io.Discard, io.Discard); code != 1 {
		t.Errorf("healthcheck of a mutual-TLS server without a client certificate: exit %d, want 1", code)
	}
	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{client}}}}
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/metrics", "", http.StatusUnauthorized},
		{"/metrics", "wrong", http.StatusUnauthorized},
		{"/metrics", "viewer-5e1f-token", http.StatusOK},
		{"/healthz", "", http.StatusOK},
		{"/readyz", "", http.StatusServiceUnavailable}, // open, and says "starting": no pipeline here
		{"/api/v1/baselines", "", http.StatusUnauthorized},
		{"/api/v1/baselines", "viewer-5e1f-token", http.StatusOK},
	} {
		if code, err := get(withCert, c.path, c.token); err != nil || code != c.want {
			t.Errorf("%s with token %q: %d, %v; want %d", c.path, c.token, code, err, c.want)
		}
	}
}

// TestHealthcheckOverTLS: with http.tls, healthcheck --config probes the
// server over HTTPS.
func TestHealthcheckOverTLS(t *testing.T) {
	ca := newTestCA(t)
	certFile, keyFile, _ := ca.issue(t, "server", true)
	cfg := config.HTTP{TLS: config.HTTPTLS{CertFile: certFile, KeyFile: keyFile}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop, err := serveHTTP(ln, http.NotFoundHandler(), &health{}, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	cfgFile := filepath.Join(t.TempDir(), "driftwatch.yml")
	y := "http:\n  listen: \"" + ln.Addr().String() + "\"\n  tls:\n    cert_file: " + certFile + "\n    key_file: " + keyFile + "\n"
	if err := os.WriteFile(cfgFile, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if code := Main(context.Background(), []string{"healthcheck", "--config", cfgFile}, &out, io.Discard); code != 0 || !strings.HasPrefix(out.String(), "https://") {
		t.Errorf("healthcheck over TLS: exit %d, %q", code, out.String())
	}
}
