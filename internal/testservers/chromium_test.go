package testservers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChromium(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "chromium")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExec := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(notExec, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	for _, tc := range []struct {
		name, ci, env, path string
		want                string
		skipped, failed     string // substrings of the message; "" means none
	}{
		{name: "neither", path: empty, skipped: ChromiumEnv + " is not set and chromium is not on PATH: install it with bash deploy/servers/chromium.sh install"},
		{name: "neither in CI", ci: "true", path: empty, failed: ChromiumEnv + " is not set and chromium is not on PATH in CI"},
		{name: "on PATH", path: dir, want: fake},
		{name: "variable", env: fake, path: empty, want: fake},
		{name: "variable wins", env: fake, path: t.TempDir(), want: fake},
		{name: "variable names nothing", env: filepath.Join(dir, "gone"), path: dir, failed: ChromiumEnv + "=" + filepath.Join(dir, "gone") + " is not an executable"},
		{name: "variable names no executable", ci: "true", env: notExec, path: dir, failed: ChromiumEnv + "=" + notExec + " is not an executable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv(ChromiumEnv, tc.env)
			t.Setenv("PATH", tc.path)
			var got string
			r := runRecorded(t, func(r *recorder) { got = Chromium(r) })
			if got != tc.want {
				t.Errorf("Chromium = %q, want %q", got, tc.want)
			}
			if !strings.Contains(r.skipped, tc.skipped) || (tc.skipped == "") != (r.skipped == "") {
				t.Errorf("skipped with %q, want %q", r.skipped, tc.skipped)
			}
			if !strings.Contains(r.failed, tc.failed) || (tc.failed == "") != (r.failed == "") {
				t.Errorf("failed with %q, want %q", r.failed, tc.failed)
			}
		})
	}
}
