package testservers

import (
	"os"
	"os/exec"
	"testing"
)

// Promtool returns the path of Prometheus's promtool, which
// deploy/servers/promtool.sh installs (Debian's prometheus package; make
// test runs it). When it is not on PATH the test is skipped, or fails if
// CI is set, as in Env.
func Promtool(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		const how = "install it with bash deploy/servers/promtool.sh install (Debian's prometheus), as make test does"
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool is not on PATH in CI: %s", how)
		}
		t.Skipf("promtool is not on PATH: %s", how)
	}
	return path
}
