package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestBadConfigErrorsNameKeys: no golden error shows a Go type name or the
// decoder's wording; each names the key path instead.
func TestBadConfigErrorsNameKeys(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yml.err")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden errors: %v", err)
	}
	goType := regexp.MustCompile(`\b(config|alerts|time|drift)\.[A-Z]\w*|unmarshal|not found in type|!!\w+|\[\]\w+`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := goType.Find(b); m != nil {
			t.Errorf("%s names %q: %s", f, m, b)
		}
	}
}

// TestExplainDecodeAcceptsGoodConfigs: the key-path walk finds nothing in
// documents the decoder accepts, so it never invents a problem.
func TestExplainDecodeAcceptsGoodConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/good_*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(files, "../../deploy/driftwatch.yml") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(data); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := explainDecode(data, Default()); err != nil {
			t.Errorf("%s: explainDecode found %v in a config that loads", f, err)
		}
	}
	for doc, want := range map[string]string{
		"models:\n  a: &m {baseline: x.json}\n  b:\n    <<: *m\n    baselin_id: y\n": "models.b.baselin_id: unknown key at line 5 (did you mean baseline_id?)",
		"kafka: {brokers: [a:1], max_future: soon}\n":                                `kafka.max_future: must be a duration like 1h, 15m or 90s, got "soon" (line 1)`,
		"windows:\n  zzzzzzzz: 1\n":                                                  "windows.zzzzzzzz: unknown key at line 2 (known keys here: allowed_lateness, hop, max_categories, max_open, sample_rows, size, watermark_outliers)",
		"drift:\n  thresholds:\n    psi: high\n":                                     `drift.thresholds.psi: must be a number, got "high" (line 3)`,
	} {
		_, err := Parse([]byte(doc))
		if err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %s", doc, err, want)
		}
	}
}

// TestExplainDecodeBounded: a document whose merge keys make an
// exponential tree of valid keys (yaml.v3 refuses it for excessive
// aliasing) is explained within a bounded walk.
func TestExplainDecodeBounded(t *testing.T) {
	doc := "drift:\n  features:\n    a0: &a0 {metric: psi}\n"
	for i := 1; i < 14; i++ {
		doc += fmt.Sprintf("    a%d: &a%d {<<: [", i, i)
		for j := range 10 {
			if j > 0 {
				doc += ", "
			}
			doc += fmt.Sprintf("*a%d", i-1)
		}
		doc += "]}\n"
	}
	doc += "    bad: {metrik: psi}\n"
	start := time.Now()
	_, err := Parse([]byte(doc))
	if err == nil {
		t.Fatal("parsed")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Parse took %s", d)
	}
	t.Logf("%v in %s", err, time.Since(start))
}
