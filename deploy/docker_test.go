package deploy

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/driftwatch/driftwatch/internal/config"
)

const dockerfile = "../Dockerfile"

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
}

// parseDockerfile splits a Dockerfile into its stages' instructions
// (comments and blank lines dropped, backslash continuations joined).
func parseDockerfile(t *testing.T, text string) [][]instruction {
	t.Helper()
	var stages [][]instruction
	var cur string
	flush := func() {
		line := strings.TrimSpace(cur)
		cur = ""
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("%s: %s before the first FROM", dockerfile, in.cmd)
			}
			return
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if s, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur += s + " "
			continue
		}
		cur += trimmed
		flush()
	}
	flush()
	return stages
}

// TestDockerfile: the image is multi-stage, its final stage a small base
// running as a non-root user with a health check of its own binary (no
// shell there), the configuration it carries loads and listens on the port
// it exposes; and, as no container engine runs here, the binary is built
// with the Dockerfile's own build command and flags and checked: static (no
// interpreter, no shared libraries), and it runs `version` and
// `healthcheck`.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	stages := parseDockerfile(t, string(b))
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a final one", len(stages))
	}
	final := stages[len(stages)-1]
	find := func(cmd string) []instruction {
		var out []instruction
		for _, in := range final {
			if in.cmd == cmd {
				out = append(out, in)
			}
		}
		return out
	}
	if base := final[0].args; !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("final stage FROM %s: want distroless static or scratch (a static binary needs nothing else)", base)
	}
	users := find("USER")
	if len(users) == 0 || slices.Contains([]string{"root", "0", "0:0", "root:root"}, users[len(users)-1].args) {
		t.Errorf("final stage runs as %v: want a non-root USER", users)
	}
	hc := find("HEALTHCHECK")
	if len(hc) != 1 || !regexp.MustCompile(`CMD \["[^"]*driftwatch", "healthcheck"`).MatchString(hc[0].args) {
		t.Errorf("HEALTHCHECK %v: want the exec form of driftwatch healthcheck (the image has no shell)", hc)
	}
	var cfgSrc string
	for _, in := range find("COPY") {
		if strings.HasPrefix(in.args, "--from") {
			continue
		}
		src, dst, _ := strings.Cut(in.args, " ")
		if _, err := os.Stat(filepath.Join("..", src)); err != nil {
			t.Errorf("COPY %s: %v", src, err)
		}
		if dst == "/etc/driftwatch/driftwatch.yml" {
			cfgSrc = filepath.Join("..", src)
		}
	}
	if cfgSrc == "" {
		t.Fatal("the final stage copies no configuration to /etc/driftwatch/driftwatch.yml, which its CMD and HEALTHCHECK read")
	}
	cfg, err := config.Load(cfgSrc)
	if err != nil {
		t.Fatalf("the image's configuration: %v", err)
	}
	_, port, _ := strings.Cut(cfg.HTTP.Listen, ":")
	if expose := find("EXPOSE"); len(expose) != 1 || expose[0].args != port {
		t.Errorf("EXPOSE %v, but the configuration listens on %q", expose, cfg.HTTP.Listen)
	}
	if ep := find("ENTRYPOINT"); len(ep) != 1 || !strings.Contains(ep[0].args, "driftwatch\"") {
		t.Errorf("ENTRYPOINT %v: want the driftwatch binary", ep)
	}
	if ignore, err := os.ReadFile("../.dockerignore"); err == nil {
		for _, line := range strings.Split(string(ignore), "\n") {
			if l := strings.TrimSpace(line); l == ".git" || l == "*.go" || l == "go.mod" || l == "cmd" {
				t.Errorf(".dockerignore leaves out %s, which the build needs", l)
			}
		}
	}

	// The build command, run as the Dockerfile runs it.
	var build string
	for _, st := range stages[:len(stages)-1] {
		for _, in := range st {
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
				build = in.args
			}
		}
	}
	if build == "" {
		t.Fatal("no RUN ... go build in the build stages")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	fields := shellFields(build)
	var env, args []string
	for i, f := range fields {
		if f == "go" {
			args = fields[i+1:]
			break
		}
		env = append(env, f)
	}
	bin := filepath.Join(t.TempDir(), "driftwatch")
	for i := range args {
		if i > 0 && args[i-1] == "-o" {
			args[i] = bin
		}
	}
	if !slices.Contains(env, "CGO_ENABLED=0") || !slices.Contains(args, "-trimpath") {
		t.Errorf("build %q: want CGO_ENABLED=0 and -trimpath (a static, reproducible binary)", build)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader: not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "driftwatch ") {
		t.Errorf("driftwatch version: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "healthcheck", "-h").CombinedOutput(); err != nil || !strings.Contains(string(out), "healthcheck") {
		t.Errorf("driftwatch healthcheck -h: %v\n%s", err, out)
	}
}

// shellFields splits a shell command line into words as sh does for
// these simple lines: blanks separate words, double quotes group (and are
// removed).
func shellFields(line string) []string {
	var out []string
	var word strings.Builder
	quoted, in := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, in = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if in {
				out = append(out, word.String())
				word.Reset()
				in = false
			}
		default:
			word.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, word.String())
	}
	return out
}
