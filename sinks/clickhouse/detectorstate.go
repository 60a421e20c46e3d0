package clickhouse

import (
	"context"
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// detectorColumns is detector_state's column list, in the order
// insertDetectorStates appends values.
const detectorColumns = "model, model_version, state, inserted_at"

// AppendDetectorStates adds the error-stream detectors' states after the
// commit's rows (drift.Evaluator.DetectorStates) to the pending commit;
// each replaces its model version's. states is not kept.
func (a *appender) AppendDetectorStates(states []drift.DetectorState) error {
	if a.done {
		return errors.New("append to detector_state: appender already committed or rolled back")
	}
	for _, st := range states {
		a.detectors = append(a.detectors, drift.DetectorState{Key: st.Key, State: append([]byte(nil), st.State...)})
	}
	return nil
}

func (s *Sink) insertDetectorStates(ctx context.Context, states []drift.DetectorState, version uint64) error {
	token := func() string {
		h := newHasher()
		for _, st := range states {
			h.str(st.Key.Model)
			h.str(st.Key.Version)
			h.str(string(st.State))
		}
		return h.token()
	}
	return s.send(ctx, "detector_state", detectorColumns, token, len(states), func(b driver.Batch, i int) error {
		st := &states[i]
		if err := b.Append(st.Key.Model, st.Key.Version, string(st.State), version); err != nil {
			return fmt.Errorf("detector state of %s %s: %w", st.Key.Model, st.Key.Version, err)
		}
		return nil
	})
}

// LoadDetectorStates reads the newest detector state of every model
// version (for drift.Evaluator.RestoreDetectors).
func (s *Sink) LoadDetectorStates(ctx context.Context) ([]drift.DetectorState, error) {
	rows, err := s.conn.Query(ctx, "SELECT model, model_version, state FROM detector_state FINAL")
	if err != nil {
		return nil, fmt.Errorf("read detector_state: %w", err)
	}
	defer rows.Close()
	var out []drift.DetectorState
	for rows.Next() {
		var k windows.Key
		var state string
		if err := rows.Scan(&k.Model, &k.Version, &state); err != nil {
			return nil, fmt.Errorf("read detector_state: %w", err)
		}
		out = append(out, drift.DetectorState{Key: k, State: []byte(state)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read detector_state: %w", err)
	}
	return out, nil
}
