package drift

import (
	"bytes"
	"encoding/gob"
	"fmt"

	"github.com/driftwatch/driftwatch/stats/stream"
	"github.com/driftwatch/driftwatch/windows"
)

// DetectorState is one model version's error-stream detectors (ADWIN,
// Page-Hinkley, DDM) and what they signalled on its recent windows,
// encoded: what a sink keeps, in the commit of the rows they produced, so
// that a restarted job goes on where this one stopped (RestoreDetectors).
type DetectorState struct {
	Key   windows.Key
	State []byte
}

// detectorStateV1 is DetectorState.State after its version byte.
type detectorStateV1 struct {
	ADWIN, PageHinkley, DDM []byte
	Windows                 []windowSignalsV1
}

type windowSignalsV1 struct {
	Start   int64
	N       int64
	Changes [3]int64
}

// DetectorStates encodes the detectors of the given model versions (those
// the Evaluator has not seen are left out).
func (e *Evaluator) DetectorStates(keys []windows.Key) ([]DetectorState, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []DetectorState
	for _, k := range keys {
		d := e.detectors[k]
		if d == nil {
			continue
		}
		var v detectorStateV1
		var err error
		if v.ADWIN, err = d.adwin.MarshalBinary(); err == nil {
			if v.PageHinkley, err = d.ph.MarshalBinary(); err == nil {
				v.DDM, err = d.ddm.MarshalBinary()
			}
		}
		if err != nil {
			return nil, fmt.Errorf("encode detectors of %s %s: %w", k.Model, k.Version, err)
		}
		for start, s := range d.signalled {
			v.Windows = append(v.Windows, windowSignalsV1{Start: start, N: s.n, Changes: s.changes})
		}
		var buf bytes.Buffer
		buf.WriteByte(1)
		if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
			return nil, fmt.Errorf("encode detectors of %s %s: %w", k.Model, k.Version, err)
		}
		out = append(out, DetectorState{Key: k, State: buf.Bytes()})
	}
	return out, nil
}

// RestoreDetectors makes the detectors exactly what states hold: each
// state's model version goes on from its state, and every other model
// version starts afresh. What the sink did not keep was never written (a
// window fenced off after its evaluation, scaled out): detectors that had
// read its errors would read them again when it is made again. It changes
// nothing when a state does not decode.
func (e *Evaluator) RestoreDetectors(states []DetectorState) error {
	restored := make(map[windows.Key]*errorDetectors, len(states))
	for _, st := range states {
		if len(st.State) == 0 || st.State[0] != 1 {
			return fmt.Errorf("decode detectors of %s %s: unknown format", st.Key.Model, st.Key.Version)
		}
		var v detectorStateV1
		if err := gob.NewDecoder(bytes.NewReader(st.State[1:])).Decode(&v); err != nil {
			return fmt.Errorf("decode detectors of %s %s: %w", st.Key.Model, st.Key.Version, err)
		}
		d := &errorDetectors{adwin: new(stream.ADWIN), ph: new(stream.PageHinkley), ddm: new(stream.DDM), signalled: make(map[int64]*windowSignals, len(v.Windows))}
		for _, dec := range []struct {
			name string
			f    func([]byte) error
			data []byte
		}{{"adwin", d.adwin.UnmarshalBinary, v.ADWIN}, {"page_hinkley", d.ph.UnmarshalBinary, v.PageHinkley}, {"ddm", d.ddm.UnmarshalBinary, v.DDM}} {
			if err := dec.f(dec.data); err != nil {
				return fmt.Errorf("decode %s detector of %s %s: %w", dec.name, st.Key.Model, st.Key.Version, err)
			}
		}
		for _, w := range v.Windows {
			d.signalled[w.Start] = &windowSignals{n: w.N, changes: w.Changes}
		}
		restored[st.Key] = d
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.detectors = restored
	return nil
}
