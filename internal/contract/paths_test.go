package contract

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/driftwatch/driftwatch/internal/cli"
)

// commandLines are every command a user can run; their -h texts are
// checked for the paths they name.
var commandLines = [][]string{
	{}, {"demo"}, {"run"}, {"baseline"}, {"baseline", "list"}, {"baseline", "promote"}, {"replay"}, {"version"},
}

// pathExts are file extensions that make a word a file path.
var pathExts = map[string]bool{
	".go": true, ".md": true, ".yml": true, ".yaml": true, ".sh": true, ".json": true,
	".sql": true, ".py": true, ".txt": true, ".tsv": true, ".mod": true,
}

// repoPath reports whether word names a path in this repository: it
// starts with one of the repository's top-level names, or has a path's
// extension, or is a root file such as CONTRACT.md. Placeholders (<id>,
// DIR/..., globs), URLs, absolute and home paths, and things like
// topic/partition@offset are not paths.
func repoPath(word string, top map[string]bool) (string, bool) {
	word = strings.TrimSuffix(strings.TrimPrefix(word, "./"), "/")
	if word == "" || strings.ContainsAny(word, "<>*{}$@=:?~ ,;'\"") || strings.HasPrefix(word, "/") || strings.HasPrefix(word, ".") {
		return "", false
	}
	first, _, nested := strings.Cut(word, "/")
	if first == strings.ToUpper(first) && nested && !strings.Contains(first, ".") {
		return "", false // DIR/<id>.json, FILE/...
	}
	switch {
	case top[first] && (nested || strings.Contains(first, ".")):
		return word, true
	case nested && pathExts[filepath.Ext(word)]:
		return word, true
	case !nested && regexp.MustCompile(`^[A-Z][A-Z_]*\.md$`).MatchString(word):
		return word, true
	}
	return "", false
}

func topLevel(t *testing.T) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	top := map[string]bool{}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			top[e.Name()] = true
		}
	}
	return top
}

var (
	mdLink   = regexp.MustCompile(`\]\(([^)#\s]+)(?:#[^)]*)?\)`)
	wordChar = regexp.MustCompile(`[^\s()\[\]"'` + "`" + `,;]+`)
)

var url = regexp.MustCompile(`[a-z]+://\S+`)

var fence = regexp.MustCompile("(?ms)^```[^\n]*\n(.*?)^```")

// docPaths returns the repository paths a Markdown document names: in
// backticks (each word of them), in fenced code blocks, as link targets and
// in plain text.
func docPaths(doc string, top map[string]bool) []string {
	var out []string
	for _, m := range fence.FindAllStringSubmatch(doc, -1) {
		for _, w := range wordChar.FindAllString(m[1], -1) {
			if p, ok := repoPath(strings.TrimRight(w, ".:"), top); ok {
				out = append(out, p)
			}
		}
	}
	doc = fence.ReplaceAllString(doc, "")
	// Plain text too (a file named in a sentence), without URLs.
	for _, w := range wordChar.FindAllString(url.ReplaceAllString(tick.ReplaceAllString(doc, " "), " "), -1) {
		if p, ok := repoPath(strings.TrimRight(w, ".:"), top); ok {
			out = append(out, p)
		}
	}
	for _, m := range mdLink.FindAllStringSubmatch(doc, -1) {
		if !strings.Contains(m[1], "://") {
			if p, ok := repoPath(m[1], top); ok {
				out = append(out, p)
			}
		}
	}
	for _, tk := range ticks(doc) {
		for _, w := range strings.Fields(tk) {
			if p, ok := repoPath(strings.TrimRight(w, ".:"), top); ok {
				out = append(out, p)
			}
		}
	}
	return out
}

// TestDocumentedPathsExist: every repository path that the README,
// CONTRACT.md and the commands' help texts name exists.
func TestDocumentedPathsExist(t *testing.T) {
	top := topLevel(t)
	named := map[string][]string{} // path -> where
	for _, doc := range []string{"README.md", "CONTRACT.md"} {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if os.IsNotExist(err) && doc != "README.md" {
			continue // the README and help texts naming it fail below
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range docPaths(string(b), top) {
			named[p] = append(named[p], doc)
		}
	}
	for _, c := range commandLines {
		args := append(append([]string{}, c...), "-h")
		var out, errOut bytes.Buffer
		if code := cli.Main(context.Background(), args, &out, &errOut); code != 0 {
			t.Errorf("driftwatch %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
			continue
		}
		help := out.String() + errOut.String()
		if len(help) < 40 {
			t.Errorf("driftwatch %s printed no help: %q", strings.Join(args, " "), help)
		}
		for _, w := range wordChar.FindAllString(help, -1) {
			if p, ok := repoPath(strings.TrimRight(w, ".:"), top); ok {
				named[p] = append(named[p], "driftwatch "+strings.Join(args, " "))
			}
		}
	}
	if len(named) < 10 {
		t.Fatalf("only %d paths found: the extraction is broken: %v", len(named), named)
	}
	for p, where := range named {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("%s names %s, which is not in the repository", strings.Join(where, ", "), p)
		}
	}
	for _, must := range []string{"CONTRACT.md", "deploy/driftwatch.yml"} {
		if named[must] == nil {
			t.Errorf("no document names %s: the extraction missed it", must)
		}
	}
}

func TestRepoPath(t *testing.T) {
	top := map[string]bool{"deploy": true, "CONTRACT.md": true, "Makefile": true, "internal": true}
	for word, want := range map[string]string{
		"deploy/driftwatch.yml":          "deploy/driftwatch.yml",
		"deploy/servers/":                "deploy/servers",
		"internal/pipeline/metrics.go":   "internal/pipeline/metrics.go",
		"CONTRACT.md":                    "CONTRACT.md",
		"NOTES.md":                       "NOTES.md",
		"elsewhere/x.go":                 "elsewhere/x.go",
		"DIR/<id>.json":                  "",
		"DIR/promoted.tsv":               "",
		"application/json":               "",
		"topic/partition@offset":         "",
		"/tmp/driftwatch-clickhouse":     "",
		"~/.cache/driftwatch":            "",
		"<pkg>/testdata/golden/<n>.json": "",
		"driftwatch-demo/":               "",
		"family/metric=value":            "",
	} {
		got, ok := repoPath(word, top)
		if got != want || ok != (want != "") {
			t.Errorf("repoPath(%q) = %q, %v; want %q", word, got, ok, want)
		}
	}
}
