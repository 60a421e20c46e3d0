package consumer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/synth"
)

// twoBuilders appends each good record both ways, Decode + Append and a
// decoder's (the fast path, else scan + appendScanned), into builders of
// the same baseline, and checks that both ways judge every record alike.
type twoBuilders struct {
	t          testing.TB
	base       *baselines.Baseline
	want       *BatchBuilder
	oracle     *oracleBuilder
	d          *decoder
	tk         task
	accepted   int
	rejections map[string]int
}

func newTwoBuilders(t testing.TB, base *baselines.Baseline) *twoBuilders {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	r := newRouter(mem, routerConfig{Baselines: map[string]*baselines.Baseline{base.Model: base}, Decoders: 1})
	tb := &twoBuilders{t: t, base: base, want: NewBatchBuilder(base), oracle: newOracleBuilder(mem, base), d: r.decoders[0], rejections: map[string]int{}}
	t.Cleanup(func() {
		tb.oracle.rb.Release()
		mem.AssertSize(t, 0)
	})
	return tb
}

// got is the decoder's builder of the baseline.
func (tb *twoBuilders) got() *BatchBuilder {
	bb := tb.d.builders[modelBaseline{tb.base.Model, tb.base}]
	if bb == nil {
		bb = NewBatchBuilder(tb.base) // no record of the model yet
		tb.d.builders[modelBaseline{tb.base.Model, tb.base}] = bb
	}
	return bb
}

func (tb *twoBuilders) add(data []byte) {
	tb.t.Helper()
	r, werr := Decode(data, tb.d.maxBytes)
	tb.tk.values = append(tb.tk.values[:0], data)
	o := tb.d.one(&tb.tk, 0, data)
	gerr := o.derr
	if werr == nil && gerr != nil && gerr.Code == ReasonNoBaseline && r.Model != tb.base.Model {
		return // another model's record
	}
	if (werr == nil) != (gerr == nil) {
		tb.t.Fatalf("%q: Decode says %v, the decoder %v", data, werr, gerr)
	}
	if werr != nil {
		if w := werr.(*DecodeError); w.Code != gerr.Code || w.Detail != gerr.Detail {
			tb.t.Fatalf("%q: Decode says %v, the decoder %v", data, werr, gerr)
		}
		tb.rejections[gerr.Code]++
		return
	}
	if o.ts != r.Timestamp.UnixNano() || o.row != int32(tb.want.Len()) {
		tb.t.Fatalf("%q: outcome %+v, want time %d row %d", data, o, r.Timestamp.UnixNano(), tb.want.Len())
	}
	tb.accepted++
	tb.want.Append(&r)
	tb.oracle.append(&r)
}

// check compares the two batches, their issues and type error counts.
func (tb *twoBuilders) check() {
	tb.t.Helper()
	gb := tb.got()
	if gb.TypeErrors != tb.want.TypeErrors {
		tb.t.Fatalf("type errors %d, want %d", gb.TypeErrors, tb.want.TypeErrors)
	}
	if gi, wi := gb.TakeIssues(), tb.want.TakeIssues(); !slices.Equal(gi, wi) {
		tb.t.Fatalf("issues\n%v\nwant\n%v", gi, wi)
	}
	got, want, oracle := gb.NewRecordBatch(), tb.want.NewRecordBatch(), tb.oracle.rb.NewRecordBatch()
	defer got.Release()
	defer want.Release()
	defer oracle.Release()
	for c := range oracle.NumCols() {
		if !array.Equal(want.Column(int(c)), oracle.Column(int(c))) || !want.Schema().Field(int(c)).Equal(oracle.Schema().Field(int(c))) {
			tb.t.Fatalf("Append's column %s:\n%v\nArrow's builders\n%v", oracle.ColumnName(int(c)), want.Column(int(c)), oracle.Column(int(c)))
		}
		if !array.Equal(got.Column(int(c)), want.Column(int(c))) {
			tb.t.Fatalf("column %s:\n%v\nwant\n%v", want.ColumnName(int(c)), got.Column(int(c)), want.Column(int(c)))
		}
	}
	if got.NumRows() != oracle.NumRows() {
		tb.t.Fatalf("%d rows, want %d", got.NumRows(), oracle.NumRows())
	}
}

