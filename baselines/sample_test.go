package baselines

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestSampleKeepsOrderAndThins(t *testing.T) {
	opts := testOptions()
	opts.Bins = 4
	opts.SampleSize = 5
	b := NewBuilder("m", opts)
	// 12 values in a known order: a stride of 3 keeps values 0, 3, 6, 9.
	values := []float64{9, 1, 1, 2, 5, 5, 0, 7, 7, 4, 3, 3}
	for _, v := range values {
		b.AddNumber("x", v)
		b.AddCategory("c", map[bool]string{true: "hi", false: "lo"}[v >= 5])
		b.EndRow()
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	x, _ := bl.Feature("x")
	if x.Sample == nil || x.Sample.Stride != 3 {
		t.Fatalf("numeric sample %+v, want stride 3", x.Sample)
	}
	var want Cells
	for _, v := range []float64{9, 2, 0, 4} {
		want = append(want, uint16(x.Bin(v)))
	}
	if !slices.Equal(x.Sample.Cells, want) {
		t.Errorf("numeric cells %v, want %v (bins of 9, 2, 0, 4 on edges %v)", x.Sample.Cells, want, x.Edges)
	}
	c, _ := bl.Feature("c")
	if c.Sample == nil || strings.Join(c.Sample.Categories, ",") != "hi,lo" {
		t.Fatalf("categorical sample %+v", c.Sample)
	}
	// The kept rows hold 9, 2, 0 and 4: hi, lo, lo, lo.
	if got := c.Sample.Cells; !slices.Equal(got, Cells{0, 1, 1, 1}) {
		t.Errorf("categorical cells %v, want [0 1 1 1]", got)
	}
	// Building again keeps the arrival-order sample although nums are sorted now.
	again, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if x2, _ := again.Feature("x"); !slices.Equal(x2.Sample.Cells, want) {
		t.Errorf("second Build cells %v, want %v", x2.Sample.Cells, want)
	}
}

func TestSampleCappedCategoriesAndOptOut(t *testing.T) {
	opts := testOptions()
	opts.MaxCategories = 2
	b := NewBuilder("m", opts)
	for _, s := range []string{"a", "a", "a", "b", "c", "a"} {
		b.AddCategory("c", s)
		b.EndRow()
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := bl.Feature("c")
	if got := strings.Join(c.Sample.Categories, ","); got != "__other__,a" {
		t.Fatalf("categories %q", got)
	}
	if !slices.Equal(c.Sample.Cells, Cells{1, 1, 1, 0, 0, 1}) {
		t.Errorf("cells %v", c.Sample.Cells)
	}
	opts.SampleSize = -1
	b = NewBuilder("m", opts)
	b.AddNumber("x", 1)
	b.AddCategory("c", "a")
	bl, err = b.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range bl.Features {
		if f.Sample != nil {
			t.Errorf("feature %s has a sample with SampleSize -1", f.Name)
		}
	}
}

func TestSampleJSONRoundTripAndValidate(t *testing.T) {
	bl := numericBaseline(t, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	data, err := json.Marshal(bl)
	if err != nil {
		t.Fatal(err)
	}
	var back Baseline
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Features[0].Sample.Cells, bl.Features[0].Sample.Cells) {
		t.Errorf("cells changed in JSON: %v -> %v", bl.Features[0].Sample.Cells, back.Features[0].Sample.Cells)
	}
	back.Features[0].Sample.Cells[0] = 999
	if err := back.Validate(); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("Validate with a cell out of range: %v", err)
	}
	for _, bad := range []string{`"!!"`, `"AAAB"`, `3`} {
		var c Cells
		if err := json.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("cells %s decoded without error", bad)
		}
	}
}

// TestCellsJSON: cells read from the base64 MarshalJSON writes, also when
// another encoder escaped characters of it, and not from what is not
// base64 of whole uint16s.
func TestCellsJSON(t *testing.T) {
	want := Cells{0, 1, 65535, 300}
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	escaped := bytes.Replace(data, []byte("A"), []byte(`\u0041`), -1)
	if bytes.Equal(escaped, data) {
		t.Fatalf("%s has no A to escape", data)
	}
	for _, in := range [][]byte{data, escaped} {
		var got Cells
		if err := json.Unmarshal(in, &got); err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{`"AA*A"`, `"AA=="`, `12`, `"AAAA`} {
		var got Cells
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("%s: %v, want an error", bad, got)
		}
	}
}
