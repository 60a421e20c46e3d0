package stats

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/driftwatch/driftwatch/internal/goldenjson"
)

// Golden files. Every golden file in the module is
// <pkg>/testdata/golden/<name>.json, written by the committed script
// <pkg>/testdata/golden/gen_<name>.py from the reference libraries pinned in
// stats/testdata/golden/requirements.txt (`make golden` regenerates them all
// in a virtualenv; `make test` only reads them). The conventions shared by
// the files (NaN as strings, run-length samples, "reference") are described
// in stats/testdata/golden/goldenjson.py.

// minGoldenCases is the least number of cases the golden files must hold
// together.
const minGoldenCases = 300

// documentedDivergences lists every golden case whose expected value is
// driftwatch's documented definition instead of what the reference library
// does; the case's "reference" field records what the library did. Keys are
// "<file from the module root>:<section>/<case name>[/<test>]".
// TestGoldenFiles fails if a case carries "reference" without an entry
// here, or an entry has no such case, so that no divergence goes unnoticed.
var documentedDivergences = map[string]string{
	// Data problems are NaN in package stats (doc.go), where SciPy raises
	// or returns a number.
	"stats/testdata/golden/core.json:chi2/empty":                    "empty table: NaN; scipy raises",
	"stats/testdata/golden/core.json:chi2/zero-total-cur":           zeroRow,
	"stats/testdata/golden/core.json:chi2/nan-count":                "NaN count: NaN with dof 0; scipy returns NaN with dof 1",
	"stats/testdata/golden/core.json:chi2/negative-count":           "negative count: NaN; scipy raises",
	"stats/testdata/golden/core.json:jensenshannon/empty":           "empty vectors: NaN; scipy returns 0",
	"stats/testdata/golden/core.json:jensenshannon/negative-count":  "negative count: NaN; scipy returns +Inf",
	"stats/testdata/golden/core.json:wasserstein/empty-u":           "empty sample: NaN; scipy raises",
	"stats/testdata/golden/core.json:wasserstein/zero-total-weight": "zero total weight: NaN; scipy raises",
	"stats/testdata/golden/core.json:wasserstein/negative-weight":   "negative weight: NaN; scipy raises",

	"stats/testdata/golden/stats.json:gtest/empty":                        "empty table: NaN; scipy raises",
	"stats/testdata/golden/stats.json:gtest/zero-total-q":                 zeroRow,
	"stats/testdata/golden/stats.json:gtest/nan-count":                    "NaN count: NaN with dof 0; scipy returns NaN with dof 1",
	"stats/testdata/golden/stats.json:gtest/negative-count":               "negative count: NaN; scipy raises",
	"stats/testdata/golden/stats.json:kl/empty":                           "empty vectors: NaN; scipy.stats.entropy returns 0",
	"stats/testdata/golden/stats.json:kl/negative-count":                  "negative count: NaN; scipy.stats.entropy returns +Inf",
	"stats/testdata/golden/stats.json:proportion_ztest/-1-of-3-vs-1-of-2": "negative count: NaN; statsmodels returns -Inf, 0",

	"stats/testdata/golden/paired.json:ttest_rel/one-pair":                    "one pair: t, df and p NaN; scipy has t and p NaN with df 0",
	"stats/testdata/golden/paired.json:ttest_rel/constant-nonzero-difference": pairedConst,
	"stats/testdata/golden/paired.json:ttest_rel/identical":                   pairedConst,

	"stats/testdata/golden/stats.json:two_sample/empty-x/anderson_ksamp":             "empty sample: NaN; scipy raises",
	"stats/testdata/golden/stats.json:two_sample/single-both/anderson_ksamp":         "N = 2: NaN; scipy raises IndexError",
	"stats/testdata/golden/stats.json:two_sample/both-constant-equal/anderson_ksamp": "one distinct pooled value: NaN; scipy raises",
	"stats/testdata/golden/stats.json:two_sample/nan-in-y/anderson_ksamp":            "NaN value: NaN; scipy sorts the NaN last and returns a number",
	"stats/testdata/golden/ranktests.json:binned/single-bin-both/anderson_ksamp":     "one non-empty bin (one distinct value): NaN; scipy raises",
	"stats/testdata/golden/stats.json:two_sample/empty-x/energy_distance":            "empty sample: NaN; scipy raises",
	"stats/testdata/golden/stats.json:two_sample/inf-in-x/energy_distance":           "infinite value: NaN (documented); scipy returns +Inf",
	"stats/testdata/golden/stats.json:two_sample/single-x/welch":                     welchDF,
	"stats/testdata/golden/stats.json:two_sample/single-both/welch":                  welchDF,
	"stats/testdata/golden/stats.json:two_sample/normal-normal-1x5000/welch":         welchDF,
	"stats/testdata/golden/stats.json:two_sample/inf-in-x/welch":                     welchDF,
	"stats/testdata/golden/stats.json:two_sample/both-constant-equal/welch":          welchConst,
	"stats/testdata/golden/stats.json:two_sample/both-constant-different/welch":      welchConst,

	// Rows that package perf drops (doc.go: NaN scores, non-finite values)
	// are left out of the sklearn reference, which raises on them.
	"stats/perf/testdata/golden/perf.json:binary/nan_scores_dropped":         "NaN scores: ScoreHistogram drops them, Confusion never sees them; sklearn raises",
	"stats/perf/testdata/golden/perf.json:regression/nonfinite_rows_dropped": "NaN and Inf values: RegressionSums drops the rows; sklearn raises",

	// fairness_test.go checks that Go differs from Fairlearn here.
	"stats/fairness/testdata/golden/fairness.json:cases/divergent_no_positives": "a group without positive labels: Fairlearn counts its TPR as 0, package fairness leaves it out",

	// The detectors ignore non-finite values (stream/doc.go), River
	// propagates NaN: the expected indices are River's on the finite values.
	"stats/stream/testdata/golden/stream.json:cases/adwin/nonfinite_ignored":        nonFinite,
	"stats/stream/testdata/golden/stream.json:cases/page_hinkley/nonfinite_ignored": nonFinite,
	"stats/stream/testdata/golden/stream.json:cases/ddm/nonfinite_ignored":          nonFinite,
	"stats/stream/testdata/golden/stream.json:cases/eddm/nonfinite_ignored":         nonFinite,
	"stats/stream/testdata/golden/stream.json:cases/kswin/nonfinite_ignored":        nonFinite,

	// Sketches ignore NaN (sketch/sketch.go); SciPy propagates it or, for
	// an empty sample, raises.
	"stats/sketch/testdata/golden/sketch.json:cases/nan-values-ignored": "NaN values: ignored and counted by NaNCount; references on the other values, where SciPy returns NaN",
	"stats/sketch/testdata/golden/sketch.json:cases/empty-a":            "empty sample: NaN; scipy.stats.wasserstein_distance raises",
}

