package html

import (
	"slices"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// Input is everything a report is drawn from. Only Model and Rows are
// required; what is missing is said on the page instead of drawn.
type Input struct {
	// Model is the model reported on; Versions, when set, the versions
	// (default: every version with rows in the period).
	Model    string
	Versions []string
	// From and To bound the period: windows starting in [From, To). Zero:
	// the rows' own extent.
	From, To time.Time
	// Rows are the metric rows of the period (CONTRACT.md section 3), in
	// the order written: a later row of a key replaces an earlier one.
	Rows []drift.Row
	// Windows are the window summaries with their distributions (the
	// windows file of replay, or ClickHouse window_summaries); without
	// them the report draws no distributions.
	Windows []sinks.WindowSummary
	// Alerts are the audit trail's records (ClickHouse alert_history):
	// alerts fired and resolved, and actions. Recorded says there is such
	// a trail; without one the report lists what the rows' severities
	// would fire (replay sends no alerts).
	Alerts   []sinks.AlertRecord
	Recorded bool
	// Baselines are the baselines the rows name (by ID), for the model
	// card's provenance and intended data and the subgroups' reference.
	Baselines []*baselines.Baseline
	// Policy is the drift policy of the model (its decision threshold,
	// performance margins, fairness limits), and picks the deciding rows
	// of rows written before they were marked.
	Policy drift.Policy
	// Source says where the data came from, for the page's footer.
	Source string
	// Generated is when the report is made (its footer); zero: now.
	Generated time.Time
	// CardOnly draws the model card alone (driftwatch report --card).
	CardOnly bool
}

// baseline returns the baseline with id, or nil.
func (in *Input) baseline(id string) *baselines.Baseline {
	for _, b := range in.Baselines {
		if b != nil && b.ID == id {
			return b
		}
	}
	return nil
}

// rows returns in's rows of its model, versions and period.
func (in *Input) rows() []drift.Row {
	var out []drift.Row
	for _, r := range in.Rows {
		if r.Model != in.Model || len(in.Versions) > 0 && !slices.Contains(in.Versions, r.ModelVersion) {
			continue
		}
		if !in.From.IsZero() && r.WindowStart.Before(in.From) || !in.To.IsZero() && !r.WindowStart.Before(in.To) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// windowKey names one window of one version.
type windowKey struct {
	version string
	start   time.Time
}

// windows returns in's window summaries by version and start.
func (in *Input) windows() map[windowKey]sinks.WindowSummary {
	out := map[windowKey]sinks.WindowSummary{}
	for _, w := range in.Windows {
		if w.Model == in.Model {
			out[windowKey{w.Version, w.Start.UTC()}] = w
		}
	}
	return out
}
