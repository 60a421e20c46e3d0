package baselines

import (
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// groupRef builds a baseline from rows of (score, gender, label), label ""
// for none, each row's label added before its segment when labelFirst.
func groupRef(t *testing.T, labelFirst bool, rows ...struct {
	score         float64
	gender, label string
}) *Baseline {
	t.Helper()
	b := NewBuilder("m", testOptions())
	for _, r := range rows {
		b.AddNumber("x", r.score)
		b.AddPredictionNumber(r.score)
		if labelFirst && r.label != "" {
			b.AddLabel(r.label, r.score, true)
		}
		if r.gender != "" {
			b.AddSegment("gender", r.gender, r.score)
		}
		if !labelFirst && r.label != "" {
			b.AddLabel(r.label, r.score, true)
		}
		b.EndRow()
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return bl
}

type scored = struct {
	score         float64
	gender, label string
}

// TestGroupOutcomes: a labelled row's score is counted under its group and
// label, in the bin Groups counts it in, whichever of AddSegment and
// AddLabel comes first; unlabelled rows and rows without segments are
// not; the field survives Save and Load.
func TestGroupOutcomes(t *testing.T) {
	rows := []scored{
		{0.91, "f", "1"}, {0.91, "f", "0"}, {0.12, "f", "0"}, {0.5, "f", ""},
		{0.3, "m", "true"}, {0.999, "m", "0"}, {0.3, "", "1"},
	}
	bins := func(counts map[int]int64) []int64 {
		b := make([]int64, OutcomeBins)
		for i, n := range counts {
			b[i] = n
		}
		return b
	}
	want := map[string]map[string]map[string][]int64{"gender": {
		"f": {"1": bins(map[int]int64{91: 1}), "0": bins(map[int]int64{91: 1, 12: 1})},
		"m": {"true": bins(map[int]int64{30: 1}), "0": bins(map[int]int64{99: 1})},
	}}
	for _, labelFirst := range []bool{false, true} {
		bl := groupRef(t, labelFirst, rows...)
		if !reflect.DeepEqual(bl.GroupOutcomes, want) {
			t.Errorf("label first %v: group outcomes %v, want %v", labelFirst, bl.GroupOutcomes, want)
		}
		if g := bl.Groups["gender"]; g["f"][50] != 1 || g["f"][91] != 2 || g["m"][30] != 1 {
			t.Errorf("groups %v", g)
		}
		path := filepath.Join(t.TempDir(), "b.json")
		if err := bl.Save(path); err != nil {
			t.Fatal(err)
		}
		got, err := Load(path)
		if err != nil || !reflect.DeepEqual(got.GroupOutcomes, want) {
			t.Errorf("loaded: %v, %v", got.GroupOutcomes, err)
		}
	}
	// Without labels, or without segments: none; an older baseline (no
	// group_outcomes) loads.
	unlabelled := groupRef(t, false, scored{0.4, "f", ""}, scored{0.6, "m", ""})
	if unlabelled.GroupOutcomes != nil || unlabelled.Groups == nil {
		t.Errorf("unlabelled reference: groups %v, group outcomes %v", unlabelled.Groups, unlabelled.GroupOutcomes)
	}
	path := filepath.Join(t.TempDir(), "old.json")
	if err := unlabelled.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Errorf("baseline without group_outcomes: %v", err)
	}
}

// TestGroupOutcomesLabelCap: a reference whose scored labels have more
// than MaxGroupLabels texts (not a classifier's) keeps no group outcomes,
// and still its groups.
func TestGroupOutcomesLabelCap(t *testing.T) {
	var rows []scored
	for i := range MaxGroupLabels {
		rows = append(rows, scored{0.5, "f", strconv.Itoa(i)})
	}
	if bl := groupRef(t, false, rows...); len(bl.GroupOutcomes["gender"]["f"]) != MaxGroupLabels {
		t.Fatalf("%d labels: group outcomes %v", MaxGroupLabels, bl.GroupOutcomes)
	}
	rows = append(rows, scored{0.5, "m", "many"}, scored{0.7, "f", "1"})
	bl := groupRef(t, false, rows...)
	if bl.GroupOutcomes != nil || bl.Groups["gender"]["f"][70] != 1 {
		t.Errorf("%d labels: group outcomes %v, groups %v", MaxGroupLabels+1, bl.GroupOutcomes, bl.Groups)
	}
}

func TestGroupOutcomesValidate(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(*Baseline)
		want   string
	}{
		{"group not in groups", func(b *Baseline) { b.GroupOutcomes["gender"]["z"] = b.GroupOutcomes["gender"]["f"] }, "group_outcomes gender=z: not in groups"},
		{"short bins", func(b *Baseline) { b.GroupOutcomes["gender"]["f"]["1"] = []int64{1} }, "want 100 non-negative counts"},
		{"negative count", func(b *Baseline) { b.GroupOutcomes["gender"]["f"]["1"][3] = -1 }, "want 100 non-negative counts"},
		{"more than groups", func(b *Baseline) { b.GroupOutcomes["gender"]["f"]["1"][91] = 5 }, "more than groups' 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bl := groupRef(t, false, scored{0.91, "f", "1"}, scored{0.91, "f", "0"}, scored{0.2, "m", "0"})
			if err := bl.Validate(); err != nil {
				t.Fatal(err)
			}
			c.mutate(bl)
			if err := bl.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Validate = %v, want %q", err, c.want)
			}
		})
	}
}
