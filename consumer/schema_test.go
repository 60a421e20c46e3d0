package consumer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
)

// unknownNames returns row i of an unknown_features column as names; nil
// for a null.
func unknownNames(col *array.Dictionary, i int) []string {
	if col.IsNull(i) {
		return nil
	}
	var out []string
	EachUnknown(col.Dictionary().(*array.String).Value(col.GetValueIndex(i)), func(n string) { out = append(out, n) })
	return out
}

// dictValue returns row i of a dictionary column, "" for a null.
func dictValue(col *array.Dictionary, i int) string {
	if col.IsNull(i) {
		return ""
	}
	return col.Dictionary().(*array.String).Value(col.GetValueIndex(i))
}

// TestUnknownAndErrorColumns: the decoder (fast path and general path)
// keeps, per record, the names of the features its baseline does not
// know, each once and sorted, and a failed prediction's error class; a
// record with neither has nulls there.
func TestUnknownAndErrorColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := newRouter(mem, routerConfig{Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, Decoders: 1})
	defer r.release()
	d := r.decoders[0]
	rec := func(id, features, rest string) []byte {
		return fmt.Appendf(nil, `{"prediction_id":%q,"model":"fraud","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{%s}%s}`, id, features, rest)
	}
	long := strings.Repeat("n", 200) // a length of two uvarint bytes
	cases := []struct {
		data    []byte
		unknown []string
		errText string
	}{
		{rec("a", `"amount":1,"country":"DE"`, `,"prediction":0.5`), nil, ""},
		{rec("b", `"amount":1,"zeta":2,"country":"DE","alpha":null`, `,"prediction":0.5`), []string{"alpha", "zeta"}, ""},
		{rec("c", `"amount":2,"zeta":3,"country":"FR","alpha":1`, `,"prediction":0.6`), []string{"alpha", "zeta"}, ""}, // the fast path: the layout of b
		{rec("d", `"zeta":1,"zeta":2,"amount":1`, `,"error":"timeout"`), []string{"zeta"}, "timeout"},
		{rec("e", `"\u001f x":1,"`+long+`":"y","amount":3`, `,"prediction":null,"error":"model_exception"`), []string{"\x1f x", long}, "model_exception"},
		{rec("f", `"amount":1,"country":"DE"`, `,"prediction":0.5,"error":null`), nil, ""},
		{rec("g", `"amount":1,"country":"DE"`, `,"prediction":0.5,"error":"oom"`), nil, "oom"},
	}
	tk := r.newTasks(1)[0]
	for _, c := range cases {
		tk.values = append(tk.values, c.data)
	}
	d.decode(tk)
	for i, o := range tk.outcomes {
		if o.derr != nil {
			t.Fatalf("record %d: %v", i, o.derr)
		}
	}
	if d.fastRecords == 0 {
		t.Fatal("no record took the fast path")
	}
	if len(tk.batches) != 1 {
		t.Fatalf("%d batches", len(tk.batches))
	}
	b := tk.batches[0]
	defer b.Rec.Release()
	unk := b.Rec.Column(ColUnknown).(*array.Dictionary)
	errs := b.Rec.Column(ColError).(*array.Dictionary)
	pred := b.Rec.Column(ColPrediction).(*array.Float64)
	for i, c := range cases {
		if got := unknownNames(unk, i); !slices.Equal(got, c.unknown) {
			t.Errorf("record %d: unknown features %q, want %q", i, got, c.unknown)
		}
		if got := dictValue(errs, i); got != c.errText {
			t.Errorf("record %d: error %q, want %q", i, got, c.errText)
		}
	}
	if !pred.IsNull(3) || !pred.IsNull(4) || pred.Value(6) != 0.5 {
		t.Errorf("predictions of the failed records: %v", pred)
	}
}

// TestEachUnknownMalformed: a text that is not an UnknownText ends the
// names instead of reading past it.
func TestEachUnknownMalformed(t *testing.T) {
	for _, text := range []string{"\x05ab", "\xff", "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01a", "\x01a\x09b"} {
		var got []string
		EachUnknown(text, func(n string) { got = append(got, n) })
		if len(got) > 1 || len(got) == 1 && got[0] != "a" {
			t.Errorf("%q: names %q", text, got)
		}
	}
	text := appendUnknownText(nil, []string{"b", "", "a", "b"})
	var got []string
	EachUnknown(string(text), func(n string) { got = append(got, n) })
	if !slices.Equal(got, []string{"", "a", "b"}) {
		t.Errorf("names %q, want the three sorted, each once", got)
	}
}

// TestDecodeFailedPrediction: a record with "error" needs no prediction,
// keeps one it has, and is held to the other rules as any record.
func TestDecodeFailedPrediction(t *testing.T) {
	head := `{"prediction_id":"a","model":"m","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{"x":1}`
	for _, c := range []struct {
		rest, code, errText string
		pred                Value
	}{
		{`,"error":"timeout"}`, "", "timeout", Value{}},
		{`,"prediction":null,"error":"timeout"}`, "", "timeout", Value{}},
		{`,"prediction":"cat","error":"partial"}`, "", "partial", Value{Kind: String, Str: "cat"}},
		{`,"prediction":0.5,"error":null}`, "", "", Value{Kind: Number, Num: 0.5}},
		{`,"error":null}`, ReasonMissingField, "", Value{}},
		{`}`, ReasonMissingField, "", Value{}},
		{`,"error":""}`, ReasonMissingField, "", Value{}},
		{`,"error":503}`, ReasonWrongType, "", Value{}},
		{`,"error":{"class":"timeout"}}`, ReasonWrongType, "", Value{}},
		{`,"prediction":true,"error":"timeout"}`, ReasonWrongType, "", Value{}},
		{`,"prediction":1e400,"error":"timeout"}`, ReasonWrongType, "", Value{}},
		{`,"error":"timeout","error":null}`, ReasonMissingField, "", Value{}},
	} {
		r, err := Decode([]byte(head+c.rest), 0)
		var de *DecodeError
		switch {
		case c.code == "" && err != nil:
			t.Errorf("%s: %v", c.rest, err)
		case c.code != "" && (!errors.As(err, &de) || de.Code != c.code):
			t.Errorf("%s: %v, want %s", c.rest, err, c.code)
		case c.code == "" && (r.Error != c.errText || r.Prediction != c.pred):
			t.Errorf("%s: error %q prediction %+v, want %q %+v", c.rest, r.Error, r.Prediction, c.errText, c.pred)
		}
	}
}
