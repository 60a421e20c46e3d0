package clickhouse_test

import (
	"context"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/pipeline"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/sinks/clickhouse"
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
