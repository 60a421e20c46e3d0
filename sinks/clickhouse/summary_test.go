package clickhouse

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// windowAppender is the capability the pipeline asserts on an Appender.
type windowAppender interface {
	sinks.Appender
	AppendWindow(sinks.WindowSummary) error
}

// summaryOf is the WindowSummary of testRows(start, ...).
func summaryOf(start time.Time, records int64) sinks.WindowSummary {
	return sinks.WindowSummary{Model: "fraud", Version: "1.4.2", Start: start, End: start.Add(time.Hour),
		BaselineID: "fraud-20261120-abc", Records: records}
}

func TestSummarize(t *testing.T) {
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	rows := testRows(h, 0.25) // amount psi, amount ks, country js (drifted, SEV-3)
	extra := rows[0]
	extra.Family, extra.Subject, extra.Metric, extra.Drifted, extra.Severity = drift.FamilyPrediction, "prediction", "psi", true, "SEV-2"
	quality := rows[0]
	quality.Family, quality.Metric, quality.Drifted, quality.Severity = drift.FamilyQuality, drift.MetricNullRate, true, "SEV-4" // amount again, another family
	odd := rows[0]
	odd.Subject, odd.Severity = "age", "SEV-0" // not a tier: ignored
	other := testRows(h.Add(time.Hour), 1)     // the next window
	other[2].Severity = "SEV-1"
	otherVersion := testRows(h, 1) // same window, another model version
	for i := range otherVersion {
		otherVersion[i].ModelVersion = "1.5.0"
		otherVersion[i].Severity = "SEV-1"
	}
	longer := testRows(h, 1) // same start, another end
	for i := range longer {
		longer[i].WindowEnd = h.Add(2 * time.Hour)
		longer[i].Severity = "SEV-1"
	}
	all := slices.Concat(rows, []drift.Row{extra, quality, odd}, other, otherVersion, longer)

	empty := summaryOf(h.Add(5*time.Hour), 0)
	got := summarize([]sinks.WindowSummary{summaryOf(h, 4000), empty, summaryOf(h.Add(time.Hour), 10)}, []string{"[1]", "[]", "[3]"}, all)
	want := []summary{
		{WindowSummary: summaryOf(h, 4000), subjects: 4, drifted: []string{"amount", "country", "prediction"}, maxSeverity: "SEV-2", distributions: "[1]"},
		{WindowSummary: empty, subjects: 0, drifted: []string{}, maxSeverity: "", distributions: "[]"},
		{WindowSummary: summaryOf(h.Add(time.Hour), 10), subjects: 2, drifted: []string{"country"}, maxSeverity: "SEV-1", distributions: "[3]"},
	}
	if len(got) != len(want) {
		t.Fatalf("summarize gave %d summaries, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !reflect.DeepEqual(g.WindowSummary, w.WindowSummary) || g.subjects != w.subjects || !slices.Equal(g.drifted, w.drifted) ||
			g.drifted == nil || g.maxSeverity != w.maxSeverity || g.distributions != w.distributions {
			t.Errorf("summary %d = %+v, want %+v", i, g, w)
		}
	}
	if got := summarize(nil, nil, all); len(got) != 0 {
		t.Errorf("summarize without summaries = %v, want none", got)
	}
}

func TestSeverityRank(t *testing.T) {
	for s, want := range map[string]int{"SEV-1": 1, "SEV-2": 2, "SEV-3": 3, "SEV-4": 4, "": 0, "SEV-5": 0, "sev-1": 0, "critical": 0} {
		if got := severityRank(s); got != want {
			t.Errorf("severityRank(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestSummaryToken(t *testing.T) {
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	base := func() []summary {
		return summarize([]sinks.WindowSummary{summaryOf(h, 4000)}, []string{`[{"family":"data"}]`}, testRows(h, 0.25))
	}
	if a, b := base(), base(); summaryToken(a) != summaryToken(b) {
		t.Error("equal summaries give different tokens")
	}
	for name, change := range map[string]func(s []summary){
		"records":       func(s []summary) { s[0].Records++ },
		"baseline":      func(s []summary) { s[0].BaselineID = "other" },
		"end":           func(s []summary) { s[0].End = s[0].End.Add(time.Second) },
		"subjects":      func(s []summary) { s[0].subjects++ },
		"drifted":       func(s []summary) { s[0].drifted = []string{"amount"} },
		"severity":      func(s []summary) { s[0].maxSeverity = "SEV-1" },
		"label":         func(s []summary) { s[0].LabelState = []byte{1, 2} },
		"distributions": func(s []summary) { s[0].distributions = `[{"family":"prediction"}]` },
	} {
		s := base()
		change(s)
		if summaryToken(s) == summaryToken(base()) {
			t.Errorf("changing %s keeps the token", name)
		}
	}
}

func TestAppendWindowWithoutServer(t *testing.T) {
	s := &Sink{version: Version{18, 16, 1}, cfg: DefaultConfig(), now: time.Now}
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

	a, ok := s.Appender(context.Background()).(windowAppender)
	if !ok {
		t.Fatal("the ClickHouse appender has no AppendWindow")
	}
	for name, w := range map[string]sinks.WindowSummary{
		"sub-second start": summaryOf(h.Add(500*time.Millisecond), 1),
		"empty window":     {Model: "fraud", Version: "1", Start: h, End: h},
		"end before start": {Model: "fraud", Version: "1", Start: h, End: h.Add(-time.Hour)},
	} {
		err := a.AppendWindow(w)
		if !errors.Is(err, errInvalidRow) || IsRetryable(err) || !strings.Contains(err.Error(), "window summary") {
			t.Errorf("%s: error = %v, want a permanent invalid-row error", name, err)
		}
	}
	s.features.DateTime64 = true
	if err := a.AppendWindow(summaryOf(h.Add(500*time.Millisecond), 1)); err != nil {
		t.Errorf("millisecond window with DateTime64: %v", err)
	}
	// The same window again replaces the first.
	if err := a.AppendWindow(summaryOf(h, 1)); err != nil {
		t.Fatal(err)
	}
	if err := a.AppendWindow(summaryOf(h, 2)); err != nil {
		t.Fatal(err)
	}
	if ws := a.(*appender).wins; len(ws) != 2 || ws[1].Records != 2 {
		t.Errorf("pending summaries %+v, want the millisecond window and the second summary of %s", ws, h)
	}
	if err := a.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := a.AppendWindow(summaryOf(h, 1)); err == nil {
		t.Error("AppendWindow after Rollback: no error")
	}
	if err := a.Commit(); err == nil {
		t.Error("Commit after Rollback: no error")
	}
}

func TestTruncateUTF8(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short", "abc", 4, "abc"},
		{"exact", "abcd", 4, "abcd"},
		{"ascii", "abcdef", 4, "abcd"},
		{"character ends at the cut", "abé" + "z", 4, "abé"},
		{"two-byte character across the cut", "abcé", 4, "abc"},
		{"three-byte character across the cut", "ab€", 4, "ab"},
		{"four-byte character across the cut", "a😀", 2, "a"},
		{"four-byte character, last byte cut", "a😀", 4, "a"},
		{"four-byte character at the start", "😀x", 3, ""},
		{"not UTF-8", "ab\xff\xfe\xfd\xfc", 4, "ab\xff\xfe"},
		{"stray continuation bytes", "\x80\x80\x80\x80\x80\x80", 4, "\x80\x80\x80\x80"},
		{"replacement character is a character", "a\uFFFD", 2, "a"},
		{"zero", "abc", 0, ""},
	} {
		got := truncateUTF8(tc.in, tc.max)
		if got != tc.want || len(got) > tc.max {
			t.Errorf("%s: truncateUTF8(%q, %d) = %q, want %q", tc.name, tc.in, tc.max, got, tc.want)
		}
	}
	// Any valid text stays valid, and loses at most three bytes.
	text := strings.Repeat("driftwatch ü € 😀 ", 200)
	for n := range 300 {
		got := truncateUTF8(text, MaxExcerptBytes+n)
		if !utf8.ValidString(got) || len(got) < MaxExcerptBytes+n-3 || !strings.HasPrefix(text, got) {
			t.Fatalf("truncateUTF8(text, %d) = %d bytes, valid %t", MaxExcerptBytes+n, len(got), utf8.ValidString(got))
		}
	}
}

// TestWritesRejectWithoutServer: rows the tables cannot hold are refused
// before anything is sent (the Sink here has no connection), with a
// permanent error naming the table; nothing to write needs no server.
func TestWritesRejectWithoutServer(t *testing.T) {
	s := &Sink{version: Version{18, 16, 1}, cfg: DefaultConfig(), now: time.Now}
	ctx := context.Background()
	if err := s.WriteDeadLetters(ctx, nil); err != nil {
		t.Errorf("WriteDeadLetters(nil): %v", err)
	}
	if err := s.WriteBaselines(ctx, nil, "x"); err != nil {
		t.Errorf("WriteBaselines(nil): %v", err)
	}
	// Dead letters the table cannot hold as given are written all the
	// same, their times clamped (TestDeadLettersOutOfRange, against the
	// server).
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	b := testBaseline(t)
	for name, bad := range map[string]*baselines.Baseline{
		"nil":        nil,
		"no id":      {Model: "fraud", CreatedAt: now},
		"no model":   {ID: "x", CreatedAt: now},
		"zero time":  {ID: "x", Model: "fraud"},
		"before1970": {ID: "x", Model: "fraud", CreatedAt: time.Unix(-1, 0)},
	} {
		err := s.WriteBaselines(ctx, []*baselines.Baseline{b, bad}, "")
		if !errors.Is(err, errInvalidRow) || IsRetryable(err) || !strings.Contains(err.Error(), "into baselines") {
			t.Errorf("%s: error = %v, want a permanent invalid-row error naming baselines", name, err)
		}
	}
}

// testBaseline builds a small baseline as `driftwatch baseline` does.
func testBaseline(t *testing.T) *baselines.Baseline {
	t.Helper()
	bld := baselines.NewBuilder("fraud", baselines.BuildOptions{
		Now:    func() time.Time { return time.Date(2026, 11, 20, 9, 30, 15, 250e6, time.UTC) },
		Source: "train.csv", ModelVersion: "1.4.2", Bins: 4,
	})
	for i := range 200 {
		bld.AddNumber("amount", float64(i%37)*3.5)
		bld.AddCategory("country", []string{"DE", "FR", "ÉS"}[i%3])
		if i%10 == 0 {
			bld.AddNull("age")
		} else {
			bld.AddNumber("age", float64(20+i%50))
		}
		bld.AddPredictionNumber(float64(i%100) / 100)
		bld.EndRow()
	}
	b, err := bld.Build()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEncodeBaselineIsSave: the document column holds the bytes of the
// baseline's file, which Load reads back.
func TestEncodeBaselineIsSave(t *testing.T) {
	b := testBaseline(t)
	path := filepath.Join(t.TempDir(), "b.json")
	if err := b.Save(path); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := encodeBaseline(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != string(file) {
		t.Errorf("document differs from the file Save writes:\n%s\nfile:\n%s", doc, file)
	}
}

func TestAppendWindowCopiesLabelState(t *testing.T) {
	s := &Sink{version: Version{18, 16, 1}, cfg: DefaultConfig(), now: time.Now}
	a := s.Appender(context.Background()).(*appender)
	w := summaryOf(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), 1)
	w.LabelState = []byte{1, 2, 3}
	if err := a.AppendWindow(w); err != nil {
		t.Fatal(err)
	}
	w.LabelState[0] = 9 // the caller's buffer, reused
	if got := a.wins[0].LabelState; !slices.Equal(got, []byte{1, 2, 3}) {
		t.Errorf("appended label state = %v, want the bytes as appended", got)
	}
}
