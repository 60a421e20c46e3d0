package stream

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/driftwatch/driftwatch/internal/goldenjson"
)

// The golden file is written by testdata/golden/gen_stream.py, which runs
// River; `make golden` regenerates it (conventions, such as NaN written as
// the string "NaN", in stats/testdata/golden/goldenjson.py).
const goldenPath = "testdata/golden/stream.json"

type goldenFile struct {
	Versions map[string]string `json:"versions"`
	Cases    []goldenCase      `json:"cases"`
}

type goldenCase struct {
	Name        string             `json:"name"`
	Detector    string             `json:"detector"`
	Params      map[string]any     `json:"params"`
	Input       goldenjson.Floats  `json:"input"`
	Drifts      []int              `json:"drifts"`
	Warnings    []int              `json:"warnings"`
	Checkpoints []goldenCheckpoint `json:"checkpoints"`
}

type goldenCheckpoint struct {
	Index      int     `json:"index"`
	Width      float64 `json:"width"`
	Estimation float64 `json:"estimation"`
}

func loadGolden(t testing.TB) goldenFile {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(goldenPath))
	if err != nil {
		t.Fatalf("read golden file: %v", err)
	}
	var g goldenFile
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("decode %s: %v", goldenPath, err)
	}
	return g
}

// newFromParams builds the detector named by a golden case, applying
// River's keyword arguments over the Go defaults.
func newFromParams(detector string, params map[string]any) (Detector, error) {
	num := func(key string, dst *float64) {
		if v, ok := params[key]; ok {
			*dst = v.(float64)
		}
	}
	integer := func(key string, dst *int) {
		if v, ok := params[key]; ok {
			*dst = int(v.(float64))
		}
	}
	switch detector {
	case "adwin":
		c := DefaultADWINConfig()
		num("delta", &c.Delta)
		integer("clock", &c.Clock)
		integer("max_buckets", &c.MaxBuckets)
		integer("min_window_length", &c.MinWindowLength)
		integer("grace_period", &c.GracePeriod)
		return NewADWIN(c), c.Validate()
	case "page_hinkley":
		c := DefaultPageHinkleyConfig()
		integer("min_instances", &c.MinInstances)
		num("delta", &c.Delta)
		num("threshold", &c.Threshold)
		num("alpha", &c.Alpha)
		if m, ok := params["mode"]; ok {
			c.Mode = PageHinkleyMode(m.(string))
		}
		return NewPageHinkley(c), c.Validate()
	case "ddm":
		c := DefaultDDMConfig()
		integer("warm_start", &c.WarmStart)
		num("warning_threshold", &c.WarningThreshold)
		num("drift_threshold", &c.DriftThreshold)
		return NewDDM(c), c.Validate()
	case "eddm":
		c := DefaultEDDMConfig()
		integer("warm_start", &c.WarmStart)
		num("alpha", &c.Alpha)
		num("beta", &c.Beta)
		return NewEDDM(c), c.Validate()
	case "kswin":
		c := DefaultKSWINConfig()
		num("alpha", &c.Alpha)
		integer("window_size", &c.WindowSize)
		integer("stat_size", &c.StatSize)
		if v, ok := params["seed"]; ok {
			c.Seed = int64(v.(float64))
		}
		return NewKSWIN(c), c.Validate()
	}
	return nil, fmt.Errorf("unknown detector %q", detector)
}

func TestGoldenRiver(t *testing.T) {
	g := loadGolden(t)
	river := g.Versions["river"]
	if river == "" {
		t.Fatal("golden file does not record the River version")
	}
	perDetector := map[string]int{}
	for _, tc := range g.Cases {
		perDetector[tc.Detector]++
		t.Run(tc.Name, func(t *testing.T) {
			d, err := newFromParams(tc.Detector, tc.Params)
			if err != nil {
				t.Fatal(err)
			}
			warner, _ := d.(interface{ Warning() bool })
			adwin, _ := d.(*ADWIN)
			var drifts, warnings []int
			cp := 0
			for i, x := range tc.Input {
				if d.Update(x) {
					drifts = append(drifts, i)
				}
				if warner != nil && warner.Warning() {
					warnings = append(warnings, i)
				}
				if adwin != nil && cp < len(tc.Checkpoints) && tc.Checkpoints[cp].Index == i {
					want := tc.Checkpoints[cp]
					if got := float64(adwin.Width()); got != want.Width {
						t.Errorf("width after value %d = %v, River %v", i, got, want.Width)
					}
					if got := adwin.Estimation(); got != want.Estimation {
						t.Errorf("estimation after value %d = %v, River %v", i, got, want.Estimation)
					}
					cp++
				}
			}
			if adwin != nil && cp != len(tc.Checkpoints) {
				t.Errorf("checked %d of %d checkpoints", cp, len(tc.Checkpoints))
			}
			if !slices.Equal(drifts, tc.Drifts) {
				t.Errorf("drift indices\n got %v\nwant %v (River %s)", drifts, tc.Drifts, river)
			}
			if warner != nil && !slices.Equal(warnings, tc.Warnings) {
				t.Errorf("warning indices\n got %v\nwant %v (River %s)", warnings, tc.Warnings, river)
			}
		})
	}
	for _, det := range []string{"adwin", "page_hinkley", "ddm", "eddm", "kswin"} {
		if perDetector[det] < 10 {
			t.Errorf("golden file has %d %s cases, want at least 10", perDetector[det], det)
		}
	}
}

// decodeGoldenInto decodes the golden file into v (a struct selecting the
// sections a test needs).
func decodeGoldenInto(t testing.TB, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(goldenPath))
	if err != nil {
		t.Fatalf("read golden file: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", goldenPath, err)
	}
}

// jsonInt64 decodes a JSON integer exactly, including values above 2^53.
type jsonInt64 int64

func (j *jsonInt64) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseInt(string(b), 10, 64)
	*j = jsonInt64(v)
	return err
}
