package baselines

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLiveSwapAndAt(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	a, b, c := &Baseline{ID: "a", Model: "m"}, &Baseline{ID: "b", Model: "m"}, &Baseline{ID: "c", Model: "m", ModelVersion: "2"}
	l := NewLive(map[string]*Baseline{"m": a})
	if ch := l.Swap(map[string]*Baseline{"m": b, VersionKey("m", "2"): c}, t0); len(ch) != 2 {
		t.Fatalf("changed %q, want m and its version 2", ch)
	}
	if got := l.Load()["m"]; got != b {
		t.Fatalf("Load: %v, want b", got)
	}
	for _, tc := range []struct {
		version string
		start   time.Time
		want    *Baseline
	}{
		{"1", t0.Add(-time.Hour), a}, // before the swap: the first set, for every earlier window
		{"2", t0.Add(-time.Hour), a},
		{"1", t0, b},
		{"2", t0.Add(time.Hour), c},
	} {
		if got := l.At("m", tc.version, tc.start); got != tc.want {
			t.Errorf("At(m, %s, %s) = %v, want %s", tc.version, tc.start, got, tc.want.ID)
		}
	}
	// A from before the last swap's counts as the last swap's.
	l.Swap(map[string]*Baseline{"m": a}, t0.Add(-24*time.Hour))
	if got := l.At("m", "1", t0.Add(-time.Hour)); got != a {
		t.Errorf("a window before both swaps: %v, want a", got.ID)
	}
	if got := l.At("m", "1", t0.Add(time.Minute)); got != a {
		t.Errorf("after the third swap: %v, want a", got.ID)
	}
	for _, id := range []string{"a", "b", "c"} {
		if l.ByID("m", id) == nil {
			t.Errorf("ByID(m, %s): forgotten", id)
		}
	}
}

func TestStampSeesChanges(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stamp := func() string {
		t.Helper()
		s, _, err := Stamp(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	write("a.json", "{}")
	s0 := stamp()
	write("notes.txt", "not a baseline")
	if stamp() != s0 {
		t.Error("a file that is not a baseline changed the stamp")
	}
	write(promotedFile, "m\ta\n")
	s1 := stamp()
	if s1 == s0 {
		t.Error("a promotion left the stamp as it was")
	}
	write("b.json", "{}")
	if stamp() == s1 {
		t.Error("a new baseline left the stamp as it was")
	}
	if _, _, err := Stamp(filepath.Join(dir, "missing")); err == nil {
		t.Error("no error for a missing directory")
	}
}
