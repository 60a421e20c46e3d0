package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSlope(t *testing.T) {
	x := []float64{0, 1, 2, 3, 4}
	y := []float64{1, 3, 5, 7, 9}
	b, se := slope(x, y)
	if b != 2 || se != 0 {
		t.Fatalf("slope = %v ± %v, want 2 ± 0", b, se)
	}
	if b, _ := slope(x[:2], y[:2]); !math.IsNaN(b) {
		t.Fatalf("slope of 2 points = %v, want NaN", b)
	}
}

func TestSummarizeFlat(t *testing.T) {
	for _, tc := range []struct {
		name string
		lag  func(t float64) int64
		flat bool
	}{
		{"sawtooth", func(t float64) int64 { return int64(math.Mod(t, 3) * 1000) }, true},
		{"growing", func(t float64) int64 { return int64(t * 5000) }, false},
	} {
		var samples []Sample
		for i := 1; i <= 120; i++ {
			samples = append(samples, Sample{T: float64(i), Produced: 10_000, FoldLag: tc.lag(float64(i)), CPU: []float64{50}, RSS: []float64{100}})
		}
		s := summarize(samples, 10*time.Second, 10_000, time.Second)
		if s.Flat != tc.flat {
			t.Errorf("%s: flat = %t (%s), want %t", tc.name, s.Flat, s.FlatWhy, tc.flat)
		}
	}
}

func TestWriteSectionKeepsTheRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	if err := os.WriteFile(path, []byte("# Other\n\ntext\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := &Result{Started: time.Unix(0, 0).UTC()}
	for range 2 {
		if err := writeSection(path, res, "x.svg"); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(path)
	s := string(b)
	if strings.Count(s, sectionBegin) != 1 || strings.Count(s, sectionEnd) != 1 || !strings.HasSuffix(s, "# Other\n\ntext\n") {
		t.Fatalf("file after two writes:\n%s", s)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -2500: "-2,500"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}
