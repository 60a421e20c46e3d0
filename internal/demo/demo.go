// Package demo runs `driftwatch demo`: an in-process Kafka-protocol broker
// (franz-go's kfake), a synthetic serving stack that logs predictions of two
// models with drift injected into named features from a known window on,
// baselines built from the stack's training data, and the full pipeline
// against that broker, narrated for a newcomer on one screen.
//
// It deliberately uses the same packages as `driftwatch run`: only the broker,
// the data and the clock are synthetic. The demo's clock stands still at
// 2026-11-23 16:00 UTC and its late labels arrive in event time (see
// produce), so a seed always prints the same output, run after run, save
// the timings.
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
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/alerts"
	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/pipeline"
	"github.com/driftwatch/driftwatch/internal/reference"
	"github.com/driftwatch/driftwatch/internal/report"
	"github.com/driftwatch/driftwatch/internal/report/html"
	"github.com/driftwatch/driftwatch/internal/report/load"
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
	demoErrorShare  = 0.6 // of the fraud model's requests that fail in window demoErrorsIn
	demoErrorsIn    = 4   // 0-based: the 5th window
	demoRenameFrom  = 12  // 0-based: churn's payment_method is payment_method_v2 in the last two windows
	// tick is the step in which the serving stack and the labeller play
	// event time: each tick's predictions, then its labels (see produce).
	tick = 15 * time.Minute
	// labelChunk bounds the labels sent at once: far below the records a
	// poll takes (consumer.DefaultMaxPollRecords) and, at a few hundred
	// bytes each, below a producer batch (1 MB).
	labelChunk = 1000
)

// demoNow is the time on the demo's default clock, which stands still: the
// stream's 14 windows are 02:00 to 16:00 UTC that day, and the baselines'
// ids are the same in every run.
var demoNow = time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)

// Options configure a demo run. The zero value is the documented demo.
type Options struct {
	Out              string // directory for baselines and metrics; default "driftwatch-demo"
	Seed             int64  // default 1
	RecordsPerWindow int    // per model; 0: the scenario's default
	ReferenceRecords int    // training records per model; default 20,000
	// Now is the demo's clock: the stream ends at the last full window
	// before it, the baselines are stamped with it and the consumer judges
	// timestamps by it. Nil: a clock standing still at 2026-11-23 16:00 UTC.
	Now func() time.Time
}

