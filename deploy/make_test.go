package deploy

import (
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestMakeTestInstallsTools: make test, on a fresh machine, installs the
// tools the checks of this package need before the tests run: promtool
// (deploy/servers/promtool.sh install), amtool (it comes with the
// Alertmanager that deploy/servers/alertmanager.sh start installs),
// buildah (deploy/servers/buildah.sh install) and chromium
// (deploy/servers/chromium.sh install, whose env gives the tests
// DRIFTWATCH_TEST_CHROMIUM), and runs the image test.
func TestMakeTestInstallsTools(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not on PATH")
	}
	out, err := exec.Command("make", "-C", "..", "--no-print-directory", "-n", "test").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n test: %v\n%s", err, out)
	}
	dry := string(out)
	test := strings.Index(dry, "go test")
	if test < 0 {
		t.Fatalf("make -n test runs no go test:\n%s", dry)
	}
	for _, tc := range []struct{ script, verb, name string }{
		{"promtool", "install", "promtool"},
		{"alertmanager", "start", "amtool"},
		{"buildah", "install", "buildah"},
		{"chromium", "install", "chromium"},
	} {
		// for x in a b c; do bash deploy/servers/$x.sh VERB; done
		loop := regexp.MustCompile(`for (\w+) in ([\w ]*); do bash deploy/servers/\$(\w+)\.sh ` + tc.verb + `; done`)
		at := -1
		for _, m := range loop.FindAllStringSubmatchIndex(dry, -1) {
			names := strings.Fields(dry[m[4]:m[5]])
			if dry[m[2]:m[3]] == dry[m[6]:m[7]] && slices.Contains(names, tc.script) {
				at = m[0]
				break
			}
		}
		if at < 0 || at > test {
			t.Errorf("make test does not run deploy/servers/%s.sh %s before go test (for %s):\n%s", tc.script, tc.verb, tc.name, dry)
		}
	}
	// for x in a b c; do eval "$(bash deploy/servers/$x.sh env)"; done,
	// on the shell line of go test -race (one line, continued with \).
	env := regexp.MustCompile(`for (\w+) in ([\w ]*); do eval "\$\(bash deploy/servers/\$(\w+)\.sh env\)"; done[^\n]*\\\n(?:[^\n]*\\\n)*?[^\n]*go test -race`).FindStringSubmatch(dry)
	if env == nil || env[1] != env[3] || !slices.Contains(strings.Fields(env[2]), "chromium") {
		t.Errorf("make test does not evaluate deploy/servers/chromium.sh env in the shell of go test -race (DRIFTWATCH_TEST_CHROMIUM):\n%s", dry)
	}
	if !strings.Contains(dry, "DRIFTWATCH_TEST_IMAGE=1 go test -count=1 -run '^TestImageWithBuildah$' ./deploy/") {
		t.Errorf("make test does not build the image (TestImageWithBuildah with DRIFTWATCH_TEST_IMAGE=1):\n%s", dry)
	}
}

// TestMakeTestRunsPytest: make test runs the Python client's tests
// (clients/python/tests) with pytest, after go test and before the test
// servers stop, in the shell that has their environment (so its Kafka and
// wire tests run, not skip), on the client installed from the work tree
// into the virtualenv of clients/python/venv.sh, and a pytest failure fails
// make test.
func TestMakeTestRunsPytest(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not on PATH")
	}
	out, err := exec.Command("make", "-C", "..", "--no-print-directory", "-n", "test").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n test: %v\n%s", err, out)
	}
	dry := string(out)
	env := strings.Index(dry, `do eval "$(bash deploy/servers/$s.sh env)"; done`)
	goTest := strings.Index(dry, "go test -race")
	stop := strings.Index(dry, "bash deploy/servers/$s.sh stop")
	pytest := regexp.MustCompile(`"\$py" -m pytest [^\n]*clients/python/tests`).FindStringIndex(dry)
	switch {
	case pytest == nil:
		t.Fatalf("make test runs no pytest on clients/python/tests:\n%s", dry)
	case env < 0 || goTest < 0 || stop < 0:
		t.Fatalf("make test: no servers' env, go test -race or servers' stop:\n%s", dry)
	case !(env < goTest && goTest < pytest[0] && pytest[0] < stop):
		t.Errorf("make test runs pytest at %d, want it after the servers' env (%d) and go test (%d), before they stop (%d):\n%s",
			pytest[0], env, goTest, stop, dry)
	}
	// One shell line from the env to the stop: a recipe line of its own
	// would not have the servers' environment.
	if env >= 0 && stop > env && !regexp.MustCompile(`^(?:[^\n]*\\\n)*[^\n]*$`).MatchString(dry[env:stop]) {
		t.Errorf("make test: pytest does not run in the shell that has the servers' environment:\n%s", dry[env:stop])
	}
	line := dry[pytest[0]:]
	line = line[:strings.IndexByte(line, '\n')]
	if !regexp.MustCompile(`\) \|\| rc=\$\?; \\$`).MatchString(line) || !strings.HasSuffix(strings.TrimSpace(dry), "exit $rc") {
		t.Errorf("make test: a pytest failure does not set the exit code (want `( ... pytest ... ) || rc=$?` and `exit $rc`):\n%s", line)
	}
	for _, want := range []string{"sh clients/python/venv.sh", "pip install", "--target", "./clients/python", "PYTHONPATH=", "DRIFTWATCH_BIN="} {
		if !strings.Contains(dry[goTest:pytest[1]], want) {
			t.Errorf("make test: the pytest step lacks %q (the client installed from the work tree, driftwatch for the wire test):\n%s", want, line)
		}
	}
}
