package clickhouse

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/stats/drift"
)

// testDistributions are a numeric and a categorical subject's
// distributions, as drift.Evaluator.Distributions gives them.
func testDistributions() []drift.Distribution {
	return []drift.Distribution{
		{Family: drift.FamilyData, Subject: "amount", Kind: "numeric", Edges: []float64{0, 12.5, 40, 126},
			Reference: []float64{810.5, 1200, 989.25}, Current: []float64{90, 300, 610}},
		{Family: drift.FamilyData, Subject: "country", Kind: "categorical", Categories: []string{"DE", "FR", "__other__"},
			Reference: []float64{500, 300, 200}, Current: []float64{100, 700, 200}, OtherCells: 4},
		{Family: drift.FamilyPrediction, Subject: "prediction", Kind: "numeric", Edges: []float64{0, 1},
			Reference: []float64{3000}, Current: []float64{1000}},
	}
}

func TestDistributionsColumn(t *testing.T) {
	want := testDistributions()
	s, err := encodeDistributions(want)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := encodeDistributions(testDistributions()); again != s {
		t.Errorf("two encodings of the same distributions differ:\n%s\n%s", s, again)
	}
	got, err := decodeDistributions(s)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v, %v; want %+v", got, err, want)
	}
	for _, none := range [][]drift.Distribution{nil, {}} {
		if s, err := encodeDistributions(none); s != "[]" || err != nil {
			t.Errorf("encodeDistributions(%#v) = %q, %v; want [] (never '', which marks rows written before the column)", none, s, err)
		}
	}
	for _, s := range []string{"", "[]", "null"} {
		if got, err := decodeDistributions(s); got != nil || err != nil {
			t.Errorf("decodeDistributions(%q) = %#v, %v; want nil", s, got, err)
		}
	}
	for _, s := range []string{"{", `{"family":"data"}`, `[{"reference":"x"}]`} {
		if _, err := decodeDistributions(s); err == nil {
			t.Errorf("decodeDistributions(%q): no error", s)
		}
	}
}

// TestAppendWindowDistributions: AppendWindow encodes the distributions at
// once; a value JSON cannot hold is a permanent error there, not at Commit.
func TestAppendWindowDistributions(t *testing.T) {
	s := &Sink{version: Version{18, 16, 1}, cfg: DefaultConfig(), now: time.Now}
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	w := summaryOf(h, 10)
	w.Distributions = testDistributions()
	w.Distributions[0].Current[1] = math.NaN()
	a := s.Appender(context.Background()).(*appender)
	err := a.AppendWindow(w)
	if err == nil || !errors.Is(err, errInvalidRow) || IsRetryable(err) {
		t.Errorf("a NaN count: error = %v, want a permanent invalid-row error", err)
	}
	w.Distributions = testDistributions()
	if err := a.AppendWindow(w); err != nil {
		t.Fatal(err)
	}
	w.Distributions = w.Distributions[:1] // the same window again: replaces it
	if err := a.AppendWindow(w); err != nil {
		t.Fatal(err)
	}
	want, _ := encodeDistributions(testDistributions()[:1])
	if len(a.wins) != 1 || !slices.Equal(a.dists, []string{want}) || a.wins[0].Distributions != nil {
		t.Errorf("pending windows %+v with distributions %q, want one with %q", a.wins, a.dists, want)
	}
}

// TestStartRange: the window_start conditions of a range, rounded up to
// what the server stores, open or empty beyond what a DateTime holds.
func TestStartRange(t *testing.T) {
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	old := &Sink{}
	cur := &Sink{features: Features{DateTime64: true}}
	for _, c := range []struct {
		name     string
		s        *Sink
		from, to time.Time
		want     []string
		ok       bool
	}{
		{"open", old, time.Time{}, time.Time{}, nil, true},
		{"seconds", old, h, h.Add(time.Hour), []string{"window_start >= toDateTime('2026-11-23 02:00:00', 'UTC')", "window_start < toDateTime('2026-11-23 03:00:00', 'UTC')"}, true},
		{"a fraction of a second, rounded up", old, h.Add(time.Millisecond), h.Add(time.Hour + time.Millisecond),
			[]string{"window_start >= toDateTime('2026-11-23 02:00:01', 'UTC')", "window_start < toDateTime('2026-11-23 03:00:01', 'UTC')"}, true},
		{"milliseconds", cur, h.Add(1500 * time.Microsecond), time.Time{}, []string{"window_start >= toDateTime64('2026-11-23 02:00:00.002', 3, 'UTC')"}, true},
		{"before 1970: open", old, time.Unix(-5, 0), time.Time{}, nil, true},
		{"after 2106: open", old, time.Time{}, MaxTime.Add(time.Hour), nil, true},
		{"up to a fraction before 2106's end: open", old, time.Time{}, MaxTime.Add(time.Millisecond), nil, true},
		{"from after 2106: nothing", old, MaxTime.Add(time.Millisecond), time.Time{}, nil, false},
		{"to 1970: nothing", old, time.Time{}, MinTime, nil, false},
	} {
		got, ok := c.s.startRange(c.from, c.to)
		if ok != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, %t; want %q, %t", c.name, got, ok, c.want, c.ok)
		}
	}
}
