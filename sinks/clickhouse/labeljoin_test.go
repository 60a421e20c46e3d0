package clickhouse

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/windows"
)

func TestAppendLabelsRejects(t *testing.T) {
	s := &Sink{version: Version{18, 16, 1}, cfg: DefaultConfig(), now: time.Now}
	a := s.Appender(context.Background()).(*appender)
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	good := consumer.Label{PredictionID: "p", Model: "fraud", Time: h, Value: consumer.Value{Kind: consumer.Number, Num: 1}}
	// A label the table cannot hold is left out and counted; the others
	// are kept (it was a permanent error for all of them).
	for name, l := range map[string]consumer.Label{
		"zero time":   {PredictionID: "p", Model: "fraud"},
		"before 1970": {PredictionID: "p", Model: "fraud", Time: time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)},
		"after 2106":  {PredictionID: "p", Model: "fraud", Time: time.Date(2106, 2, 7, 6, 28, 16, 0, time.UTC)},
	} {
		if err := a.AppendLabels([]consumer.Label{good, l}); err != nil {
			t.Errorf("%s: %v, want the label left out", name, err)
		}
	}
	if len(a.labels) != 3 || s.Rejected("labels", RejectTimeOutOfRange) != 3 {
		t.Errorf("appended %d labels, rejected %d; want 3 and 3", len(a.labels), s.Rejected("labels", RejectTimeOutOfRange))
	}
	if err := a.AppendPredictionKeys(nil); err != nil {
		t.Fatal(err)
	}
	if err := a.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := a.AppendLabels([]consumer.Label{good}); err == nil {
		t.Error("AppendLabels after Rollback: no error")
	}
	if err := a.AppendPredictionKeys([]windows.PredictionKey{{Model: "fraud", ID: 1}}); err == nil {
		t.Error("AppendPredictionKeys after Rollback: no error")
	}
	// Appending nothing leaves nothing to commit: no server needed.
	b := s.Appender(context.Background()).(*appender)
	if err := b.AppendLabels(nil); err != nil {
		t.Fatal(err)
	}
	if err := b.AppendPredictionKeys(nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Errorf("Commit of nothing: %v", err)
	}
}

func TestJoinTokens(t *testing.T) {
	h := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	keys := func() []windows.PredictionKey {
		return []windows.PredictionKey{{Model: "fraud", Version: "1", ID: 1, Time: h.UnixMilli(), Prediction: math.NaN(), Decided: true, Segments: "gender=f"}}
	}
	if a, b := keys(), keys(); keysToken(a) != keysToken(b) {
		t.Error("equal keys give different tokens")
	}
	for name, change := range map[string]func(k *windows.PredictionKey){
		"model":   func(k *windows.PredictionKey) { k.Model = "churn" },
		"version": func(k *windows.PredictionKey) { k.Version = "2" },
		"id":      func(k *windows.PredictionKey) { k.ID++ },
		"time":    func(k *windows.PredictionKey) { k.Time++ },
		"prediction": func(k *windows.PredictionKey) {
			k.Prediction = math.Float64frombits(math.Float64bits(k.Prediction) + 1)
		},
		"decided":  func(k *windows.PredictionKey) { k.Decided = false },
		"selected": func(k *windows.PredictionKey) { k.Selected = true },
		"inline":   func(k *windows.PredictionKey) { k.Inline = true },
		"segments": func(k *windows.PredictionKey) { k.Segments = "" },
		"variant":  func(k *windows.PredictionKey) { k.Variant = "shadow" },
	} {
		ks := keys()
		change(&ks[0])
		if keysToken(ks) == keysToken(keys()) {
			t.Errorf("changing a key's %s keeps the token", name)
		}
	}
	labels := func() []consumer.Label {
		return []consumer.Label{{PredictionID: "p", Model: "fraud", Time: h, Value: consumer.Value{Kind: consumer.Number, Num: 1}}}
	}
	if a, b := labels(), labels(); labelsToken(a) != labelsToken(b) {
		t.Error("equal labels give different tokens")
	}
	for name, change := range map[string]func(l *consumer.Label){
		"model": func(l *consumer.Label) { l.Model = "churn" },
		"id":    func(l *consumer.Label) { l.PredictionID = "q" },
		"time":  func(l *consumer.Label) { l.Time = l.Time.Add(time.Millisecond) },
		"value": func(l *consumer.Label) { l.Value.Num = 0 },
		"kind":  func(l *consumer.Label) { l.Value = consumer.Value{Kind: consumer.String, Str: "1"} },
	} {
		ls := labels()
		change(&ls[0])
		if labelsToken(ls) == labelsToken(labels()) {
			t.Errorf("changing a label's %s keeps the token", name)
		}
	}
}

// TestLabelValue: what labels stores of a Value (Text and Kind) reads
// back as the same Value.
func TestLabelValue(t *testing.T) {
	for _, v := range []consumer.Value{
		{Kind: consumer.Number, Num: 1},
		{Kind: consumer.Number, Num: 0.1},
		{Kind: consumer.Number, Num: -3.5e-300},
		{Kind: consumer.Number, Num: 123456789012345680},
		{Kind: consumer.String, Str: "fraud"},
		{Kind: consumer.String, Str: ""},
		{Kind: consumer.Bool, Num: 1, Str: "true"},
		{Kind: consumer.Bool, Num: 0, Str: "false"},
		{},
	} {
		got, err := labelValue(v.Text(), v.Kind.String())
		if err != nil || got != v {
			t.Errorf("labelValue(%q, %q) = %+v, %v; want %+v", v.Text(), v.Kind, got, err, v)
		}
	}
	if got, err := labelValue("x", "a kind from the future"); err != nil || got != (consumer.Value{Kind: consumer.String, Str: "x"}) {
		t.Errorf("unknown kind: %+v, %v; want the string x", got, err)
	}
	if _, err := labelValue("one", "number"); err == nil {
		t.Error("a number label that is not a number: no error")
	}
}

func TestInternerBounded(t *testing.T) {
	in := newInterner()
	a := strings.Clone("fraud")
	if got := in.of(a); got != "fraud" || in.of(strings.Clone("fraud")) != "fraud" || len(in) != 1 {
		t.Errorf("interner holds %d strings after one distinct, want 1", len(in))
	}
	for i := range 2 * maxInterned {
		in.of(strings.Repeat("x", i))
	}
	if len(in) != maxInterned {
		t.Errorf("interner holds %d strings, want at most %d", len(in), maxInterned)
	}
}

func TestTimeLiteral(t *testing.T) {
	at := time.Date(2026, 11, 23, 2, 0, 5, 678e6, time.FixedZone("CET", 3600))
	old := &Sink{}
	if got, want := old.timeLiteral(at), "toDateTime('2026-11-23 01:00:05', 'UTC')"; got != want {
		t.Errorf("timeLiteral on 18.16 = %s, want %s", got, want)
	}
	cur := &Sink{features: Features{DateTime64: true}}
	if got, want := cur.timeLiteral(at), "toDateTime64('2026-11-23 01:00:05.678', 3, 'UTC')"; got != want {
		t.Errorf("timeLiteral with DateTime64 = %s, want %s", got, want)
	}
}