// Reasons shared by several documented divergences.
const (
	zeroRow   = "a row summing to 0: NaN (homogeneity with an empty sample is undefined); scipy raises on the zero expected frequency"
	welchDF   = "fewer than two values or a non-finite one: t, df and p NaN; scipy has t and p NaN but substitutes df = 1 for its NaN df"
	nonFinite = "NaN and ±Inf inputs: ignored, state untouched; River propagates NaN"
	// Possible bug, reported: WelchTTestMoments' doc says "as in scipy",
	// but scipy 1.17 substitutes df = 1 and so gives p = 0 for two
	// constant samples with different means; driftwatch gives df = p = NaN.
	pairedConst = "every difference the same: t is ±Inf (NaN for a difference of 0) and df, p NaN (no variance); scipy keeps df = n - 1, so p = 0 for a non-zero difference"
	welchConst  = "both samples constant: t is ±Inf (NaN for equal means) and df, p NaN; scipy substitutes df = 1, so p = 0 for different means"
)

// gf and vec are a float64 and a []float64 in a golden file: NaN and
// infinities are strings, a sample may be run-length encoded, and a null vec
// is nil (package goldenjson).
type (
	gf  = goldenjson.Float
	vec = goldenjson.Floats
)

// TestGoldenFiles checks the golden files as a whole: the layout (each
// <name>.json beside its gen_<name>.py), the recorded library versions, the
// documented divergences, and that together they hold at least
// minGoldenCases cases (elements of their top-level case arrays).
func TestGoldenFiles(t *testing.T) {
	// Every golden file in the module, named relative to its root (the
	// parent of this package's directory).
	var files []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != ".." && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir // .git, .venv-golden
		}
		rel, _ := filepath.Rel("..", path)
		rel = filepath.ToSlash(rel)
		switch {
		case strings.HasSuffix(rel, ".json") && strings.Contains(rel, "/testdata/golden/"):
			if dir := filepath.Dir(path); filepath.Base(dir) != "golden" || filepath.Base(filepath.Dir(dir)) != "testdata" {
				t.Errorf("%s: golden files belong directly in <pkg>/testdata/golden/", rel)
			}
			files = append(files, rel)
		case strings.HasSuffix(rel, "/testdata/golden.json") || strings.HasSuffix(rel, "/testdata/golden.py"):
			t.Errorf("%s: golden files belong in <pkg>/testdata/golden/", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 6 {
		t.Fatalf("found %d golden files (%v), want at least 6", len(files), files)
	}
	seen := map[string]bool{}
	total := 0
	for _, file := range files {
		dir, base := path.Split(file)
		gen := dir + "gen_" + strings.TrimSuffix(base, ".json") + ".py"
		if _, err := os.Stat(filepath.Join("..", gen)); err != nil {
			t.Errorf("%s: no generator script: %v", file, err)
		}
		raw, err := os.ReadFile(filepath.Join("..", file))
		if err != nil {
			t.Fatal(err)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(raw, &top); err != nil {
			t.Fatalf("decode %s: %v", file, err)
		}
		var meta struct {
			Generator string
			Versions  map[string]string
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			t.Fatalf("decode %s: %v", file, err)
		}
		if meta.Generator != gen {
			t.Errorf("%s: generator %q, want %q", file, meta.Generator, gen)
		}
		if meta.Versions["python"] == "" || meta.Versions["numpy"] == "" {
			t.Errorf("%s: versions %v do not record python and numpy", file, meta.Versions)
		}
		n := 0
		var sections []string
		for key, msg := range top {
			if len(msg) == 0 || msg[0] != '[' {
				continue
			}
			var cases []struct {
				Name      string
				Reference json.RawMessage
			}
			if err := json.Unmarshal(msg, &cases); err != nil {
				t.Errorf("%s: section %s is not an array of cases: %v", file, key, err)
				continue
			}
			for _, c := range cases {
				// "reference" is a string, or an object from test name to
				// string for cases that check several tests.
				notes := map[string]string{}
				var one string
				if c.Reference == nil {
					continue
				} else if err := json.Unmarshal(c.Reference, &one); err == nil {
					notes[""] = one
				} else if err := json.Unmarshal(c.Reference, &notes); err != nil {
					t.Errorf("%s: %s/%s: reference %s: %v", file, key, c.Name, c.Reference, err)
				}
				for test, note := range notes {
					k := file + ":" + key + "/" + c.Name
					if test != "" {
						k += "/" + test
					}
					seen[k] = true
					if documentedDivergences[k] == "" {
						t.Errorf("undocumented divergence from the reference: %s (reference: %s)", k, note)
					}
				}
			}
			n += len(cases)
			sections = append(sections, fmt.Sprintf("%s %d", key, len(cases)))
		}
		slices.Sort(sections)
		t.Logf("%-45s %5d cases (%s); %v", file, n, strings.Join(sections, ", "), meta.Versions)
		total += n
	}
	for k := range documentedDivergences {
		if !seen[k] {
			t.Errorf("documented divergence %s is in no golden file", k)
		}
	}
	t.Logf("%d golden cases in %d files", total, len(files))
	if total < minGoldenCases {
		t.Errorf("golden files hold %d cases, want at least %d", total, minGoldenCases)
	}
}

// core mirrors testdata/golden/core.json, written by
// testdata/golden/gen_core.py from SciPy.
type core struct {
	Versions   map[string]string
	Kolmogorov []struct {
		X, SF, CDF float64
	}
	PSI []struct {
		Name     string
		Ref, Cur vec
		Eps      float64
		Want     gf
	}
	KSBinned []struct {
		Name     string
		Ref, Cur vec
		D, P     gf
	} `json:"ks_binned"`
	KS2Samp []struct {
		Name string
		X, Y vec
		D, P gf
	} `json:"ks_2samp"`
	Chi2 []struct {
		Name     string
		Ref, Cur vec
		Stat, P  gf
		DOF      int
	}
	JensenShannon []struct {
		Name string
		P, Q vec
		Want gf
	}
	Wasserstein []struct {
		Name     string
		UValues  vec `json:"u_values"`
		UWeights vec `json:"u_weights"`
		VValues  vec `json:"v_values"`
		VWeights vec `json:"v_weights"`
		Want     gf
	}
}

// TestGoldenCore compares every statistic with SciPy's value on the cases in
// testdata/golden/core.json, within relTol (absTol near 0); NaN expects NaN.
func TestGoldenCore(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/core.json")
	if err != nil {
		t.Fatalf("read golden file: %v", err)
	}
	var g core
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("decode testdata/golden/core.json: %v", err)
	}
	t.Logf("golden values from %v", g.Versions)
	// Guard against a truncated or regenerated-empty file passing vacuously.
	for name, n := range map[string]int{
		"kolmogorov": len(g.Kolmogorov), "psi": len(g.PSI), "ks_binned": len(g.KSBinned),
		"ks_2samp": len(g.KS2Samp), "chi2": len(g.Chi2), "jensenshannon": len(g.JensenShannon),
		"wasserstein": len(g.Wasserstein),
	} {
		if n < 30 {
			t.Errorf("golden file has %d %s cases, want at least 30", n, name)
		}
	}

	// Both tails of the Kolmogorov distribution are documented as accurate
	// in relative terms (cdf down to 1e-213, sf down to 1e-56 in the file),
	// so these use relTol without the absolute floor.
	t.Run("kstwobign", func(t *testing.T) {
		for _, c := range g.Kolmogorov {
			if got := KolmogorovSF(c.X); !nearRel(got, c.SF) {
				t.Errorf("KolmogorovSF(%g) = %.17g, scipy kstwobign.sf %.17g", c.X, got, c.SF)
			}
			if got := kolmogorovCDF(c.X); !nearRel(got, c.CDF) {
				t.Errorf("kolmogorovCDF(%g) = %.17g, scipy kstwobign.cdf %.17g", c.X, got, c.CDF)
			}
		}
	})
	t.Run("psi", func(t *testing.T) {
		for _, c := range g.PSI {
			if got := PSI(c.Ref, c.Cur, c.Eps); !near(got, float64(c.Want)) {
				t.Errorf("%s: PSI = %.17g, numpy %.17g", c.Name, got, c.Want)
			}
		}
	})
	t.Run("ks_binned", func(t *testing.T) {
		for _, c := range g.KSBinned {
			// core.json records the limiting kstwobign p-value that
			// KSBinned used before it switched to kstwo at round(en); the
			// new p-value is checked against SciPy in golden2_test.go.
			d, p := KSBinned(c.Ref, c.Cur)
			if math.IsNaN(float64(c.D)) {
				if !math.IsNaN(d) || !math.IsNaN(p) {
					t.Errorf("%s: KSBinned = (%v, %v), want NaN, NaN", c.Name, d, p)
				}
				continue
			}
			if !near(d, float64(c.D)) || !near(ksPValue(d, sumOf(c.Ref), sumOf(c.Cur)), float64(c.P)) {
				t.Errorf("%s: KSBinned d = %.17g, scipy (%.17g, %.17g)", c.Name, d, c.D, c.P)
			}
		}
	})
	t.Run("ks_2samp", func(t *testing.T) {
		for _, c := range g.KS2Samp {
			d, p := KS2Samp(c.X, c.Y)
			if !near(d, float64(c.D)) || !near(p, float64(c.P)) {
				t.Errorf("%s: KS2Samp = (%.17g, %.17g), scipy (%.17g, %.17g)", c.Name, d, p, c.D, c.P)
			}
		}
	})
	t.Run("chi2_contingency", func(t *testing.T) {
		for _, c := range g.Chi2 {
			stat, p, dof := ChiSquared(c.Ref, c.Cur)
			if !near(stat, float64(c.Stat)) || !near(p, float64(c.P)) || dof != c.DOF {
				t.Errorf("%s: ChiSquared = (%.17g, %.17g, %d), scipy (%.17g, %.17g, %d)",
					c.Name, stat, p, dof, c.Stat, c.P, c.DOF)
			}
		}
	})
	t.Run("jensenshannon", func(t *testing.T) {
		for _, c := range g.JensenShannon {
			if got := JensenShannon(c.P, c.Q); !near(got, float64(c.Want)) {
				t.Errorf("%s: JensenShannon = %.17g, scipy %.17g", c.Name, got, c.Want)
			}
		}
	})
	t.Run("wasserstein_distance", func(t *testing.T) {
		for _, c := range g.Wasserstein {
			if got := Wasserstein(c.UValues, c.UWeights, c.VValues, c.VWeights); !near(got, float64(c.Want)) {
				t.Errorf("%s: Wasserstein = %.17g, scipy %.17g", c.Name, got, c.Want)
			}
		}
	})
}
