package consumer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
)

// TestEventTimeRange: predictions and labels alike accept event times from
// MinEventTime to MaxEventTime (exclusive), whatever the offset they are
// written with, and reject the others as bad_timestamp: before 2000 (1900,
// 1969, the zero time), from 2100 on (past ClickHouse's DateTime).
func TestEventTimeRange(t *testing.T) {
	for _, c := range []struct {
		ts string
		ok bool
	}{
		{"2000-01-01T00:00:00Z", true},
		{"1999-12-31T23:30:00-01:00", true}, // 2000-01-01T00:30Z
		{"2026-11-20T10:15:03.120Z", true},
		{"2099-12-31T23:59:59.999999999Z", true},
		{"1999-12-31T23:59:59.999Z", false},
		{"2000-01-01T00:30:00+01:00", false}, // 1999-12-31T23:30Z
		{"1969-12-31T23:59:59Z", false},
		{"1900-01-01T00:00:00Z", false},
		{"0001-01-01T00:00:00Z", false},
		{"2100-01-01T00:00:00Z", false},
		{"2106-02-07T06:28:16Z", false},
		{"9999-12-31T23:59:59Z", false},
	} {
		rec := strings.Replace(good, `"2026-11-20T10:15:03.120Z"`, `"`+c.ts+`"`, 1)
		lab := strings.Replace(goodLabel, `"2026-11-27T08:00:00Z"`, `"`+c.ts+`"`, 1)
		_, rerr := Decode([]byte(rec), 0)
		_, lerr := DecodeLabel([]byte(lab), 0)
		for what, err := range map[string]error{"prediction": rerr, "label": lerr} {
			var de *DecodeError
			switch {
			case c.ok && err != nil:
				t.Errorf("%s with timestamp %s: %v, want accepted", what, c.ts, err)
			case !c.ok && (!errors.As(err, &de) || de.Code != ReasonBadTimestamp || !strings.Contains(de.Detail, "outside the accepted 2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z")):
				t.Errorf("%s with timestamp %s: %v, want bad_timestamp naming the range", what, c.ts, err)
			}
		}
	}
}

// TestFileSourceRejectsOldTimes: replay dead-letters a record of 1900 as
// bad_timestamp, as the Kafka source does, and windows the rest.
func TestFileSourceRejectsOldTimes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	old := strings.Replace(good, `"2026-11-20T10:15:03.120Z"`, `"1900-01-01T00:00:00Z"`, 1)
	old = strings.Replace(old, `"7d1e"`, `"old"`, 1)
	var dlq bytes.Buffer
	src := NewFileSource(mem, strings.NewReader(good+"\n"+old+"\n"), "in.jsonl", FileConfig{
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, DeadLetter: &dlq,
	})
	out := make(chan Batch, 10)
	if err := src.Run(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	var rows int64
	for b := range out {
		rows += b.Rec.NumRows()
		b.Rec.Release()
	}
	var d DeadLetterLine
	if err := json.Unmarshal(dlq.Bytes(), &d); err != nil {
		t.Fatalf("dead letter %q: %v", dlq.String(), err)
	}
	if rows != 1 || d.Line != 2 || d.Reason != ReasonBadTimestamp || src.Counts().DeadLetter[ReasonBadTimestamp] != 1 {
		t.Errorf("rows %d, dead letter %+v, counts %+v; want 1 row and line 2 dead-lettered as bad_timestamp", rows, d, src.Counts())
	}
}

// TestMaxFuture: run's max-future check (a decoder reading the clock) and
// CheckFuture, which producers apply, agree: an event time up to maxFuture
// ahead of the clock is accepted, one a nanosecond further ahead is
// bad_timestamp with the same detail, and a maxFuture of 0 checks nothing.
func TestMaxFuture(t *testing.T) {
	ts := time.Date(2026, 11, 20, 10, 15, 3, 120e6, time.UTC) // good's timestamp
	for _, c := range []struct {
		now time.Time
		max time.Duration
		ok  bool
	}{
		{ts.Add(-time.Hour), time.Hour, true},
		{ts.Add(-time.Hour - time.Nanosecond), time.Hour, false},
		{ts.Add(-time.Minute - time.Nanosecond), time.Minute, false},
		{ts.Add(-24 * time.Hour), 0, true},
	} {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		r := newRouter(mem, routerConfig{Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, MaxFuture: c.max,
			Now: func() time.Time { return c.now }, Decoders: 1})
		tk := r.newTasks(1)[0]
		tk.values = append(tk.values, []byte(good))
		r.decode([]*task{tk})
		var got error
		if d := tk.outcomes[0].derr; d != nil {
			got = d
		}
		for _, b := range tk.batches {
			b.Rec.Release()
		}
		r.release()
		mem.AssertSize(t, 0)
		want := CheckFuture(ts, c.now, c.max)
		var de *DecodeError
		switch {
		case c.ok && (got != nil || want != nil):
			t.Errorf("now %s, max_future %s: run says %v, CheckFuture %v; want both accepted", c.now, c.max, got, want)
		case !c.ok && (!errors.As(got, &de) || de.Code != ReasonBadTimestamp || want == nil || got.Error() != want.Error()):
			t.Errorf("now %s, max_future %s: run says %v, CheckFuture %v; want the same bad_timestamp", c.now, c.max, got, want)
		}
	}
}
