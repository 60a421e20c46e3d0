package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/internal/testservers"
)

// inference is one inference as KServe serves it: a batch of instances of
// one InferenceService, logged as a request and a response event.
type inference struct {
	id, service string // service: iris-v1 (V1 protocol) or iris-v2 (Open Inference Protocol V2)
	structured  bool   // written in the Kafka binding's structured mode, else binary
	at          time.Time
	rows        [][4]string // the features, as JSON numbers
	preds       []int
}

// irisInferences returns n instances from start, batched 1 to 3 at a time,
// one every step; from drift on, petal_length is larger.
func irisInferences(rng *rand.Rand, prefix string, start time.Time, step time.Duration, n int, drift bool) []inference {
	var out []inference
	for i := 0; i < n; {
		inf := inference{id: fmt.Sprintf("%s-%04d", prefix, len(out)), service: "iris-v1", structured: len(out)%5 == 4, at: start.Add(time.Duration(i) * step)}
		if len(out)%2 == 1 {
			inf.service = "iris-v2"
		}
		for range min(1+rng.IntN(3), n-i) {
			petal := 1 + rng.Float64()*5
			if drift {
				petal += 1.5
			}
			row := [4]string{num(4.5 + rng.Float64()*3), num(2 + rng.Float64()*2.4), num(petal), num(rng.Float64() * 2.5)}
			inf.rows = append(inf.rows, row)
			inf.preds = append(inf.preds, min(int(petal/2.5), 2))
			i++
		}
		out = append(out, inf)
	}
	return out
}

func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', 1, 64) }

// payloads returns the request's and the response's payload, V1 or V2.
func (in inference) payloads() (req, resp string) {
	var rows, flat, preds []string
	for i, r := range in.rows {
		rows = append(rows, "["+strings.Join(r[:], ", ")+"]")
		flat = append(flat, r[:]...)
		preds = append(preds, strconv.Itoa(in.preds[i]))
	}
	if in.service == "iris-v1" {
		return `{"instances": [` + strings.Join(rows, ", ") + `]}`, `{"predictions": [` + strings.Join(preds, ", ") + `]}`
	}
	n := len(in.rows)
	return fmt.Sprintf(`{"inputs": [{"name": "input-0", "shape": [%d, 4], "datatype": "FP32", "data": [%s]}]}`, n, strings.Join(flat, ", ")),
		fmt.Sprintf(`{"model_name": "iris-v2", "model_version": "1", "id": "v2-%s", "outputs": [{"name": "output-0", "shape": [%d], "datatype": "INT64", "data": [%s]}]}`,
			in.id, n, strings.Join(preds, ", "))
}

// attrs are the CloudEvents attributes KServe's logger sets on an event
// of the inference (consumer/kserve/testdata/samples/README.md).
func (in inference) attrs(typ string, at time.Time) [][2]string {
	return [][2]string{{"specversion", "1.0"}, {"id", in.id}, {"source", in.service + "-predictor-00001-deployment-7f9c6d8b5-x2x7q"},
		{"type", typ}, {"time", at.Format(time.RFC3339Nano)}, {"inferenceservicename", in.service}, {"namespace", "kserve-test"},
		{"component", "predictor"}, {"endpoint", "default"}, {"metadata", "{}"}}
}

// records returns the request and response events as the KafkaSink writes
// them: binary mode (ce_ headers) or structured mode, no key.
func (in inference) records(topic string) (req, resp *kgo.Record) {
	reqData, respData := in.payloads()
	mk := func(typ, data string, at time.Time) *kgo.Record {
		r := &kgo.Record{Topic: topic, Timestamp: at.Add(3 * time.Millisecond)}
		if !in.structured {
			for _, a := range in.attrs(typ, at) {
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: "ce_" + a[0], Value: []byte(a[1])})
			}
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: "content-type", Value: []byte("application/json")})
			r.Value = []byte(data)
			return r
		}
		var env bytes.Buffer
		env.WriteString("{")
		for _, a := range in.attrs(typ, at) {
			k, _ := json.Marshal(a[0])
			v, _ := json.Marshal(a[1])
			fmt.Fprintf(&env, "%s:%s,", k, v)
		}
		fmt.Fprintf(&env, `"datacontenttype":"application/json","data":%s}`, data)
		r.Headers = []kgo.RecordHeader{{Key: "content-type", Value: []byte("application/cloudevents+json; charset=UTF-8")}}
		r.Value = env.Bytes()
		return r
	}
	return mk("org.kubeflow.serving.inference.request", reqData, in.at), mk("org.kubeflow.serving.inference.response", respData, in.at.Add(7*time.Millisecond))
}

