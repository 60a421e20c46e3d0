package consumer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/synth"
)

func testBaseline() *baselines.Baseline {
	return &baselines.Baseline{
		Format: 1, ID: "fraud-test", Model: "fraud",
		Features: []baselines.Feature{
			{Name: "amount", Kind: baselines.Numeric, Count: 4, Edges: []float64{0, 10, 100}, Counts: []int64{0, 2, 1, 1}, Sums: []float64{0, 8, 50, 100}},
			{Name: "country", Kind: baselines.Categorical, Count: 4, Categories: map[string]int64{"DE": 3, "FR": 1}},
		},
		Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Numeric, Count: 4, Edges: []float64{0, 1}, Counts: []int64{0, 4, 0}, Sums: []float64{0, 2, 0}},
	}
}

func line(id, model string, ts time.Time, amount any, country any) string {
	rec := map[string]any{
		"prediction_id": id, "model": model, "model_version": "1", "timestamp": ts.Format(time.RFC3339Nano),
		"features": map[string]any{"amount": amount, "country": country, "unknown": 1}, "prediction": 0.5,
	}
	b, _ := json.Marshal(rec)
	return string(b)
}

func TestBatchBuilderColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	bb := NewBatchBuilder(testBaseline())
	defer bb.Release()
	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i, l := range []string{
		line("a", "fraud", ts, 5.5, "DE"),
		line("b", "fraud", ts, nil, "FR"),
		line("c", "fraud", ts, "lots", true),
	} {
		r, err := Decode([]byte(l), 0)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		bb.Append(&r)
	}
	rec := bb.NewRecordBatch()
	defer rec.Release()
	if rec.NumRows() != 3 || int(rec.NumCols()) != FirstFeatureCol+2 {
		t.Fatalf("shape %dx%d", rec.NumRows(), rec.NumCols())
	}
	amount := rec.Column(FirstFeatureCol).(*array.Float64)
	if amount.Value(0) != 5.5 || !amount.IsNull(1) || !amount.IsNull(2) {
		t.Errorf("amount column: %v", amount)
	}
	if bb.TypeErrors != 1 {
		t.Errorf("type errors = %d, want 1 (a string for a numeric feature)", bb.TypeErrors)
	}
	country := rec.Column(FirstFeatureCol + 1).(*array.Dictionary)
	dict := country.Dictionary().(*array.String)
	got := []string{dict.Value(country.GetValueIndex(0)), dict.Value(country.GetValueIndex(1)), dict.Value(country.GetValueIndex(2))}
	if strings.Join(got, ",") != "DE,FR,true" {
		t.Errorf("country column: %v", got)
	}
	if v, _ := rec.Schema().Metadata().GetValue("baseline_id"); v != "fraud-test" {
		t.Errorf("schema metadata baseline_id = %q", v)
	}
	if bb.Len() != 0 {
		t.Errorf("builder not reset: %d", bb.Len())
	}
}

