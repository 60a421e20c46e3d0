package history

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/stats/drift"
)

func read(t *testing.T) []*Version {
	t.Helper()
	f, err := os.Open("testdata/rows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vs, err := Read(f, drift.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

var (
	w1 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	w2 = w1.Add(time.Hour)
)

func TestReadGroupsVersionsAndWindows(t *testing.T) {
	vs := read(t)
	if len(vs) != 2 || vs[0].Version != "1.4.2" || vs[1].Version != "2.0.0" {
		t.Fatalf("versions %v, want fraud 1.4.2 then 2.0.0", vs)
	}
	v := vs[0]
	want := []Window{{w1, w2}, {w2, w2.Add(time.Hour)}}
	if len(v.Windows) != 2 || v.Windows[0] != want[0] || v.Windows[1] != want[1] {
		t.Errorf("windows %v, want %v (in time order, though the file has the later first)", v.Windows, want)
	}
	if n := len(vs[1].Windows); n != 1 {
		t.Errorf("2.0.0 has %d windows, want its own 1", n)
	}
	for k, tr := range v.Tracks {
		if len(tr) != len(v.Windows) {
			t.Errorf("track %v has %d entries for %d windows", k, len(tr), len(v.Windows))
		}
	}
}

func values(t Track) []float64 {
	out := make([]float64, len(t))
	for i, r := range t {
		out[i] = -1
		if r != nil {
			out[i] = r.Value
		}
	}
	return out
}

func TestReadTracks(t *testing.T) {
	v := read(t)[0]
	if got := values(v.DriftShare()); got[0] != 0 || got[1] != 0.5 {
		t.Errorf("drift share %v, want [0 0.5]", got)
	}
	// Window 1's accuracy was written again after late labels: the newer wins.
	if got := values(v.Track(drift.FamilyConcept, "performance", "accuracy")); got[0] != 0.7 || got[1] != 0.8 {
		t.Errorf("accuracy %v, want [0.7 0.8]", got)
	}
	if got := v.Metrics(drift.FamilyServing, "latency_ms"); len(got) != 1 || got[0] != "latency_p95_ms" {
		t.Errorf("latency metrics %v", got)
	}
	if got := values(v.Track(drift.FamilyPrediction, "prediction", "psi")); got[0] != -1 || got[1] != 0.01 {
		t.Errorf("prediction psi %v: want no row in window 1", got)
	}
}

func TestReadDecidingRows(t *testing.T) {
	v := read(t)[0]
	var names []string
	got := map[string]Subject{}
	for _, s := range v.Subjects {
		names = append(names, s.Family+"/"+s.Name)
		got[s.Name] = s
	}
	if strings.Join(names, " ") != "prediction/prediction data/amount data/country data/device" {
		t.Errorf("subjects %v: want the prediction first, then features by name, no dataset or quality rows", names)
	}
	for _, c := range []struct {
		subject string
		numeric bool
		metrics [2]string // deciding metric per window, "" where none
		drifted [2]bool
	}{
		{"amount", true, [2]string{"psi", "psi"}, [2]bool{false, true}},
		// Categorical: jensen_shannon decides, though chi2 and psi drifted in window 2.
		{"country", false, [2]string{"jensen_shannon", "jensen_shannon"}, [2]bool{false, false}},
		// No jensen_shannon row: the worst judged row decides.
		{"device", false, [2]string{"hellinger", "hellinger"}, [2]bool{false, true}},
		{"prediction", true, [2]string{"", "psi"}, [2]bool{false, false}},
	} {
		s := got[c.subject]
		if s.Numeric != c.numeric {
			t.Errorf("%s: numeric %v, want %v", c.subject, s.Numeric, c.numeric)
		}
		for i, r := range s.Deciding {
			m, d := "", false
			if r != nil {
				m, d = r.Metric, r.Drifted
			}
			if m != c.metrics[i] || d != c.drifted[i] {
				t.Errorf("%s window %d: deciding %q drifted %v, want %q %v", c.subject, i, m, d, c.metrics[i], c.drifted[i])
			}
		}
	}
	if src := got["device"].Deciding[0].ThresholdSource; src != drift.SourceInsufficient {
		t.Errorf("device window 1: threshold_source %q, want insufficient_samples kept", src)
	}
}

func TestReadFeatureRule(t *testing.T) {
	p := drift.DefaultPolicy()
	p.Features = map[string]drift.Rule{"country": {Metric: drift.MetricChi2, Threshold: 0.05}}
	f, err := os.Open("testdata/rows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vs, err := Read(f, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range vs[0].Subjects {
		if s.Name == "country" && (s.Deciding[1].Metric != "chi2" || !s.Deciding[1].Drifted) {
			t.Errorf("country decided by %s, want the configured chi2", s.Deciding[1].Metric)
		}
	}
}

func TestAlerts(t *testing.T) {
	var got []string
	for _, r := range read(t)[0].Alerts() {
		got = append(got, r.WindowStart.Format("15")+" "+r.Severity+" "+r.Subject+" "+r.Metric)
	}
	want := "10 SEV-2 performance accuracy|10 SEV-4 amount null_rate|11 SEV-2 performance accuracy|11 SEV-3 * weighted_drift_share|11 SEV-3 amount psi|11 SEV-4 device hellinger"
	if strings.Join(got, "|") != want {
		t.Errorf("alerts\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
}

func TestReadErrors(t *testing.T) {
	for in, want := range map[string]string{
		"{\"model\":\"m\",\"window_start\":\"2026-11-20T10:00:00Z\"}\n{not json}\n": "line 2",
		"{\"model\":\"\",\"window_start\":\"2026-11-20T10:00:00Z\"}\n":              "line 1: no model",
	} {
		_, err := Read(strings.NewReader(in), drift.DefaultPolicy())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Read(%q) = %v, want an error naming %q", in, err, want)
		}
	}
	vs, err := Read(strings.NewReader("\n\n"), drift.DefaultPolicy())
	if err != nil || len(vs) != 0 {
		t.Errorf("blank input: %v, %v", vs, err)
	}
}

// TestReadRankTestRows: a subject whose rows (without the deciding mark,
// as written before it existed) are only the rank tests is a judged,
// numeric subject; its numeric rule, anderson_darling, decides.
func TestReadRankTestRows(t *testing.T) {
	rows := `{"model":"m","model_version":"1","window_start":"2026-11-20T10:00:00Z","window_end":"2026-11-20T11:00:00Z","family":"data","subject":"x","metric":"anderson_darling","value":9.1,"p_value":0.001,"threshold":0.05,"drifted":true,"threshold_source":"static"}
{"model":"m","model_version":"1","window_start":"2026-11-20T10:00:00Z","window_end":"2026-11-20T11:00:00Z","family":"data","subject":"x","metric":"cramer_von_mises","value":0.9,"p_value":0.004,"threshold":0.05,"drifted":true,"threshold_source":"static"}
`
	p := drift.DefaultPolicy()
	p.Numeric = drift.Rule{Metric: drift.MetricAndersonDarling, Threshold: 0.05}
	vs, err := Read(strings.NewReader(rows), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || len(vs[0].Subjects) != 1 {
		t.Fatalf("subjects of the rank-test rows: %+v", vs)
	}
	s := vs[0].Subjects[0]
	if !s.Numeric || s.Deciding[0] == nil || s.Deciding[0].Metric != drift.MetricAndersonDarling {
		t.Errorf("subject %s: numeric %v, deciding %+v; want numeric, anderson_darling", s.Name, s.Numeric, s.Deciding[0])
	}
}
