// Package pipeline wires driftwatch's stages into one running job: a source
// of batches (Kafka or a file), the windowing stage, the evaluation of closed
// windows against their baselines, severity classification, and a sink. It
// owns the stages' goroutines and channels and stops them in order.
//
// It deliberately holds no statistics, decoding or storage logic of its own.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/driftwatch/driftwatch/alerts"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// Channel capacities between stages: small, so back-pressure reaches the
// source quickly instead of queueing without bound.
const (
	batchQueue  = 4
	closedQueue = 16
)

// Source is a stage that produces batches: consumer.Kafka or
// consumer.FileSource. Run closes out when it returns.
type Source interface {
	Run(ctx context.Context, out chan<- consumer.Batch) error
	Counts() consumer.Counts
}

// Resumer is a sink that knows, per model version, the end of the newest
// window it holds from an earlier run.
type Resumer interface {
	Committed(ctx context.Context) (map[windows.Key]time.Time, error)
}

// Result is what one committed closed window (or late report) produced.
type Result struct {
	Window *windows.Window     // nil for a late report
	Late   *windows.LateReport // nil for a window
	Rows   []drift.Row
}

// Pipeline is one run of the stages. Set the fields, then call Run once.
type Pipeline struct {
	Source    Source
	Windows   windows.Config
	Evaluator *drift.Evaluator
	Sink      sinks.Sink
	Log       *slog.Logger
	// OnCommit, when set, is called after each window's rows are committed,
	// from the sink stage's goroutine, in commit order.
	OnCommit func(Result)

	assigner *windows.Assigner
}

// Counts are the pipeline's progress figures.
type Counts struct {
	Source  consumer.Counts
	Windows windows.Counts
}

// Counts returns a snapshot. Safe for concurrent use once Run has started.
func (p *Pipeline) Counts() Counts {
	c := Counts{Source: p.Source.Counts()}
	if p.assigner != nil {
		c.Windows = p.assigner.Counts()
	}
	return c
}

// Start prepares the stages; Run calls it. It exists so that Counts can be
// read before Run's goroutines start. If the sink is a Resumer, windows it
// already holds are not emitted again.
func (p *Pipeline) Start(ctx context.Context) error {
	if p.assigner != nil {
		return nil
	}
	if r, ok := p.Sink.(Resumer); ok {
		done, err := r.Committed(ctx)
		if err != nil {
			return fmt.Errorf("read committed windows: %w", err)
		}
		p.Windows.Resume = done
	}
	p.assigner = windows.New(p.Windows)
	return nil
}

// Run runs the stages until the source ends (and, for bounded sources, every
// window is flushed and committed) or ctx is done or a stage fails. It returns
// the first stage error. On ctx's end, windows already closed are still
// committed; open windows are dropped unacknowledged, so their offsets stay
// uncommitted and are read again after a restart.
func (p *Pipeline) Run(ctx context.Context) error {
	if err := p.Start(ctx); err != nil {
		return err
	}
	batches := make(chan consumer.Batch, batchQueue)
	closed := make(chan windows.Closed, closedQueue)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.Source.Run(gctx, batches) })
	g.Go(func() error { return p.assigner.Run(gctx, batches, closed) })
	g.Go(func() error { return p.commit(closed) })
	return g.Wait()
}

// commit evaluates each closed window and commits its rows, then
// acknowledges it. On a failed commit it acknowledges with the error and
// returns it, which stops the other stages; windows not yet committed stay
// unacknowledged, so their offsets are never committed.
func (p *Pipeline) commit(in <-chan windows.Closed) error {
	for c := range in {
		res := Result{Window: c.Window, Late: c.Late}
		if c.Window != nil {
			res.Rows = p.Evaluator.Evaluate(c.Window)
		} else {
			res.Rows = []drift.Row{drift.Late(c.Late)}
		}
		alerts.Classify(res.Rows)
		if err := p.write(res.Rows); err != nil {
			c.Ack(err)
			return err
		}
		c.Ack(nil)
		if p.OnCommit != nil {
			p.OnCommit(res)
		}
	}
	return nil
}

func (p *Pipeline) write(rows []drift.Row) error {
	if len(rows) == 0 {
		return nil
	}
	app := p.Sink.Appender(context.Background())
	if err := app.Append(rows...); err != nil {
		_ = app.Rollback()
		return fmt.Errorf("append %d rows of %s %s: %w", len(rows), rows[0].Model, rows[0].WindowStart, err)
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("commit %d rows of %s %s: %w", len(rows), rows[0].Model, rows[0].WindowStart, err)
	}
	return nil
}
