package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// commandLines are the commands a user can run: each must be in the
// top-level usage and answer -h.
var commandLines = [][]string{
	{"demo"}, {"run"}, {"baseline"}, {"baseline", "list"}, {"baseline", "promote"}, {"replay"}, {"version"},
}

func TestTopLevelUsageListsEveryCommand(t *testing.T) {
	code, out, _ := run(t, "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, c := range commandLines {
		line := "driftwatch " + strings.Join(c, " ")
		found := false
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) >= len(c)+1 && strings.Join(f[:len(c)+1], " ") == line {
				found = true
			}
		}
		if !found {
			t.Errorf("the usage has no line for %q:\n%s", line, out)
		}
		if code, _, errOut := run(t, append(c, "-h")...); code != 0 {
			t.Errorf("%s -h: exit %d: %s", line, code, errOut)
		}
	}
}

func TestVersionText(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/driftwatch/driftwatch", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "5408eeb6a1c0d3e2f4b5a6978899aabbccddeeff"},
			{Key: "vcs.time", Value: "2026-12-05T06:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	want := "driftwatch v1.4.0\n" +
		"  commit  5408eeb6a1c0d3e2f4b5a6978899aabbccddeeff (modified: built with uncommitted changes)\n" +
		"  time    2026-12-05T06:00:00Z\n" +
		"  go      go1.26.8 linux/amd64\n"
	if got := versionText(bi, true); got != want {
		t.Errorf("versionText:\n got %q\nwant %q", got, want)
	}
	bi.Main.Version = "(devel)"
	bi.Settings = bi.Settings[:2]
	want = "driftwatch (devel)\n" +
		"  commit  unknown (built without version control information)\n" +
		"  go      go1.26.8 linux/amd64\n"
	if got := versionText(bi, true); got != want {
		t.Errorf("versionText without vcs:\n got %q\nwant %q", got, want)
	}
	if got := versionText(nil, false); got != "driftwatch unknown version (the binary carries no build information)\n" {
		t.Errorf("versionText without build info: %q", got)
	}
}

// TestVersionCommand: `driftwatch version` and `driftwatch --version`
// print this binary's build information.
func TestVersionCommand(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	want := versionText(bi, ok)
	if !strings.Contains(want, runtime.Version()) {
		t.Fatalf("the version text does not name the Go version %s:\n%s", runtime.Version(), want)
	}
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, out, errOut := run(t, args...)
		if code != 0 || out != want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 0 and %q", args, code, out, errOut, want)
		}
	}
	if code, _, errOut := run(t, "version", "extra"); code != 2 || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Errorf("version extra: exit %d, %q", code, errOut)
	}
}

// TestReplayOutputNotRegularFile: replay --output to a device (/dev/null,
// or a link to it) writes there, leaves the device in place and creates no
// <output>.dlq.jsonl: the rejected lines are discarded and counted on
// standard error, unless --dead-letter names a file.
func TestReplayOutputNotRegularFile(t *testing.T) {
	dir := t.TempDir()
	logPath, scen := scenario(t, dir)
	baseDir := buildBaselines(t, dir, scen)
	isDevice := func(path string) bool {
		st, err := os.Stat(path)
		return err == nil && st.Mode()&os.ModeCharDevice != 0
	}
	if !isDevice(os.DevNull) {
		t.Skipf("%s is not a character device here", os.DevNull)
	}
	// First through a symbolic link, so that a replay that replaced its
	// output would remove the link, never the machine's /dev/null.
	link := filepath.Join(dir, "null")
	if err := os.Symlink(os.DevNull, link); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{link, os.DevNull} {
		code, _, errOut := run(t, "replay", "--baselines", baseDir, "--input", logPath, "--output", out)
		if code != 0 {
			t.Fatalf("replay --output %s: exit %d: %s", out, code, errOut)
		}
		if !isDevice(out) {
			t.Fatalf("replay --output %s replaced the device", out)
		}
		if _, err := os.Lstat(out + ".dlq.jsonl"); err == nil || !os.IsNotExist(err) {
			os.Remove(out + ".dlq.jsonl")
			t.Fatalf("replay --output %s wrote %s.dlq.jsonl (err %v)", out, out, err)
		}
		if !strings.Contains(errOut, "dead-lettered to nowhere (use --dead-letter)") {
			t.Errorf("replay --output %s: stderr does not count the discarded lines:\n%s", out, errOut)
		}
	}
	dlq := filepath.Join(dir, "rejected.jsonl")
	code, _, errOut := run(t, "replay", "--baselines", baseDir, "--input", logPath, "--output", link, "--dead-letter", dlq)
	if code != 0 {
		t.Fatalf("replay --dead-letter: exit %d: %s", code, errOut)
	}
	if b, err := os.ReadFile(dlq); err != nil || !strings.Contains(string(b), `"reason":"not_json"`) {
		t.Errorf("--dead-letter %s: %v, %.200s", dlq, err, b)
	}
}

// TestReplayCPUProfile: --cpuprofile writes a profile go tool pprof reads
// (gzipped protocol buffers), and a path that cannot be created is an
// error before any work.
func TestReplayCPUProfile(t *testing.T) {
	dir := t.TempDir()
	logPath, scen := scenario(t, dir)
	baseDir := buildBaselines(t, dir, scen)
	prof := filepath.Join(dir, "cpu.pprof")
	code, _, errOut := run(t, "replay", "--baselines", baseDir, "--input", logPath, "--output", os.DevNull, "--quiet", "--cpuprofile", prof)
	if code != 0 {
		t.Fatalf("replay --cpuprofile: exit %d: %s", code, errOut)
	}
	if b, err := os.ReadFile(prof); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile %s: %v, %d bytes, want a gzipped profile", prof, err, len(b))
	}
	code, _, errOut = run(t, "replay", "--baselines", baseDir, "--input", logPath, "--output", os.DevNull, "--quiet", "--cpuprofile", filepath.Join(dir, "no", "such", "dir", "cpu.pprof"))
	if code == 0 || !strings.Contains(errOut, "cpu profile") {
		t.Fatalf("replay --cpuprofile into a missing directory: exit %d, stderr %q; want an error naming the cpu profile", code, errOut)
	}
}
