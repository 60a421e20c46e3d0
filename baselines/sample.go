package baselines

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// DefaultSampleSize is the default of BuildOptions.SampleSize.
const DefaultSampleSize = 100_000

// Sample is a feature's reference values in reference order, each reduced
// to the cell it falls in: its bin of Edges for a numeric feature, its
// category for a categorical one. Past the sample size, every Stride-th
// value is kept (values 0, Stride, 2·Stride, …), which keeps the order and
// spreads the sample over the whole reference.
//
// It lets thresholds be calibrated on the reference itself: the statistic of
// a reference sub-window of a production window's size against the rest of
// the reference shows how much that statistic varies when nothing has
// drifted (see package stats/drift).
type Sample struct {
	Stride int64 `json:"stride"`
	// Cells are bin indices (numeric) or indices into Categories.
	Cells Cells `json:"cells"`
	// Categories names the cells of a categorical feature, in the
	// baseline's category set (values past the cap are OtherCategory).
	Categories []string `json:"categories,omitempty"`
}

// Cells are small cell indices, written in JSON as the base64 of their
// little-endian uint16 form: 2 bytes a value instead of a JSON number list.
type Cells []uint16

// MarshalJSON writes c as a base64 string.
func (c Cells) MarshalJSON() ([]byte, error) {
	b := make([]byte, 2*len(c))
	for i, v := range c {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

// UnmarshalJSON reads the base64 form MarshalJSON writes.
func (c *Cells) UnmarshalJSON(data []byte) error {
	// encoding/json has checked the string already; one without escapes
	// (as MarshalJSON writes it) is its own bytes between the quotes, and
	// the base64 decoder rejects any that is not of its alphabet.
	var s []byte
	if n := len(data); n >= 2 && data[0] == '"' && data[n-1] == '"' && bytes.IndexByte(data, '\\') < 0 {
		s = data[1 : n-1]
	} else {
		var str string
		if err := json.Unmarshal(data, &str); err != nil {
			return fmt.Errorf("sample cells: %w", err)
		}
		s = []byte(str)
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	b = b[:n]
	if err != nil {
		return fmt.Errorf("sample cells: %w", err)
	}
	if len(b)%2 != 0 {
		return fmt.Errorf("sample cells: %d bytes is not a whole number of uint16", len(b))
	}
	out := make(Cells, len(b)/2)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	*c = out
	return nil
}

// NumCells is the number of distinct cells the sample can hold: the bins of
// a numeric feature or the sample's categories.
func (f *Feature) NumCells() int {
	if f.Kind == Numeric {
		return len(f.Edges) + 1
	}
	if f.Sample != nil {
		return len(f.Sample.Categories)
	}
	return 0
}

// Validate checks s against the feature it belongs to: a positive stride,
// categories of f, and cells within range.
func (s *Sample) Validate(f *Feature) error {
	if s.Stride < 1 {
		return fmt.Errorf("feature %q: sample stride %d, want at least 1", f.Name, s.Stride)
	}
	if f.Kind == Categorical {
		seen := make(map[string]bool, len(s.Categories))
		for _, c := range s.Categories {
			if _, ok := f.Categories[c]; !ok || seen[c] {
				return fmt.Errorf("feature %q: sample category %q is not one of the feature's categories, or repeated", f.Name, c)
			}
			seen[c] = true
		}
	}
	cells := f.NumCells()
	for _, c := range s.Cells {
		if int(c) >= cells {
			return fmt.Errorf("feature %q: sample cell %d out of range (%d cells)", f.Name, c, cells)
		}
	}
	return nil
}

// thin returns every stride-th element of n values (indices 0, stride, …)
// so that at most size remain, and the stride.
func thinStride(n, size int) int64 {
	if size <= 0 || n <= size {
		return 1
	}
	return int64(math.Ceil(float64(n) / float64(size)))
}
