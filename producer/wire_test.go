package producer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/internal/cli"
	"github.com/driftwatch/driftwatch/internal/synth"
	"github.com/driftwatch/driftwatch/producer"
)

// TestWireMatchesHandWritten (issue 18, point 4): the demo's predictions
// and late labels, logged through the producer and read back from the
// broker, are accepted by `driftwatch replay` with no dead letter and
// give the same metric rows, byte for byte, as the same records written
// by hand in the contract's format (the synthetic serving stack's lines).
func TestWireMatchesHandWritten(t *testing.T) {
	dir := t.TempDir()
	scen := synth.Demo(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))
	scen.RecordsPerWindow, scen.Windows, scen.BadRate = 400, 4, 0 // every record good; duplicates stay
	for i := range scen.Models {
		m := &scen.Models[i]
		m.LabelShare, m.LabelDelay = 0.5, [2]time.Duration{time.Minute, 20 * time.Minute}
		for j := range m.Drifts {
			m.Drifts[j].FromWindow = 2
		}
		var ref bytes.Buffer
		if err := scen.Reference(m.Name, 5000, &ref); err != nil {
			t.Fatal(err)
		}
		refPath := filepath.Join(dir, m.Name+".ref.jsonl")
		if err := os.WriteFile(refPath, ref.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		mustRun(t, "baseline", "--model", m.Name, "--input", refPath, "--out", filepath.Join(dir, "baselines"))
	}

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "predictions", "labels"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	p, err := producer.New(producer.Config{Brokers: cluster.ListenAddrs(), Now: func() time.Time { return scen.Start.AddDate(0, 1, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	var hand, handLabels bytes.Buffer
	var nPreds, nLabels int
	if err := scen.Generate(func(m synth.Message) error {
		if m.Label {
			handLabels.Write(m.Value)
			handLabels.WriteByte('\n')
			nLabels++
			return p.LogLabel(labelOf(t, m.Value))
		}
		hand.Write(m.Value)
		hand.WriteByte('\n')
		nPreds++
		return p.LogPrediction(predictionOf(t, m.Value))
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if nLabels == 0 {
		t.Fatal("the scenario has no late labels")
	}

	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	replay := func(name, log, labels string) (rows []byte, summary string) {
		out := filepath.Join(dir, name+".rows.jsonl")
		summary = mustRun(t, "replay", "--baselines", filepath.Join(dir, "baselines"), "--input", log, "--labels", labels, "--output", out)
		if dlq, err := os.ReadFile(out + ".dlq.jsonl"); err != nil || len(dlq) > 0 {
			t.Errorf("%s: dead letters %s (%v)", name, dlq, err)
		}
		rows, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return rows, summary
	}
	handRows, handSum := replay("hand", write("hand.jsonl", hand.Bytes()), write("hand.labels.jsonl", handLabels.Bytes()))
	wire := readValues(t, cluster.ListenAddrs(), "predictions", nPreds)
	wireLabels := readValues(t, cluster.ListenAddrs(), "labels", nLabels)
	wireRows, wireSum := replay("wire", write("wire.jsonl", wire), write("wire.labels.jsonl", wireLabels))

	for _, s := range []string{handSum, wireSum} {
		if strings.Contains(s, "dead-lettered") || !strings.Contains(s, " labels read, 0 rejected") {
			t.Errorf("replay summary:\n%s\nwant no dead letter and no rejected label", s)
		}
	}
	for _, want := range []string{`"family":"data"`, `"drifted":true`, `"family":"label"`, `"family":"concept"`, `"family":"fairness"`, `"family":"serving"`} {
		if !bytes.Contains(handRows, []byte(want)) {
			t.Errorf("the hand-written log's rows have no %s: the comparison misses what it covers", want)
		}
	}
	if !bytes.Equal(wireRows, handRows) {
		hl, wl := strings.Split(string(handRows), "\n"), strings.Split(string(wireRows), "\n")
		for i := range min(len(hl), len(wl)) {
			if hl[i] != wl[i] {
				t.Fatalf("the producer's records give other rows than the hand-written ones (%d and %d rows); first difference, row %d:\nhand %s\nwire %s", len(hl), len(wl), i+1, hl[i], wl[i])
			}
		}
		t.Fatalf("the producer's records give %d rows, the hand-written ones %d", len(wl), len(hl))
	}
}

// mustRun runs the driftwatch command args and returns its standard error.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := cli.Main(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("driftwatch %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	return stderr.String()
}

// predictionOf reads a hand-written prediction log record into the typed
// values serving code would have.
func predictionOf(t *testing.T, line []byte) producer.Prediction {
	var r struct {
		ID           string             `json:"prediction_id"`
		Model        string             `json:"model"`
		ModelVersion string             `json:"model_version"`
		Time         time.Time          `json:"timestamp"`
		Features     map[string]any     `json:"features"`
		Prediction   any                `json:"prediction"`
		Scores       map[string]float64 `json:"scores"`
		Label        any                `json:"label"`
		Segments     map[string]string  `json:"segments"`
		Variant      string             `json:"variant"`
		LatencyMS    float64            `json:"latency_ms"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return producer.Prediction{ID: r.ID, Model: r.Model, ModelVersion: r.ModelVersion, Time: r.Time, Features: r.Features,
		Prediction: r.Prediction, Scores: r.Scores, Label: r.Label, Segments: r.Segments, Variant: r.Variant,
		Latency: time.Duration(math.Round(r.LatencyMS * float64(time.Millisecond)))}
}

// labelOf reads a hand-written late label into typed values.
func labelOf(t *testing.T, line []byte) producer.Label {
	var r struct {
		ID    string    `json:"prediction_id"`
		Model string    `json:"model"`
		Time  time.Time `json:"timestamp"`
		Label any       `json:"label"`
	}
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return producer.Label{PredictionID: r.ID, Model: r.Model, Time: r.Time, Value: r.Label}
}

// readValues reads n records of topic from its start and returns their
// values as JSON lines, in the topic's order.
func readValues(t *testing.T, brokers []string, topic string, n int) []byte {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	for read := 0; read < n; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records of %s: %v", read, n, topic, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			out.Write(r.Value)
			out.WriteByte('\n')
			read++
		})
	}
	return out.Bytes()
}