func TestFileSourceRoutesAndDeadLetters(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	input := strings.Join([]string{
		line("a", "fraud", ts, 1.0, "DE"),
		"",
		"{not json",
		line("a", "fraud", ts.Add(time.Minute), 2.0, "DE"), // duplicate id
		line("b", "other", ts, 1.0, "DE"),                  // no baseline
		line("c", "fraud", ts.Add(2*time.Minute), 3.0, "FR"),
		strings.Repeat("x", 300),
		line("d", "fraud", ts.Add(-time.Minute), 4.0, "FR"),
	}, "\n")
	var dlq bytes.Buffer
	src := NewFileSource(mem, strings.NewReader(input), "in.jsonl", FileConfig{
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, MaxRecordBytes: 256, BatchRecords: 2, DeadLetter: &dlq,
	})
	out := make(chan Batch, 10)
	if err := src.Run(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	var rows int64
	var lastWM time.Time
	for b := range out {
		rows += b.Rec.NumRows()
		if b.Model != "fraud" || b.Watermark.Before(lastWM) {
			t.Errorf("batch model %s watermark %v after %v", b.Model, b.Watermark, lastWM)
		}
		lastWM = b.Watermark
		b.Ack(nil)
		b.Rec.Release()
	}
	if rows != 3 {
		t.Errorf("rows = %d, want 3", rows)
	}
	if !lastWM.Equal(ts.Add(2 * time.Minute)) {
		t.Errorf("watermark = %v, want the largest timestamp", lastWM)
	}
	c := src.Counts()
	want := map[string]int64{ReasonNotJSON: 1, ReasonNoBaseline: 1, ReasonTooBig: 1}
	if fmt.Sprint(c.DeadLetter) != fmt.Sprint(want) || c.Duplicates != 1 || c.Accepted != 3 || c.Records != 7 {
		t.Errorf("counts = %+v", c)
	}
	lines := readDeadLetterLines(t, &dlq)
	if len(lines) != 3 || lines[0].Line != 3 || lines[0].Record != "{not json" || lines[1].Reason != ReasonNoBaseline || lines[2].Line != 7 {
		t.Errorf("dead letters: %+v", lines)
	}
}

// TestBatchBuilderIssues: values stored as null because their key was
// absent or their type wrong are listed per row and feature; explicit nulls
// are not.
func TestBatchBuilderIssues(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	bb := NewBatchBuilder(testBaseline())
	defer bb.Release()
	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i, l := range []string{
		line("a", "fraud", ts, 5.5, "DE"), // fine
		line("b", "fraud", ts, nil, nil),  // explicit nulls: not issues
		line("c", "fraud", ts, "lots", 7), // a string for a number; a number as a category is fine
		`{"prediction_id":"d","model":"fraud","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{},"prediction":"yes"}`,
	} {
		r, err := Decode([]byte(l), 0)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		bb.Append(&r)
	}
	got := bb.TakeIssues()
	bb.NewRecordBatch().Release()
	want := []Issue{{2, 0, WrongType}, {3, -1, WrongType}, {3, 0, Absent}, {3, 1, Absent}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("issues %v, want %v", got, want)
	}
	if again := bb.TakeIssues(); len(again) != 0 {
		t.Errorf("issues not reset: %v", again)
	}
}

// FuzzSegments: a record's segments survive the segments column's text
// form whenever attribute names hold neither '=' nor U+001F (values may
// hold anything but U+001F).
func FuzzSegments(f *testing.F) {
	f.Add("gender", "f", "age_band", "30-39")
	f.Add("a", "x=y", "b", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		segs := map[string]string{k1: v1, k2: v2}
		for k, v := range segs {
			if k == "" || strings.ContainsAny(k, "=\x1f") || strings.ContainsRune(v, '\x1f') {
				return
			}
		}
		text, _ := appendSegments(nil, nil, segs)
		got := map[string]string{}
		EachSegment(string(text), func(attr, value string) { got[attr] = value })
		if fmt.Sprint(got) != fmt.Sprint(segs) {
			t.Fatalf("segments %q became %q via %q", segs, got, text)
		}
	})
}

// readDeadLetterLines decodes the dead-letter lines a source wrote to r.
func readDeadLetterLines(t *testing.T, r io.Reader) []DeadLetterLine {
	t.Helper()
	var lines []DeadLetterLine
	dec := json.NewDecoder(r)
	for dec.More() {
		var d DeadLetterLine
		if err := dec.Decode(&d); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, d)
	}
	return lines
}

