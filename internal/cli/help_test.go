package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestHelp: every command's -h (and --help) prints its usage, what it does,
// examples and its flags to standard output, nothing to standard error,
// and exits 0; each example runs that command with flags it has. A bad
// flag prints the usage to standard error and exits 2.
func TestHelp(t *testing.T) {
	flagName := regexp.MustCompile(`(?:^|\s)--?([a-z][a-z0-9-]*)`)
	for name, h := range helps {
		for _, help := range []string{"-h", "--help"} {
			args := append(strings.Fields(name), help)
			var out, errb bytes.Buffer
			if code := Main(context.Background(), args, &out, &errb); code != 0 || errb.Len() > 0 {
				t.Errorf("driftwatch %s %s: exit %d, stderr %q", name, help, code, errb.String())
				continue
			}
			text := out.String()
			if !strings.HasPrefix(text, "usage: "+h.synopsis) || !strings.Contains(text, "\nexamples:\n") {
				t.Errorf("driftwatch %s %s prints:\n%s", name, help, text)
			}
			for _, ex := range strings.Split(h.examples, "\n") {
				cmd := ex[strings.Index(ex, "driftwatch "):]
				if name != "baseline" && !strings.HasPrefix(cmd, "driftwatch "+name) {
					t.Errorf("%s: example %q runs another command", name, ex)
				}
				if name == "baseline" && (strings.HasPrefix(cmd, "driftwatch baseline list") || strings.HasPrefix(cmd, "driftwatch baseline promote")) {
					continue // the subcommands' flags are in their own help
				}
				rest := strings.TrimPrefix(cmd, "driftwatch "+name)
				if i := strings.IndexAny(rest, "|>"); i >= 0 {
					rest = rest[:i]
				}
				for _, m := range flagName.FindAllStringSubmatch(rest, -1) {
					if !strings.Contains(text, "\n  -"+m[1]+" ") && !strings.Contains(text, "\n  -"+m[1]+"\n") {
						t.Errorf("%s: example %q uses --%s, which is not among its flags", name, ex, m[1])
					}
				}
			}
		}
	}
	// Every command of the top-level usage has a help.
	for _, line := range strings.Split(usage, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "driftwatch" && !strings.HasSuffix(f[0], ":") {
			name := f[1]
			if len(f) >= 3 && (f[2] == "list" || f[2] == "promote") {
				name += " " + f[2]
			}
			if _, ok := helps[name]; !ok {
				t.Errorf("command %q has no help", name)
			}
		}
	}
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"replay", "--no-such-flag"}, &out, &errb); code != 2 || out.Len() > 0 || !strings.Contains(errb.String(), "usage: driftwatch replay") {
		t.Errorf("a bad flag: exit %d, stdout %q, stderr %q; want 2 and the usage on stderr", code, out.String(), errb.String())
	}
}