// Outcome is what a demo run found, for tests and the closing summary.
type Outcome struct {
	Scenario synth.Config
	Counts   pipeline.Counts
	// Flagged is, per model and window index, the subjects whose verdict
	// was drifted.
	Flagged map[string]map[int][]string
	// Multivariate is, per model and window index, the multivariate
	// metrics (subject drift.SubjectMultivariate) that drifted.
	Multivariate map[string]map[int][]string
	// DeadLetters counts the records read back from the dead-letter topic,
	// by reason header.
	DeadLetters map[string]int64
	Rows        int64
	MetricsPath string
	Reports     []string // the HTML reports written, one per model
	// Alerts counts the alerts that fired, by "severity alertname".
	Alerts map[string]int
	// Estimated holds, per model, window index and metric, the newest row
	// of subject estimated_performance (family concept): the performance
	// estimated without labels, its band and, with labels, its realized
	// value.
	Estimated map[string]map[int]map[string]drift.Row
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
		opts.Now = func() time.Time { return demoNow }
	}
	wall := time.Now() // for the timings only
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
	// later, on the labels topic, as chargebacks would. Most of fraud's
	// requests fail in one window; churn's producer renames a feature
	// near the end (schema drift).
	for i := range scen.Models {
		switch m := &scen.Models[i]; m.Name {
		case "fraud":
			m.LabelShare, m.LabelDelay = demoLabelShare, [2]time.Duration{15 * time.Minute, 4 * time.Hour}
			m.ErrorShare, m.ErrorFrom, m.ErrorTo, m.ErrorClasses = demoErrorShare, demoErrorsIn, demoErrorsIn+1, []string{"timeout", "model_exception"}
		case "churn":
			m.Drifts = append(m.Drifts, synth.Drift{Feature: "payment_method", Kind: synth.Renamed, Amount: 1, FromWindow: demoRenameFrom})
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
	for _, old := range []string{metricsPath, load.WindowsBeside(metricsPath)} {
		if err := os.Remove(old); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("remove old demo metrics: %w", err)
		}
	}

	// The labels topic has one partition, so that a tick's labels are one
	// batch (see produce).
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, Topic), kfake.SeedTopics(1, DeadLetterTopic),
		kfake.SeedTopics(1, LabelsTopic), kfake.SeedTopics(1, LabelsTopic+".dlq"))
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka broker: %w", err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()

	total := scen.Windows * scen.RecordsPerWindow * len(scen.Models)
	fmt.Fprintf(w, "driftwatch demo: drift detection on a live stream of prediction logs\n\n")
	fmt.Fprintf(w, "  broker    embedded Kafka-protocol broker (franz-go kfake), topic %q (%d partitions), dead letters to %q\n",
		Topic, partitions, DeadLetterTopic)
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
	for _, m := range scen.Models {
		at := func(window int) string { return scen.Start.Add(time.Duration(window) * scen.Window).Format("15:04") }
		if m.ErrorShare > 0 {
			fmt.Fprintf(w, "            %s's serving fails for %.0f%% of its requests in the %s window (records with \"error\": %s)\n",
				m.Name, m.ErrorShare*100, at(m.ErrorFrom), strings.Join(m.ErrorClasses, ", "))
		}
		for _, d := range m.Drifts {
			if d.Kind == synth.Renamed {
				fmt.Fprintf(w, "            %s's producer renames %s to %s%s from the %s window on (schema drift)\n",
					m.Name, d.Feature, d.Feature, synth.RenamedSuffix, at(d.FromWindow))
			}
		}
	}
	fmt.Fprintf(w, "  clock     stands at %s; predictions and labels are sent in event time, %d minutes at a time\n",
		begin.UTC().Format("2006-01-02 15:04 MST"), int(tick.Minutes()))

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
	if err := sink.KeepWindows(load.WindowsBeside(metricsPath), nil); err != nil {
		return nil, err
	}

	until := make(chan map[consumer.TopicPartition]int64, 1)
	src, err := consumer.NewKafka(memory.DefaultAllocator, log, consumer.KafkaConfig{
		Topic: Topic, DeadLetterTopic: DeadLetterTopic, Group: "driftwatch-demo",
		Baselines: base, MaxFuture: time.Hour, Now: opts.Now, Until: until, LabelsTopic: LabelsTopic,
	}, kgo.SeedBrokers(brokers...), kgo.ClientID("driftwatch-demo"))
	if err != nil {
		return nil, err
	}
	out := &Outcome{Scenario: scen, Flagged: make(map[string]map[int][]string), Multivariate: make(map[string]map[int][]string),
		MetricsPath: metricsPath, Alerts: make(map[string]int), Estimated: make(map[string]map[int]map[string]drift.Row)}
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
			mu.Lock()
			defer mu.Unlock()
			for _, r := range res.Rows { // at close, and realized values again with late labels
				if r.Family == drift.FamilyConcept && r.Subject == drift.SubjectEstimated {
					i := int(r.WindowStart.Sub(scen.Start) / scen.Window)
					if out.Estimated[r.Model] == nil {
						out.Estimated[r.Model] = make(map[int]map[string]drift.Row)
					}
					if out.Estimated[r.Model][i] == nil {
						out.Estimated[r.Model][i] = make(map[string]drift.Row)
					}
					out.Estimated[r.Model][i][r.Metric] = r
				}
			}
			if res.Window == nil {
				return
			}
			idx := int(res.Window.Start.Sub(scen.Start) / scen.Window)
			if out.Flagged[res.Window.Model] == nil {
				out.Flagged[res.Window.Model] = make(map[int][]string)
			}
			if out.Multivariate[res.Window.Model] == nil {
				out.Multivariate[res.Window.Model] = make(map[int][]string)
			}
			for _, r := range res.Rows {
				if r.Primary && r.Drifted {
					out.Flagged[res.Window.Model][idx] = append(out.Flagged[res.Window.Model][idx], r.Subject)
				}
				if r.Subject == drift.SubjectMultivariate && r.Drifted {
					out.Multivariate[res.Window.Model][idx] = append(out.Multivariate[res.Window.Model][idx], r.Metric)
				}
			}
		},
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	prodErr := make(chan error, 1)
	read := func() (predictions, labels int64) {
		c := src.Counts()
		labels = c.Labels
		for _, n := range c.LabelDeadLetter {
			labels += n
		}
		return c.Records, labels
	}
	go func() {
		err := produce(runCtx, brokers, scen, read, until)
		if err != nil {
			cancel() // the source would wait for Until forever
		}
		prodErr <- err
	}()

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

	out.DeadLetters, err = readDeadLetters(ctx, brokers)
	if err != nil {
		return nil, err
	}
	if err := writeReports(out, scen, opts.Out, base); err != nil {
		return nil, err
	}
	summarize(w, out, elapsed, opts.Out)
	fmt.Fprintf(w, "\ndone in %.1fs\n", time.Since(wall).Seconds())
	return out, nil
}