// schemaOf returns a baseline for the model that types each feature as
// its first value in the records does, with one feature typed the other
// way, one that no record has and one that records have left out, so that
// wrong types, absent values and unknown features come up.
func schemaOf(model string, records []Record) *baselines.Baseline {
	kinds := map[string]baselines.Kind{}
	var names []string
	pred := baselines.Numeric
	for _, r := range records {
		if r.Model != model {
			continue
		}
		if r.Prediction.Kind == String {
			pred = baselines.Categorical
		}
		for name, v := range r.Features {
			if _, ok := kinds[name]; !ok && v.Kind != Null {
				kinds[name] = baselines.Categorical
				if v.Kind == Number {
					kinds[name] = baselines.Numeric
				}
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	names = names[:len(names)-1] // unknown to the baseline
	b := &baselines.Baseline{Format: 1, ID: model + "-schema", Model: model, Prediction: baselines.Feature{Name: "prediction", Kind: pred}}
	for i, name := range names {
		k := kinds[name]
		if i == 0 { // typed the other way
			k = map[baselines.Kind]baselines.Kind{baselines.Numeric: baselines.Categorical, baselines.Categorical: baselines.Numeric}[k]
		}
		b.Features = append(b.Features, baselines.Feature{Name: name, Kind: k})
	}
	b.Features = append(b.Features, baselines.Feature{Name: "never_sent", Kind: baselines.Numeric})
	return b
}

// TestAppendScannedMatchesAppend: on the demo's stream (with its malformed
// records and duplicates), every record is judged as Decode judges it and
// the batches hold the values Append puts in them.
func TestAppendScannedMatchesAppend(t *testing.T) {
	cfg, msgs, records := demoStream(t, 3)
	for _, m := range cfg.Models {
		tb := newTwoBuilders(t, schemaOf(m.Name, records))
		for _, msg := range msgs {
			tb.add(msg)
		}
		tb.check()
		if tb.accepted < 1000 || len(tb.rejections) < 2 || tb.d.fastRecords < int64(tb.accepted)/2 {
			t.Fatalf("model %s: %d accepted (%d on the fast path), rejected %v: the stream tests too little", m.Name, tb.accepted, tb.d.fastRecords, tb.rejections)
		}
		t.Logf("model %s: %d accepted, %d on the fast path, rejected %v", m.Name, tb.accepted, tb.d.fastRecords, tb.rejections)
	}
}

// scanBaseline has numeric and categorical features that records send as
// numbers, strings, bools and nulls.
func scanBaseline() *baselines.Baseline {
	b := testBaseline()
	b.Features = append(b.Features,
		baselines.Feature{Name: "a", Kind: baselines.Categorical},
		baselines.Feature{Name: "b", Kind: baselines.Numeric},
		baselines.Feature{Name: "é", Kind: baselines.Categorical},
		baselines.Feature{Name: "", Kind: baselines.Categorical},
	)
	return b
}

func FuzzAppendScannedMatchesAppend(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"prediction_id":"a","model":"fraud","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{"a":1,"a":"x","b":true,"\u00e9":false,"":""},"prediction":"x","segments":{"g":null,"a":1e21,"a":"2"}}`))
	f.Add([]byte(`{"prediction_id":"a\ud800","model":"fraud","model_version":"1","timestamp":"2026-11-20T10:15:03+14:00","features":{"amount":"1","country":0.1,"b":-0},"prediction":1e-7,"label":false,"variant":"\u0000"}`))
	f.Add([]byte(`{"prediction_id":"a","model":"fraud","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{"\u0061":"\ud83d\ude00"},"prediction":1,"segments":{"z":true,"y":"\u00ff\xff","":0}}`))
	f.Add([]byte(`{"prediction_id":"b","model":"fraud","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{"amount":1,"new":2,"new":null,"\u001f":1},"error":"timeout"}`))
	f.Add([]byte(`{"prediction_id":"c","model":"fraud","model_version":"1","timestamp":"2026-11-20T10:15:03Z","features":{"zz":1,"amount":1},"prediction":null,"error":"e"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb := newTwoBuilders(t, scanBaseline())
		tb.d.maxBytes = 4096
		// After a good record, whose layout the fast path then expects,
		// and twice, so that the second takes the layout the first left.
		tb.add([]byte(good))
		tb.add(data)
		tb.add(data)
		tb.check()
	})
}

// TestParseRFC3339MatchesTime: where the fast parser takes a timestamp,
// time.Parse gives the same instant.
func TestParseRFC3339MatchesTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	taken := 0
	for range 200_000 {
		s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", 1960+rng.IntN(400), rng.IntN(14), rng.IntN(33), rng.IntN(26), rng.IntN(62), rng.IntN(62))
		s += pick("", ".", ".5", ".123", ".123456789", ".1234567891234", ",5")
		s += pick("Z", "z", "+00:00", "-07:30", "+23:59", "+24:00", "-00:60", "+0100", "")
		ns, ok := parseRFC3339([]byte(s))
		tm, err := time.Parse(time.RFC3339Nano, s)
		if ok {
			taken++
			if err != nil || tm.UnixNano() != ns {
				t.Fatalf("%s: fast %d, time.Parse %v %v", s, ns, tm.UnixNano(), err)
			}
		}
	}
	if taken < 10_000 {
		t.Fatalf("the fast parser took only %d timestamps", taken)
	}
}

// TestNumbersMatchStrconv: numbers parse as strconv.ParseFloat parses them,
// on and off the fast path.
func TestNumbersMatchStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var s scanner
	for i := range 300_000 {
		var text string
		switch i % 4 {
		case 0:
			text = strconv.FormatFloat(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(40)-20)), 'g', -1, 64)
		case 1:
			text = strconv.FormatFloat(math.Float64frombits(rng.Uint64()), 'e', rng.IntN(25)-1, 64)
		case 2:
			text = strconv.FormatInt(rng.Int64()>>rng.IntN(64), 10) + "." + strconv.FormatUint(rng.Uint64()>>rng.IntN(64), 10)
		default:
			text = fmt.Sprintf("%d.%0*de%d", rng.IntN(1000), rng.IntN(30), rng.IntN(1000), rng.IntN(700)-350)
		}
		if text == "NaN" || text[len(text)-1] == 'f' { // ±Inf, NaN
			continue
		}
		if i%3 == 0 {
			text = strings.ToUpper(text)
		}
		s.data = []byte(text)
		v, end, err := s.number(0)
		want, werr := strconv.ParseFloat(text, 64)
		wantOK := werr == nil && !math.IsInf(want, 0)
		if err != nil || end != len(text) || v.numOK != wantOK || wantOK && math.Float64bits(v.num) != math.Float64bits(want) {
			t.Fatalf("%s: got %v ok %v (end %d, err %v), strconv %v %v", text, v.num, v.numOK, end, err, want, werr)
		}
		x, end, ok := parseNumber(s.data, 0)
		if end != len(text) || ok != wantOK || wantOK && math.Float64bits(x) != math.Float64bits(want) {
			t.Fatalf("%s: parseNumber %v ok %v (end %d), strconv %v %v", text, x, ok, end, want, werr)
		}
	}
}

// TestStringsMatchEncodingJSON: escapes, surrogates and invalid UTF-8
// decode as encoding/json decodes them.
func TestStringsMatchEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	parts := []string{`a`, `é`, "\xff", "\xe2\x82", `\n`, `\"`, `\\`, `\/`, `\u0000`, `\u00e9`, `\ud83d\ude00`, `\ud83d`, `\ude00`, `\ud83d\u0041`, `\uDBFF\uDFFF`, `\uFFFD`, `\t`}
	var s scanner
	for range 50_000 {
		var q []byte
		q = append(q, '"')
		for range rng.IntN(6) {
			q = append(q, parts[rng.IntN(len(parts))]...)
		}
		q = append(q, '"')
		var want string
		if err := json.Unmarshal(q, &want); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		s.data, s.arena = q, s.arena[:0]
		v, _, err := s.str(0)
		if err != nil || string(s.text(v)) != want {
			t.Fatalf("%s: got %q (%v), encoding/json %q", q, s.text(v), err, want)
		}
	}
}

// TestDeepNesting: fields nest as deep as encoding/json allows, and no
// deeper.
func TestDeepNesting(t *testing.T) {
	nest := func(n int, open, close string) []byte {
		rec := []byte(`{"x":`)
		rec = append(rec, strings.Repeat(open, n)...)
		rec = append(rec, strings.Repeat(close, n)...)
		return append(append(rec, ','), good[1:]...)
	}
	for _, c := range []struct{ open, close string }{{"[", "]"}, {`{"a":[`, "]}"}} {
		var m any
		n := maxDepth / len(c.close)
		for json.Unmarshal(nest(n, c.open, c.close), &m) != nil {
			n--
		}
		if _, err := Decode(nest(n, c.open, c.close), 0); err != nil {
			t.Fatalf("%s nested %d times, as encoding/json takes: %v", c.open, n, err)
		}
		_, err := Decode(nest(n+1, c.open, c.close), 0)
		if de, ok := err.(*DecodeError); !ok || de.Code != ReasonNotJSON {
			t.Fatalf("%s nested %d times: %v, want not_json", c.open, n+1, err)
		}
	}
	// In features, a nested value is a wrong type, as deep as it is JSON.
	rec := strings.Replace(good, `"amount":120.5`, `"amount":`+strings.Repeat("[", maxDepth-2)+strings.Repeat("]", maxDepth-2), 1)
	if _, err := Decode([]byte(rec), 0); err == nil || err.(*DecodeError).Code != ReasonWrongType {
		t.Fatalf("deep feature: %v, want wrong_type", err)
	}
}

// allocRecords returns n distinct records of the scan baseline's model.
func allocRecords(n int) [][]byte {
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = fmt.Appendf(nil, `{"prediction_id":"p%d","model":"fraud","model_version":"1","timestamp":"2026-11-20T10:15:03.%03dZ",`+
			`"features":{"amount":%d.25,"country":"DE","a":"x%d","b":%g},"prediction":0.%d,"label":%d,"segments":{"g":"f","age":"30-39"},"variant":"c","latency_ms":3.5}`,
			i, i%1000, i, i%7, float64(i)/3, i%10, i%2)
	}
	return recs
}

// TestDecoderAllocations: once its builders and scratch space have grown,
// a decoder decodes and appends a record without allocating.
func TestDecoderAllocations(t *testing.T) {
	r := newRouter(memory.NewGoAllocator(), routerConfig{Baselines: map[string]*baselines.Baseline{"fraud": scanBaseline()}, Decoders: 1})
	defer r.release()
	d := r.decoders[0]
	tk := r.newTasks(1)[0]
	tk.values = allocRecords(4096)
	tk.outcomes = make([]outcome, len(tk.values))
	next := 0
	add := func() {
		if o := d.one(tk, next, tk.values[next]); o.derr != nil {
			t.Fatalf("record %d: %v", next, o.derr)
		}
		next++
	}
	for range len(tk.values) / 2 { // grow builders and scratch space
		add()
	}
	if allocs := testing.AllocsPerRun(len(tk.values)/2-1, add); allocs > 0.05 {
		t.Fatalf("%.2f allocations per record, want none (but the builders' growth)", allocs)
	}
}

// TestRouterAllocations: the hot path as a whole (decoding tasks on two
// decoders, settling them, flushing the batches) makes at most two
// allocations per record, batches included.
func TestRouterAllocations(t *testing.T) {
	const perTask = 1024
	r := newRouter(memory.NewGoAllocator(), routerConfig{Baselines: map[string]*baselines.Baseline{"fraud": scanBaseline()}, Decoders: 2, DedupCap: 1 << 20})
	defer r.release()
	run := routeAll(r, allocRecords(64*perTask), perTask)
	for range 8 {
		run()
	}
	allocs := testing.AllocsPerRun(40, run) / (2 * perTask)
	if c := r.snapshot(); c.Accepted < 48*2*perTask || c.Duplicates != 0 || len(c.DeadLetter) != 0 {
		t.Fatalf("counts %+v", c)
	}
	if allocs > 2 {
		t.Fatalf("%.2f allocations per record, want at most 2", allocs)
	}
	t.Logf("%.3f allocations per record", allocs)
}

// TestPlainRun checks the eight-bytes-at-a-time search against a byte at a
// time, at every offset of random data rich in the bytes it stops at.
func TestPlainRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	alphabet := []byte{'"', '\\', 0x00, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff, 'a', 'z', '0'}
	for range 20_000 {
		data := make([]byte, rng.IntN(40))
		for i := range data {
			if rng.IntN(4) == 0 {
				data[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				data[i] = byte(0x20 + rng.IntN(0x5f))
			}
		}
		for j := 0; j <= len(data); j++ {
			want := j
			for want < len(data) && !(data[want] == '"' || data[want] == '\\' || data[want] < 0x20 || data[want] >= 0x80) {
				want++
			}
			if got := plainRun(data, j); got != want {
				t.Fatalf("plainRun(%q, %d) = %d, want %d", data, j, got, want)
			}
		}
	}
}

// TestLayoutKey checks the word-wise key comparison against bytes.Equal
// for keys of every length up to 30, anywhere in the data, the end
// included.
func TestLayoutKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 20_000 {
		data := make([]byte, rng.IntN(40))
		for i := range data {
			data[i] = "ab"[rng.IntN(2)]
		}
		key := make([]byte, rng.IntN(min(31, len(data)+1)))
		for i := range key {
			key[i] = "ab"[rng.IntN(2)]
		}
		lk := newLayoutKey(key)
		start := rng.IntN(len(data) + 1)
		for end := start; end <= len(data); end++ {
			if got, want := lk.is(data, int32(start), int32(end)), bytes.Equal(key, data[start:end]); got != want {
				t.Fatalf("key %q against %q: %v, want %v", key, data[start:end], got, want)
			}
		}
	}
}

// TestRollbackLeavesNoBitmap: a null the fast path appended and took back
// (its record broke the contract further on) leaves nothing behind for the
// next batch, whose nulls must read as nulls.
func TestRollbackLeavesNoBitmap(t *testing.T) {
	tb := newTwoBuilders(t, scanBaseline())
	rec := func(id, amount, ts string) []byte {
		return []byte(`{"prediction_id":"` + id + `","model":"fraud","model_version":"1","features":{"amount":` + amount + `,"country":"DE"},"timestamp":"` + ts + `","prediction":0.5}`)
	}
	tb.add(rec("a", "1", "2026-11-20T10:00:00Z"))
	tb.add(rec("b", "null", "not a time")) // the fast path appends the null, then takes it back
	tb.check()
	tb.add(rec("c", "null", "2026-11-20T10:00:01Z"))
	tb.add(rec("d", "2", "2026-11-20T10:00:02Z"))
	tb.check()
	if tb.d.fastRecords < 2 || tb.rejections[ReasonBadTimestamp] != 1 {
		t.Fatalf("%d records on the fast path, rejections %v: the test did not test the fast path", tb.d.fastRecords, tb.rejections)
	}
}

// TestFastPathKeyBytes: for keys of every length up to 40, a record whose
// key differs from the layout's in any one byte is not taken for that
// layout (the fast path compares keys a word at a time).
func TestFastPathKeyBytes(t *testing.T) {
	for n := 1; n <= 40; n++ {
		key := strings.Repeat("k", n)
		base := scanBaseline()
		base.Features = append(base.Features, baselines.Feature{Name: key, Kind: baselines.Numeric})
		rec := func(id, k string) []byte {
			return []byte(`{"prediction_id":"` + id + `","model":"fraud","model_version":"1","timestamp":"2026-11-20T10:00:00Z","features":{"amount":1,"` + k + `":2,"country":"DE"},"prediction":0.5}`)
		}
		tb := newTwoBuilders(t, base)
		tb.add(rec("first", key))
		for i := range n {
			k := []byte(key)
			k[i] = 'x'
			tb.add(rec(fmt.Sprint("m", i), string(k))) // after records of key: tried against its layout
			tb.add(rec(fmt.Sprint("s", i), key))
			tb.add(rec(fmt.Sprint("t", i), key)) // the fast path again
		}
		tb.check()
		if tb.d.fastRecords < int64(n) {
			t.Fatalf("key of %d bytes: %d records on the fast path, want at least %d", n, tb.d.fastRecords, n)
		}
	}
}

// routeAll returns a function that takes the next perTask records of recs
// (round and round) for each of r's decoders, decodes, settles and flushes
// them, as a source does with a poll.
func routeAll(r *router, recs [][]byte, perTask int) func() {
	next := 0
	return func() {
		tasks := r.newTasks(len(r.decoders))
		for _, tk := range tasks {
			tk.values = append(tk.values, recs[next:next+perTask]...)
			next = (next + perTask) % len(recs)
		}
		r.decode(tasks)
		for _, tk := range tasks {
			r.settle(tk, nil)
		}
		for _, b := range r.flush(time.Time{}) {
			b.Rec.Release()
		}
		if next == 0 {
			r.reset() // the same ids come again
		}
	}
}

// TestFastPathInterleavedModels: records of two models interleaved on one
// stream each take the fast path into their own model's batch (the route
// is picked by the model a record names before its features), with the
// columns Decode + Append make.
func TestFastPathInterleavedModels(t *testing.T) {
	cfg, msgs, records := demoStream(t, 2)
	set := map[string]*baselines.Baseline{}
	want := map[string]*BatchBuilder{}
	for _, m := range cfg.Models {
		set[m.Name] = schemaOf(m.Name, records)
		want[m.Name] = NewBatchBuilder(set[m.Name])
	}
	r := newRouter(memory.NewGoAllocator(), routerConfig{Baselines: set, Decoders: 1})
	d := r.decoders[0]
	var tk task
	accepted, switches, last := 0, 0, ""
	for _, msg := range msgs {
		rec, werr := Decode(msg, 0)
		if o := d.one(&tk, 0, msg); (o.derr == nil) != (werr == nil) {
			t.Fatalf("%q: Decode says %v, the decoder %v", msg, werr, o.derr)
		}
		if werr != nil {
			continue
		}
		accepted++
		if rec.Model != last {
			switches++
			last = rec.Model
		}
		want[rec.Model].Append(&rec)
	}
	if switches < accepted/4 || d.fastRecords < int64(accepted)*9/10 {
		t.Fatalf("%d records, %d model switches, %d on the fast path: want most on the fast path across many switches", accepted, switches, d.fastRecords)
	}
	for name, base := range set {
		got := d.builders[modelBaseline{name, base}].NewRecordBatch()
		w := want[name].NewRecordBatch()
		for c := range w.NumCols() {
			if !array.Equal(got.Column(int(c)), w.Column(int(c))) {
				t.Fatalf("model %s, column %s differs", name, w.ColumnName(int(c)))
			}
		}
		got.Release()
		w.Release()
	}
	t.Logf("%d records, %d model switches, %d on the fast path", accepted, switches, d.fastRecords)
}

// TestFastPathSpaced: records with one space after separators and colons
// (Python's json.dumps writes ", " and ": ") take the fast path too;
// indented ones take the general path; both with the columns Decode +
// Append make.
func TestFastPathSpaced(t *testing.T) {
	cfg, msgs, records := demoStream(t, 1)
	pythonic := func(b []byte) []byte { // ", " and ": " outside strings
		var out []byte
		in, esc := false, false
		for _, c := range b {
			out = append(out, c)
			switch {
			case esc:
				esc = false
			case in && c == '\\':
				esc = true
			case c == '"':
				in = !in
			case !in && (c == ',' || c == ':'):
				out = append(out, ' ')
			}
		}
		return out
	}
	indented := func(b []byte) []byte {
		var out bytes.Buffer
		if json.Indent(&out, b, "", "  ") != nil {
			return b // a malformed record stays as it is
		}
		return out.Bytes()
	}
	for _, c := range []struct {
		name string
		form func([]byte) []byte
		fast bool // most records on the fast path
	}{{"python", pythonic, true}, {"indented", indented, false}} {
		t.Run(c.name, func(t *testing.T) {
			m := cfg.Models[0].Name
			tb := newTwoBuilders(t, schemaOf(m, records))
			for _, msg := range msgs {
				tb.add(c.form(msg))
			}
			tb.check()
			if c.fast && tb.d.fastRecords < int64(tb.accepted)*9/10 {
				t.Fatalf("%d of %d records on the fast path", tb.d.fastRecords, tb.accepted)
			}
		})
	}
}

// demoStream generates the demo's stream over the given number of windows:
// its configuration, every message, and the records Decode accepts.
func demoStream(t *testing.T, windows int) (synth.Config, [][]byte, []Record) {
	t.Helper()
	cfg := synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	cfg.Windows = windows
	var msgs [][]byte
	var records []Record
	if err := cfg.Generate(func(m synth.Message) error {
		msgs = append(msgs, m.Value)
		if r, err := Decode(m.Value, 0); err == nil {
			records = append(records, r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return cfg, msgs, records
}
