package synth

import "time"

// Sizes of the Demo scenario.
const (
	DemoWindows          = 14
	DemoRecordsPerWindow = 4000
	DemoDriftFrom        = 8 // 0-based: the 9th window
)

// Demo returns the scenario of `driftwatch demo`: two binary classifiers,
// "fraud" 1.4.2 (12 features) and "churn" 2.0.1 (10 features), over
// DemoWindows windows of one hour from start truncated to the hour (UTC),
// with DemoRecordsPerWindow records per model and window (112,000 in all),
// 0.2% contract-breaking records, 0.1% duplicates and 2 minutes of jitter.
//
// From window DemoDriftFrom on, exactly four features drift, each strongly.
// Measured per window against 20,000 Reference records: PSI on 10
// reference-decile bins (categories for categorical features) and
// Jensen-Shannon distance (natural log):
//
//	feature                drift                                      PSI    JS
//	fraud.amount           Shift +1.0 sigma of log: amounts x3.0      ~0.95
//	fraud.country          Mix: US 0.12 -> 0.40, ES 0.05 -> 0.25,     ~1.1   ~0.36
//	                       DE 0.30 -> 0.10, ...
//	churn.monthly_charges  Shift +1.0 std: +20 per month              ~0.9
//	churn.contract         Mix: month-to-month 0.50 -> 0.85           ~0.6   ~0.27
//
// Before that window and in all other features, PSI stays below 0.01. The
// drift in fraud.amount and churn.monthly_charges also moves the models'
// predictions.
func Demo(start time.Time) Config {
	return Config{
		Seed:             20261120,
		Start:            start.UTC().Truncate(time.Hour),
		Window:           time.Hour,
		Windows:          DemoWindows,
		RecordsPerWindow: DemoRecordsPerWindow,
		Models:           []Model{demoFraud(), demoChurn()},
		BadRate:          0.002,
		DuplicateRate:    0.001,
		Jitter:           2 * time.Minute,
	}
}

func demoFraud() Model {
	return Model{
		Name:    "fraud",
		Version: "1.4.2",
		Classes: []string{"fraud", "legit"},
		Features: []Feature{
			{Name: "amount", Kind: LogNormal, Mean: 4.0, Std: 1.1},
			{Name: "age", Kind: Normal, Mean: 41, Std: 13, Min: 18, Max: 95, Integer: true, NullRate: 0.05},
			{Name: "account_age_days", Kind: LogNormal, Mean: 6.0, Std: 0.9, Integer: true},
			{Name: "n_transactions_24h", Kind: Poisson, Lambda: 3},
			{Name: "hour_of_day", Kind: Uniform, Min: 0, Max: 24, Integer: true},
			{Name: "distance_km", Kind: LogNormal, Mean: 2.5, Std: 1.2, NullRate: 0.02},
			{Name: "merchant_risk", Kind: Normal, Mean: 0.3, Std: 0.1, Min: 0, Max: 1},
			{
				Name: "country", Kind: Categorical,
				Categories: []string{"DE", "FR", "GB", "US", "NL", "IT", "ES"},
				Weights:    []float64{0.30, 0.20, 0.15, 0.12, 0.10, 0.08, 0.05},
			},
			{
				Name: "channel", Kind: Categorical,
				Categories: []string{"web", "app", "pos"},
				Weights:    []float64{0.45, 0.35, 0.20},
			},
			{
				Name: "device", Kind: Categorical, NullRate: 0.01,
				Categories: []string{"ios", "android", "desktop", "other"},
				Weights:    []float64{0.35, 0.35, 0.25, 0.05},
			},
			{Name: "is_new_customer", Kind: Bool, P: 0.12},
			{
				Name: "card_type", Kind: Categorical,
				Categories: []string{"visa", "mastercard", "amex", "debit"},
				Weights:    []float64{0.45, 0.30, 0.08, 0.17},
			},
		},
		Drifts: []Drift{
			{Feature: "amount", Kind: Shift, Amount: 1.0, FromWindow: DemoDriftFrom},
			{
				Feature: "country", Kind: Mix, FromWindow: DemoDriftFrom,
				NewWeights: []float64{0.10, 0.08, 0.07, 0.40, 0.05, 0.05, 0.25},
			},
		},
	}
}

func demoChurn() Model {
	return Model{
		Name:    "churn",
		Version: "2.0.1",
		Classes: []string{"churn", "stay"},
		Features: []Feature{
			{Name: "tenure_months", Kind: Uniform, Min: 1, Max: 73, Integer: true},
			{Name: "monthly_charges", Kind: Normal, Mean: 65, Std: 20, Min: 15, Max: 200},
			{Name: "support_calls", Kind: Poisson, Lambda: 1.5},
			{Name: "data_usage_gb", Kind: LogNormal, Mean: 2.3, Std: 0.7, NullRate: 0.03},
			{
				Name: "contract", Kind: Categorical,
				Categories: []string{"month-to-month", "one_year", "two_year"},
				Weights:    []float64{0.50, 0.30, 0.20},
			},
			{
				Name: "plan", Kind: Categorical,
				Categories: []string{"basic", "standard", "premium"},
				Weights:    []float64{0.40, 0.40, 0.20},
			},
			{
				Name: "region", Kind: Categorical,
				Categories: []string{"north", "south", "east", "west"},
				Weights:    []float64{0.25, 0.30, 0.20, 0.25},
			},
			{
				Name: "payment_method", Kind: Categorical,
				Categories: []string{"card", "bank_transfer", "paypal", "invoice"},
				Weights:    []float64{0.40, 0.30, 0.20, 0.10},
			},
			{Name: "autopay", Kind: Bool, P: 0.6},
			{Name: "age", Kind: Normal, Mean: 45, Std: 15, Min: 18, Max: 95, Integer: true, NullRate: 0.02},
		},
		Drifts: []Drift{
			{Feature: "monthly_charges", Kind: Shift, Amount: 1.0, FromWindow: DemoDriftFrom},
			{
				Feature: "contract", Kind: Mix, FromWindow: DemoDriftFrom,
				NewWeights: []float64{0.85, 0.10, 0.05},
			},
		},
	}
}
