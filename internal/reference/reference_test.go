package reference

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
)

var testNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func testOptions() baselines.BuildOptions {
	return baselines.BuildOptions{Now: func() time.Time { return testNow }}
}

// wantFeature is what a test checks of one baselines.Feature.
type wantFeature struct {
	name         string
	kind         baselines.Kind
	count, nulls int64
	categories   map[string]int64 // categorical only
}

func checkFeatures(t *testing.T, got []baselines.Feature, want []wantFeature) {
	t.Helper()
	if len(got) != len(want) {
		names := make([]string, len(got))
		for i, f := range got {
			names[i] = f.Name
		}
		t.Fatalf("features %v, want %d", names, len(want))
	}
	for i, w := range want {
		f := got[i]
		if f.Name != w.name || f.Kind != w.kind || f.Count != w.count || f.Nulls != w.nulls ||
			!reflect.DeepEqual(f.Categories, w.categories) {
			t.Errorf("feature %d: %s %s count %d nulls %d categories %v\nwant %+v",
				i, f.Name, f.Kind, f.Count, f.Nulls, f.Categories, w)
		}
	}
}

func TestBuildJSONL(t *testing.T) {
	path := filepath.Join("testdata", "fraud.jsonl")
	bl, sum, err := Build(path, "fraud", testOptions())
	if err != nil {
		t.Fatal(err)
	}
	wantSum := Summary{Rows: 5, Skipped: 6, OtherModels: 2,
		From: time.Date(2026, 11, 20, 10, 15, 3, 120e6, time.UTC), Until: time.Date(2026, 11, 20, 10, 15, 12, 0, time.UTC), FirstErrors: []string{
			"line 4: not_json: not a JSON object",
			"line 6: missing_field: prediction",
			`line 7: bad_timestamp: timestamp "yesterday" is not RFC 3339`,
			"line 8: wrong_type: features.amount: want number, string, bool or null",
			"line 11: missing_field: model_version",
		}}
	if !reflect.DeepEqual(sum, wantSum) {
		t.Errorf("summary\n%+v\nwant\n%+v", sum, wantSum)
	}
	if bl.Rows != 5 || bl.Model != "fraud" || bl.Source != path || !strings.HasPrefix(bl.ID, "fraud-20261120T120000Z-") {
		t.Errorf("rows %d model %s source %s id %s", bl.Rows, bl.Model, bl.Source, bl.ID)
	}
	checkFeatures(t, bl.Features, []wantFeature{
		{"age", baselines.Categorical, 2, 3, map[string]int64{"41": 1, "unknown": 1}},
		{"amount", baselines.Numeric, 4, 1, nil},
		{"country", baselines.Categorical, 4, 1, map[string]int64{"DE": 2, "FR": 1, "US": 1}},
		{"is_new_customer", baselines.Categorical, 3, 2, map[string]int64{"true": 2, "false": 1}},
	})
	if a := bl.Features[1]; a.Min != 42 || a.Max != 300 || a.Mean != (120.5+80+300+42)/4 {
		t.Errorf("amount %+v", a)
	}
	// One string prediction makes the prediction categorical.
	checkFeatures(t, []baselines.Feature{bl.Prediction}, []wantFeature{
		{"prediction", baselines.Categorical, 5, 0, map[string]int64{"0.87": 1, "0.12": 1, "0.5": 1, "0.33": 1, "0.9": 1}},
	})
	if err := bl.Validate(); err != nil {
		t.Error(err)
	}
}

