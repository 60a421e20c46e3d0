package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/internal/synth"
)

// TestReplaySchemaErrorsAndVolume replays a day and a half of one model's
// traffic through `driftwatch replay`, with a production baseline of its
// first day (`baseline --only-version --first 24h`, whose rate is the
// expected volume): a window in which 70% of the requests fail, a feature
// renamed in half of the records and then another in all of them, and in
// the last three hours the traffic falling from 400 to 150 records an
// hour. The rows say each, with the counts of the log itself: error_rate
// and error_share, unknown_feature_rate, new_features, vanished_features
// and vanished, and volume_ratio against the reference.
func TestReplaySchemaErrorsAndVolume(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC) // a Monday
	scen := synth.Demo(start)
	scen.Models = scen.Models[:1] // fraud
	scen.Windows, scen.RecordsPerWindow, scen.BadRate, scen.DuplicateRate = 30, 400, 0, 0
	m := &scen.Models[0]
	m.Drifts = []synth.Drift{
		{Feature: "device", Kind: synth.Renamed, Amount: 0.5, FromWindow: 27},
		{Feature: "card_type", Kind: synth.Renamed, Amount: 1, FromWindow: 28},
	}
	m.ErrorShare, m.ErrorFrom, m.ErrorTo, m.ErrorClasses = 0.7, 26, 27, []string{"timeout", "oom"}
	quiet := scen // the last three hours, at 150 records an hour
	quiet.Models = []synth.Model{*m}
	quiet.Models[0].ErrorShare = 0
	quiet.Seed, quiet.Start, quiet.Windows, quiet.RecordsPerWindow = scen.Seed+1, start.Add(30*time.Hour), 3, 150
	var log bytes.Buffer
	for _, s := range []synth.Config{scen, quiet} {
		b, _, err := s.Files()
		if err != nil {
			t.Fatal(err)
		}
		log.Write(b)
	}
	logPath, baseDir, out := filepath.Join(dir, "log.jsonl"), filepath.Join(dir, "baselines"), filepath.Join(dir, "rows.jsonl")
	if err := os.WriteFile(logPath, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut := run(t, "baseline", "--model", "fraud", "--input", logPath, "--only-version", m.Version, "--first", "24h", "--out", baseDir)
	if code != 0 {
		t.Fatalf("baseline: %s", errOut)
	}
	t.Log(stdout)

	// What the log holds, per window (hour).
	type counts struct {
		records, failed  int
		classes          map[string]int
		deviceV2, cardV2 int
		device, cardType int
	}
	want := map[int]*counts{}
	sc := bufio.NewScanner(bytes.NewReader(log.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Timestamp time.Time      `json:"timestamp"`
			Error     string         `json:"error"`
			Features  map[string]any `json:"features"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		w := int(r.Timestamp.Sub(start) / time.Hour)
		c := want[w]
		if c == nil {
			c = &counts{classes: map[string]int{}}
			want[w] = c
		}
		c.records++
		if r.Error != "" {
			c.failed++
			c.classes[r.Error]++
		}
		for name, n := range map[string]*int{"device_v2": &c.deviceV2, "card_type_v2": &c.cardV2, "device": &c.device, "card_type": &c.cardType} {
			if _, ok := r.Features[name]; ok {
				*n++
			}
		}
	}
	if len(want) != 33 {
		t.Fatalf("the log spans %d windows, want 33", len(want))
	}

	if code, _, errOut := run(t, "replay", "--quiet", "--baselines", baseDir, "--input", logPath, "--output", out); code != 0 {
		t.Fatalf("replay: %s", errOut)
	}
	type row struct {
		WindowStart     time.Time `json:"window_start"`
		Family          string
		Subject         string
		Metric          string
		Value           float64
		PValue          *float64 `json:"p_value"`
		Threshold       float64
		Drifted         bool
		Severity        string
		NCurrent        int64  `json:"n_current"`
		ThresholdSource string `json:"threshold_source"`
	}
	rows := map[string]row{} // by "window/family/subject/metric"
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var r row
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		rows[fmt.Sprintf("%d/%s/%s/%s", int(r.WindowStart.Sub(start)/time.Hour), r.Family, r.Subject, r.Metric)] = r
	}
	get := func(w int, family, subject, metric string) (row, bool) {
		r, ok := rows[fmt.Sprintf("%d/%s/%s/%s", w, family, subject, metric)]
		return r, ok
	}
	must := func(w int, family, subject, metric string) row {
		t.Helper()
		r, ok := get(w, family, subject, metric)
		if !ok {
			t.Fatalf("window %d: no row %s/%s/%s", w, family, subject, metric)
		}
		return r
	}
	for w := range 33 {
		c := want[w]
		n := float64(c.records)
		// Serving errors.
		er := must(w, "serving", "errors", "error_rate")
		if er.Value != float64(c.failed)/n || er.NCurrent != int64(c.records) {
			t.Errorf("window %d: error_rate %v over %d, want %d of %d", w, er.Value, er.NCurrent, c.failed, c.records)
		}
		if (er.Severity == "SEV-1") != (w == 26) {
			t.Errorf("window %d: error_rate %v severity %q", w, er.Value, er.Severity)
		}
		for _, class := range []string{"timeout", "oom"} {
			r, ok := get(w, "serving", "errors="+class, "error_share")
			if ok != (c.classes[class] > 0) || ok && (r.Value != float64(c.classes[class])/float64(c.failed) || r.NCurrent != int64(c.failed)) {
				t.Errorf("window %d: error_share of %s %+v (%v), want %d of %d", w, class, r, ok, c.classes[class], c.failed)
			}
		}
		// Schema: the renamed keys, and the feature no record carries.
		for name, k := range map[string]int{"device_v2": c.deviceV2, "card_type_v2": c.cardV2} {
			r, ok := get(w, "quality", name, "unknown_feature_rate")
			if ok != (k > 0) || ok && (r.Value != float64(k)/n || !r.Drifted || r.Severity != "SEV-3") {
				t.Errorf("window %d: unknown_feature_rate of %s %+v (%v), want %d of %d, drifted", w, name, r, ok, k, c.records)
			}
		}
		newFeatures := 0
		for _, k := range []int{c.deviceV2, c.cardV2} {
			if float64(k)/n > 0.01 {
				newFeatures++
			}
		}
		if r := must(w, "quality", "*", "new_features"); r.Value != float64(newFeatures) || r.Drifted != (newFeatures > 0) {
			t.Errorf("window %d: new_features %+v, want %d", w, r, newFeatures)
		}
		gone := c.cardType == 0
		if r := must(w, "quality", "*", "vanished_features"); r.Value != map[bool]float64{true: 1}[gone] || r.Drifted != gone {
			t.Errorf("window %d: vanished_features %+v, want card_type vanished: %v", w, r, gone)
		}
		if _, ok := get(w, "quality", "card_type", "vanished"); ok != gone {
			t.Errorf("window %d: a vanished row of card_type: %v, want %v", w, ok, gone)
		}
		if r := must(w, "quality", "card_type", "missing_rate"); r.Value != 1-float64(c.cardType)/n {
			t.Errorf("window %d: card_type's missing_rate %v, want %v", w, r.Value, 1-float64(c.cardType)/n)
		}
		// Volume, against the reference's rate of its day.
		v := must(w, "quality", "*", "volume_ratio")
		low := w >= 30
		if v.ThresholdSource != "reference" || v.Drifted != low || v.Threshold != 1.5 || v.PValue == nil {
			t.Errorf("window %d: volume_ratio %+v, want from the reference, drifted %v", w, v, low)
		}
		if wantRatio := n / 400; v.Value < wantRatio*0.99 || v.Value > wantRatio*1.01 {
			t.Errorf("window %d: volume_ratio %v, want about %v", w, v.Value, wantRatio)
		}
	}
}
