package testservers

import (
	"os"
	"os/exec"
	"testing"
)

// ChromiumEnv is the variable in which `bash deploy/servers/chromium.sh env`
// names the Chromium that the tests open pages with; make test sets it.
const ChromiumEnv = "DRIFTWATCH_TEST_CHROMIUM"

// Chromium returns the path of the Chromium browser that
// deploy/servers/chromium.sh installs (Debian's chromium; make test runs
// its install and evaluates its env): ChromiumEnv's value, else chromium
// on PATH. When there is neither, the test is skipped, or fails if CI is
// set, as in Env; a ChromiumEnv that names no executable fails the test.
func Chromium(t testing.TB) string {
	t.Helper()
	const how = "install it with bash deploy/servers/chromium.sh install (Debian's chromium) and eval \"$(bash deploy/servers/chromium.sh env)\", as make test does"
	if p := os.Getenv(ChromiumEnv); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("%s=%s is not an executable: %v; %s", ChromiumEnv, p, err, how)
		}
		return path
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set and chromium is not on PATH in CI: %s", ChromiumEnv, how)
		}
		t.Skipf("%s is not set and chromium is not on PATH: %s", ChromiumEnv, how)
	}
	return path
}
