package workload

import (
	"fmt"

	"github.com/driftwatch/driftwatch/internal/synth"
)

// Drifting features, from window DriftFrom on.
var Drifting = []string{"basket_value", "session_seconds", "days_since_last_order", "page_views_7d", "device_os", "traffic_source"}

// NumericFeatures and CategoricalFeatures are the model's feature names in
// the order their keys appear in a record's "features".
var (
	NumericFeatures     = names(ranker().Features, true)
	CategoricalFeatures = names(ranker().Features, false)
)

func names(fs []synth.Feature, numeric bool) []string {
	var out []string
	for _, f := range fs {
		if (f.Kind == synth.Categorical) != numeric {
			out = append(out, f.Name)
		}
	}
	return out
}

// codes returns n category names prefix00, prefix01, ...
func codes(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// zipf returns n weights falling as 1/(i+1).
func zipf(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / float64(i+1)
	}
	return w
}

func ranker() synth.Model {
	N, LN, U, P, C := synth.Normal, synth.LogNormal, synth.Uniform, synth.Poisson, synth.Categorical
	return synth.Model{
		Name:    Model,
		Version: Version,
		Classes: []string{"click", "no_click"},
		Features: []synth.Feature{
			// 30 numeric features.
			{Name: "age", Kind: N, Mean: 38, Std: 12, Min: 18, Max: 95, Integer: true, NullRate: 0.03},
			{Name: "basket_value", Kind: LN, Mean: 3.6, Std: 0.9},
			{Name: "session_seconds", Kind: LN, Mean: 5.2, Std: 1.0, NullRate: 0.01},
			{Name: "days_since_last_order", Kind: LN, Mean: 2.8, Std: 1.1, Integer: true, NullRate: 0.08},
			{Name: "page_views_7d", Kind: P, Lambda: 14},
			{Name: "orders_90d", Kind: P, Lambda: 2.5},
			{Name: "cart_items", Kind: P, Lambda: 3},
			{Name: "account_age_days", Kind: LN, Mean: 6.2, Std: 0.8, Integer: true},
			{Name: "avg_order_value", Kind: LN, Mean: 3.9, Std: 0.6, NullRate: 0.05},
			{Name: "discount_rate", Kind: U, Min: 0, Max: 0.35},
			{Name: "hour_of_day", Kind: U, Min: 0, Max: 24, Integer: true},
			{Name: "distance_to_store_km", Kind: LN, Mean: 2.2, Std: 1.0, NullRate: 0.02},
			{Name: "search_rank", Kind: P, Lambda: 6},
			{Name: "item_price", Kind: LN, Mean: 3.1, Std: 1.2},
			{Name: "item_rating", Kind: N, Mean: 4.1, Std: 0.5, Min: 1, Max: 5},
			{Name: "item_reviews", Kind: LN, Mean: 4.5, Std: 1.5, Integer: true},
			{Name: "item_age_days", Kind: U, Min: 0, Max: 720, Integer: true},
			{Name: "stock_level", Kind: P, Lambda: 40},
			{Name: "ctr_item_30d", Kind: N, Mean: 0.04, Std: 0.015, Min: 0, Max: 1},
			{Name: "ctr_user_30d", Kind: N, Mean: 0.06, Std: 0.03, Min: 0, Max: 1, NullRate: 0.04},
			{Name: "embedding_sim", Kind: N, Mean: 0.42, Std: 0.18, Min: -1, Max: 1},
			{Name: "price_vs_median", Kind: N, Mean: 1.0, Std: 0.25},
			{Name: "returns_rate", Kind: U, Min: 0, Max: 0.2, NullRate: 0.1},
			{Name: "wishlist_items", Kind: P, Lambda: 4},
			{Name: "scroll_depth", Kind: U, Min: 0, Max: 1},
			{Name: "time_on_item_s", Kind: LN, Mean: 2.9, Std: 0.9},
			{Name: "coupon_value", Kind: LN, Mean: 1.5, Std: 0.7, NullRate: 0.3},
			{Name: "loyalty_points", Kind: LN, Mean: 6.0, Std: 1.3, Integer: true},
			{Name: "shipping_days", Kind: P, Lambda: 2},
			{Name: "temperature_c", Kind: N, Mean: 12, Std: 8},
			// 10 categorical features.
			{Name: "country", Kind: C, Categories: []string{"DE", "FR", "GB", "US", "NL", "IT", "ES", "PL", "SE", "AT"}, Weights: zipf(10)},
			{Name: "device_os", Kind: C, Categories: []string{"ios", "android", "windows", "macos", "linux"}, Weights: []float64{0.38, 0.4, 0.12, 0.08, 0.02}},
			{Name: "traffic_source", Kind: C, Categories: []string{"organic", "paid_search", "social", "email", "direct", "affiliate"}, Weights: []float64{0.3, 0.25, 0.15, 0.1, 0.15, 0.05}},
			{Name: "category", Kind: C, Categories: codes("cat_", 40), Weights: zipf(40)},
			{Name: "brand", Kind: C, Categories: codes("brand_", 80), Weights: zipf(80), NullRate: 0.02},
			{Name: "payment_method", Kind: C, Categories: []string{"card", "paypal", "invoice", "klarna", "apple_pay"}},
			{Name: "membership", Kind: C, Categories: []string{"none", "basic", "plus", "premium"}, Weights: []float64{0.55, 0.25, 0.15, 0.05}},
			{Name: "language", Kind: C, Categories: []string{"de", "en", "fr", "es", "it", "nl", "pl", "sv"}, Weights: zipf(8)},
			{Name: "page_type", Kind: C, Categories: []string{"home", "search", "product", "cart", "checkout"}},
			{Name: "experiment_arm", Kind: C, Categories: []string{"a", "b", "c"}, NullRate: 0.05},
		},
		Drifts: []synth.Drift{
			{Feature: "basket_value", Kind: synth.Shift, Amount: 0.5, FromWindow: DriftFrom},
			{Feature: "session_seconds", Kind: synth.Scale, Amount: 1.5, FromWindow: DriftFrom},
			{Feature: "days_since_last_order", Kind: synth.Shift, Amount: -0.4, FromWindow: DriftFrom},
			{Feature: "page_views_7d", Kind: synth.Shift, Amount: 1.0, FromWindow: DriftFrom},
			{Feature: "device_os", Kind: synth.Mix, NewWeights: []float64{0.3, 0.5, 0.1, 0.08, 0.02}, FromWindow: DriftFrom},
			{Feature: "traffic_source", Kind: synth.Mix, NewWeights: []float64{0.2, 0.35, 0.25, 0.05, 0.1, 0.05}, FromWindow: DriftFrom},
		},
	}
}
