// Package demo runs `driftwatch demo`: an in-process Kafka-protocol broker
// (franz-go's kfake), a synthetic serving stack that logs predictions of two
// models with drift injected into named features from a known window on,
// baselines built from the stack's training data, and the full pipeline
// against that broker, narrated for a newcomer on one screen.
//
// It deliberately uses the same packages as `driftwatch run`: only the broker
// and the data are synthetic.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/alerts"
	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/pipeline"
	"github.com/driftwatch/driftwatch/internal/reference"
	"github.com/driftwatch/driftwatch/internal/report"
	"github.com/driftwatch/driftwatch/internal/synth"
	"github.com/driftwatch/driftwatch/sinks/jsonl"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// Topics of the demo broker.
const (
	Topic           = "predictions"
	DeadLetterTopic = "predictions.dlq"
	LabelsTopic     = "labels"
	partitions      = 3
	demoLabelShare  = 0.3 // of the fraud model's predictions, labelled 15 min to 4 h later
)

// Options configure a demo run. The zero value is the documented demo.
type Options struct {
	Out              string // directory for baselines and metrics; default "driftwatch-demo"
	Seed             int64  // default 1
	RecordsPerWindow int    // per model; 0: the scenario's default
	ReferenceRecords int    // training records per model; default 20,000
	Now              func() time.Time
}

// Outcome is what a demo run found, for tests and the closing summary.
type Outcome struct {
	Scenario synth.Config
	Counts   pipeline.Counts
	// Flagged is, per model and window index, the subjects whose verdict
	// was drifted.
	Flagged map[string]map[int][]string
	// DeadLetters counts the records read back from the dead-letter topic,
	// by reason header.
	DeadLetters map[string]int64
	Rows        int64
	MetricsPath string
	// Alerts counts the alerts that fired, by "severity alertname".
	Alerts map[string]int
}

