package testservers

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// PrivateAlertmanager is an Alertmanager of one test's own, started and
// stopped by deploy/servers/alertmanager.sh on a free port with a config
// of the test's, so that the test can take it down (the shared server stays
// up for the others) and route its notifications to a receiver it runs.
type PrivateAlertmanager struct {
	URL string // its base URL, http://127.0.0.1:<port>

	t      testing.TB
	env    []string
	script string
}

// NewPrivateAlertmanager prepares an Alertmanager reading config (the YAML
// text of an Alertmanager config file) with its state in a temporary
// directory; it is not started. It is stopped when the test ends. The test
// is skipped under Env's rule when no Alertmanager is configured (the
// package of the shared server is what runs it).
func NewPrivateAlertmanager(t testing.TB, config string) *PrivateAlertmanager {
	t.Helper()
	AlertmanagerURL(t)
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("private alertmanager: no source path to find deploy/servers from")
	}
	script := filepath.Join(filepath.Dir(file), "..", "..", "deploy", "servers", "alertmanager.sh")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	am := &PrivateAlertmanager{URL: "http://127.0.0.1:" + strconv.Itoa(port), t: t, script: script,
		env: append(os.Environ(), "DRIFTWATCH_ALERTMANAGER_DIR="+filepath.Join(dir, "state"),
			"DRIFTWATCH_ALERTMANAGER_PORT="+strconv.Itoa(port), "DRIFTWATCH_ALERTMANAGER_CONFIG="+cfgPath)}
	t.Cleanup(am.Stop)
	return am
}

// Start starts the server and returns once it answers /-/ready.
func (am *PrivateAlertmanager) Start() { am.run("start") }

// Stop stops the server (it forgets every alert) and returns once it has
// exited.
func (am *PrivateAlertmanager) Stop() { am.run("stop") }

func (am *PrivateAlertmanager) run(verb string) {
	am.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", am.script, verb)
	cmd.Env = am.env
	if out, err := cmd.CombinedOutput(); err != nil {
		am.t.Fatalf("alertmanager.sh %s: %v\n%s", verb, err, out)
	}
}