func TestBuildCSV(t *testing.T) {
	opts := testOptions()
	opts.Source = "train"
	plain, sum, err := Build(filepath.Join("testdata", "train.csv"), "fraud", opts)
	if err != nil {
		t.Fatal(err)
	}
	wantSum := Summary{Rows: 4, Skipped: 2, OtherModels: 1, FirstErrors: []string{
		"line 6: 4 cells, the header has 12",
		`line 8: bare " in non-quoted-field`,
	}}
	if !reflect.DeepEqual(sum, wantSum) {
		t.Errorf("summary\n%+v\nwant\n%+v", sum, wantSum)
	}
	checkFeatures(t, plain.Features, []wantFeature{
		{"age", baselines.Numeric, 1, 3, nil},
		{"amount", baselines.Numeric, 4, 0, nil},
		{"country", baselines.Categorical, 3, 1, map[string]int64{"DE": 2, "FR": 1}},
		{"is_new_customer", baselines.Categorical, 4, 0, map[string]int64{"true": 3, "false": 1}},
		{"segment", baselines.Categorical, 4, 0, map[string]int64{"1": 2, "2": 1, "x": 1}},
		{"zip", baselines.Numeric, 4, 0, nil},
	})
	checkFeatures(t, []baselines.Feature{plain.Prediction}, []wantFeature{
		{"prediction", baselines.Numeric, 3, 1, nil},
	})
	if a := plain.Features[1]; a.Min != -2.5 || a.Max != 1000 {
		t.Errorf("amount: min %v max %v, want -2.5 and 1000 (cells trimmed, 1e3 parsed)", a.Min, a.Max)
	}

	// The gzipped copy gives the same baseline, id included.
	gz, _, err := Build(filepath.Join("testdata", "train.csv.gz"), "fraud", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBaseline(t, gz, plain) {
		t.Errorf("from train.csv.gz\n%+v\nwant\n%+v", gz, plain)
	}
}

func TestBuildGzipJSONL(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "fraud.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Source = "fraud"
	want, wantSum, err := Build(filepath.Join("testdata", "fraud.jsonl"), "fraud", opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fraud.jsonl.gz", "fraud.NDJSON.GZ", "fraud.json.gz"} {
		path := filepath.Join(t.TempDir(), name)
		writeGzip(t, path, data)
		got, sum, err := Build(path, "fraud", opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !sameBaseline(t, got, want) || !reflect.DeepEqual(sum, wantSum) {
			t.Errorf("%s: baseline or summary differ from the plain file's", name)
		}
	}
}

func writeGzip(t *testing.T, path string, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name  string
		path  string
		model string
		want  []string // substrings of the error
	}{
		{"empty file", filepath.Join("testdata", "empty.csv"), "fraud",
			[]string{`no records of model "fraud" in testdata/empty.csv: the file has no data rows`}},
		{"header only", filepath.Join("testdata", "header_only.csv"), "fraud",
			[]string{`no records of model "fraud" in testdata/header_only.csv`}},
		{"empty JSON lines", write("blank.jsonl", "\n  \n"), "fraud",
			[]string{`no records of model "fraud"`, "no data rows"}},
		{"other models only", filepath.Join("testdata", "other_models.jsonl"), "fraud",
			[]string{`no records of model "fraud" in testdata/other_models.jsonl (found 2 records of other models)`}},
		{"bad lines only", write("bad.jsonl", "{}\nnope\n"), "fraud",
			[]string{`no records of model "fraud"`, "skipped 2 bad lines, first line 1: missing_field: prediction_id"}},
		{"JSON array", filepath.Join("testdata", "array.json"), "fraud",
			[]string{"testdata/array.json", "JSON array; want JSON lines"}},
		{"no model", filepath.Join("testdata", "fraud.jsonl"), "", []string{"model is required"}},
		{"parquet", "train.parquet", "fraud", []string{"train.parquet", "parquet is not supported yet", ".csv"}},
		{"unknown extension", "train.txt", "fraud", []string{`unsupported file type ".txt"`, ".jsonl, .ndjson, .json", ".csv", ".gz", "parquet is not supported yet"}},
		{"no extension", "train", "fraud", []string{"no file extension", ".csv"}},
		{"missing file", filepath.Join(dir, "missing.csv"), "fraud", []string{"open reference file", "missing.csv"}},
		{"not gzip", write("plain.csv.gz", "amount,prediction\n1,2\n"), "fraud", []string{"plain.csv.gz as gzip: gzip: invalid header"}},
		{"truncated gzip", write("short.csv.gz", "\x1f\x8b"), "fraud", []string{"short.csv.gz as gzip: unexpected EOF"}},
		{"repeated column", write("dup.csv", "a,b,a\n1,2,3\n"), "fraud", []string{"dup.csv", `column "a" appears twice`}},
		{"no features", write("pred.csv", "prediction,label\n1,0\n"), "fraud", []string{"no features in 1 rows", "pred.csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bl, _, err := Build(tt.path, tt.model, testOptions())
			if err == nil {
				t.Fatalf("Build = %v, want an error", bl.ID)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestBuildLongLine(t *testing.T) {
	long := `{"prediction_id":"` + strings.Repeat("x", maxLineBytes) + `"}`
	good := `{"prediction_id":"p","model":"m","model_version":"1","timestamp":"2026-01-01T00:00:00Z","features":{"a":1},"prediction":1}`
	path := filepath.Join(t.TempDir(), "long.jsonl")
	if err := os.WriteFile(path, []byte(good+"\n"+long+"\n"+good+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bl, sum, err := Build(path, "m", testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if bl.Rows != 2 || sum.Skipped != 1 || sum.FirstErrors[0] != "line 2: line longer than 16 MiB" {
		t.Errorf("rows %d summary %+v", bl.Rows, sum)
	}

	path = filepath.Join(t.TempDir(), "long.csv")
	if err := os.WriteFile(path, []byte("a\n1\n"+strings.Repeat("2", maxLineBytes+1)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Build(path, "m", testOptions()); err == nil || !strings.Contains(err.Error(), "line 3: line longer than 16 MiB") {
		t.Errorf("Build of a CSV with a long line: %v", err)
	}
}

func TestCSVTyping(t *testing.T) {
	tests := []struct {
		name string
		csv  string
		want []wantFeature
	}{
		{"numbers and nulls", "x\n1\nNA\n2.5\nnan\n  \nNULL\nnone\n-3e2\n", []wantFeature{
			{"x", baselines.Numeric, 3, 5, nil}}},
		{"one word makes it categorical", "x\n1\nNA\nfoo\n1.0\n", []wantFeature{
			{"x", baselines.Categorical, 3, 1, map[string]int64{"1": 1, "foo": 1, "1.0": 1}}}},
		{"overflow counts as null", "x\n1e400\n2\n", []wantFeature{
			{"x", baselines.Numeric, 1, 1, nil}}},
		{"infinity is a number, counted as null", "x\ninf\n-Infinity\n2\n", []wantFeature{
			{"x", baselines.Numeric, 1, 2, nil}}},
		{"only nulls", "x,y\n,1\nNA,2\n", []wantFeature{
			{"x", baselines.Categorical, 0, 2, nil},
			{"y", baselines.Numeric, 2, 0, nil}}},
		{"quoted cells and byte order mark", "\ufeff\"x\",y\n\"1,5\",\"a\"\n\"2\",b\n", []wantFeature{
			{"x", baselines.Categorical, 2, 0, map[string]int64{"1,5": 1, "2": 1}},
			{"y", baselines.Categorical, 2, 0, map[string]int64{"a": 1, "b": 1}}}},
		{"not features", "prediction_id,model,model_version,timestamp,label,variant,latency_ms,x,prediction\n" +
			"p,m,1,t,0,champion,3,7,0.5\n", []wantFeature{
			{"x", baselines.Numeric, 1, 0, nil}}},
		{"CRLF", "x,y\r\n1,a\r\n2,b\r\n", []wantFeature{
			{"x", baselines.Numeric, 2, 0, nil},
			{"y", baselines.Categorical, 2, 0, map[string]int64{"a": 1, "b": 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := baselines.NewBuilder("m", testOptions())
			var sum Summary
			if err := readCSV(strings.NewReader(tt.csv), "m", b, &sum); err != nil {
				t.Fatal(err)
			}
			bl, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			checkFeatures(t, bl.Features, tt.want)
		})
	}
}

func TestLineReader(t *testing.T) {
	in := "abc\nabcdefgh\r\nab\r\n\nabcdefghijklmnopqrstuvwxyz\nlast"
	lr := newLineReader(nil, 5)
	lr.r = bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(in)), 16) // lines across buffer refills
	type result struct {
		line string
		err  error
	}
	var got []result
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		got = append(got, result{string(line), err})
	}
	want := []result{{"abc", nil}, {"", errLineTooLong}, {"ab", nil}, {"", nil}, {"", errLineTooLong}, {"last", nil}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines %v, want %v", got, want)
	}
	if lr.n != 6 {
		t.Errorf("%d lines counted, want 6", lr.n)
	}
}

func TestLineLimiter(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"12345\n12345\n12345", ""},
		{"12345\n123456\n", "line 2: line longer than 16 MiB"},
		{"123456", "line 1: line longer than 16 MiB"},
	}
	for _, tt := range tests {
		out, err := io.ReadAll(&lineLimiter{r: iotest.HalfReader(strings.NewReader(tt.in)), max: 5})
		switch {
		case tt.wantErr == "" && (err != nil || string(out) != tt.in):
			t.Errorf("%q: read %q, %v", tt.in, out, err)
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr || !errors.Is(err, errLineTooLong)):
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestFormatOf(t *testing.T) {
	tests := []struct {
		path   string
		format format
		gz     bool
	}{
		{"a.jsonl", formatJSONL, false},
		{"dir.csv/a.ndjson", formatJSONL, false},
		{"A.JSON", formatJSONL, false},
		{"a.csv", formatCSV, false},
		{"a.b.csv.gz", formatCSV, true},
		{"a.jsonl.gz", formatJSONL, true},
	}
	for _, tt := range tests {
		f, gz, err := formatOf(tt.path)
		if err != nil || f != tt.format || gz != tt.gz {
			t.Errorf("formatOf(%q) = %v, %v, %v", tt.path, f, gz, err)
		}
	}
	for _, bad := range []string{"a.gz", "a.parquet.gz", "a.tsv", "a.csv.zip"} {
		if _, _, err := formatOf(bad); err == nil {
			t.Errorf("formatOf(%q): no error", bad)
		}
	}
}

func TestSummaryKeepsFirstErrors(t *testing.T) {
	var sum Summary
	for i := range int64(8) {
		sum.skip(i+1, "bad")
	}
	if sum.Skipped != 8 || !slices.Equal(sum.FirstErrors, []string{"line 1: bad", "line 2: bad", "line 3: bad", "line 4: bad", "line 5: bad"}) {
		t.Errorf("%+v", sum)
	}
}

// TestBuildSelect: a baseline from an initial production period: one model
// version, a time range, the first hours or the first records.
func TestBuildSelect(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log.jsonl")
	var log strings.Builder
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i := range 10 {
		version := "1"
		if i%2 == 1 {
			version = "2"
		}
		fmt.Fprintf(&log, `{"prediction_id":"p%d","model":"fraud","model_version":%q,"timestamp":%q,"features":{"amount":%d},"prediction":0.5}`+"\n",
			i, version, t0.Add(time.Duration(i)*30*time.Minute).Format(time.RFC3339), i)
	}
	if err := os.WriteFile(path, []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		sel  Select
		rows int64
	}{
		{"all", Select{}, 10},
		{"version", Select{Version: "2"}, 5},
		{"first hour", Select{First: time.Hour}, 2}, // 10:00 and 10:30
		{"first 90 minutes of version 2", Select{Version: "2", First: 90 * time.Minute}, 2}, // 10:30 and 11:30
		{"first records", Select{Records: 3}, 3},
		{"range", Select{From: t0.Add(time.Hour), Until: t0.Add(2 * time.Hour)}, 2}, // 11:00, 11:30
	} {
		b, sum, err := BuildSelect(path, "fraud", testOptions(), c.sel)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if sum.Rows != c.rows || b.Rows != c.rows || sum.Unselected != 10-c.rows {
			t.Errorf("%s: %d rows (%d unselected), want %d", c.name, sum.Rows, sum.Unselected, c.rows)
		}
	}
	if _, _, err := BuildSelect(path, "fraud", testOptions(), Select{Version: "3"}); err == nil {
		t.Error("a version without records built a baseline")
	}
}

// TestBuildLabels: labels of JSON lines and CSV references make the
// baseline's label distribution and its scores by label, with CSV label
// cells written as a JSON label would be ("1.0" is "1", "True" is "true").
func TestBuildLabels(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "ref.csv")
	if err := os.WriteFile(csvPath, []byte("amount,prediction,label\n1,0.9,1.0\n2,0.2,0\n3,0.7,0\n4,0.95,1\n5,0.1,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	jsonPath := filepath.Join(dir, "ref.jsonl")
	var log strings.Builder
	for i, c := range []struct {
		pred  float64
		label string
	}{{0.9, "1"}, {0.2, "0"}, {0.7, "0"}, {0.95, "true"}, {0.1, "null"}} {
		fmt.Fprintf(&log, `{"prediction_id":"p%d","model":"m","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{"amount":%d},"prediction":%g,"label":%s}`+"\n", i, i+1, c.pred, c.label)
	}
	if err := os.WriteFile(jsonPath, []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]map[string]int64{csvPath: {"1": 2, "0": 2}, jsonPath: {"1": 1, "true": 1, "0": 2}} {
		b, _, err := Build(path, "m", testOptions())
		if err != nil {
			t.Fatal(err)
		}
		if b.Label == nil || fmt.Sprint(b.Label.Categories) != fmt.Sprint(want) || b.Label.Count != 4 || b.Label.Nulls != 1 {
			t.Errorf("%s: label %+v, want categories %v of 4 and 1 null", path, b.Label, want)
			continue
		}
		if b.Outcomes == nil || b.Outcomes.ByLabel["0"][baselines.OutcomeBin(0.2)] != 1 || b.Outcomes.ByLabel["0"][baselines.OutcomeBin(0.7)] != 1 {
			t.Errorf("%s: outcomes %+v", path, b.Outcomes)
		}
		// Errors of the four labelled scores: |0.9-1| + 0.2 + 0.7 + |0.95-1| = 1.05.
		if e := b.Errors; e == nil || e.N != 4 || math.Abs(e.SumAbs-1.05) > 1e-12 || math.Abs(e.SumSq-(0.01+0.04+0.49+0.0025)) > 1e-12 {
			t.Errorf("%s: errors %+v", path, e)
		}
	}
}

// Records fed a file's lines one at a time builds what BuildSelect builds
// from the file, and counts the same.
func TestRecordsMatchesTheFile(t *testing.T) {
	path := filepath.Join("testdata", "fraud.jsonl")
	sel := Select{From: time.Date(2026, 11, 20, 10, 15, 4, 0, time.UTC)}
	opts := testOptions()
	opts.Source = "test"
	want, wantSum, err := BuildSelect(path, "fraud", opts, sel)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRecords("fraud", opts, sel)
	for line := range strings.SplitSeq(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" { // a topic has no blank records
			r.Add([]byte(line))
		}
	}
	got, sum, err := r.Build("test records")
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.FirstErrors) == 0 || !strings.HasPrefix(sum.FirstErrors[0], "record ") {
		t.Errorf("errors %q, want them by record", sum.FirstErrors)
	}
	sum.FirstErrors, wantSum.FirstErrors = nil, nil
	if got.ID != want.ID || !reflect.DeepEqual(sum, wantSum) {
		t.Errorf("records: %s %+v; file: %s %+v", got.ID, sum, want.ID, wantSum)
	}
	if _, _, err := NewRecords("churn", testOptions(), Select{}).Build("nothing"); err == nil {
		t.Error("no error without records")
	}
}

// TestBuildTraffic: the records of one version selected from a log are
// its traffic: with a time profile (a day or more of records), the
// baseline keeps their span (Baseline.Traffic); without a version, or
// spanning less than a day, it does not. Failed predictions are left out
// and counted.
func TestBuildTraffic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log.jsonl")
	var log strings.Builder
	t0 := time.Date(2026, 11, 20, 10, 15, 0, 0, time.UTC)
	for i := range 60 { // every 30 minutes for 30 hours, 29h30m in all
		version, failed := "1", ""
		if i%3 == 2 {
			version = "2"
		}
		if i%10 == 9 {
			failed = `,"error":"timeout"`
		}
		fmt.Fprintf(&log, `{"prediction_id":"p%d","model":"fraud","model_version":%q,"timestamp":%q,"features":{"amount":%d},"prediction":0.5%s}`+"\n",
			i, version, t0.Add(time.Duration(i)*30*time.Minute).Format(time.RFC3339), i, failed)
	}
	if err := os.WriteFile(path, []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	b, sum, err := BuildSelect(path, "fraud", testOptions(), Select{Version: "1"})
	if err != nil {
		t.Fatal(err)
	}
	// Version 1: i%3 != 2, 40 records; failed: i = 9, 19, 39, 49 (29 and 59 are version 2).
	if sum.Failed != 4 || sum.Rows != 36 || b.Rows != 36 {
		t.Errorf("%d rows, %d failed; want 36 and 4", sum.Rows, sum.Failed)
	}
	want := &baselines.Traffic{From: t0, Until: t0.Add(58 * 30 * time.Minute)} // the first and the last record of version 1 (i 0 and 58)
	if b.Traffic == nil || !b.Traffic.From.Equal(want.From) || !b.Traffic.Until.Equal(want.Until) || b.ModelVersion != "1" {
		t.Errorf("traffic %+v of version %q, want %+v of 1", b.Traffic, b.ModelVersion, want)
	}
	if err := b.Validate(); err != nil {
		t.Error(err)
	}
	var rows int64
	for _, ph := range b.Phases {
		rows += ph.Rows
	}
	if rows != b.Rows {
		t.Errorf("the time profile holds %d rows, the baseline %d", rows, b.Rows)
	}
	for _, sel := range []Select{{}, {Version: "1", First: 12 * time.Hour}} {
		if b, _, err := BuildSelect(path, "fraud", testOptions(), sel); err != nil || b.Traffic != nil {
			t.Errorf("select %+v: traffic %+v (%v), want none", sel, b.Traffic, err)
		}
	}
	// The API's builds (Records, from a topic) keep the traffic too.
	r := NewRecords("fraud", testOptions(), Select{Version: "1"})
	for line := range strings.SplitSeq(strings.TrimSpace(log.String()), "\n") {
		r.Add([]byte(line))
	}
	rb, _, err := r.Build("records")
	if err != nil {
		t.Fatal(err)
	}
	if rb.Rows != b.Rows || rb.Traffic == nil || *rb.Traffic != *b.Traffic || rb.ModelVersion != "1" {
		t.Errorf("records: traffic %+v of version %q over %d rows, want %+v of 1 over %d", rb.Traffic, rb.ModelVersion, rb.Rows, b.Traffic, b.Rows)
	}
	b.Phases = nil
	if err := b.Validate(); err == nil {
		t.Error("traffic without a time profile validated")
	}
}

// sameBaseline says whether a and b are stored the same (as JSON, what
// Save writes): reflect.DeepEqual would find a missing value (NaN) of the
// multivariate model's sample unequal to itself.
func sameBaseline(t *testing.T, a, b *baselines.Baseline) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}
