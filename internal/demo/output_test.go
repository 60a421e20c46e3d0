package demo

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// elapsed matches the demo's wall-clock figures, the only part of its
// output that may change from run to run: "in 1.3s (88,763/s)" and "in 2.1s".
var elapsed = regexp.MustCompile(`\bin [0-9]+\.[0-9]s( \([0-9,]+/s\))?`)

func maskElapsed(s string) string { return elapsed.ReplaceAllString(s, "in <elapsed>") }

func runDemo(t *testing.T, opts Options) (string, *Outcome) {
	t.Helper()
	var out strings.Builder
	o, err := Run(context.Background(), &out, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	return out.String(), o
}

// TestDemoSameOutput runs a small demo twice: both print the same lines,
// timings aside, count the same and write byte-identical metric rows. Late
// labels arrive in event time, so no count depends on how the goroutines
// were scheduled (run it with -cpu 1,2 and -race too).
func TestDemoSameOutput(t *testing.T) {
	dir := t.TempDir() // both runs write there: baselines name their source
	run := func() (string, *Outcome, []byte) {
		out, o := runDemo(t, Options{Out: dir, RecordsPerWindow: 1000, ReferenceRecords: 10_000})
		rows, err := os.ReadFile(o.MetricsPath)
		if err != nil {
			t.Fatal(err)
		}
		return strings.ReplaceAll(maskElapsed(out), dir, "<out>"), o, rows
	}
	out1, o1, rows1 := run()
	out2, o2, rows2 := run()
	if l1, l2 := strings.Split(out1, "\n"), strings.Split(out2, "\n"); out1 != out2 {
		for i := range min(len(l1), len(l2)) {
			if l1[i] != l2[i] {
				t.Fatalf("the two runs print differently from line %d:\n%s\n%s", i+1, l1[i], l2[i])
			}
		}
		t.Fatalf("the two runs print %d and %d lines", len(l1), len(l2))
	}
	for _, f := range []struct {
		name string
		a, b any
	}{
		{"counts", o1.Counts, o2.Counts}, {"flagged", o1.Flagged, o2.Flagged}, {"dead letters", o1.DeadLetters, o2.DeadLetters},
		{"rows", o1.Rows, o2.Rows}, {"alerts", o1.Alerts, o2.Alerts},
	} {
		if !reflect.DeepEqual(f.a, f.b) {
			t.Errorf("%s differ between two runs:\n%+v\n%+v", f.name, f.a, f.b)
		}
	}
	if !bytes.Equal(rows1, rows2) {
		t.Errorf("the two runs wrote different metric rows (%d and %d bytes)", len(rows1), len(rows2))
	}
	if o1.Counts.Windows.Labels.Relabelled == 0 {
		t.Errorf("no late label re-evaluated a window: nothing above depends on when labels arrive")
	}
}

// TestDemoREADME runs the demo as the README's first command does (default
// options, writing to ./driftwatch-demo) and checks the README's demo block
// against what it prints: each line of the block is a line of the output,
// verbatim (the wall-clock timings masked), in the same order, and lines
// next to each other in the block are next to each other in the output; a
// line "..." stands for lines the README leaves out.
func TestDemoREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the full demo")
	}
	readme, err := filepath.Abs(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := readmeDemoBlock(t, readme)
	t.Chdir(t.TempDir())
	out, _ := runDemo(t, Options{})
	got := strings.Split(maskElapsed(out), "\n")

	i, shown, gap := 0, 0, true // i: the next output line to match
	for _, line := range block {
		if strings.TrimSpace(line) == "..." {
			gap = true
			continue
		}
		want := maskElapsed(line)
		j := i
		if gap {
			for j < len(got) && got[j] != want {
				j++
			}
		}
		if j == len(got) || got[j] != want {
			t.Fatalf("README %s, demo block: line %q is not what the demo prints there (after %d matching lines); it prints:\n%s",
				readme, line, shown, out)
		}
		i, gap = j+1, false
		shown++
	}
	if shown < 10 {
		t.Fatalf("README's demo block shows %d lines of the demo's output: too few to be the demo's", shown)
	}
}

// readmeDemoBlock returns the lines of the README's first text block, the
// demo's output.
func readmeDemoBlock(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n```text\n")
	block, _, closed := strings.Cut(rest, "\n```\n")
	if !ok || !closed {
		t.Fatalf("%s has no ```text block for the demo's output", path)
	}
	return strings.Split(block, "\n")
}
