package clickhouse

import (
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a row is left out of, or changed on its way into, a table; the
// reason label of driftwatch_sink_rejected_rows_total.
const (
	// RejectTimeOutOfRange: a time the row is keyed or partitioned by (a
	// window's start or end, a label's or an alert's time) is outside
	// what a DateTime column holds (MinTime to MaxTime). The row is left
	// out; the rest of the insert is written.
	RejectTimeOutOfRange = "time_out_of_range"
	// RejectTimeClamped: an informational time (a dead letter's Kafka
	// timestamp, -1 when the record has none) is outside that range; the
	// row is written with the receive time instead, the original kept
	// beside it (dead_letters.record_time_ms).
	RejectTimeClamped = "time_clamped"
)

// MinTime and MaxTime bound the times every DateTime column holds on every
// server version: unsigned 32-bit seconds since 1970 (DateTime64 holds
// more, but 18.16 has none, and tables keep the shape they were created
// with).
var (
	MinTime = time.Unix(0, 0).UTC()
	MaxTime = time.Unix(math.MaxUint32, 0).UTC()
)

// fits reports whether a DateTime column holds t.
func fits(t time.Time) bool { return !t.Before(MinTime) && !t.After(MaxTime) }

// rejects counts the rows the sink leaves out or clamps, by table and
// reason, and reports them once per insert.
type rejects struct {
	mu      sync.Mutex
	n       map[[2]string]int64
	log     *slog.Logger
	counter *prometheus.CounterVec
}

// Instrument makes the sink count the rows it leaves out of an insert, or
// writes with a time clamped (see RejectTimeOutOfRange), on reg as
// driftwatch_sink_rejected_rows_total{table, reason}, and log one warning
// per insert that did so, with how many rows and the first of them. Either
// may be nil. Call it once, before the sink is used.
func (s *Sink) Instrument(reg prometheus.Registerer, log *slog.Logger) {
	s.rejects.mu.Lock()
	defer s.rejects.mu.Unlock()
	s.rejects.log = log
	if reg != nil {
		s.rejects.counter = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "driftwatch_sink_rejected_rows_total",
			Help: "Rows ClickHouse's tables cannot hold as given: left out of their insert (time_out_of_range) or written with an informational time replaced (time_clamped), by table and reason.",
		}, []string{"table", "reason"})
		reg.MustRegister(s.rejects.counter)
	}
}

// Rejected returns how many rows of table the sink left out or clamped
// for reason so far. Safe for concurrent use.
func (s *Sink) Rejected(table, reason string) int64 {
	s.rejects.mu.Lock()
	defer s.rejects.mu.Unlock()
	return s.rejects.n[[2]string{table, reason}]
}

// reject counts n rows of table left out or clamped for reason; example
// describes the first of them, for the log.
func (s *Sink) reject(table, reason string, n int, example string) {
	if n == 0 {
		return
	}
	s.rejects.mu.Lock()
	if s.rejects.n == nil {
		s.rejects.n = make(map[[2]string]int64)
	}
	s.rejects.n[[2]string{table, reason}] += int64(n)
	log, counter := s.rejects.log, s.rejects.counter
	s.rejects.mu.Unlock()
	if counter != nil {
		counter.WithLabelValues(table, reason).Add(float64(n))
	}
	if log != nil {
		what := "rows left out of the insert"
		if reason == RejectTimeClamped {
			what = "rows written with their time replaced"
		}
		log.Warn(what, "table", table, "reason", reason, "rows", n, "first", example)
	}
}

// timeText formats t for a rejection's example.
func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
