// Package sinks defines where drift metric rows go: an Appender takes many
// rows, then one Commit makes them durable together or one Rollback drops
// them (the shape of Prometheus' storage.Appender). Implementations live in
// subpackages, one per external system: sinks/jsonl and sinks/clickhouse.
//
// Besides rows, some sinks keep a summary of each closed window
// (WindowSummary, with the window's label base when late labels are
// joined), the predictions and labels the late-label join needs after a
// restart, an audit of dead letters (DeadLetter) and the baselines in use.
// Those capabilities are not part of Appender or Sink: a caller that wants
// them declares the interface it needs (for example
// interface{ AppendWindow(WindowSummary) error }) and asserts it, so a sink
// without them keeps working unchanged.
//
// It deliberately holds no implementation and no retry policy: callers decide
// what a failed Commit means for the offsets they hold.
package sinks

import (
	"context"
	"time"

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

// WindowSummary is one closed window of one model version, appended
// (through an Appender that has AppendWindow) in the same commit as the
// window's rows. A window whose features all lacked samples has no rows
// but still has a summary. A sink derives what the rows tell (subjects,
// drifted subjects, worst severity) itself; the summary carries what they
// do not. It is a plain value; the sink keeps no reference to it.
type WindowSummary struct {
	// Model and Version name the model version, as in the prediction log.
	Model, Version string
	// Start and End bound the event-time window: Start inclusive, End
	// exclusive, the same instants as its rows' WindowStart and WindowEnd.
	Start, End time.Time
	// BaselineID is the baseline the window was compared with.
	BaselineID string
	// Records is the number of prediction records the window held.
	Records int64
	// Distributions are the distributions of the window's judged features
	// and prediction against the baseline's (drift.Evaluator.Distributions),
	// for reports; sinks may keep them or not.
	Distributions []drift.Distribution
	// LabelState is the window's label base,
	// windows.Window.MarshalLabelBase; empty when labels are not joined.
	// The sink keeps it as given and does not interpret it.
	LabelState []byte
}

// DeadLetter is one record that was sent to the dead-letter topic
// (CONTRACT.md section 4), as kept in an audit table. The record itself
// stays in the dead-letter topic; this is where it came from, why it was
// rejected, and the start of it. It is a plain value; the sink keeps no
// reference to it.
type DeadLetter struct {
	// Topic, Partition and Offset locate the rejected record in its source
	// topic; they identify the dead letter, so writing it again replaces it.
	Topic     string
	Partition int32
	Offset    int64
	// RecordTime is the record's Kafka timestamp; ReceivedAt is when
	// driftwatch read it.
	RecordTime, ReceivedAt time.Time
	// DeadLetterTopic is the topic the record was sent to.
	DeadLetterTopic string
	// Reason is the rejection's reason code, as in the dead letter's header.
	Reason string
	// Model is the record's model, or "" when it could not be read.
	Model string
	// Size is the size of the record's value in bytes.
	Size int
	// Excerpt is the start of the record's value; sinks may keep less of it
	// (sinks/clickhouse keeps MaxExcerptBytes).
	Excerpt string
}

// AlertRecord is one alert state change (firing, resolved) or action
// (action:retrain, action:rollback) as the audit trail keeps it (ClickHouse
// table alert_history). It is a plain value; the sink keeps no reference to
// it.
type AlertRecord struct {
	Model, Version         string
	WindowStart, WindowEnd time.Time // the window that decided it
	Family, Subject        string
	Metric                 string // the first evidence row's metric
	State                  string
	Alertname, Severity    string
	Value, Threshold       float64 // of the first evidence row
	Fingerprint            string  // the alert's identity (a hash of its labels)
	Receiver               string  // where it was sent (Alertmanager URLs, webhook, topic), or ""
	SentAt                 time.Time
	Delivered              bool   // handed to its receivers
	Error                  string // why not, if not
	Evidence               string // the metric rows behind it, a JSON array
}

// RowFilter selects metric rows for a reader (the API, reports): Model,
// and optionally its version, a family, a subject and a range of window
// starts [From, To); at most Limit rows.
type RowFilter struct {
	Model, Version, Family, Subject string
	From, To                        time.Time // zero: open
	// Limit: 0 or less is the reader's default, and a reader may cap it
	// (sinks/clickhouse: DefaultRowLimit and MaxRowLimit; the HTTP API
	// asks for at most 10,000).
	Limit int
}

// WindowVerdict is what a window of a model version concluded, as the
// window's summary keeps it.
type WindowVerdict struct {
	Model, Version  string
	Start, End      time.Time
	BaselineID      string
	Records         int64
	Subjects        int64    // subjects with rows
	DriftedSubjects []string // subjects with a drifted row
	MaxSeverity     string   // the worst severity of its rows, "" for none
}

// Silence mutes driftwatch's own alerts whose labels match every one of
// Matchers (equality) from StartsAt until EndsAt: they are not sent to
// Alertmanager nor acted on while it lasts (alerts.Silences), and those
// still firing when it ends are sent then. Expiring one early writes it
// again with EndsAt now; the newest UpdatedAt of an ID counts.
type Silence struct {
	ID        string            `json:"id"`
	Matchers  map[string]string `json:"matchers"`
	StartsAt  time.Time         `json:"starts_at"`
	EndsAt    time.Time         `json:"ends_at"`
	CreatedBy string            `json:"created_by"`
	Comment   string            `json:"comment"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// APIWrite is one write made through the HTTP API, as the audit trail
// keeps it (ClickHouse table api_writes): who made it (the token's name and
// role), what (Action, e.g. promote_baseline, on Target) and when.
type APIWrite struct {
	At             time.Time
	Who, Role      string
	Action, Target string
	Detail         string // JSON: the request's parameters
}
