package workload

import (
	"bytes"
	"context"
	"io"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/alerts"
	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/config"
	"github.com/driftwatch/driftwatch/internal/pipeline"
	"github.com/driftwatch/driftwatch/sinks/jsonl"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// Replay runs in process what `driftwatch replay` runs with the default
// configuration: the file source over r (the records as JSON lines), event-time
// windows closed at the end of the input, the drift evaluator and the
// severities of the default alert rules, and a JSON-lines sink writing the
// rows to out. It returns the number of rows written. Dead letters are
// counted and discarded.
func Replay(r io.Reader, base map[string]*baselines.Baseline, out io.Writer) (rows int64, err error) {
	cfg := config.Default()
	def, per := cfg.Policies()
	am, err := alerts.NewManager(alerts.ManagerConfig{Rules: cfg.Alerts.Rules})
	if err != nil {
		return 0, err
	}
	cw := &lineCounter{w: out}
	p := &pipeline.Pipeline{
		Alerts: am,
		Source: consumer.NewFileSource(memory.DefaultAllocator, r, "workload", consumer.FileConfig{
			Baselines: base, MaxRecordBytes: cfg.Kafka.MaxRecordBytes, DedupCapacity: cfg.Kafka.DedupCapacity,
			WatermarkOutliers: cfg.Windows.WatermarkOutliers,
		}),
		Windows: windows.Config{
			Size: cfg.Windows.Size, Hop: cfg.Windows.Hop, Lateness: cfg.Windows.AllowedLateness,
			MaxCategories: cfg.Windows.MaxCategories, MaxOpenWindows: cfg.Windows.MaxOpen, FlushAtEnd: true, SampleRows: cfg.Windows.Samples(),
			Decision: windows.Decision{Threshold: cfg.Fairness.DecisionThreshold, Positive: cfg.Fairness.Positive},
			Variants: cfg.VariantRoles(),
		},
		Evaluator: drift.NewEvaluator(def, per),
		Sink:      jsonl.New(cw, "workload"),
	}
	if err := p.Run(context.Background()); err != nil {
		return cw.lines, err
	}
	return cw.lines, nil
}

type lineCounter struct {
	w     io.Writer
	lines int64
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	return c.w.Write(p)
}