// contract returns the inference's predictions written by hand in the
// prediction log's format (CONTRACT.md section 1).
func (in inference) contract() []string {
	var out []string
	for i, r := range in.rows {
		id := in.id
		if len(in.rows) > 1 {
			id += "/" + strconv.Itoa(i)
		}
		out = append(out, fmt.Sprintf(`{"prediction_id": %q, "model": "iris", "model_version": "1", "timestamp": %q, "features": {"sepal_length": %s, "sepal_width": %s, "petal_length": %s, "petal_width": %s}, "prediction": %d}`,
			id, in.at.UTC().Format(time.RFC3339Nano), r[0], r[1], r[2], r[3], in.preds[i]))
	}
	return out
}

// TestRunReadsKServe: `driftwatch run` against the real broker reads
// KServe's logger events, from the topic (as Knative's KafkaSink writes
// them, binary and structured mode, V1 and V2 payloads, each request and
// its response in different partitions) and posted to its HTTP endpoint
// (as the logger posts them), and writes the same metric rows as replay
// writes from the same predictions written by hand in the contract's
// format; no matched event is dead-lettered, and those that make no
// record are, with their reason.
func TestRunReadsKServe(t *testing.T) {
	brokers := testservers.KafkaEnv(t, testservers.KafkaGate)
	t.Setenv("DW_TEST_KSERVE_TOKEN", "kserve-1f4e-token")
	admCl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admCl.Close)
	preds, events, group := testservers.UniqueName(t, "p"), testservers.UniqueName(t, "events"), testservers.UniqueName(t, "g")
	testservers.CreateTopics(t, admCl, 2, preds, events)
	testservers.CreateTopics(t, admCl, 1, preds+".dlq", events+".dlq")

	// Three hours of inferences: the second drifts, the third closes the
	// first two windows.
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(18, 3))
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	w0 := irisInferences(rng, "w0", start, 10*time.Second, 300, false)
	w1 := irisInferences(rng, "w1", start.Add(time.Hour), 10*time.Second, 280, true)
	posted := irisInferences(rng, "http", start.Add(time.Hour+50*time.Minute), 30*time.Second, 20, true)
	w2 := irisInferences(rng, "w2", start.Add(2*time.Hour), 10*time.Second, 40, false)
	for i := range posted {
		posted[i].structured = i%2 == 1 // posted in structured HTTP mode
	}
	ref := irisInferences(rng, "ref", start.Add(-24*time.Hour), time.Second, 2000, false)
	var refLines, logLines []string
	for _, in := range ref {
		refLines = append(refLines, in.contract()...)
	}
	for _, in := range slices.Concat(w0, w1, posted, w2) {
		logLines = append(logLines, in.contract()...)
	}
	write := func(name string, lines []string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	baseDir := filepath.Join(dir, "baselines")
	if code, _, errOut := run(t, "baseline", "--model", "iris", "--input", write("ref.jsonl", refLines), "--out", baseDir); code != 0 {
		t.Fatalf("baseline: %s", errOut)
	}

	httpAddr := freeAddr(t)
	common := `
windows: {size: 1h, allowed_lateness: 0s, watermark_outliers: 0}
baselines: {dir: %q, reload: 0s}
`
	rowsRun := filepath.Join(dir, "run.jsonl")
	cfg := write("driftwatch.yml", []string{fmt.Sprintf(common+`
kafka: {brokers: [%q], topic: %q, dead_letter_topic: %q, group: %q}
labels: {topic: ""}
sinks: {jsonl: {path: %q}}
http: {listen: %q}
kserve:
  topic: %q
  join_timeout: 2s
  http_tokens: [{name: kserve, token_env: DW_TEST_KSERVE_TOKEN}]
  models:
    iris-v1: {model: iris, version: "1", features: [sepal_length, sepal_width, petal_length, petal_width]}
    iris-v2: {model: iris, version_from: response.model_version, features: [sepal_length, sepal_width, petal_length, petal_width], input: input-0}
`, baseDir, brokers, preds, preds+".dlq", group, rowsRun, httpAddr, events)})

	prod, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	produce := func(ins []inference, extra ...*kgo.Record) {
		t.Helper()
		var rs []*kgo.Record
		for _, in := range ins {
			req, resp := in.records(events)
			req.Partition, resp.Partition = 0, 1 // apart, as a KafkaSink without keys may put them
			rs = append(rs, req, resp)
		}
		if err := prod.ProduceSync(ctx, append(rs, extra...)...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// Events that make no record: not a CloudEvent, an InferenceService
	// without a mapping, a request whose response never comes.
	notEvent := &kgo.Record{Topic: events, Partition: 0, Value: []byte(`{"instances": [[5.1, 3.5, 1.4, 0.2]]}`)}
	other := inference{id: "other-1", service: "fraud", at: start.Add(30 * time.Minute), rows: [][4]string{{"1", "2", "3", "4"}}, preds: []int{1}}
	otherReq, _ := other.records(events)
	lonely := inference{id: "lonely-1", service: "iris-v1", at: start.Add(40 * time.Minute), rows: [][4]string{{"1", "2", "3", "4"}}, preds: []int{1}}
	lonelyReq, _ := lonely.records(events)
	otherReq.Partition, lonelyReq.Partition = 1, 0
	produce(slices.Concat(w0, w1), notEvent, otherReq, lonelyReq)

	done := startRun(ctx, cfg)
	// The posted inferences, once the endpoint answers: KServe's logger
	// posts in binary HTTP mode with the token in its URL (it sends no
	// header of its own); structured mode is taken too.
	url := "http://" + httpAddr + "/kserve/v1/events?access_token=kserve-1f4e-token"
	post := func(r *kgo.Record) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(r.Value))
		for _, h := range r.Headers {
			name, ok := strings.CutPrefix(h.Key, "ce_")
			if !ok {
				req.Header.Set(h.Key, string(h.Value))
				continue
			}
			req.Header.Set("Ce-"+name, strings.ReplaceAll(string(h.Value), `"`, "%22"))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for i, in := range posted {
		req, resp := in.records(events)
		for _, r := range []*kgo.Record{resp, req} { // the response first: the join waits either way
			for {
				code, err := post(r)
				if err == nil && code == http.StatusOK {
					break
				}
				if err == nil || i > 0 || ctx.Err() != nil {
					t.Fatalf("post %s: %d %v", in.id, code, err)
				}
				select { // not listening yet: run is starting
				case r := <-done:
					t.Fatalf("run exited %d: %s", r.code, r.stderr)
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
	}
	// Without the token, the endpoint refuses.
	noToken, _ := posted[0].records(events)
	url = "http://" + httpAddr + "/kserve/v1/events"
	if code, err := post(noToken); err != nil || code != http.StatusUnauthorized {
		t.Errorf("a post without a token: %d %v, want 401", code, err)
	}
	produce(w2)

	// Windows 0 and 1 close once the third hour's records are read.
	var runRows map[string]map[string]any
	for {
		runRows = readRows(t, rowsRun)
		if hasWindows(runRows, start, start.Add(time.Hour)) {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("run exited %d: %s", r.code, r.stderr)
		case <-ctx.Done():
			t.Fatalf("windows 0 and 1 not written within 60 s: %d rows", len(runRows))
		case <-time.After(100 * time.Millisecond): // polls the sink's file
		}
	}
	// The events that make no record are dead-lettered with their reason
	// (the unmatched one after the join timeout); nothing else is, and no
	// record breaks the contract.
	reasons := map[string]int{}
	cons, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ConsumeTopics(events+".dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	for n := 0; n < 3; {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("dead letters %v after 60 s, want 3", reasons)
		}
		fs.EachRecord(func(r *kgo.Record) {
			for _, h := range r.Headers {
				if h.Key == "driftwatch.dlq.reason" {
					reasons[string(h.Value)]++
				}
			}
			n++
		})
	}
	if want := map[string]int{"not_cloudevent": 1, "unknown_model": 1, "unmatched": 1}; fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Errorf("dead letters by reason %v, want %v", reasons, want)
	}
	adm := kadm.NewClient(admCl)
	ends, err := adm.ListEndOffsets(ctx, preds+".dlq", events+".dlq")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Topic == preds+".dlq" && o.Offset != 0 {
			t.Errorf("%d records of the KServe adapter broke the contract (%s)", o.Offset, o.Topic)
		}
		if o.Topic == events+".dlq" && o.Offset != 3 {
			t.Errorf("%d KServe dead letters, want 3", o.Offset)
		}
	})
	stopRun(t, cancel, done)

	// The same predictions, written by hand, through replay.
	rowsReplay := filepath.Join(dir, "replay.jsonl")
	replayCfg := write("replay.yml", []string{fmt.Sprintf(common, baseDir)})
	if code, _, errOut := run(t, "replay", "--config", replayCfg, "--baselines", baseDir, "--input", write("log.jsonl", logLines), "--output", rowsReplay); code != 0 {
		t.Fatalf("replay: %s", errOut)
	}
	replayRows := readRows(t, rowsReplay)
	compared := 0
	for key, want := range replayRows {
		ws, _ := time.Parse(time.RFC3339, want["window_start"].(string))
		if ws.After(start.Add(time.Hour)) {
			continue // window 2 stays open in run
		}
		got, ok := runRows[key]
		if !ok {
			t.Errorf("run has no row %s", key)
			continue
		}
		if d := rowDiff(got, want); d != "" {
			t.Errorf("row %s: %s", key, d)
		}
		compared++
	}
	for key := range runRows {
		if _, ok := replayRows[key]; !ok {
			t.Errorf("run wrote row %s, replay did not", key)
		}
	}
	psi := runRows[rowKey("iris", "1", start.Add(time.Hour), "data", "petal_length", "psi")]
	if compared < 50 || psi == nil || psi["drifted"] != true || psi["n_current"] != float64(280+20) {
		t.Errorf("%d rows compared; window 1's petal_length psi %v (want drifted over 300 records)", compared, psi)
	}
}

// stopRun cancels run and waits for its orderly exit.
func stopRun(t *testing.T, cancel context.CancelFunc, done <-chan runResult) {
	t.Helper()
	cancel()
	if r := <-done; r.code != 0 {
		t.Fatalf("run exited %d: %s", r.code, r.stderr)
	}
}

func rowKey(model, version string, start time.Time, family, subject, metric string) string {
	return strings.Join([]string{model, version, start.UTC().Format(time.RFC3339), family, subject, metric}, " ")
}

// readRows reads a file of metric rows, the newest of each key, by key.
func readRows(t *testing.T, path string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return out // a line being written: read again later
		}
		ws, _ := time.Parse(time.RFC3339, fmt.Sprint(r["window_start"]))
		out[rowKey(fmt.Sprint(r["model"]), fmt.Sprint(r["model_version"]), ws, fmt.Sprint(r["family"]), fmt.Sprint(r["subject"]), fmt.Sprint(r["metric"]))] = r
	}
	return out
}

// hasWindows reports whether rows hold the data rows of every window
// start given.
func hasWindows(rows map[string]map[string]any, starts ...time.Time) bool {
	for _, s := range starts {
		if rows[rowKey("iris", "1", s, "data", "*", "drifted_share")] == nil {
			return false
		}
	}
	return true
}

// rowDiff says how two metric rows differ, column by column; "" when
// they are the same.
func rowDiff(got, want map[string]any) string {
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, w := fmt.Sprint(got[k]), fmt.Sprint(want[k]); g != w {
			diffs = append(diffs, fmt.Sprintf("%s %s, want %s", k, g, w))
		}
	}
	if len(got) != len(want) {
		diffs = append(diffs, fmt.Sprintf("%d columns, want %d", len(got), len(want)))
	}
	return strings.Join(diffs, "; ")
}
