package samples

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestName(t *testing.T) {
	for n, want := range map[int]string{1: "1e0", 1000: "1e3", 100000: "1e5", 1e7: "1e7", 1234: "1234", 0: "0"} {
		if got := Name(n); got != want {
			t.Errorf("Name(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestWriteRoundTrip checks that the files hold exactly the values the Go
// benchmarks use, so that the peers time the same inputs.
func TestWriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, []int{1000}, []int{1000}); err != nil {
		t.Fatal(err)
	}
	read := func(name string) []float64 {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float64, len(b)/8)
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return v
	}
	x, y := Pair(1000)
	if !slices.Equal(read("x_1e3.f64"), x) || !slices.Equal(read("y_1e3.f64"), y) {
		t.Error("x or y file differs from Pair")
	}
	if !slices.Equal(read("ref100_1e3.f64"), Counts(x, Edges(FineBins))) {
		t.Error("ref100 file differs from Counts")
	}
	if !slices.Equal(read("errors_1e3.f64"), Errors(1000)) {
		t.Error("errors file differs from Errors")
	}
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.FineEdges, Edges(FineBins)) || len(m.Files) != 9 {
		t.Errorf("manifest: %d files, fine edges equal: %v", len(m.Files), slices.Equal(m.FineEdges, Edges(FineBins)))
	}
}

func TestInputsAreSane(t *testing.T) {
	x, y := Pair(100000)
	var sx, sy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
	}
	if mx, my := sx/1e5, sy/1e5; math.Abs(mx) > 0.02 || math.Abs(my-0.1) > 0.02 {
		t.Errorf("means %v, %v; want about 0 and 0.1", mx, my)
	}
	c := Counts(x, Edges(CoarseBins))
	for i, v := range c {
		if math.Abs(v-1e4) > 500 {
			t.Errorf("coarse bin %d holds %v of 1e5 values, want about 1e4", i, v)
		}
	}
	var e float64
	for _, v := range Errors(100000) {
		e += v
	}
	if rate := e / 1e5; math.Abs(rate-0.15) > 0.01 {
		t.Errorf("error rate %v, want about 0.15", rate)
	}
}
