package drift

import (
	"fmt"
	"strings"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/windows"
)

// Presets reproduce the default drift rules of other monitoring tools, so
// that users can port their settings. Each preset sets the rule per kind,
// turns off the multiple-testing correction and the significance
// requirement (none of these tools has them) and leaves everything else
// (which rows are written, minimum samples, binning) as it was. A feature
// override in Policy.Features still wins over a preset.
const (
	// PresetDriftwatch is driftwatch's own default (see the package doc).
	PresetDriftwatch = "driftwatch"
	// PresetEvidently is Evidently's automatic test selection
	// (evidently.legacy.calculations.stattests.registry.get_stattest, as of
	// Evidently 0.7.23), where "distinct values" are counted over the
	// reference and the window together: with at most 1000 reference
	// values, features with at most 2 distinct values get proportion_z
	// (p < 0.05), other features with at most 5 (numeric) and all other
	// categorical ones get chi2_gof (p < 0.05), and numeric features with
	// more get ks (p < 0.05). With more reference values, numeric features
	// with at most 5 distinct values and all categorical ones get
	// jensen_shannon >= 0.1, and other numeric features wasserstein >= 0.1
	// reference standard deviations. testdata/golden/evidently.json holds
	// Evidently's own verdicts (evidently_golden_test.go).
	PresetEvidently = "evidently"
	// PresetVertexAI is Vertex AI Model Monitoring's default skew and drift
	// rule (TensorFlow Data Validation): l_infinity >= 0.3 for categorical
	// features, Jensen-Shannon divergence in bits (js_divergence) >= 0.3
	// for numeric ones.
	PresetVertexAI = "vertex_ai"
	// PresetSageMaker is SageMaker Model Monitor's default distribution
	// constraint: a distance between the baseline and current distributions
	// above comparison_threshold 0.1, taken here as l_infinity >= 0.1 for
	// both kinds (for numeric features on driftwatch's reference-quantile
	// groups).
	PresetSageMaker = "sagemaker"
	// PresetWhyLabs is WhyLabs' default drift monitor: hellinger >= 0.7 for
	// both kinds.
	PresetWhyLabs = "whylabs"
)

// Presets lists the valid values of Policy.Preset.
var Presets = []string{PresetDriftwatch, PresetEvidently, PresetVertexAI, PresetSageMaker, PresetWhyLabs}

// ApplyPreset returns p with the rules of the named preset (see the
// constants). The empty name and PresetDriftwatch return p unchanged.
func ApplyPreset(p Policy, name string) (Policy, error) {
	switch name {
	case "", PresetDriftwatch:
		return p, nil
	case PresetEvidently:
		// Rules are chosen per subject; see evidentlyRule.
	case PresetVertexAI:
		p.Numeric = Rule{Metric: MetricJSDivergence, Threshold: 0.3}
		p.Categorical = Rule{Metric: MetricLInfinity, Threshold: 0.3}
	case PresetSageMaker:
		p.Numeric = Rule{Metric: MetricLInfinity, Threshold: 0.1}
		p.Categorical = Rule{Metric: MetricLInfinity, Threshold: 0.1}
	case PresetWhyLabs:
		p.Numeric = Rule{Metric: MetricHellinger, Threshold: 0.7}
		p.Categorical = Rule{Metric: MetricHellinger, Threshold: 0.7}
	default:
		return p, fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(Presets, ", "))
	}
	p.Preset = name
	p.Correction = CorrectionNone
	p.RequireSignificance = false
	return p, nil
}

// evidentlyRule is Evidently's choice of test for one subject. Evidently
// counts distinct values over reference and current data together
// (pandas.concat([ref, cur]).nunique()); for a categorical subject this is
// the union of categories, for a numeric one driftwatch counts the fine bins
// that are not empty in the reference or the window, plus one when the
// window's maximum is above the reference's (such a value shares the top bin
// with the reference maximum). That equals the number of distinct values
// when each bin holds one, which is the case for a reference of few
// distinct values; a new window value between two reference values that
// share a bin is not counted.
func evidentlyRule(bf *baselines.Feature, cf *windows.Feature, pr *pair) Rule {
	distinct := pr.cells()
	if bf.Kind == baselines.Numeric {
		distinct = pr.filled
		if cf.Count > 0 && cf.Max > bf.Max {
			distinct++
		}
	}
	small := bf.Count <= 1000
	switch {
	case small && distinct <= 2:
		return Rule{Metric: MetricProportionZ, Threshold: 0.05}
	case small && (bf.Kind != baselines.Numeric || distinct <= 5):
		return Rule{Metric: MetricChi2GOF, Threshold: 0.05}
	case small:
		return Rule{Metric: MetricKS, Threshold: 0.05}
	case bf.Kind == baselines.Numeric && distinct <= 5:
		return Rule{Metric: MetricJensenShannon, Threshold: 0.1}
	case bf.Kind == baselines.Numeric:
		return Rule{Metric: MetricWasserstein, Threshold: 0.1}
	}
	return Rule{Metric: MetricJensenShannon, Threshold: 0.1}
}
