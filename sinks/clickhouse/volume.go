package clickhouse

import (
	"context"
	"fmt"

	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// volumeWindows is how many of each model version's newest windows
// LoadWindowVolumes reads: what drift.Evaluator keeps of its volume
// history (four weeks of hourly windows).
const volumeWindows = 2048

// LoadWindowVolumes reads the record counts of every model version's
// newest closed windows, at most volumeWindows each, from
// window_summaries (for drift.Evaluator.RestoreVolumes: the volume
// expectation of a restarted job goes on from the windows before it).
func (s *Sink) LoadWindowVolumes(ctx context.Context) ([]drift.WindowVolume, error) {
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT model, model_version, window_start, window_end, records FROM window_summaries FINAL
		ORDER BY model, model_version, window_start DESC LIMIT %d BY model, model_version`, volumeWindows))
	if err != nil {
		return nil, fmt.Errorf("read window volumes from window_summaries: %w", err)
	}
	defer rows.Close()
	var out []drift.WindowVolume
	for rows.Next() {
		var v drift.WindowVolume
		var k windows.Key
		if err := rows.Scan(&k.Model, &k.Version, &v.Start, &v.End, &v.Records); err != nil {
			return nil, fmt.Errorf("read window volumes from window_summaries: %w", err)
		}
		v.Key, v.Start, v.End = k, v.Start.UTC(), v.End.UTC()
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read window volumes from window_summaries: %w", err)
	}
	return out, nil
}
