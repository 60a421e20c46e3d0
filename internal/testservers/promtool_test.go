package testservers

import (
	"strings"
	"testing"
)

func TestPromtoolMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, tc := range []struct{ ci, skipped, failed string }{
		{skipped: "promtool is not on PATH: install it with bash deploy/servers/promtool.sh install"},
		{ci: "true", failed: "promtool is not on PATH in CI"},
	} {
		t.Setenv("CI", tc.ci)
		r := runRecorded(t, func(r *recorder) { Promtool(r) })
		if !strings.Contains(r.skipped, tc.skipped) || (tc.skipped == "") != (r.skipped == "") ||
			!strings.Contains(r.failed, tc.failed) || (tc.failed == "") != (r.failed == "") {
			t.Errorf("CI=%q: skipped %q, failed %q; want %q, %q", tc.ci, r.skipped, r.failed, tc.skipped, tc.failed)
		}
	}
}
