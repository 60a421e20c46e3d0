package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/pipeline"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/sinks/clickhouse"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// The pipeline resumes from what the sink holds, and writes through it.
var (
	_ pipeline.Resumer = (*clickhouse.Sink)(nil)
	_ sinks.Sink       = (*clickhouse.Sink)(nil)
)

// Capabilities beyond sinks.Sink, which callers find by type assertion.
var (
	_ interface {
		WriteDeadLetters(context.Context, []sinks.DeadLetter) error
	} = (*clickhouse.Sink)(nil)
	_ interface {
		WriteBaselines(context.Context, []*baselines.Baseline, string) error
	} = (*clickhouse.Sink)(nil)
)

// The late-label join: the pipeline reads it back from the Sink and
// writes it through the Appender (internal/pipeline's labelLoader and
// labelAppender).
var _ interface {
	LoadLabelJoin(context.Context, time.Duration, func(model, id string) *baselines.Baseline) (windows.JoinState, int, error)
	LoadDetectorStates(context.Context) ([]drift.DetectorState, error)
	LoadWindowVolumes(context.Context) ([]drift.WindowVolume, error)
} = (*clickhouse.Sink)(nil)

func TestAppenderCapabilities(t *testing.T) {
	a := (&clickhouse.Sink{}).Appender(context.Background())
	if _, ok := a.(interface {
		AppendWindow(sinks.WindowSummary) error
	}); !ok {
		t.Error("the appender has no AppendWindow")
	}
	if _, ok := a.(interface {
		AppendPredictionKeys([]windows.PredictionKey) error
		AppendLabels([]consumer.Label) error
	}); !ok {
		t.Error("the appender has no AppendPredictionKeys or AppendLabels")
	}
	if _, ok := a.(interface {
		AppendDetectorStates([]drift.DetectorState) error
	}); !ok {
		t.Error("the appender has no AppendDetectorStates")
	}
}