// Run runs the demo, narrating to w. It returns when every window is
// committed and offsets are committed, or on the first error.
func Run(ctx context.Context, w io.Writer, log *slog.Logger, opts Options) (*Outcome, error) {
	if opts.Out == "" {
		opts.Out = "driftwatch-demo"
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.ReferenceRecords == 0 {
		opts.ReferenceRecords = 20_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	begin := opts.Now()
	scen := synth.Demo(begin)
	scen.Seed = opts.Seed
	if opts.RecordsPerWindow > 0 {
		scen.RecordsPerWindow = opts.RecordsPerWindow
	}
	// The stream ends at the last full window before now, so every window
	// is in the past and none is ahead of the clock.
	scen.Start = begin.UTC().Truncate(scen.Window).Add(-time.Duration(scen.Windows) * scen.Window)
	// Ground truth for a share of the fraud model's predictions comes
	// later, on the labels topic, as chargebacks would.
	for i := range scen.Models {
		if m := &scen.Models[i]; m.Name == "fraud" {
			m.LabelShare, m.LabelDelay = demoLabelShare, [2]time.Duration{15 * time.Minute, 4 * time.Hour}
		}
	}
	if err := scen.Validate(); err != nil {
		return nil, fmt.Errorf("demo scenario: %w", err)
	}

	for _, d := range []string{"reference", "baselines"} {
		if err := os.MkdirAll(filepath.Join(opts.Out, d), 0o755); err != nil {
			return nil, fmt.Errorf("create demo output directory: %w", err)
		}
	}
	metricsPath := filepath.Join(opts.Out, "metrics.jsonl")
	if err := os.Remove(metricsPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove old demo metrics: %w", err)
	}

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, Topic), kfake.SeedTopics(1, DeadLetterTopic),
		kfake.SeedTopics(partitions, LabelsTopic), kfake.SeedTopics(1, LabelsTopic+".dlq"))
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka broker: %w", err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()

	total := scen.Windows * scen.RecordsPerWindow * len(scen.Models)
	fmt.Fprintf(w, "driftwatch demo: drift detection on a live stream of prediction logs\n\n")
	fmt.Fprintf(w, "  broker    embedded Kafka-protocol broker at %s, topic %q (%d partitions), dead letters to %q\n",
		strings.Join(brokers, ","), Topic, partitions, DeadLetterTopic)
	fmt.Fprintf(w, "  serving   a synthetic serving stack logs %s predictions of %d models over %d hourly windows:\n",
		report.Thousands(int64(total)), len(scen.Models), scen.Windows)
	expected := scen.Expected()
	for _, m := range scen.Models {
		from := driftFrom(m)
		fmt.Fprintf(w, "            %-6s %-6s %2d features; drift injected into %s from the %s window on (window %d of %d)\n",
			m.Name, m.Version, len(m.Features), strings.Join(expected[m.Name], " and "),
			scen.Start.Add(time.Duration(from)*scen.Window).Format("15:04"), from+1, scen.Windows)
	}
	fmt.Fprintf(w, "            fraud's ground truth for %.0f%% of its predictions arrives 15 min to 4 h later on topic %q\n", demoLabelShare*100, LabelsTopic)

	base := make(map[string]*baselines.Baseline, len(scen.Models))
	for _, m := range scen.Models {
		b, err := buildBaseline(scen, m, opts)
		if err != nil {
			return nil, err
		}
		base[m.Name] = b
	}
	ids := make([]string, 0, len(base))
	for _, m := range scen.Models {
		ids = append(ids, base[m.Name].ID)
	}
	fmt.Fprintf(w, "  baseline  built from %s training records per model: %s\n\n", report.Thousands(int64(opts.ReferenceRecords)), strings.Join(ids, ", "))

	sink, err := jsonl.Open(metricsPath)
	if err != nil {
		return nil, err
	}
	defer sink.Close()

	until := make(chan map[consumer.TopicPartition]int64, 1)
	src, err := consumer.NewKafka(memory.DefaultAllocator, log, consumer.KafkaConfig{
		Topic: Topic, DeadLetterTopic: DeadLetterTopic, Group: "driftwatch-demo",
		Baselines: base, MaxFuture: time.Hour, Now: opts.Now, Until: until, LabelsTopic: LabelsTopic,
	}, kgo.SeedBrokers(brokers...), kgo.ClientID("driftwatch-demo"))
	if err != nil {
		return nil, err
	}
	out := &Outcome{Scenario: scen, Flagged: make(map[string]map[int][]string), MetricsPath: metricsPath, Alerts: make(map[string]int)}
	// Alerts by the default rules, as `driftwatch run` would send them to
	// Alertmanager; here they are counted and shown.
	am, err := alerts.NewManager(alerts.ManagerConfig{OnEvent: func(ev alerts.Event) {
		if ev.State == alerts.StateFiring {
			out.Alerts[string(ev.Severity)+" "+ev.Rule.Alert]++
		}
	}})
	if err != nil {
		return nil, err
	}
	printer := report.NewPrinter(w)
	var mu sync.Mutex
	p := &pipeline.Pipeline{
		Source:    src,
		Windows:   windows.Config{Size: scen.Window, Lateness: 10 * time.Minute, FlushAtEnd: true, Labels: &windows.LabelConfig{}},
		Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil),
		Alerts:    am,
		Sink:      sink,
		Log:       log,
		OnCommit: func(res pipeline.Result) {
			printer.Window(res)
			if res.Window == nil {
				return
			}
			idx := int(res.Window.Start.Sub(scen.Start) / scen.Window)
			mu.Lock()
			defer mu.Unlock()
			if out.Flagged[res.Window.Model] == nil {
				out.Flagged[res.Window.Model] = make(map[int][]string)
			}
			for _, r := range res.Rows {
				if r.Primary && r.Drifted {
					out.Flagged[res.Window.Model][idx] = append(out.Flagged[res.Window.Model][idx], r.Subject)
				}
			}
		},
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	prodErr := make(chan error, 1)
	go func() { prodErr <- produce(runCtx, brokers, scen, until) }()

	start := time.Now()
	runErr := p.Run(runCtx)
	cancel()
	if err := <-prodErr; err != nil && runErr == nil && !errors.Is(err, context.Canceled) {
		runErr = err
	}
	closeCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := src.Close(closeCtx); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return nil, fmt.Errorf("demo pipeline: %w", runErr)
	}
	elapsed := time.Since(start)
	out.Counts = p.Counts()
	out.Rows = sink.Rows()

	out.DeadLetters, err = readDeadLetters(ctx, brokers, out.Counts.Source.DeadLetter)
	if err != nil {
		return nil, err
	}
	summarize(w, out, elapsed, opts.Out)
	fmt.Fprintf(w, "\ndone in %.1fs\n", time.Since(begin).Seconds())
	return out, nil
}

func driftFrom(m synth.Model) int {
	from := -1
	for _, d := range m.Drifts {
		if from < 0 || d.FromWindow < from {
			from = d.FromWindow
		}
	}
	return from
}

