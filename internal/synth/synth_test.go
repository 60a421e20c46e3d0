package synth

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/driftwatch/driftwatch/consumer"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testStart = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// smallConfig is the demo scenario shrunk to 4 windows, with drift from
// window 2 and more bad records and duplicates, for fast tests.
func smallConfig() Config {
	c := Demo(testStart)
	c.Windows = 4
	c.RecordsPerWindow = 1000
	c.BadRate = 0.02
	c.DuplicateRate = 0.02
	for i := range c.Models {
		for j := range c.Models[i].Drifts {
			c.Models[i].Drifts[j].FromWindow = 2
		}
	}
	return c
}

func collect(t testing.TB, c Config) []Message {
	t.Helper()
	var out []Message
	if err := c.Generate(func(m Message) error {
		out = append(out, m)
		return nil
	}); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return out
}

func digest(msgs []Message) [32]byte {
	h := sha256.New()
	for _, m := range msgs {
		fmt.Fprintf(h, "%s|%s|%d|%s|%t|%d|%t\n", m.Key, m.Value, m.Time.UnixNano(), m.Model, m.Bad, m.Window, m.Duplicate)
	}
	return [32]byte(h.Sum(nil))
}

func TestGenerateDeterministic(t *testing.T) {
	c := smallConfig()
	a, b := collect(t, c), collect(t, c)
	if digest(a) != digest(b) {
		t.Fatal("two runs of the same config differ")
	}
	c.Seed++
	if digest(collect(t, c)) == digest(a) {
		t.Fatal("another seed gave the same records")
	}
}

// goodValues returns the values of good, first-sent records of model, in
// order.
func goodValues(msgs []Message, model string) [][]byte {
	var out [][]byte
	for _, m := range msgs {
		if m.Model == model && !m.Bad && !m.Duplicate {
			out = append(out, m.Value)
		}
	}
	return out
}

func TestGenerateModelsIndependent(t *testing.T) {
	both := smallConfig()
	alone := smallConfig()
	alone.Models = alone.Models[:1] // fraud only
	want := goodValues(collect(t, both), "fraud")
	got := goodValues(collect(t, alone), "fraud")
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatal("fraud's records change when churn is removed")
	}
}

func TestGenerateBadRateKeepsGoodRecords(t *testing.T) {
	clean := smallConfig()
	clean.BadRate = 0
	dirty := smallConfig()
	dirty.BadRate = 0.1
	all := make(map[string]bool)
	for _, m := range collect(t, clean) {
		all[string(m.Value)] = true
	}
	var good int
	for _, m := range collect(t, dirty) {
		if !m.Bad {
			good++
			if !all[string(m.Value)] {
				t.Fatalf("good record with BadRate 0.1 is not among those with BadRate 0: %s", m.Value)
			}
		}
	}
	if good == 0 {
		t.Fatal("no good records")
	}
}

func TestGenerateDriftLeavesOtherFeatures(t *testing.T) {
	drifted := smallConfig()
	still := smallConfig()
	for i := range still.Models {
		still.Models[i].Drifts = nil
	}
	a, b := collect(t, drifted), collect(t, still)
	if len(a) != len(b) {
		t.Fatalf("%d records with drift, %d without", len(a), len(b))
	}
	exp := drifted.Expected()
	var changed int
	for i := range a {
		if a[i].Bad {
			continue
		}
		fa, fb := features(t, a[i].Value), features(t, b[i].Value)
		for name, va := range fa {
			drifts := slices.Contains(exp[a[i].Model], name) && a[i].Window >= 2
			same := va == fb[name]
			if drifts && !same {
				changed++
			}
			if !drifts && !same {
				t.Fatalf("%s.%s in window %d: %v with drift elsewhere, %v without", a[i].Model, name, a[i].Window, va, fb[name])
			}
		}
	}
	if changed == 0 {
		t.Fatal("drift changed no value")
	}
}

func features(t testing.TB, v []byte) map[string]any {
	t.Helper()
	var r struct {
		Features map[string]any `json:"features"`
	}
	if err := json.Unmarshal(v, &r); err != nil {
		t.Fatalf("decode %s: %v", v, err)
	}
	return r.Features
}

func TestGenerateCounts(t *testing.T) {
	c := smallConfig()
	msgs := collect(t, c)
	type mw struct {
		model  string
		window int
	}
	sent := make(map[mw]int)
	var bad, dups int
	firstSeen := make(map[string][]byte)
	for _, m := range msgs {
		if m.Shadow {
			t.Fatalf("a shadow's record %s without Model.ShadowShare", m.Key)
		}
		if m.Duplicate {
			dups++
			first, ok := firstSeen[m.Model+"/"+string(m.Key)]
			if !ok {
				t.Fatalf("duplicate %s sent before its original", m.Key)
			}
			if !bytes.Equal(first, m.Value) || m.Bad {
				t.Fatalf("duplicate %s differs from its original", m.Key)
			}
			continue
		}
		sent[mw{m.Model, m.Window}]++
		if m.Bad {
			bad++
			continue
		}
		id := m.Model + "/" + string(m.Key)
		if _, ok := firstSeen[id]; ok {
			t.Fatalf("prediction_id %s sent twice without Duplicate", m.Key)
		}
		firstSeen[id] = m.Value
	}
	for _, m := range c.Models {
		for w := range c.Windows {
			if got := sent[mw{m.Name, w}]; got != c.RecordsPerWindow {
				t.Errorf("model %s window %d: %d records, want %d", m.Name, w, got, c.RecordsPerWindow)
			}
		}
	}
	slots := c.Windows * c.RecordsPerWindow * len(c.Models)
	if got, want := len(msgs), slots+dups; got != want {
		t.Errorf("%d messages, want %d records + %d duplicates", got, slots, dups)
	}
	// Binomial counts within 5 standard deviations of their mean.
	within := func(what string, got int, n int, p float64) {
		mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
		if math.Abs(float64(got)-mean) > 5*sd {
			t.Errorf("%d %s, want about %.0f", got, what, mean)
		}
	}
	within("bad records", bad, slots, c.BadRate)
	within("duplicates", dups, slots-bad, c.DuplicateRate)
}

