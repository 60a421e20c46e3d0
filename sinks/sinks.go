// Package sinks defines where drift metric rows go: an Appender takes many
// rows, then one Commit makes them durable together or one Rollback drops
// them (the shape of Prometheus' storage.Appender). Implementations live in
// subpackages, one per external system: sinks/jsonl, and later
// sinks/clickhouse.
//
// It deliberately holds no implementation and no retry policy: callers decide
// what a failed Commit means for the offsets they hold.
package sinks

import (
	"context"

	"github.com/driftwatch/driftwatch/stats/drift"
)

// Appender collects rows for one commit. It is used by one goroutine and is
// finished by exactly one Commit or Rollback; it must not be used after.
type Appender interface {
	// Append adds rows to the pending commit. It may buffer them in memory.
	Append(rows ...drift.Row) error
	// Commit makes every appended row durable, or returns an error and makes
	// none of them visible. After a nil return, the rows survive a crash.
	Commit() error
	// Rollback drops every appended row.
	Rollback() error
}

// Sink hands out Appenders. Appender is safe for concurrent use; each
// Appender is not.
type Sink interface {
	Appender(ctx context.Context) Appender
	Close() error
}