// buildBaseline writes the model's training data as a reference file and
// builds its baseline through the same path as `driftwatch baseline`.
func buildBaseline(scen synth.Config, m synth.Model, opts Options) (*baselines.Baseline, error) {
	refPath := filepath.Join(opts.Out, "reference", m.Name+".jsonl")
	f, err := os.Create(refPath)
	if err != nil {
		return nil, fmt.Errorf("write reference data: %w", err)
	}
	if err := scen.Reference(m.Name, opts.ReferenceRecords, f); err != nil {
		f.Close()
		return nil, fmt.Errorf("generate reference data for %s: %w", m.Name, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write reference data: %w", err)
	}
	b, _, err := reference.Build(refPath, m.Name, baselines.BuildOptions{Source: refPath, ModelVersion: m.Version, Now: opts.Now})
	if err != nil {
		return nil, fmt.Errorf("build baseline of %s: %w", m.Name, err)
	}
	if err := b.Save(filepath.Join(opts.Out, "baselines", b.ID+".json")); err != nil {
		return nil, err
	}
	return b, nil
}

// produce plays the serving stack: it logs every generated record to the
// topic, then announces the end offsets it reached.
func produce(ctx context.Context, brokers []string, scen synth.Config, until chan<- map[consumer.TopicPartition]int64) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("demo-serving-stack"), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return fmt.Errorf("create demo producer: %w", err)
	}
	defer cl.Close()
	var (
		mu      sync.Mutex
		end     = make(map[consumer.TopicPartition]int64)
		failure error
	)
	err = scen.Generate(func(m synth.Message) error {
		rec := &kgo.Record{Topic: Topic, Key: m.Key, Value: m.Value, Timestamp: m.Time}
		if m.Label {
			rec.Topic = LabelsTopic
		}
		cl.Produce(ctx, rec, func(r *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if failure == nil {
					failure = err
				}
				return
			}
			tp := consumer.TopicPartition{Topic: r.Topic, Partition: r.Partition}
			if r.Offset+1 > end[tp] {
				end[tp] = r.Offset + 1
			}
		})
		return ctx.Err()
	})
	if ferr := cl.Flush(ctx); err == nil {
		err = ferr
	}
	mu.Lock()
	defer mu.Unlock()
	if err == nil {
		err = failure
	}
	if err != nil {
		return fmt.Errorf("produce demo records: %w", err)
	}
	until <- end
	return nil
}

// readDeadLetters reads the dead-letter topic back and counts its records by
// reason header, to show where bad records went.
func readDeadLetters(ctx context.Context, brokers []string, want map[string]int64) (map[string]int64, error) {
	var total int64
	for _, n := range want {
		total += n
	}
	got := make(map[string]int64)
	if total == 0 {
		return got, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(DeadLetterTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var n int64
	for n < total {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read dead letters: found %d of %d: %w", n, total, ctx.Err())
		}
		fetches.EachRecord(func(r *kgo.Record) {
			n++
			for _, h := range r.Headers {
				if h.Key == consumer.HeaderReason {
					got[string(h.Value)]++
				}
			}
		})
	}
	return got, nil
}

func summarize(w io.Writer, o *Outcome, elapsed time.Duration, dir string) {
	c := o.Counts
	fmt.Fprintf(w, "\n  consumed  %s\n", report.Source(c.Source, elapsed, DeadLetterTopic))
	var dl []string
	for r, n := range o.DeadLetters {
		dl = append(dl, fmt.Sprintf("%s %d", r, n))
	}
	sort.Strings(dl)
	if len(dl) > 0 {
		fmt.Fprintf(w, "            read back from %s, reason in header %q: %s\n", DeadLetterTopic, consumer.HeaderReason, strings.Join(dl, ", "))
	}
	fmt.Fprintf(w, "  windows   %d closed, %d records later than the allowed lateness\n", c.Windows.Closed, c.Windows.Late)
	if l := c.Windows.Labels; l.Received > 0 {
		fmt.Fprintf(w, "  labels    %s late labels read from %q, %s joined to their predictions; %d closed windows re-evaluated with them (label, concept and fairness rows re-emitted as a newer version)\n",
			report.Thousands(l.Received), LabelsTopic, report.Thousands(l.Joined), l.Relabelled)
	}

	expected := o.Scenario.Expected()
	for _, m := range o.Scenario.Models {
		from := driftFrom(m)
		drifted := o.Scenario.Windows - from
		var hits, falseAlarms int
		for idx := 0; idx < o.Scenario.Windows; idx++ {
			for _, f := range o.Flagged[m.Name][idx] {
				switch {
				case f == "prediction":
				case idx >= from && slices.Contains(expected[m.Name], f):
					hits++
				default:
					falseAlarms++
				}
			}
		}
		fmt.Fprintf(w, "  verdict   %-6s %d of %d injected feature drifts flagged (%d features x %d drifted windows), %d false alarms in %d undrifted feature-windows\n",
			m.Name, hits, len(expected[m.Name])*drifted, len(expected[m.Name]), drifted, falseAlarms,
			len(m.Features)*o.Scenario.Windows-len(expected[m.Name])*drifted)
	}
	if len(o.Alerts) > 0 {
		keys := make([]string, 0, len(o.Alerts))
		for k := range o.Alerts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s x%d", k, o.Alerts[k])
		}
		fmt.Fprintf(w, "  alerts    fired (severity, alertname; sent to Alertmanager by driftwatch run): %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "\n  files     %s (%s metric rows, one per window, subject and metric, then newer versions of those late labels changed: the last of a key counts)\n", o.MetricsPath, report.Thousands(o.Rows))
	fmt.Fprintf(w, "            %s (baselines), %s (training data they came from)\n",
		filepath.Join(dir, "baselines"), filepath.Join(dir, "reference"))
	fmt.Fprintf(w, "  next      driftwatch replay --baselines %s --input your-log.jsonl --output rows.jsonl\n", filepath.Join(dir, "baselines"))
	fmt.Fprintf(w, "            driftwatch run --config deploy/driftwatch.yml   (real Kafka; every key documented there)\n")
}
