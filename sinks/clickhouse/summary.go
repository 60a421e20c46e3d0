package clickhouse

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// windowKey identifies a window of a model version in one commit.
type windowKey struct {
	model, version string
	start, end     int64 // unix nanoseconds
}

func keyOf(model, version string, start, end time.Time) windowKey {
	return windowKey{model: model, version: version, start: start.UnixNano(), end: end.UnixNano()}
}

// summary is a window_summaries row: the WindowSummary and what its rows
// tell (see appender.Commit).
type summary struct {
	sinks.WindowSummary
	subjects      uint32
	drifted       []string // sorted, distinct, never nil
	maxSeverity   string
	distributions string // encodeDistributions of the window's Distributions
}

// encodeDistributions is the distributions column of a window: ds as
// encoding/json writes it, a JSON array, "[]" when there are none (also
// for nil), so that the empty string is only in rows written before the
// column existed.
// encoding/json's output is deterministic, so a retried commit's
// deduplication token is the same.
func encodeDistributions(ds []drift.Distribution) (string, error) {
	if len(ds) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(ds)
	if err != nil {
		return "", fmt.Errorf("encode distributions: %w", err)
	}
	return string(b), nil
}

// decodeDistributions reads a distributions column: nil for the empty
// string (a row written before the column existed) and for an empty array.
func decodeDistributions(s string) ([]drift.Distribution, error) {
	if s == "" {
		return nil, nil
	}
	var ds []drift.Distribution
	if err := json.Unmarshal([]byte(s), &ds); err != nil {
		return nil, fmt.Errorf("decode distributions: %w", err)
	}
	if len(ds) == 0 {
		return nil, nil
	}
	return ds, nil
}

// summarize derives each window's row from the rows of its window; dists
// are the windows' encoded distributions (encodeDistributions), one per
// window of ws. Rows of windows without a summary (late reports) are
// ignored.
func summarize(ws []sinks.WindowSummary, dists []string, rows []drift.Row) []summary {
	out := make([]summary, len(ws))
	type acc struct {
		subjects map[string]bool // subject -> has a drifted row
		rank     int             // worst severity rank seen, 0 for none
	}
	accs := make([]acc, len(ws))
	byKey := make(map[windowKey]int, len(ws))
	for i, w := range ws {
		out[i].WindowSummary = w
		out[i].distributions = dists[i]
		byKey[keyOf(w.Model, w.Version, w.Start, w.End)] = i
	}
	for i := range rows {
		r := &rows[i]
		j, ok := byKey[keyOf(r.Model, r.ModelVersion, r.WindowStart, r.WindowEnd)]
		if !ok {
			continue
		}
		a := &accs[j]
		if a.subjects == nil {
			a.subjects = make(map[string]bool)
		}
		a.subjects[r.Subject] = a.subjects[r.Subject] || r.Drifted
		if k := severityRank(r.Severity); k > 0 && (a.rank == 0 || k < a.rank) {
			a.rank = k
		}
	}
	for i := range out {
		a := &accs[i]
		out[i].subjects = clampUint32(len(a.subjects))
		out[i].drifted = []string{}
		for s, d := range a.subjects {
			if d {
				out[i].drifted = append(out[i].drifted, s)
			}
		}
		slices.Sort(out[i].drifted)
		if a.rank > 0 {
			out[i].maxSeverity = severities[a.rank-1]
		}
	}
	return out
}

// severities are the tiers rows carry, most urgent first (alerts.Sev1 to
// alerts.Sev4).
var severities = [...]string{"SEV-1", "SEV-2", "SEV-3", "SEV-4"}

// severityRank is 1 for SEV-1 (the worst) to 4 for SEV-4, and 0 for ""
// or anything else.
func severityRank(s string) int {
	if i := slices.Index(severities[:], s); i >= 0 {
		return i + 1
	}
	return 0
}

// summaryToken is the deduplication token of a window_summaries insert: a
// hash of its content, without closed_at and inserted_at, which a retry
// changes.
func summaryToken(sums []summary) string {
	h := newHasher()
	for i := range sums {
		w := &sums[i]
		h.str(w.Model)
		h.str(w.Version)
		h.time(w.Start)
		h.time(w.End)
		h.str(w.BaselineID)
		h.num(uint64(w.Records))
		h.num(uint64(w.subjects))
		h.num(uint64(len(w.drifted)))
		for _, s := range w.drifted {
			h.str(s)
		}
		h.str(w.maxSeverity)
		h.str(string(w.LabelState))
		h.str(w.distributions)
	}
	return h.token()
}
