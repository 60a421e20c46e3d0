package pipeline

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// errUnholdable stands for a value no column can hold (sinks/clickhouse's
// IsRowError).
var errUnholdable = errors.New("value the column cannot hold")

// poisonSink fails, permanently, every commit of the window starting at
// bad, and commits the others.
type poisonSink struct {
	bad       time.Time
	mu        sync.Mutex
	committed []time.Time
}

func (s *poisonSink) Appender(context.Context) sinks.Appender { return &poisonAppender{s: s} }
func (s *poisonSink) Close() error                            { return nil }

type poisonAppender struct {
	s    *poisonSink
	rows []drift.Row
}

func (a *poisonAppender) Append(rows ...drift.Row) error {
	a.rows = append(a.rows, rows...)
	return nil
}
func (a *poisonAppender) Rollback() error { return nil }
func (a *poisonAppender) Commit() error {
	if len(a.rows) == 0 {
		return nil
	}
	if a.rows[0].WindowStart.Equal(a.s.bad) {
		return errUnholdable
	}
	a.s.mu.Lock()
	a.s.committed = append(a.s.committed, a.rows[0].WindowStart)
	a.s.mu.Unlock()
	return nil
}

// TestInvalidWindowIsSkipped: a window whose rows the sink can never hold
// (Retry.Invalid) is skipped, counted, and acknowledged so that its offsets
// move on; the windows after it commit, and the run does not stop. Without
// Retry.Invalid the same error stops the run (TestPermanentSinkErrorStops):
// a restart would read the window again and stop again.
func TestInvalidWindowIsSkipped(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	src := &ackSource{base: baseline(), hours: 5}
	sink := &poisonSink{bad: t0.Add(2 * time.Hour)}
	p := &Pipeline{
		Source:    src,
		Windows:   windows.Config{Size: time.Hour, FlushAtEnd: true},
		Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil),
		Sink:      sink,
		Retry: &Retry{Initial: time.Millisecond, Max: time.Millisecond,
			Retryable: func(err error) bool { return !errors.Is(err, errUnholdable) },
			Invalid:   func(err error) bool { return errors.Is(err, errUnholdable) }},
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run = %v, want the window skipped and the run finished", err)
	}
	if len(sink.committed) != 4 || p.SkippedWrites() != 1 {
		t.Errorf("committed windows %v, skipped %d; want the 4 others and 1", sink.committed, p.SkippedWrites())
	}
	if len(src.acks) != 5 {
		t.Fatalf("%d acks, want 5", len(src.acks))
	}
	for _, a := range src.acks {
		if a != nil {
			t.Errorf("acknowledged with %v, want every batch acknowledged", a)
		}
	}
}

// TestInvalidDeadLetterIsSkipped: an audit write that fails for one dead
// letter's values (Retry.Invalid) is tried one dead letter at a time: the
// others are written, the one is skipped and counted, and every dead
// letter is acknowledged, so no partition waits for it.
func TestInvalidDeadLetterIsSkipped(t *testing.T) {
	var (
		mu      sync.Mutex
		written = map[int64]bool{}
	)
	p := &Pipeline{Windows: windows.Config{FlushAtEnd: true}, Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil), Sink: &failingSink{ok: 100},
		Retry: &Retry{Initial: time.Millisecond, Max: time.Millisecond,
			Retryable: func(err error) bool { return !errors.Is(err, errUnholdable) },
			Invalid:   func(err error) bool { return errors.Is(err, errUnholdable) }}}
	src := &auditSource{p: p, n: 50}
	p.Source = src
	p.DeadLetters = func(_ context.Context, dls []sinks.DeadLetter) error {
		for _, d := range dls {
			if d.Offset == 7 {
				return errUnholdable
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, d := range dls {
			written[d.Offset] = true
		}
		return nil
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run = %v, want the dead letter skipped", err)
	}
	if len(written) != src.n-1 || written[7] || p.SkippedWrites() != 1 {
		t.Errorf("%d written (offset 7: %t), %d skipped; want %d, false, 1", len(written), written[7], p.SkippedWrites(), src.n-1)
	}
	if len(src.dones) != src.n {
		t.Fatalf("%d of %d dead letters acknowledged", len(src.dones), src.n)
	}
	for _, err := range src.dones {
		if err != nil {
			t.Errorf("acknowledged with %v", err)
		}
	}
}