var (
	uuidRE      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	timestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// checkRecord checks that v is a good contract record of model m and
// returns its event time.
func checkRecord(t *testing.T, v []byte, m *Model) time.Time {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal(v, &r); err != nil {
		t.Fatalf("good record is not JSON: %v: %s", err, v)
	}
	str := func(k string) string {
		s, ok := r[k].(string)
		if !ok || s == "" {
			t.Fatalf("%s: %v, want a non-empty string: %s", k, r[k], v)
		}
		return s
	}
	if id := str("prediction_id"); !uuidRE.MatchString(id) {
		t.Errorf("prediction_id %q is not a UUID", id)
	}
	if str("model") != m.Name || str("model_version") != m.Version {
		t.Errorf("model %v %v, want %s %s", r["model"], r["model_version"], m.Name, m.Version)
	}
	ts := str("timestamp")
	if !timestampRE.MatchString(ts) {
		t.Errorf("timestamp %q is not RFC 3339 UTC with milliseconds", ts)
	}
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		t.Fatalf("timestamp: %v", err)
	}
	feats, ok := r["features"].(map[string]any)
	if !ok || len(feats) != len(m.Features) {
		t.Fatalf("features %v: want an object of %d features", r["features"], len(m.Features))
	}
	for _, f := range m.Features {
		x, ok := feats[f.Name]
		if !ok {
			t.Fatalf("feature %s missing: %s", f.Name, v)
		}
		var typeOK bool
		switch x := x.(type) {
		case nil:
			typeOK = f.NullRate > 0
		case float64:
			typeOK = f.Kind.numeric() && (!f.Integer && f.Kind != Poisson || x == math.Trunc(x))
		case string:
			typeOK = f.Kind == Categorical && slices.Contains(f.Categories, x)
		case bool:
			typeOK = f.Kind == Bool
		}
		if !typeOK {
			t.Errorf("feature %s (%v): value %#v", f.Name, f.Kind, x)
		}
	}
	p, ok := r["prediction"].(float64)
	if !ok || p < 0 || p > 1 {
		t.Errorf("prediction %v: want a number in [0, 1]", r["prediction"])
	}
	scores, ok := r["scores"].(map[string]any)
	if !ok || len(scores) != 2 || scores[m.Classes[0]] != p || math.Abs(scores[m.Classes[1]].(float64)+p-1) > 1e-9 {
		t.Errorf("scores %v with prediction %v", r["scores"], p)
	}
	if l, ok := r["label"]; !ok || l != nil {
		t.Errorf("label %v: want null", l)
	}
	seg, ok := r["segments"].(map[string]any)
	if !ok || (seg["gender"] != "f" && seg["gender"] != "m") || seg["age_band"] == nil {
		t.Errorf("segments %v", r["segments"])
	}
	if x := r["variant"]; x != "champion" && x != "challenger" {
		t.Errorf("variant %v", x)
	}
	if l, ok := r["latency_ms"].(float64); !ok || l <= 0 {
		t.Errorf("latency_ms %v", r["latency_ms"])
	}
	// Keys in the fixed order of the model's features.
	var raw struct {
		Features json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(v, &raw); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw.Features))
	dec.Token() // {
	for _, f := range m.Features {
		k, _ := dec.Token()
		if k != f.Name {
			t.Fatalf("feature key %v, want %s (in model order)", k, f.Name)
		}
		var skip any
		dec.Decode(&skip)
	}
	return at
}

