package deploy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

const buildahScript = "image/buildah.sh"

// TestImageWithBuildah builds the Dockerfile, unmodified, with buildah
// (image/buildah.sh: local stand-ins for its two base images, chroot
// isolation, a storage of its own) and requires every check the script
// prints to pass: the image's user (non-root), entrypoint, command, health
// check, exposed port, labels and baselines directory are the Dockerfile's,
// and `driftwatch version` runs in the image and names the commit of HEAD.
// It takes about 2.5 minutes (3.5 the first time, when the stand-ins are
// made) and both cores, so it runs only with DRIFTWATCH_TEST_IMAGE set:
// make test installs buildah and runs it alone after the other tests.
func TestImageWithBuildah(t *testing.T) {
	if os.Getenv("DRIFTWATCH_TEST_IMAGE") == "" {
		// Not beside the other tests: it takes both cores for minutes.
		t.Skip("builds the container image (about 3 minutes): set DRIFTWATCH_TEST_IMAGE=1, as make test does after the other tests")
	}
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Fatal("buildah is not installed: bash deploy/servers/buildah.sh install (Debian's buildah and mmdebstrap), as make test does")
	}
	head, err := exec.Command("git", "-C", "..", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("the image's commit check needs a git checkout: git rev-parse HEAD: %v", err)
	}

	// An image name of its own: the storage is shared with make image and
	// with other runs of this test.
	env := append(os.Environ(), fmt.Sprintf("DRIFTWATCH_IMAGE=localhost/driftwatch:test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	ctx := t.Context()
	if d, ok := t.Deadline(); ok {
		// Stop the build in time for its cleanup and this test's to run.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-30*time.Second))
		defer cancel()
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", buildahScript)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &stdout, &stderr
	// On cancellation, SIGTERM to the script and buildah (one process
	// group): the script's trap removes its working containers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	built := false
	t.Cleanup(func() {
		rmi := exec.Command("bash", buildahScript, "rmi")
		rmi.Env = env
		if out, err := rmi.CombinedOutput(); err != nil && built {
			t.Errorf("remove the test's image: bash %s rmi: %v\n%s", buildahScript, err, out)
		}
	})
	runErr := cmd.Run()
	built = runErr == nil || strings.Contains(stderr.String(), "Successfully tagged")
	if runErr != nil {
		t.Fatalf("bash %s: %v\n%s\nbuild log (end):\n%s", buildahScript, runErr, stdout.String(), tail(stderr.String(), 40))
	}
	t.Logf("bash %s:\n%s", buildahScript, stdout.String())

	// Each check the script must have made, and passed; some with the value
	// this test requires of its own.
	ok := map[string]string{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, "FAIL") {
			t.Errorf("%s reports %q but exited 0", buildahScript, line)
		}
		if rest, found := strings.CutPrefix(line, "ok   "); found {
			name, value, _ := strings.Cut(rest, ": ")
			ok[name] = value
		}
	}
	for _, tc := range []struct{ check, want string }{
		{"user", "65532:65532"},
		{"entrypoint", ""},
		{"cmd", ""},
		{"healthcheck test", ""},
		{"healthcheck timing", ""},
		{"exposed port", "9464/tcp "},
		{"label org.opencontainers.image.title", "driftwatch"},
		{"label org.opencontainers.image.source", ""},
		{"baselines owner", "65532:65532"},
		{"version commit", strings.TrimSpace(string(head))},
	} {
		got, found := ok[tc.check]
		switch {
		case !found:
			t.Errorf("%s did not check the image's %s (no \"ok   %s: ...\" line)", buildahScript, tc.check, tc.check)
		case tc.want != "" && got != tc.want:
			t.Errorf("the image's %s: %q, want %q", tc.check, got, tc.want)
		}
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
