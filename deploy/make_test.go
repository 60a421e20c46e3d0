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
// Alertmanager that deploy/servers/alertmanager.sh start installs) and
// buildah (deploy/servers/buildah.sh install), and runs the image test.
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
	if !strings.Contains(dry, "DRIFTWATCH_TEST_IMAGE=1 go test -count=1 -run '^TestImageWithBuildah$' ./deploy/") {
		t.Errorf("make test does not build the image (TestImageWithBuildah with DRIFTWATCH_TEST_IMAGE=1):\n%s", dry)
	}
}