// writeReports writes each model's HTML report (driftwatch report) of the
// demo's rows, windows and baselines into dir, as report-<model>.html.
func writeReports(o *Outcome, scen synth.Config, dir string, base map[string]*baselines.Baseline) error {
	for _, m := range scen.Models {
		in, err := load.Files(o.MetricsPath, load.WindowsBeside(o.MetricsPath), "", m.Name, time.Time{}, time.Time{})
		if err != nil {
			return err
		}
		in.Baselines, in.Policy, in.Generated = []*baselines.Baseline{base[m.Name]}, drift.DefaultPolicy(), demoNow
		in.Source = "driftwatch demo"
		path := filepath.Join(dir, "report-"+m.Name+".html")
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("create demo report: %w", err)
		}
		err = html.Write(f, in)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write demo report: %w", cerr)
		}
		if err != nil {
			return err
		}
		o.Reports = append(o.Reports, path)
	}
	return nil
}

// driftFrom is the first window of m's distribution drifts (Shift,
// Scale, Mix; not the quality breakage).
func driftFrom(m synth.Model) int {
	from := -1
	for _, d := range m.Drifts {
		if d.Kind > synth.Mix {
			continue
		}
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

// produce plays the serving stack and the labeller in event time, then
// announces the end offsets it reached. It cuts the generated stream, in
// order of arrival, into ticks; in each it logs the tick's predictions and
// waits until the pipeline has read them, then sends the tick's labels, in
// chunks of one producer batch on the labels topic's one partition, and
// waits until each is read. So the pipeline reads each label after the
// predictions sent before it and before those sent after it (to the tick),
// and each chunk in one poll, whatever the scheduling: which windows a label
// finds closed, how often a closed window is re-evaluated, and with them
// every count the demo prints, depend on the seed alone. (Sent at once, the
// two topics were read in an order the goroutines' timing chose.) read
// reports how many prediction records and labels the pipeline's source has
// read.
func produce(ctx context.Context, brokers []string, scen synth.Config, read func() (predictions, labels int64),
	until chan<- map[consumer.TopicPartition]int64) error {
	// Records wait in the producer until send flushes them, so that a chunk
	// of labels leaves as one batch.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("demo-serving-stack"), kgo.ProducerLinger(time.Minute))
	if err != nil {
		return fmt.Errorf("create demo producer: %w", err)
	}
	defer cl.Close()
	var (
		mu            sync.Mutex
		end           = make(map[consumer.TopicPartition]int64)
		failure       error
		preds, labels []*kgo.Record
		sentP, sentL  int64
		tickEnd       = scen.Start.Add(tick)
		promise       = func(r *kgo.Record, err error) {
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
		}
	)
	// send produces recs and waits until the broker has them and the
	// pipeline has read them.
	send := func(recs []*kgo.Record, sent *int64) error {
		if len(recs) == 0 {
			return nil
		}
		for _, r := range recs {
			cl.Produce(ctx, r, promise)
		}
		if err := cl.Flush(ctx); err != nil {
			return err
		}
		mu.Lock()
		err := failure
		mu.Unlock()
		if err != nil {
			return err
		}
		*sent += int64(len(recs))
		return waitRead(ctx, read, sentP, sentL)
	}
	flush := func() error {
		if err := send(preds, &sentP); err != nil {
			return err
		}
		// Labels go in chunks the pipeline reads in one poll each: one
		// producer batch, fewer records than a poll takes.
		for chunk := range slices.Chunk(labels, labelChunk) {
			if err := send(chunk, &sentL); err != nil {
				return err
			}
		}
		preds, labels = preds[:0], labels[:0]
		return nil
	}
	err = scen.Generate(func(m synth.Message) error {
		if !m.Arrival.Before(tickEnd) {
			if err := flush(); err != nil {
				return err
			}
			tickEnd = m.Arrival.Truncate(tick).Add(tick)
		}
		rec := &kgo.Record{Topic: Topic, Key: m.Key, Value: m.Value, Timestamp: m.Time}
		if m.Label {
			rec.Topic = LabelsTopic
			labels = append(labels, rec)
		} else {
			preds = append(preds, rec)
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("produce demo records: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	until <- end
	return nil
}

// waitRead returns once read reports at least the given numbers of
// prediction records and labels, or ctx ends (the pipeline stopped).
func waitRead(ctx context.Context, read func() (predictions, labels int64), predictions, labels int64) error {
	poll := time.NewTicker(500 * time.Microsecond)
	defer poll.Stop()
	for {
		if p, l := read(); p >= predictions && l >= labels {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poll.C:
		}
	}
}

// readDeadLetters reads the dead-letter topic back, up to the end offsets it
// has once the pipeline has ended (the source delivers its dead letters
// before a bounded run ends), and counts its records by reason header, to
// show where bad records went.
func readDeadLetters(ctx context.Context, brokers []string) (map[string]int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(DeadLetterTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, DeadLetterTopic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("read dead letters: end offsets of %s: %w", DeadLetterTopic, err)
	}
	left := make(map[int32]int64) // partition -> end offset not yet reached
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	got := make(map[string]int64)
	for len(left) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read dead letters: %d partitions of %s not read to their end: %w", len(left), DeadLetterTopic, err)
		}
		var ferr error
		fetches.EachError(func(topic string, p int32, err error) {
			if ferr == nil {
				ferr = fmt.Errorf("read dead letters: fetch %s/%d: %w", topic, p, err)
			}
		})
		if ferr != nil {
			return nil, ferr
		}
		fetches.EachRecord(func(r *kgo.Record) {
			for _, h := range r.Headers {
				if h.Key == consumer.HeaderReason {
					got[string(h.Value)]++
				}
			}
			if e, ok := left[r.Partition]; ok && r.Offset+1 >= e {
				delete(left, r.Partition)
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
		fmt.Fprintf(w, "  labels    %s late labels read from %q, %s joined to their predictions; %s re-evaluations of closed windows with them (label, concept and fairness rows re-emitted as a newer version)\n",
			report.Thousands(l.Received), LabelsTopic, report.Thousands(l.Joined), report.Thousands(l.Relabelled))
	}

	expected := o.Scenario.Expected()
	for _, m := range o.Scenario.Models {
		from := driftFrom(m)
		drifted := o.Scenario.Windows - from
		var hits, falseAlarms int
		mvHits, mvFalse := map[string]int{}, map[string]int{}
		for idx := 0; idx < o.Scenario.Windows; idx++ {
			for _, metric := range o.Multivariate[m.Name][idx] {
				if idx >= from {
					mvHits[metric]++
				} else {
					mvFalse[metric]++
				}
			}
			for _, f := range o.Flagged[m.Name][idx] {
				switch {
				case f == "prediction", f == drift.SubjectMultivariate:
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
		fmt.Fprintf(w, "            %-6s %s (the features together): %s in %d of %d drifted windows, %d of %d undrifted; %s in %d and %d\n",
			m.Name, drift.SubjectMultivariate, drift.MetricReconstructionError, mvHits[drift.MetricReconstructionError], drifted,
			mvFalse[drift.MetricReconstructionError], o.Scenario.Windows-drifted,
			drift.MetricDomainClassifierAUC, mvHits[drift.MetricDomainClassifierAUC], mvFalse[drift.MetricDomainClassifierAUC])
	}
	for _, m := range o.Scenario.Models {
		if line := estimatedLine(o.Estimated[m.Name], driftFrom(m), o.Scenario.Windows); line != "" {
			fmt.Fprintf(w, "  estimated %-6s %s\n", m.Name, line)
		}
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
	fmt.Fprintf(w, "  report    %s: open in a browser (driftwatch report)\n", strings.Join(o.Reports, ", "))
	fmt.Fprintf(w, "  next      driftwatch replay --baselines %s --input your-log.jsonl --output rows.jsonl\n", filepath.Join(dir, "baselines"))
	fmt.Fprintf(w, "            driftwatch run --config deploy/driftwatch.yml   (real Kafka; every key documented there)\n")
}

// estimatedLine says how one model's performance estimated without labels
// went, for the metric flagged in most drifted windows (a classifier's
// accuracy, precision, recall, F1 or ROC AUC; else mae; the first when
// none): its mean before the drift (windows before from) and in the
// drifted windows, how many of these it flagged, its band's mean
// half-width, and what the late labels realized where they came.
func estimatedLine(est map[int]map[string]drift.Row, from, windows int) string {
	if len(est) == 0 {
		return ""
	}
	candidates := []string{drift.MetricAccuracy, drift.MetricPrecision, drift.MetricRecall, drift.MetricF1, drift.MetricROCAUC}
	if _, ok := est[from][drift.MetricAccuracy]; !ok {
		candidates = []string{drift.MetricMAE}
	}
	metric, most := candidates[0], 0
	for _, m := range candidates {
		n := 0
		for idx := from; idx < windows; idx++ {
			if est[idx][m].Drifted {
				n++
			}
		}
		if n > most {
			metric, most = m, n
		}
	}
	names := drift.EstimatedMetrics[metric]
	type mean struct{ sum, n float64 }
	var value, realized [2]mean
	var half mean
	for idx := range windows {
		r, ok := est[idx][metric]
		if !ok {
			continue
		}
		k := 0
		if idx >= from {
			k = 1
		}
		value[k].sum, value[k].n = value[k].sum+r.Value, value[k].n+1
		half.sum, half.n = half.sum+(est[idx][names[1]].Value-est[idx][names[0]].Value)/2, half.n+1
		if rr, ok := est[idx][names[2]]; ok {
			realized[k].sum, realized[k].n = realized[k].sum+rr.Value, realized[k].n+1
		}
	}
	if value[0].n == 0 || value[1].n == 0 {
		return ""
	}
	line := fmt.Sprintf("%s without labels %.3f before the drift, %.3f after (band +-%.3f), drifted in %d of %d windows",
		metric, value[0].sum/value[0].n, value[1].sum/value[1].n, half.sum/half.n, most, windows-from)
	if realized[0].n > 0 && realized[1].n > 0 {
		return line + fmt.Sprintf("; the late labels realized %.3f, %.3f", realized[0].sum/realized[0].n, realized[1].sum/realized[1].n)
	}
	return line + "; no labels"
}
