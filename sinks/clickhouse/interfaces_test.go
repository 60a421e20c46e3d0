package clickhouse_test

import (
	"github.com/driftwatch/driftwatch/internal/pipeline"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/sinks/clickhouse"
)

// The pipeline resumes from what the sink holds, and writes through it.
var (
	_ pipeline.Resumer = (*clickhouse.Sink)(nil)
	_ sinks.Sink       = (*clickhouse.Sink)(nil)
)
