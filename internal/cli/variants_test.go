package cli

import (
	"fmt"
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/internal/synth"
)

// variantScenario is the demo's fraud model over 4 windows, its labels
// late, a shadow scoring 60% of the champion's requests: in windows 0 and
// 1 close to the champion, from window 2 on moved by shift on the logit
// scale. The challenger (10% of the traffic) is a canary.
func variantScenario(shift float64) synth.Config {
	scen := synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	scen.Windows, scen.RecordsPerWindow = 4, 3000
	scen.Models = scen.Models[:1]
	m := &scen.Models[0]
	m.Drifts = nil
	m.LabelShare, m.LabelDelay = 0.6, [2]time.Duration{time.Minute, 3 * time.Hour}
	if shift != 0 {
		m.ShadowShare, m.ShadowNoise, m.ShadowShift, m.ShadowFrom = 0.6, 0.05, shift, 2
	}
	return scen
}

// TestReplayVariantRows: replayed end to end, a stream with a canary and
// a shadow writes each variant's rows (CONTRACT.md section 3, subject
// variant=<name>): the shadow's paired rows, the canary's unpaired ones,
// every variant's performance and latency; and the shadow's records
// change none of the model's rows (they are not served): every row but
// the shadow's is the same as without it.
func TestReplayVariantRows(t *testing.T) {
	rows := replayRows(t, t.TempDir(), variantScenario(3), 20000)
	plain := replayRows(t, t.TempDir(), variantScenario(0), 20000)
	key := func(r map[string]any) string {
		return fmt.Sprint(r["window_start"], "/", r["family"], "/", r["subject"], "/", r["metric"])
	}
	byKey := map[string]map[string]any{}
	for _, r := range rows {
		byKey[key(r)] = r
	}
	for _, r := range plain {
		g, ok := byKey[key(r)]
		if !ok {
			t.Errorf("row %s: written without the shadow, not with it", key(r))
			continue
		}
		g, r := maps.Clone(g), maps.Clone(r)
		for _, m := range []map[string]any{g, r} {
			delete(m, "baseline_id") // stamped with the time each run built its baseline
			if m["family"] == "data" || m["family"] == "prediction" {
				// The window's tests are corrected together (Benjamini-
				// Hochberg), the shadow's distribution tests among them.
				delete(m, "p_value")
				delete(m, "drifted")
			}
		}
		if fmt.Sprint(g) != fmt.Sprint(r) {
			t.Errorf("row %s: with the shadow %v, without %v", key(r), g, r)
		}
	}
	get := func(w int, family, subject, metric string) map[string]any {
		t.Helper()
		start := time.Date(2026, 11, 20, w, 0, 0, 0, time.UTC).Format(time.RFC3339)
		r := byKey[fmt.Sprint(start, "/", family, "/", subject, "/", metric)]
		if r == nil {
			t.Fatalf("window %d: no row %s/%s/%s", w, family, subject, metric)
		}
		return r
	}
	num := func(r map[string]any, k string) float64 { return r[k].(float64) }
	shadowRows := 0
	for _, r := range rows {
		if r["subject"] == "variant=shadow" {
			shadowRows++
			if m := r["metric"].(string); m == "accuracy_diff" || m == "mae_diff" {
				t.Errorf("an unpaired difference for the shadow: %v", r)
			}
		}
		if r["subject"] == "variant=challenger" && strings.HasSuffix(r["metric"].(string), "_paired") {
			t.Errorf("a paired difference for the canary: %v", r)
		}
	}
	for w := range 4 {
		agree := get(w, "prediction", "variant=shadow", "agreement_rate")
		diff := get(w, "concept", "variant=shadow", "accuracy_diff_paired")
		mad := get(w, "prediction", "variant=shadow", "mean_abs_diff")
		t.Logf("window %d: agreement %.3f over %v, mean |diff| %.3f, accuracy diff %.3f (p %v) over %v, drifted %v",
			w, num(agree, "value"), agree["n_current"], num(mad, "value"), num(diff, "value"), diff["p_value"], diff["n_current"], diff["drifted"])
		if w < 2 {
			if num(agree, "value") < 0.97 || diff["drifted"] == true {
				t.Errorf("window %d: the shadow close to the champion reads agreement %v, difference %v", w, agree, diff)
			}
		} else if num(agree, "value") > 0.9 || diff["drifted"] != true || num(diff, "value") >= 0 {
			t.Errorf("window %d: the shadow moved by 3 on the logit scale reads agreement %v, difference %v", w, agree, diff)
		}
		if n := num(agree, "n_current"); n < 0.6*0.9*3000*0.9 || n > 0.6*0.9*3000*1.1 {
			t.Errorf("window %d: %v pairs, want about 60%% of the champion's 2700 records", w, n)
		}
		for _, v := range []string{"champion", "challenger", "shadow"} {
			for _, m := range []string{"accuracy", "precision", "recall", "f1", "mae", "rmse"} {
				get(w, "concept", "variant="+v, m)
			}
		}
		get(w, "concept", "variant=challenger", "accuracy_diff")
		get(w, "concept", "variant=challenger", "mae_diff")
		for v, median := range map[string]float64{"champion": 12, "challenger": 15, "shadow": 22} {
			if p50 := num(get(w, "serving", "variant="+v, "latency_p50_ms"), "value"); math.Abs(p50-median) > 0.1*median {
				t.Errorf("window %d: %s's latency p50 %v, its median is %v", w, v, p50, median)
			}
		}
	}
	if shadowRows == 0 {
		t.Fatal("no row of the shadow")
	}
}
