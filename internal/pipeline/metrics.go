package pipeline

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// RegisterMetrics exposes p's progress on reg as driftwatch_* metrics, read
// from the stages' counters at scrape time. Labels are bounded: reason codes
// are a fixed set.
func RegisterMetrics(reg prometheus.Registerer, p *Pipeline) {
	src := func(f func(consumer.Counts) int64) func() float64 {
		return func() float64 { return float64(f(p.Source.Counts())) }
	}
	win := func(f func(c Counts) int64) func() float64 {
		return func() float64 { return float64(f(p.Counts())) }
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_consumer_records_total", Help: "Records read from the source, good or bad."},
			src(func(c consumer.Counts) int64 { return c.Records })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_consumer_accepted_records_total", Help: "Records decoded and windowed."},
			src(func(c consumer.Counts) int64 { return c.Accepted })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_consumer_labels_total", Help: "Late labels read from the labels topic and decoded."},
			src(func(c consumer.Counts) int64 { return c.Labels })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_consumer_duplicate_records_total", Help: "Records dropped as duplicates of a prediction id."},
			src(func(c consumer.Counts) int64 { return c.Duplicates })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_consumer_type_errors_total", Help: "Feature values of the wrong type, stored as missing."},
			src(func(c consumer.Counts) int64 { return c.TypeErrors })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_consumer_pauses_total", Help: "Times reading paused because the sink failed (it resumes when a commit succeeds)."},
			src(func(c consumer.Counts) int64 { return c.Pauses })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_windows_late_records_total", Help: "Records that arrived after their window closed."},
			win(func(c Counts) int64 { return c.Windows.Late })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_windows_overflow_records_total", Help: "Records dropped because too many windows were open."},
			win(func(c Counts) int64 { return c.Windows.Overflow })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_windows_resumed_records_total", Help: "Records re-read after a restart for windows already committed, skipped."},
			win(func(c Counts) int64 { return c.Windows.Resumed })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_windows_unpaired_records_total", Help: "Variant records left out of pairing with the champion's in their window (windows.MaxPairRecords a window)."},
			win(func(c Counts) int64 { return c.Windows.PairsDropped })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_windows_closed_total", Help: "Windows closed and evaluated."},
			win(func(c Counts) int64 { return c.Windows.Closed })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftwatch_windows_open", Help: "Windows open now."},
			win(func(c Counts) int64 { return c.Windows.Open })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftwatch_labels_awaiting_predictions", Help: "Predictions kept for a late label (labels.max_predictions per model)."},
			win(func(c Counts) int64 { return c.Windows.Labels.Awaiting })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftwatch_labels_held", Help: "Late labels held for a prediction not seen yet (labels.max_pending per model)."},
			win(func(c Counts) int64 { return c.Windows.Labels.Held })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_labels_relabelled_windows_total", Help: "Closed windows re-emitted because late labels joined them."},
			win(func(c Counts) int64 { return c.Windows.Labels.Relabelled })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_labels_evicted_predictions_total", Help: "Predictions dropped for labels.max_predictions before their horizon ended: their labels will not count."},
			win(func(c Counts) int64 { return c.Windows.Labels.EvictedPredictions })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_sink_commit_failures_total", Help: "Failed sink commit attempts (each is retried)."},
			func() float64 { return float64(p.CommitFailures()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_sink_skipped_writes_total", Help: "Window commits and dead-letter audit rows skipped because the sink can never hold a value of their rows."},
			func() float64 { return float64(p.SkippedWrites()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftwatch_sink_ready", Help: "1 when the sink accepts commits, 0 while commits fail and reading is paused."},
			func() float64 {
				if ok, _ := p.Ready(); ok {
					return 1
				}
				return 0
			}),
	)
	latency := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "driftwatch_serving_latency_ms",
		Help: "Serving latency_ms quantile of the newest committed window, per model version."}, []string{"model", "model_version", "quantile"})
	throughput := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "driftwatch_serving_throughput_rps",
		Help: "Records per second of the newest committed window, per model version."}, []string{"model", "model_version"})
	reg.MustRegister(latency, throughput)
	quantiles := map[string]string{drift.MetricLatencyP50: "0.5", drift.MetricLatencyP95: "0.95", drift.MetricLatencyP99: "0.99"}
	models := newModelMetrics(reg)
	p.observe = func(res Result, wrote time.Duration) {
		rows := res.Rows
		models.observe(rows)
		models.writeTime.Observe(wrote.Seconds())
		if res.Window != nil {
			models.commitDelay.Observe(time.Since(res.Window.End).Seconds())
		}
		for i := range rows {
			r := &rows[i]
			if r.Family != drift.FamilyServing {
				continue
			}
			if q, ok := quantiles[r.Metric]; ok && r.Subject == "latency_ms" { // the model's, not a variant's
				latency.WithLabelValues(r.Model, r.ModelVersion, q).Set(r.Value)
			} else if r.Metric == drift.MetricThroughput {
				throughput.WithLabelValues(r.Model, r.ModelVersion).Set(r.Value)
			}
		}
	}
	for outcome, f := range map[string]func(windows.LabelCounts) int64{
		"received":         func(c windows.LabelCounts) int64 { return c.Received },
		"joined":           func(c windows.LabelCounts) int64 { return c.Joined },
		"already_labelled": func(c windows.LabelCounts) int64 { return c.AlreadyLabelled },
		"beyond_horizon":   func(c windows.LabelCounts) int64 { return c.BeyondHorizon },
		"expired":          func(c windows.LabelCounts) int64 { return c.Expired },
		"evicted":          func(c windows.LabelCounts) int64 { return c.EvictedLabels },
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "driftwatch_labels_total", Help: "Late labels by what became of them: received; joined to their prediction; ignored (already_labelled, beyond_horizon); without their prediction (expired at the horizon, evicted for labels.max_pending).",
			ConstLabels: prometheus.Labels{"outcome": outcome},
		}, win(func(c Counts) int64 { return f(c.Windows.Labels) })))
	}
	for _, reason := range []string{consumer.ReasonTooBig, consumer.ReasonNotJSON, consumer.ReasonMissingField,
		consumer.ReasonWrongType, consumer.ReasonBadTimestamp, consumer.ReasonNoBaseline} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "driftwatch_consumer_dead_letter_records_total", Help: "Records sent to the dead-letter topic, by reason.",
			ConstLabels: prometheus.Labels{"reason": reason},
		}, src(func(c consumer.Counts) int64 { return c.DeadLetter[reason] })))
		if reason != consumer.ReasonNoBaseline {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "driftwatch_consumer_dead_letter_labels_total", Help: "Late labels sent to the labels' dead-letter topic, by reason.",
				ConstLabels: prometheus.Labels{"reason": reason},
			}, src(func(c consumer.Counts) int64 { return c.LabelDeadLetter[reason] })))
		}
	}
}
