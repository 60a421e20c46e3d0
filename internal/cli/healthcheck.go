package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/internal/config"
)

// defaultHealthURL is what healthcheck probes without --url or --config:
// the port the container image's configuration listens on.
const defaultHealthURL = "http://127.0.0.1:9464/healthz"

// runHealthcheck probes a running `driftwatch run`'s /healthz (or /readyz
// with --ready) and exits 0 when it answers 2xx, 1 otherwise: the
// container image's HEALTHCHECK, which has no curl or shell.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("healthcheck", stderr)
	url := fs.String("url", "", "the endpoint to probe (default "+defaultHealthURL+", or the one --config's http.listen serves)")
	cfgPath := fs.String("config", "", "probe the server that this configuration's http.listen starts")
	ready := fs.Bool("ready", false, "probe /readyz (ready to read: the sink accepts commits) instead of /healthz (alive)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if *url != "" && *cfgPath != "" {
		return usageError{"--url and --config: give one"}
	}
	target, client := *url, http.DefaultClient
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		if target, err = healthURL(cfg.HTTP.Listen); err != nil {
			return fmt.Errorf("%s: %w", *cfgPath, err)
		}
		if cfg.HTTP.TLS.CertFile != "" {
			// Its own server on loopback: HTTPS, without checking the
			// certificate (its name need not be 127.0.0.1; nothing secret
			// is sent). Under mutual TLS (client_ca_file) the server
			// refuses a probe without a client certificate.
			target = "https" + strings.TrimPrefix(target, "http")
			client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // a loopback probe of this process
		}
	}
	if target == "" {
		target = defaultHealthURL
	}
	if *ready {
		target = strings.TrimSuffix(target, "/healthz") + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return usageError{fmt.Sprintf("--url %q: %v", target, err)}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("probe %s: %s: %s", target, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(stdout, "%s: %s\n", target, strings.TrimSpace(string(body)))
	return nil
}

// healthURL is the /healthz URL of a server listening on listen (http.listen):
// a host of "" or an unspecified address is probed on loopback.
func healthURL(listen string) (string, error) {
	if listen == "" {
		return "", fmt.Errorf("http.listen is empty: no server to probe")
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("http.listen %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