func TestGenerateGoodRecords(t *testing.T) {
	c := smallConfig()
	models := make(map[string]*Model)
	for i := range c.Models {
		models[c.Models[i].Name] = &c.Models[i]
	}
	var good int
	for _, msg := range collect(t, c) {
		if msg.Bad {
			continue
		}
		good++
		at := checkRecord(t, msg.Value, models[msg.Model])
		if !at.Equal(msg.Time) {
			t.Errorf("timestamp %v, Message.Time %v", at, msg.Time)
		}
		ws := c.Start.Add(time.Duration(msg.Window) * c.Window)
		if at.Before(ws) || !at.Before(ws.Add(c.Window)) {
			t.Errorf("timestamp %v outside window %d [%v, %v)", at, msg.Window, ws, ws.Add(c.Window))
		}
		if !bytes.Contains(msg.Value, msg.Key) {
			t.Errorf("key %s is not the prediction_id of %s", msg.Key, msg.Value)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	if good == 0 {
		t.Fatal("no good records")
	}
}

// badReason says how a bad record breaks the contract, or "" if it does not.
func badReason(v []byte) string {
	var r map[string]json.RawMessage
	if err := json.Unmarshal(v, &r); err != nil {
		return "not JSON"
	}
	ts, ok := r["timestamp"]
	if !ok {
		return "no timestamp"
	}
	var s string
	if err := json.Unmarshal(ts, &s); err != nil {
		return "timestamp not a string"
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return "bad timestamp"
	}
	if p := bytes.TrimSpace(r["prediction"]); len(p) > 0 && p[0] == '{' {
		return "prediction object"
	}
	if f := bytes.TrimSpace(r["features"]); len(f) == 0 || f[0] != '{' {
		return "features not object"
	}
	return ""
}

func TestGenerateBadRecords(t *testing.T) {
	c := smallConfig()
	c.BadRate = 0.05
	reasons := make(map[string]int)
	for _, m := range collect(t, c) {
		why := badReason(m.Value)
		if m.Bad && why == "" {
			t.Errorf("bad record keeps the contract: %s", m.Value)
		}
		if !m.Bad && why != "" {
			t.Errorf("good record breaks the contract (%s): %s", why, m.Value)
		}
		if m.Bad {
			reasons[why]++
			ws := c.Start.Add(time.Duration(m.Window) * c.Window)
			if m.Time.Before(ws) || !m.Time.Before(ws.Add(c.Window)) || len(m.Key) != uuidLen {
				t.Errorf("bad record: time %v window %d key %q", m.Time, m.Window, m.Key)
			}
		}
	}
	want := []string{"not JSON", "no timestamp", "bad timestamp", "prediction object", "features not object"}
	for _, w := range want {
		if reasons[w] == 0 {
			t.Errorf("no bad record of kind %q (got %v)", w, reasons)
		}
	}
	if len(reasons) != len(want) {
		t.Errorf("bad record kinds %v, want %v", reasons, want)
	}
}

// TestGenerateDecodes runs the pipeline's decoder over the stream: it must
// accept every good record as sent and reject every bad one, for each of the
// ways they break the contract.
func TestGenerateDecodes(t *testing.T) {
	c := smallConfig()
	c.BadRate = 0.05
	reasons := make(map[string]int)
	for _, m := range collect(t, c) {
		rec, err := consumer.Decode(m.Value, 0)
		if m.Bad {
			var derr *consumer.DecodeError
			if !errors.As(err, &derr) {
				t.Fatalf("decoder accepted bad record (error %v): %s", err, m.Value)
			}
			reasons[derr.Code]++
			continue
		}
		if err != nil {
			t.Fatalf("decoder rejected good record: %v: %s", err, m.Value)
		}
		if rec.PredictionID != string(m.Key) || rec.Model != m.Model || !rec.Timestamp.Equal(m.Time) {
			t.Fatalf("decoded %s %s %v, message %s %s %v", rec.PredictionID, rec.Model, rec.Timestamp, m.Key, m.Model, m.Time)
		}
	}
	want := map[string]bool{
		consumer.ReasonNotJSON:      true,
		consumer.ReasonMissingField: true, // no timestamp
		consumer.ReasonBadTimestamp: true,
		consumer.ReasonWrongType:    true, // prediction an object, features not an object
	}
	if len(reasons) != len(want) {
		t.Errorf("rejections %v, want each of %v", reasons, want)
	}
	for r := range reasons {
		if !want[r] {
			t.Errorf("unexpected rejection %s", r)
		}
	}
}

func TestGenerateOrder(t *testing.T) {
	for _, jitter := range []time.Duration{0, 2 * time.Minute} {
		t.Run(jitter.String(), func(t *testing.T) {
			c := smallConfig()
			c.Jitter = jitter
			var latest time.Time
			var late int
			models := make(map[string]int)
			for i, m := range collect(t, c) {
				if m.Time.Before(latest) {
					late++
					if m.Time.Before(latest.Add(-jitter)) {
						t.Fatalf("message %d at %v is more than %v before %v", i, m.Time, jitter, latest)
					}
				}
				if m.Time.After(latest) {
					latest = m.Time
				}
				if i < 100 {
					models[m.Model]++
				}
			}
			if jitter > 0 && late == 0 {
				t.Error("stream is in order despite jitter")
			}
			if len(models) != len(c.Models) {
				t.Errorf("first 100 messages are from %v: models are not interleaved", models)
			}
		})
	}
}

func TestGenerateStopsOnError(t *testing.T) {
	errStop := errors.New("stop")
	var n int
	err := smallConfig().Generate(func(Message) error {
		n++
		if n == 10 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || n != 10 {
		t.Fatalf("Generate returned %v after %d messages, want errStop after 10", err, n)
	}
}

func TestGenerateCustomPredict(t *testing.T) {
	c := smallConfig()
	c.Models = c.Models[1:] // churn
	c.Models[0].Predict = func(f map[string]any) any {
		if f["contract"] == "month-to-month" {
			return "churn"
		}
		return "stay"
	}
	var n int
	for _, m := range collect(t, c) {
		if m.Bad {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal(m.Value, &r); err != nil {
			t.Fatal(err)
		}
		contract := r["features"].(map[string]any)["contract"]
		want := "stay"
		if contract == "month-to-month" {
			want = "churn"
		}
		if r["prediction"] != want || r["scores"] != nil {
			t.Fatalf("contract %v: prediction %v, scores %v; want %s and no scores", contract, r["prediction"], r["scores"], want)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no records")
	}
	c.Models[0].Predict = func(map[string]any) any { return []int{1} }
	if err := c.Generate(func(Message) error { return nil }); err == nil || !strings.Contains(err.Error(), "predict returned []int") {
		t.Fatalf("Generate with a bad Predict: %v", err)
	}
}

func TestReference(t *testing.T) {
	c := Demo(testStart)
	for _, m := range c.Models {
		var a, b bytes.Buffer
		if err := c.Reference(m.Name, 5000, &a); err != nil {
			t.Fatal(err)
		}
		if err := c.Reference(m.Name, 5000, &b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("two runs of Reference differ")
		}
		lines := bytes.Split(bytes.TrimSuffix(a.Bytes(), []byte("\n")), []byte("\n"))
		if len(lines) != 5000 {
			t.Fatalf("%d lines, want 5000", len(lines))
		}
		labels := make(map[any]int)
		prev := c.Start.Add(-DefaultReferenceSpan)
		for _, l := range lines {
			var r struct {
				Timestamp time.Time `json:"timestamp"`
				Label     any       `json:"label"`
			}
			if err := json.Unmarshal(l, &r); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			if badReason(l) != "" || r.Timestamp.Before(prev) || !r.Timestamp.Before(c.Start) {
				t.Fatalf("bad reference record (after %v): %s", prev, l)
			}
			prev = r.Timestamp
			labels[r.Label]++
		}
		if len(labels) != 2 || labels[0.0] == 0 || labels[1.0] == 0 {
			t.Errorf("labels %v, want 0s and 1s", labels)
		}
	}
	if err := c.Reference("nope", 1, &bytes.Buffer{}); err == nil {
		t.Error("Reference of an unknown model succeeded")
	}
	if err := c.Reference("fraud", 100, failWriter{}); err == nil {
		t.Error("Reference ignored a write error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// decileEdges returns the distinct reference deciles.
func decileEdges(ref []float64) []float64 {
	s := slices.Sorted(slices.Values(ref))
	var edges []float64
	for q := 1; q < 10; q++ {
		edges = append(edges, s[q*len(s)/10])
	}
	return slices.Compact(edges)
}

func binned(edges, xs []float64) []float64 {
	counts := make([]float64, len(edges)+1)
	for _, x := range xs {
		counts[sort.SearchFloat64s(edges, x)]++
	}
	return counts
}

// psi is sum (c - r) ln(c / r) over bin proportions, empty bins as 1e-4.
func psi(ref, cur []float64) float64 {
	var n, m, out float64
	for i := range ref {
		n += ref[i]
		m += cur[i]
	}
	for i := range ref {
		r, c := max(ref[i]/n, 1e-4), max(cur[i]/m, 1e-4)
		out += (c - r) * math.Log(c/r)
	}
	return out
}

// jsDistance is the Jensen-Shannon distance with the natural logarithm.
func jsDistance(p, q []float64) float64 {
	var sp, sq, d float64
	for i := range p {
		sp += p[i]
		sq += q[i]
	}
	for i := range p {
		a, b := p[i]/sp, q[i]/sq
		m := (a + b) / 2
		if a > 0 {
			d += a * math.Log(a/m) / 2
		}
		if b > 0 {
			d += b * math.Log(b/m) / 2
		}
	}
	return math.Sqrt(d)
}

// scanFeatures appends the non-null feature values of a generated record to
// cols, by feature index: numbers as they are, categories as their index,
// booleans as 0 or 1. It checks the keys against m's features in order. It
// reads the flat "features" object without encoding/json, which is too slow
// under -race for the whole demo, so it only handles this package's output
// for feature names and categories that need no escaping (the other tests
// check that output with encoding/json).
func scanFeatures(t testing.TB, v []byte, m *Model, cols [][]float64) {
	t.Helper()
	const marker = `"features":{`
	at := bytes.Index(v, []byte(marker))
	if at < 0 {
		t.Fatalf("no features: %s", v)
	}
	s := v[at+len(marker):]
	for i := range m.Features {
		f := &m.Features[i]
		n := len(f.Name)
		if len(s) < n+3 || s[0] != '"' || string(s[1:1+n]) != f.Name || s[1+n] != '"' || s[2+n] != ':' {
			t.Fatalf("feature %d is not %s: %s", i, f.Name, v)
		}
		s = s[n+3:]
		end := bytes.IndexAny(s, ",}")
		if end < 0 {
			t.Fatalf("unterminated features: %s", v)
		}
		tok := string(s[:end])
		s = s[end+1:]
		switch {
		case tok == "null":
		case tok == "true":
			cols[i] = append(cols[i], 1)
		case tok == "false":
			cols[i] = append(cols[i], 0)
		case tok[0] == '"':
			c := slices.Index(f.Categories, tok[1:len(tok)-1])
			if c < 0 {
				t.Fatalf("feature %s: unknown category %s", f.Name, tok)
			}
			cols[i] = append(cols[i], float64(c))
		default:
			x, err := strconv.ParseFloat(tok, 64)
			if err != nil {
				t.Fatalf("feature %s: %v", f.Name, err)
			}
			cols[i] = append(cols[i], x)
		}
	}
}

func categoryCounts(f *Feature, xs []float64) []float64 {
	n := len(f.Categories)
	if f.Kind == Bool {
		n = 2
	}
	counts := make([]float64, n)
	for _, x := range xs {
		counts[int(x)]++
	}
	return counts
}

// TestDemoDrift checks on the demo scenario that the injected drift is
// real and confined: PSI over reference deciles (categories for categorical
// and bool features) above 0.25 for drifted features from their window on,
// below 0.1 everywhere else, and a Jensen-Shannon distance above 0.1 for the
// drifted categorical features.
func TestDemoDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the whole demo")
	}
	c := Demo(testStart)
	exp := c.Expected()
	want := map[string][]string{"fraud": {"amount", "country"}, "churn": {"contract", "monthly_charges"}}
	if fmt.Sprint(exp) != fmt.Sprint(want) {
		t.Fatalf("Expected() = %v, want %v", exp, want)
	}
	// cur[model][window][feature] holds the window's values.
	cur := make(map[string][][][]float64)
	for _, m := range c.Models {
		cur[m.Name] = make([][][]float64, c.Windows)
		for w := range c.Windows {
			cur[m.Name][w] = make([][]float64, len(m.Features))
		}
	}
	var total int
	for _, msg := range collect(t, c) {
		total++
		if msg.Bad || msg.Duplicate {
			continue
		}
		m := &c.Models[slices.IndexFunc(c.Models, func(m Model) bool { return m.Name == msg.Model })]
		scanFeatures(t, msg.Value, m, cur[msg.Model][msg.Window])
	}
	if total < 112_000 {
		t.Fatalf("%d messages, want at least 112,000", total)
	}
	for _, m := range c.Models {
		var buf bytes.Buffer
		if err := c.Reference(m.Name, 20_000, &buf); err != nil {
			t.Fatal(err)
		}
		ref := make([][]float64, len(m.Features))
		for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			scanFeatures(t, l, &m, ref)
		}
		for i := range m.Features {
			f := &m.Features[i]
			from := c.Windows
			for _, d := range m.Drifts {
				if d.Feature == f.Name {
					from = min(from, d.FromWindow)
				}
			}
			var refCounts []float64
			var edges []float64
			if f.Kind.numeric() {
				edges = decileEdges(ref[i])
				refCounts = binned(edges, ref[i])
			} else {
				refCounts = categoryCounts(f, ref[i])
			}
			var line []string
			for w := range c.Windows {
				xs := cur[m.Name][w][i]
				var counts []float64
				if f.Kind.numeric() {
					counts = binned(edges, xs)
				} else {
					counts = categoryCounts(f, xs)
				}
				p := psi(refCounts, counts)
				line = append(line, fmt.Sprintf("%.3f", p))
				switch {
				case w >= from && p <= 0.25:
					t.Errorf("%s.%s window %d: PSI %.3f, want > 0.25 (drift from window %d)", m.Name, f.Name, w, p, from)
				case w < from && p >= 0.1:
					t.Errorf("%s.%s window %d: PSI %.3f, want < 0.1 (no drift)", m.Name, f.Name, w, p)
				}
				if !f.Kind.numeric() && w >= from {
					js := jsDistance(refCounts, counts)
					line = append(line, fmt.Sprintf("(JS %.3f)", js))
					if js <= 0.1 {
						t.Errorf("%s.%s window %d: Jensen-Shannon distance %.3f, want > 0.1", m.Name, f.Name, w, js)
					}
				}
			}
			t.Logf("%s.%s PSI by window: %s", m.Name, f.Name, strings.Join(line, " "))
		}
	}
}

func TestExpected(t *testing.T) {
	c := smallConfig()
	c.Models[0].Drifts = append(c.Models[0].Drifts,
		Drift{Feature: "amount", Kind: Scale, Amount: 2, FromWindow: 3},                     // same feature again
		Drift{Feature: "channel", Kind: Mix, NewWeights: []float64{1, 1, 1}, FromWindow: 4}, // past the last window
	)
	got := c.Expected()
	want := map[string][]string{"fraud": {"amount", "country"}, "churn": {"contract", "monthly_charges"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Expected() = %v, want %v", got, want)
	}
	c.Models[1].Drifts = nil
	if got := c.Expected()["churn"]; got == nil || len(got) != 0 {
		t.Errorf("Expected() of a model without drift = %#v, want empty", got)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   string // substring of the error; "" for valid
	}{
		{"demo", func(*Config) {}, ""},
		{"default window", func(c *Config) { c.Window = 0 }, ""},
		{"no start", func(c *Config) { c.Start = time.Time{} }, "start is not set"},
		{"unaligned start", func(c *Config) { c.Start = c.Start.Add(time.Minute) }, "not aligned"},
		{"sub-millisecond window", func(c *Config) { c.Window = time.Hour + 1 }, "whole number of milliseconds"},
		{"no windows", func(c *Config) { c.Windows = 0 }, "windows 0"},
		{"no records", func(c *Config) { c.RecordsPerWindow = -1 }, "records per window -1"},
		{"bad rate", func(c *Config) { c.BadRate = 1.5 }, "bad rate 1.5"},
		{"duplicate rate", func(c *Config) { c.DuplicateRate = math.NaN() }, "duplicate rate NaN"},
		{"jitter", func(c *Config) { c.Jitter = -time.Second }, "jitter -1s"},
		{"no models", func(c *Config) { c.Models = nil }, "no models"},
		{"model twice", func(c *Config) { c.Models[1].Name = "fraud" }, `model "fraud": defined twice`},
		{"no version", func(c *Config) { c.Models[0].Version = "" }, "version is empty"},
		{"classes", func(c *Config) { c.Models[0].Classes = []string{"a"} }, "1 classes"},
		{"feature twice", func(c *Config) { c.Models[0].Features[1].Name = "amount" }, `feature "amount": defined twice`},
		{"std", func(c *Config) { c.Models[0].Features[0].Std = 0 }, "std > 0"},
		{"uniform range", func(c *Config) { c.Models[0].Features[4].Max = -1 }, "min < max"},
		{"lambda", func(c *Config) { c.Models[0].Features[3].Lambda = 0 }, "lambda 0"},
		{"weights", func(c *Config) { c.Models[0].Features[7].Weights = []float64{1} }, "1 weights for 7 categories"},
		{"category twice", func(c *Config) { c.Models[0].Features[8].Categories[1] = "web" }, `category "web": listed twice`},
		{"p", func(c *Config) { c.Models[0].Features[10].P = 2 }, "p 2"},
		{"null rate", func(c *Config) { c.Models[0].Features[1].NullRate = -0.1 }, "null rate -0.1"},
		{"clamp", func(c *Config) { c.Models[0].Features[1].Min = 100 }, "min 100 > max 95"},
		{"drift feature", func(c *Config) { c.Models[0].Drifts[0].Feature = "x" }, `no feature "x"`},
		{"shift category", func(c *Config) { c.Models[0].Drifts[1].Kind = Shift }, "shift of a categorical feature"},
		{"zero shift", func(c *Config) { c.Models[0].Drifts[0].Amount = 0 }, "shift by 0"},
		{"unit scale", func(c *Config) { c.Models[0].Drifts[0].Kind, c.Models[0].Drifts[0].Amount = Scale, 1 }, "scale by 1"},
		{"mix numeric", func(c *Config) { c.Models[0].Drifts[0].Kind = Mix }, "mix of a lognormal feature"},
		{"mix weights", func(c *Config) { c.Models[0].Drifts[1].NewWeights = make([]float64, 7) }, "weights sum to 0"},
		{"negative window", func(c *Config) { c.Models[0].Drifts[0].FromWindow = -1 }, "from window -1"},
		{"correlated", func(c *Config) {
			c.Models[0].Features[1].CorrelateWith, c.Models[0].Features[1].Correlation = "amount", 0.5
			c.Models[0].Drifts[0] = Drift{Feature: "age", Kind: Correlate, Amount: -0.5}
		}, ""},
		{"correlated with a later feature", func(c *Config) { c.Models[0].Features[0].CorrelateWith = "age" }, "not an earlier feature"},
		{"correlated with itself", func(c *Config) { c.Models[0].Features[1].CorrelateWith = "age" }, "not an earlier feature"},
		{"correlated with a count", func(c *Config) { c.Models[0].Features[5].CorrelateWith = "n_transactions_24h" }, "both must be normal or lognormal"},
		{"correlation 2", func(c *Config) {
			c.Models[0].Features[1].CorrelateWith, c.Models[0].Features[1].Correlation = "amount", 2
		}, "correlation 2"},
		{"correlate uncorrelated", func(c *Config) { c.Models[0].Drifts[0].Kind = Correlate }, "correlated with none"},
		{"correlate to 1.5", func(c *Config) {
			c.Models[0].Features[1].CorrelateWith = "amount"
			c.Models[0].Drifts[0] = Drift{Feature: "age", Kind: Correlate, Amount: 1.5}
		}, "correlate to 1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Demo(testStart)
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
			if tt.want != "" {
				if gerr := c.Generate(func(Message) error { return nil }); gerr == nil {
					t.Fatal("Generate accepted an invalid config")
				}
			}
		})
	}
}

func TestAppendFixed(t *testing.T) {
	tests := []struct {
		x    float64
		dec  int
		want string
	}{
		{0, 4, "0"},
		{120.5, 4, "120.5"},
		{120.50004, 4, "120.5"},
		{0.87, 4, "0.87"},
		{1 - 0.87, 4, "0.13"},
		{-3.14159, 2, "-3.14"},
		{-0.00001, 4, "0"},
		{0.00005, 4, "0.0001"},
		{1e-4, 4, "0.0001"},
		{42, 0, "42"},
		{41.9, 0, "42"},
		{12.25, 1, "12.3"},
		{1e300, 4, "1e+300"},
		{math.Inf(1), 4, "null"},
		{math.NaN(), 4, "null"},
	}
	for _, tt := range tests {
		got := string(appendFixed(nil, tt.x, tt.dec))
		if got != tt.want {
			t.Errorf("appendFixed(%g, %d) = %s, want %s", tt.x, tt.dec, got, tt.want)
		}
	}
}

func TestPoisson(t *testing.T) {
	for _, lambda := range []float64{0.5, 3, 9.9, 10, 40, 1000} {
		r := newStream(1, "poisson")
		const n = 50_000
		var sum, sum2 float64
		for range n {
			k := poisson(r, lambda)
			if k < 0 || k != math.Trunc(k) {
				t.Fatalf("poisson(%g) = %g", lambda, k)
			}
			sum += k
			sum2 += k * k
		}
		mean := sum / n
		variance := sum2/n - mean*mean
		if math.Abs(mean-lambda) > 5*math.Sqrt(lambda/n) || math.Abs(variance/lambda-1) > 0.05 {
			t.Errorf("poisson(%g): mean %.3f, variance %.3f", lambda, mean, variance)
		}
	}
}

// TestGenerateAllocs guards the hot path: records are built in large shared
// chunks, not allocated one by one.
func TestGenerateAllocs(t *testing.T) {
	c := smallConfig()
	records := c.Windows * c.RecordsPerWindow * len(c.Models)
	allocs := testing.AllocsPerRun(2, func() {
		if err := c.Generate(func(Message) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
	if limit := float64(records) / 20; allocs > limit {
		t.Errorf("%.0f allocations for %d records, want at most %.0f", allocs, records, limit)
	}
	t.Logf("%.0f allocations for %d records", allocs, records)
}

func BenchmarkGenerate(b *testing.B) {
	c := Demo(testStart)
	var size int64
	if err := c.Generate(func(m Message) error {
		size += int64(len(m.Value))
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Generate(func(Message) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAppendTimestamp(t *testing.T) {
	times := []time.Time{
		testStart,
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2000, 2, 29, 12, 0, 0, 5_000_000, time.UTC),
		time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1600, 2, 29, 1, 2, 3, 4, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 20, 10, 15, 3, 120_000_000, time.FixedZone("CET", 3600)),
	}
	r := newStream(7, "timestamps")
	for range 10_000 {
		times = append(times, time.UnixMilli(r.Int64N(500_000_000_000_000)-100_000_000_000_000))
	}
	for _, at := range times {
		got := string(appendTimestamp(nil, at))
		if want := at.UTC().Format(timestampLayout); got != want {
			t.Fatalf("appendTimestamp(%v) = %s, want %s", at, got, want)
		}
	}
}

// TestShadowRecords: with Model.ShadowShare, a share of the champion's good
// records is logged again by the shadow: the same prediction_id, time,
// features and label, variant "shadow" and its own prediction, right after
// the champion's; every other record is the same as without a shadow.
func TestShadowRecords(t *testing.T) {
	plain := collect(t, smallConfig())
	c := smallConfig()
	c.Models[0].ShadowShare, c.Models[0].ShadowShift, c.Models[0].ShadowNoise, c.Models[0].ShadowFrom = 0.3, 0.5, 0.2, 2
	c.Models[0].LabelShare = 0.5
	plainLabelled := collect(t, func() Config { c := smallConfig(); c.Models[0].LabelShare = 0.5; return c }())
	with := collect(t, c)
	var others []Message
	champion := map[string]map[string]any{}
	shadows, champions, moved := 0, 0, 0
	for _, m := range with {
		if !m.Shadow {
			others = append(others, m)
		}
		if m.Bad || m.Label || m.Duplicate {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal(m.Value, &r); err != nil {
			t.Fatal(err)
		}
		if !m.Shadow {
			if r["variant"] == "champion" && m.Model == c.Models[0].Name {
				champions++
				champion[string(m.Key)] = r
			}
			continue
		}
		shadows++
		ch, ok := champion[string(m.Key)]
		if !ok || m.Model != c.Models[0].Name || r["variant"] != "shadow" {
			t.Fatalf("shadow record %s of model %s, variant %v: no champion's record of its id before it", m.Key, m.Model, r["variant"])
		}
		for _, k := range []string{"timestamp", "features", "label", "segments", "model_version"} {
			if !reflect.DeepEqual(ch[k], r[k]) {
				t.Errorf("shadow record %s: %s %v, the champion's %v", m.Key, k, r[k], ch[k])
			}
		}
		if ch["prediction"] != r["prediction"] {
			moved++
		}
	}
	if share := float64(shadows) / float64(champions); math.Abs(share-0.3) > 0.03 {
		t.Errorf("%d shadow records for %d champion records: share %.3f, want about 0.3", shadows, champions, share)
	}
	if moved < shadows*9/10 {
		t.Errorf("%d of %d shadow predictions differ from the champion's", moved, shadows)
	}
	if digest(others) != digest(plainLabelled) {
		t.Error("a shadow changed the other records")
	}
	if len(plain) == len(with) {
		t.Error("no shadow records")
	}
}

// TestGenerateErrorsAndRenames: a model's error burst makes about its share
// of the burst windows' records failed predictions (a class among the
// configured ones, a null prediction, no scores, no label, inline or
// late), and leaves every other record as it is without the burst; a
// Renamed drift writes the feature under its new key.
func TestGenerateErrorsAndRenames(t *testing.T) {
	plain := smallConfig()
	for i := range plain.Models {
		plain.Models[i].LabelShare, plain.Models[i].LabelDelay = 0.5, [2]time.Duration{time.Minute, time.Hour}
	}
	burst := smallConfig()
	for i := range burst.Models {
		burst.Models[i].LabelShare, burst.Models[i].LabelDelay = 0.5, [2]time.Duration{time.Minute, time.Hour}
	}
	m := &burst.Models[0]
	m.ErrorShare, m.ErrorFrom, m.ErrorTo, m.ErrorClasses = 0.4, 1, 2, []string{"timeout", "model_exception"}
	base := map[string]bool{}
	for _, msg := range collect(t, plain) {
		base[string(msg.Value)] = true
	}
	classes := map[string]int{}
	var served, failedLabels int
	failedIDs := map[string]bool{}
	msgs := collect(t, burst)
	for _, msg := range msgs {
		if msg.Bad || msg.Label {
			continue
		}
		var r struct {
			ID         string          `json:"prediction_id"`
			Prediction json.RawMessage `json:"prediction"`
			Scores     json.RawMessage `json:"scores"`
			Label      json.RawMessage `json:"label"`
			Error      string          `json:"error"`
			Features   map[string]any  `json:"features"`
		}
		if err := json.Unmarshal(msg.Value, &r); err != nil {
			t.Fatal(err)
		}
		if r.Error == "" {
			if msg.Model == m.Name && msg.Window == 1 {
				served++
			}
			if !base[string(msg.Value)] {
				t.Fatalf("a served record the burst changed: %s", msg.Value)
			}
			continue
		}
		if msg.Model != m.Name || msg.Window != 1 || string(r.Prediction) != "null" || r.Scores != nil || string(r.Label) != "null" {
			t.Fatalf("failed record %s", msg.Value)
		}
		classes[r.Error]++
		failedIDs[r.ID] = true
	}
	for _, msg := range msgs {
		if msg.Label && failedIDs[string(msg.Key)] {
			failedLabels++
		}
	}
	failed := classes["timeout"] + classes["model_exception"]
	if len(classes) != 2 || failed < 300 || failed > 500 || served < 500 || failedLabels != 0 {
		t.Errorf("classes %v (%d failed of %d), %d late labels of failed predictions", classes, failed, failed+served, failedLabels)
	}

	renames := smallConfig()
	rm := &renames.Models[0]
	name := rm.Features[2].Name
	rm.Drifts = append(rm.Drifts, Drift{Feature: name, Kind: Renamed, Amount: 1, FromWindow: 3})
	var renamed, kept int
	for _, msg := range collect(t, renames) {
		if msg.Bad || msg.Label || msg.Model != rm.Name {
			continue
		}
		f := features(t, msg.Value)
		_, isNew := f[name+RenamedSuffix]
		_, isOld := f[name]
		switch {
		case msg.Window >= 3 && isNew && !isOld:
			renamed++
		case msg.Window < 3 && isOld && !isNew:
			kept++
		default:
			t.Fatalf("window %d: %s", msg.Window, msg.Value)
		}
	}
	if renamed < 900 || kept < 2700 {
		t.Errorf("%d records renamed %s, %d kept it", renamed, name, kept)
	}
}

// TestCorrelatedFeatures: a feature correlated with another moves with it
// as configured, and a Correlate drift turns the correlation from +0.8 to
// -0.8 while both marginals, and the other feature's values, stay.
func TestCorrelatedFeatures(t *testing.T) {
	m := Model{Name: "m", Version: "1", Features: []Feature{
		{Name: "a", Kind: Normal, Mean: 50, Std: 10},
		{Name: "c", Kind: Normal, Mean: 0, Std: 1, CorrelateWith: "a", Correlation: 0.8},
	}}
	flipped := m
	flipped.Drifts = []Drift{{Feature: "c", Kind: Correlate, Amount: -0.8, FromWindow: 2}}
	cfg := Config{Seed: 3, Start: testStart, Windows: 4, RecordsPerWindow: 5000, Models: []Model{flipped}}
	still := cfg
	still.Models = []Model{m}
	got, base := collect(t, cfg), collect(t, still)
	type acc struct{ n, sa, sc, saa, scc, sac float64 }
	per := make([]acc, 4)
	for i, msg := range got {
		f := features(t, msg.Value)
		a, c := f["a"].(float64), f["c"].(float64)
		if fb := features(t, base[i].Value); fb["a"] != f["a"] || (msg.Window < 2) != (fb["c"] == f["c"]) {
			t.Fatalf("record %d (window %d): a %v, c %v with the drift; %v, %v without", i, msg.Window, f["a"], f["c"], fb["a"], fb["c"])
		}
		p := &per[msg.Window]
		p.n++
		p.sa += a
		p.sc += c
		p.saa += a * a
		p.scc += c * c
		p.sac += a * c
	}
	for w, p := range per {
		ma, mc := p.sa/p.n, p.sc/p.n
		va, vc := p.saa/p.n-ma*ma, p.scc/p.n-mc*mc
		r := (p.sac/p.n - ma*mc) / math.Sqrt(va*vc)
		want := 0.8
		if w >= 2 {
			want = -0.8
		}
		// 5,000 records: a correlation within 0.02, c's mean within 0.05
		// and standard deviation within 0.05 (four standard errors).
		if math.Abs(r-want) > 0.02 || math.Abs(mc) > 0.05 || math.Abs(math.Sqrt(vc)-1) > 0.05 {
			t.Errorf("window %d: correlation %.3f (want %.1f), c's mean %.3f, sd %.3f", w, r, want, mc, math.Sqrt(vc))
		}
	}
}
