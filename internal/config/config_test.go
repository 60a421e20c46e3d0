package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

var update = flag.Bool("update", false, "rewrite testdata/*.bad.yml.err from the current error texts")

// TestBadConfigs loads every testdata/*.bad.yml and compares its error with
// the golden text in the .err file beside it.
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad configs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f)
			if err == nil {
				t.Fatal("loaded without error")
			}
			golden := f + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatalf("read golden (run go test -update): %v", rerr)
			}
			if got := err.Error(); got != strings.TrimSpace(string(want)) {
				t.Fatalf("error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestDeployExampleIsTheDefault(t *testing.T) {
	c, err := Load("../../deploy/driftwatch.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("deploy/driftwatch.yml differs from the defaults:\n file: %+v\n code: %+v", c, Default())
	}
	// And it shows every key, not only the same values.
	data, err := os.ReadFile("../../deploy/driftwatch.yml")
	if err != nil {
		t.Fatal(err)
	}
	var file, code map[string]any
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(out, &code); err != nil {
		t.Fatal(err)
	}
	have := keyPaths("", file, map[string]bool{})
	for k := range keyPaths("", code, map[string]bool{}) {
		if !have[k] {
			t.Errorf("deploy/driftwatch.yml does not show key %s", k)
		}
	}
}

// keyPaths adds the dotted path of every key in the nested maps of v.
func keyPaths(prefix string, v any, out map[string]bool) map[string]bool {
	if m, ok := v.(map[string]any); ok {
		for k, sub := range m {
			out[prefix+k] = true
			keyPaths(prefix+k+".", sub, out)
		}
	}
	return out
}

func TestEmptyIsDefault(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Windows.Size != time.Hour || c.Kafka.Topic != "predictions" {
		t.Fatalf("defaults not applied: %+v", c)
	}
}

func TestModelOverridesMerge(t *testing.T) {
	c, err := Load("testdata/good_override.yml")
	if err != nil {
		t.Fatal(err)
	}
	def, per := c.Policies()
	p := per["fraud"]
	if p.MinSamples != 500 || def.MinSamples != 100 {
		t.Errorf("min_samples: fraud %d, default %d", p.MinSamples, def.MinSamples)
	}
	if p.Features["amount"] != (drift.Rule{Metric: "wasserstein", Threshold: 0.15}) || len(def.Features) != 0 {
		t.Errorf("features: fraud %v, default %v", p.Features, def.Features)
	}
	if p.Numeric != def.Numeric || p.Thresholds["ks"] != 0.05 || p.PSIBins != 10 {
		t.Errorf("fraud did not inherit the defaults: %+v", p)
	}
	if c.Models["fraud"].Baseline != "a.json" {
		t.Errorf("baseline path %q", c.Models["fraud"].Baseline)
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range append(must(filepath.Glob("testdata/*.yml")), "../../deploy/driftwatch.yml") {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		// Whatever parses must be valid and yield usable policies.
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed config fails Validate: %v", err)
		}
		def, _ := c.Policies()
		if _, ok := drift.Metrics[def.Numeric.Metric]; !ok || def.MinSamples < 1 {
			t.Fatalf("bad policy from a valid config: %+v", def)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPresets(t *testing.T) {
	c, err := Parse([]byte("drift:\n  preset: vertex_ai\n"))
	if err != nil {
		t.Fatal(err)
	}
	def, _ := c.Policies()
	if def.Numeric != (drift.Rule{Metric: "js_divergence", Threshold: 0.3}) || def.Categorical != (drift.Rule{Metric: "l_infinity", Threshold: 0.3}) {
		t.Errorf("vertex_ai rules: %+v %+v", def.Numeric, def.Categorical)
	}
	if def.Correction != drift.CorrectionNone || def.RequireSignificance || def.Preset != drift.PresetVertexAI {
		t.Errorf("vertex_ai should turn off correction and significance: %+v", def)
	}
	// Keys set beside a preset override it; a model's preset applies over the default.
	c, err = Parse([]byte("drift:\n  preset: whylabs\n  categorical: {metric: psi, threshold: 0.25}\n  correction: bonferroni\nmodels:\n  churn:\n    drift:\n      preset: evidently\n"))
	if err != nil {
		t.Fatal(err)
	}
	def, per := c.Policies()
	if def.Numeric != (drift.Rule{Metric: "hellinger", Threshold: 0.7}) || def.Categorical != (drift.Rule{Metric: "psi", Threshold: 0.25}) || def.Correction != drift.CorrectionBonferroni {
		t.Errorf("override beside a preset: %+v", def)
	}
	if per["churn"].Preset != drift.PresetEvidently || per["churn"].Correction != drift.CorrectionNone {
		t.Errorf("model preset: %+v", per["churn"])
	}
	// Without a preset the default policy comes through unchanged.
	c, err = Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	def, _ = c.Policies()
	if want := drift.DefaultPolicy(); !reflect.DeepEqual(def.Thresholds, want.Thresholds) || def.Numeric != want.Numeric || def.Calibration != want.Calibration || def.MDE != want.MDE || !reflect.DeepEqual(def.NumericMetrics, want.NumericMetrics) ||
		def.Multivariate != want.Multivariate {
		t.Errorf("default policy changed through config:\n%+v\n%+v", def, want)
	}
	// The multivariate keys reach the policy, a model's replacing the
	// default's whole; windows.sample_rows 0 is no sample.
	c, err = Parse([]byte("windows: {sample_rows: 0}\ndrift:\n  multivariate: {sigmas: 4, min_chunks: 5, min_auc: 0.6, permutations: 49, folds: 3}\n" +
		"models:\n  churn:\n    drift:\n      multivariate: {sigmas: 2, min_chunks: 20, min_auc: 0.7, permutations: 0, folds: 10}\n"))
	if err != nil {
		t.Fatal(err)
	}
	def, per = c.Policies()
	if want := (drift.Multivariate{Sigmas: 4, MinChunks: 5, MinAUC: 0.6, Permutations: 49, Folds: 3}); def.Multivariate != want {
		t.Errorf("drift.multivariate: %+v, want %+v", def.Multivariate, want)
	}
	if want := (drift.Multivariate{Sigmas: 2, MinChunks: 20, MinAUC: 0.7, Permutations: 0, Folds: 10}); per["churn"].Multivariate != want {
		t.Errorf("models.churn.drift.multivariate: %+v, want %+v", per["churn"].Multivariate, want)
	}
	if c.Windows.Samples() >= 0 || Default().Windows.Samples() != windows.DefaultSampleRows {
		t.Errorf("windows.sample_rows 0 gives %d, the default %d", c.Windows.Samples(), Default().Windows.Samples())
	}
}

func TestKafkaSecurity(t *testing.T) {
	c, err := Load("testdata/good_kafka_security.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := Kafka{
		Brokers: []string{"broker-1.example:9093"}, Topic: "predictions", DeadLetterTopic: "predictions.dlq",
		Group: "driftwatch", ClientID: "driftwatch", MaxRecordBytes: Default().Kafka.MaxRecordBytes,
		MaxFuture: time.Hour, DedupCapacity: Default().Kafka.DedupCapacity,
		IdleTimeout: Default().Kafka.IdleTimeout, MaxPollRecords: Default().Kafka.MaxPollRecords,
		SessionTimeout: Default().Kafka.SessionTimeout, ScaleOut: Default().Kafka.ScaleOut,
		TLS: KafkaTLS{Enabled: true, CAFile: "/etc/driftwatch/kafka-ca.pem", CertFile: "/etc/driftwatch/client.pem",
			KeyFile: "/etc/driftwatch/client-key.pem", ServerName: "kafka.example"},
		SASL: KafkaSASL{Mechanism: SASLScramSHA512, Username: "driftwatch", Password: "hunter2-kafka-secret"},
	}
	if !reflect.DeepEqual(c.Kafka, want) {
		t.Fatalf("kafka:\n got: %#v\nwant: %#v", c.Kafka, want)
	}
	// Every mechanism is accepted, with password_env instead of password.
	for _, m := range SASLMechanisms {
		doc := "kafka:\n  sasl: {mechanism: " + m + ", username: u, password_env: KAFKA_PASSWORD}\n"
		if _, err := Parse([]byte(doc)); err != nil {
			t.Errorf("mechanism %s: %v", m, err)
		}
	}
}

// TestKafkaInstanceIDEnv: kafka.instance_id_env names the variable Parse
// reads the instance id from; unset or empty, it is an error naming it.
// (Both keys set: testdata/kafka_instance_id_both.bad.yml.)
func TestKafkaInstanceIDEnv(t *testing.T) {
	const name = "DRIFTWATCH_TEST_POD_NAME"
	doc := []byte("kafka:\n  instance_id_env: " + name + "\n")
	for _, tc := range []struct {
		what, value string
		unset       bool
		want, err   string
	}{
		{what: "set", value: "driftwatch-2", want: "driftwatch-2"},
		{what: "empty", value: "", err: "kafka.instance_id_env: environment variable " + name + " is empty or unset"},
		{what: "unset", unset: true, err: "kafka.instance_id_env: environment variable " + name + " is empty or unset"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			t.Setenv(name, tc.value) // restored after the test, also when unset below
			if tc.unset {
				os.Unsetenv(name)
			}
			c, err := Parse(doc)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Kafka.InstanceID != tc.want || c.Kafka.InstanceIDEnv != name {
				t.Errorf("instance_id %q, instance_id_env %q; want %q and %q", c.Kafka.InstanceID, c.Kafka.InstanceIDEnv, tc.want, name)
			}
		})
	}
}

// TestSecretNeverPrints formats a config holding a password every way it
// could reach a log or an error: none shows it.
func TestSecretNeverPrints(t *testing.T) {
	const pass = "hunter2-kafka-secret"
	c, err := Load("testdata/good_kafka_security.yml")
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Kafka.SASL.Password) != pass {
		t.Fatalf("password %q not decoded", string(c.Kafka.SASL.Password))
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "kafka", c.Kafka, "password", c.Kafka.SASL.Password)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("config", "sasl", c.Kafka.SASL, "password", c.Kafka.SASL.Password)
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(c.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{
		fmt.Sprint(c.Kafka.SASL.Password), fmt.Sprintf("%v", c.Kafka), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c.Kafka),
		//lint:ignore S1025 each verb is what is tested: none may show the secret
		fmt.Sprintf("%s", c.Kafka.SASL.Password), fmt.Sprintf("%q", c.Kafka.SASL.Password),
		text.String(), js.String(), string(y), string(j),
	} {
		if strings.Contains(out, pass) {
			t.Errorf("password printed: %s", out)
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("no [REDACTED] in %s", out)
		}
	}
	// An empty secret stays visibly empty.
	if s := fmt.Sprintf("%v %#v", Secret(""), Secret("")); s != ` ""` {
		t.Errorf("empty secret printed as %q", s)
	}
}

// TestKServe: kserve.models become the adapter's mappings: the model
// defaults to the InferenceService's name, an unset prediction_index is
// none (-1), 0 the first element.
func TestKServe(t *testing.T) {
	c, err := Load("testdata/good_kserve.yml")
	if err != nil {
		t.Fatal(err)
	}
	if c.KServe.DeadLetter() != "kserve-events.dlq" || c.KServe.JoinTimeout != 30*time.Second || c.KServe.HTTPPath != "/kserve/v1/events" {
		t.Errorf("defaults: %+v", c.KServe)
	}
	m := c.KServe.Mappings()
	v1, v2 := m["sklearn-iris"], m["sklearn-v2-iris"]
	if v1.Model != "iris" || v1.VersionFrom != "metadata.X-Model-Version" || len(v1.Features) != 4 || v1.PredictionIndex != -1 {
		t.Errorf("sklearn-iris: %+v", v1)
	}
	if v2.Model != "sklearn-v2-iris" || v2.Version != "1.0.0" || v2.Input != "input-0" || v2.Output != "output-0" || v2.PredictionIndex != 0 {
		t.Errorf("sklearn-v2-iris: %+v", v2)
	}
}

// TestReadmeKServe loads the kserve block of README.md's "Log your
// predictions" as it is written there.
func TestReadmeKServe(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "```yaml\nkserve:")
	if i < 0 {
		t.Fatal("README.md has no kserve block")
	}
	block := text[i+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	path := filepath.Join(t.TempDir(), "kserve.yml")
	if err := os.WriteFile(path, []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("README's kserve block: %v", err)
	}
	m := c.KServe.Mappings()["sklearn-iris"]
	if c.KServe.Topic == "" || m.Model != "iris" || len(m.Features) != 4 {
		t.Errorf("README's kserve block read as %+v, %+v", c.KServe, m)
	}
}

// TestFairnessLimits: the fairness limits reach every model's policy;
// equalized odds is not judged by default.
func TestFairnessLimits(t *testing.T) {
	def, _ := Default().Policies()
	if def.Fairness.MaxEqualizedOddsDifference != 0 {
		t.Errorf("default max_equalized_odds_difference %v, want 0 (not judged)", def.Fairness.MaxEqualizedOddsDifference)
	}
	c, err := Parse([]byte("fairness:\n  max_opportunity_difference: 0.1\n  max_equalized_odds_difference: 0.15\nmodels:\n  fraud:\n    baseline: a.json\n"))
	if err != nil {
		t.Fatal(err)
	}
	def, perModel := c.Policies()
	for name, p := range map[string]drift.Policy{"default": def, "fraud": perModel["fraud"]} {
		if p.Fairness.MaxEqualizedOddsDifference != 0.15 || p.Fairness.MaxOpportunityDifference != 0.1 {
			t.Errorf("%s policy fairness %+v", name, p.Fairness)
		}
	}
}

// TestRankTestMetrics: anderson_darling and cramer_von_mises are drift
// metrics like ks: numeric rows, a model's or a feature's rule, with
// p-value thresholds; a categorical use is refused
// (testdata/categorical_anderson_darling.bad.yml and
// categorical_cramer_von_mises_rule.bad.yml).
func TestRankTestMetrics(t *testing.T) {
	c, err := Parse([]byte(`drift:
  numeric: {metric: anderson_darling, threshold: 0.01}
  metrics:
    numeric: [psi, ks, anderson_darling, cramer_von_mises]
  thresholds:
    cramer_von_mises: 0.02
models:
  fraud:
    baseline: a.json
    drift:
      features:
        amount: {metric: cramer_von_mises, threshold: 0.001}
`))
	if err != nil {
		t.Fatal(err)
	}
	def, per := c.Policies()
	if def.Numeric != (drift.Rule{Metric: drift.MetricAndersonDarling, Threshold: 0.01}) ||
		!slices.Equal(def.NumericMetrics, []string{"psi", "ks", "anderson_darling", "cramer_von_mises"}) ||
		def.Thresholds[drift.MetricCramerVonMises] != 0.02 || def.Thresholds[drift.MetricAndersonDarling] != 0.05 {
		t.Errorf("default policy: rule %v, metrics %v, thresholds %v", def.Numeric, def.NumericMetrics, def.Thresholds)
	}
	if r := per["fraud"].Features["amount"]; r != (drift.Rule{Metric: drift.MetricCramerVonMises, Threshold: 0.001}) {
		t.Errorf("feature rule %v", r)
	}
	if _, err := Parse([]byte("drift:\n  numeric: {metric: anderson_darling, threshold: 2}\n")); err == nil ||
		!strings.Contains(err.Error(), "anderson_darling is judged on its p-value; threshold must be in (0, 1)") {
		t.Errorf("a p-value threshold of 2: error %v", err)
	}
}

// TestShadowVariants: drift.shadow_variants defaults to [shadow], [] means
// none, a model's list replaces the default's, and the windows stage gets
// each model's roles as its policy has them.
func TestShadowVariants(t *testing.T) {
	for _, tc := range []struct {
		yaml        string
		def, fraud  []string
		fraudChamp  string
		otherShadow []string
	}{
		{"", []string{"shadow"}, []string{"shadow"}, "champion", []string{"shadow"}},
		{"drift: {shadow_variants: []}\n", []string{}, []string{}, "champion", []string{}},
		{"drift: {shadow_variants: [mirror]}\nmodels: {fraud: {drift: {champion: blue, shadow_variants: [green, mirror]}}}\n",
			[]string{"mirror"}, []string{"green", "mirror"}, "blue", []string{"mirror"}},
	} {
		c, err := Parse([]byte(tc.yaml))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		def, per := c.Policies()
		fraud, ok := per["fraud"]
		if !ok {
			fraud = def
		}
		if !slices.Equal(def.Shadows, tc.def) || !slices.Equal(fraud.Shadows, tc.fraud) || fraud.Champion != tc.fraudChamp {
			t.Errorf("%q: shadows %v, fraud's %v (champion %s); want %v, %v (%s)", tc.yaml, def.Shadows, fraud.Shadows, fraud.Champion, tc.def, tc.fraud, tc.fraudChamp)
		}
		roles := c.VariantRoles()
		if r := roles("fraud"); r.Champion != tc.fraudChamp || !slices.Equal(r.Shadows, tc.fraud) {
			t.Errorf("%q: the windows stage's roles of fraud %+v", tc.yaml, r)
		}
		if r := roles("other"); r.Champion != "champion" || !slices.Equal(r.Shadows, tc.otherShadow) {
			t.Errorf("%q: the windows stage's roles of another model %+v", tc.yaml, r)
		}
	}
}

// TestSchemaAndVolumeKeys: the error-rate objective and the schema and
// volume thresholds reach the policies, defaults and overrides.
func TestSchemaAndVolumeKeys(t *testing.T) {
	def, _ := Default().Policies()
	if def.SLO.MaxErrorRate != 0 || def.Thresholds[drift.MetricUnknownFeatureRate] != 0.01 || def.Thresholds[drift.MetricVolumeRatio] != 1.5 {
		t.Errorf("defaults: max_error_rate %v, unknown_feature_rate %v, volume_ratio %v", def.SLO.MaxErrorRate,
			def.Thresholds[drift.MetricUnknownFeatureRate], def.Thresholds[drift.MetricVolumeRatio])
	}
	c, err := Parse([]byte("drift:\n  slo: {max_error_rate: 0.02}\n  thresholds: {volume_ratio: 2}\nmodels:\n  fraud:\n    baseline: a.json\n    drift:\n      thresholds: {unknown_feature_rate: 0.05}\n"))
	if err != nil {
		t.Fatal(err)
	}
	def, perModel := c.Policies()
	p := perModel["fraud"]
	if def.SLO.MaxErrorRate != 0.02 || p.SLO.MaxErrorRate != 0.02 || def.Thresholds[drift.MetricVolumeRatio] != 2 || p.Thresholds[drift.MetricVolumeRatio] != 2 ||
		p.Thresholds[drift.MetricUnknownFeatureRate] != 0.05 || def.Thresholds[drift.MetricUnknownFeatureRate] != 0.01 {
		t.Errorf("default %+v %v\nfraud %+v %v", def.SLO, def.Thresholds, p.SLO, p.Thresholds)
	}
}