// TestFileSourceLongLines: lines longer than the reader's 64 KiB buffer
// are read whole when within the record limit and cut to it (too_big)
// past it; the lines around them keep their numbers.
func TestFileSourceLongLines(t *testing.T) {
	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	long := strings.Replace(line("long", "fraud", ts, 1.0, "DE"), `"features"`, `"pad":"`+strings.Repeat("p", 200_000)+`","features"`, 1)
	input := strings.Join([]string{
		line("a", "fraud", ts, 1.0, "DE"),
		long,
		strings.Repeat("x", 700_000),
		line("c", "fraud", ts.Add(time.Minute), 3.0, "FR"),
		long[:150_000], // cut, no newline: the end of the input
	}, "\n")
	var dlq bytes.Buffer
	src := NewFileSource(memory.NewGoAllocator(), strings.NewReader(input), "in.jsonl", FileConfig{
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, MaxRecordBytes: 500_000, DeadLetter: &dlq,
	})
	out := make(chan Batch, 10)
	if err := src.Run(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for b := range out {
		col := b.Rec.Column(ColPredictionID).(*array.String)
		for i := range col.Len() {
			ids = append(ids, col.Value(i))
		}
		b.Rec.Release()
	}
	if fmt.Sprint(ids) != "[a long c]" {
		t.Errorf("accepted %v, want [a long c]", ids)
	}
	lines := readDeadLetterLines(t, &dlq)
	if len(lines) != 2 || lines[0].Line != 3 || lines[0].Reason != ReasonTooBig || len(lines[0].Record) != 500_000 ||
		lines[1].Line != 5 || lines[1].Reason != ReasonNotJSON || len(lines[1].Record) != 150_000 {
		for _, l := range lines {
			t.Logf("dead letter line %d %s %s (%d bytes)", l.Line, l.Reason, l.Detail, len(l.Record))
		}
		t.Fatalf("%d dead letters, want line 3 too_big (500,000 bytes kept) and line 5 not_json", len(lines))
	}
}

// TestFileSourceSameOnAnyCores: a file gives the same batches (rows,
// issues, watermarks), counts and dead letters whether one decoder or
// several decode it: settling in order is what the result depends on.
func TestFileSourceSameOnAnyCores(t *testing.T) {
	cfg := synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	cfg.Windows = 2
	var in bytes.Buffer
	var records []Record
	if err := cfg.Generate(func(m synth.Message) error {
		in.Write(m.Value)
		in.WriteByte('\n')
		if r, err := Decode(m.Value, 0); err == nil {
			records = append(records, r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	set := map[string]*baselines.Baseline{}
	for _, m := range cfg.Models[:1] { // the other model's records have no baseline
		set[m.Name] = schemaOf(m.Name, records)
	}
	run := func(decoders int) string {
		var dlq bytes.Buffer
		fc := FileConfig{Baselines: set, BatchRecords: 1000, DeadLetter: &dlq}
		src := NewFileSource(memory.NewGoAllocator(), bytes.NewReader(in.Bytes()), "demo", fc)
		src.rt = newRouter(memory.NewGoAllocator(), routerConfig{Baselines: set, DedupCap: DefaultDedupCapacity, Decoders: decoders})
		out := make(chan Batch, 1000)
		if err := src.Run(context.Background(), out); err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		for b := range out {
			fmt.Fprintf(&sb, "batch %s %d rows, watermark %s, issues %v\n", b.Model, b.Rec.NumRows(), b.Watermark, b.Issues)
			for c := range b.Rec.NumCols() {
				fmt.Fprintf(&sb, "%s: %v\n", b.Rec.ColumnName(int(c)), b.Rec.Column(int(c)))
			}
			b.Rec.Release()
		}
		fmt.Fprintf(&sb, "counts %+v\ndead letters %s", src.Counts(), dlq.String())
		return sb.String()
	}
	one := run(1)
	if strings.Contains(one, "Duplicates:0 ") || !strings.Contains(one, `"reason":"not_json"`) || strings.Count(one, "batch ") < 10 {
		t.Fatalf("the stream tests too little:\n%.2000s", one)
	}
	for _, n := range []int{2, 3, 8} {
		if got := run(n); got != one {
			t.Fatalf("%d decoders give other batches than one:\n%.3000s\nwant\n%.3000s", n, got, one)
		}
	}
}
