// Package pipeline wires driftwatch's stages into one running job: a source
// of batches (Kafka or a file), the windowing stage, the evaluation of closed
// windows against their baselines, severity classification, and a sink. It
// owns the stages' goroutines and channels and stops them in order.
//
// It deliberately holds no statistics, decoding or storage logic of its own.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"golang.org/x/sync/errgroup"

	"github.com/driftwatch/driftwatch/alerts"
	"github.com/driftwatch/driftwatch/baselines"
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
	auditQueue  = 1024 // dead letters waiting to be written
	auditBatch  = 1000 // dead letters per write, at most
)

// Source is a stage that produces batches: consumer.Kafka or
// consumer.FileSource. Run closes out when it returns.
type Source interface {
	Run(ctx context.Context, out chan<- consumer.Batch) error
	Counts() consumer.Counts
}

// Alerts classifies rows and turns committed ones into alerts
// (alerts.Manager).
type Alerts interface {
	Classify(rows []drift.Row)
	// Observe gets committed rows; complete says they are every row of
	// their windows (a window as it closed, not a re-emission).
	Observe(rows []drift.Row, complete bool)
	// Sync waits until the alert state changes observed so far are
	// durable (the audit trail a restarted job reads back), then delivers
	// them (Alertmanager, actions); it returns ctx's error if ctx ends
	// first.
	Sync(ctx context.Context) error
}

// handover is an Alerts whose state follows the instance that merges a
// model's windows (scale-out; alerts.Manager with Load): Handover when the
// source's partitions move, Own before rows are observed.
type handover interface {
	Handover()
	Own(ctx context.Context, rows []drift.Row) error
}

// labelLoader is a sink that keeps the late-label join (labelAppender) and
// reads it back.
type labelLoader interface {
	LoadLabelJoin(ctx context.Context, horizon time.Duration, baseline func(model, id string) *baselines.Baseline) (windows.JoinState, int, error)
}

// Resumer is a sink that knows, per model version, the end of the newest
// window it holds from an earlier run.
type Resumer interface {
	Committed(ctx context.Context) (map[windows.Key]time.Time, error)
}

// Result is what one committed closed window, late report or batch of late
// labels produced.
type Result struct {
	Window *windows.Window     // a closed window, or nil
	Late   *windows.LateReport // a late report, or nil
	// Relabel are the closed windows a batch of late labels changed; Rows
	// are then their new label-derived rows.
	Relabel []*windows.Window
	Rows    []drift.Row
	// Distributions are a closed window's distributions (with Window).
	Distributions []drift.Distribution

	detectors []drift.DetectorState // kept with the rows, where the sink keeps them
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
	// Retry, when set, makes a failed sink commit retried with exponential
	// backoff until it succeeds or the run's context ends, instead of
	// stopping the run. While it retries, nothing is acknowledged, the
	// stages' small queues fill and the source stops reading: memory stays
	// bounded and the job catches up when the sink returns. Nil stops the
	// run at the first failed commit (replay, tests).
	Retry *Retry
	// DeadLetters, when set, writes the dead letters the source hands to
	// Audit, in batches, retried like commits (sinks/clickhouse's
	// WriteDeadLetters).
	DeadLetters func(ctx context.Context, dls []sinks.DeadLetter) error
	// Alerts, when set, sets the rows' severities before they are written
	// and is told of every committed result, from the sink stage's
	// goroutine in commit order (alerts.Manager); nil classifies by
	// alerts.DefaultRules.
	Alerts Alerts
	// BaselineByID resolves a model's baseline by id, for reading back
	// the late-label join from a sink that keeps it (windows with labels
	// joined keep their baseline by id there).
	BaselineByID func(model, id string) *baselines.Baseline

	assigner      *windows.Assigner
	keepDetectors bool                        // the sink keeps the detectors' state (detectorAppender)
	observe       func(Result, time.Duration) // set by RegisterMetrics: each commit's rows and write time, for the gauges
	audit         chan auditEntry
	running       chan struct{} // closed when Run's stages stop
	failing       atomic.Int64  // unix nanos since the sink has been failing; 0 when healthy
	failures      atomic.Int64  // failed commit attempts
	skipped       atomic.Int64  // writes skipped for Retry.Invalid
	pauseMu       sync.Mutex
	resumed       chan struct{} // while failing: closed when the sink recovers

	// writing is held while a result is written and its alerts made
	// durable; Fence takes it to wait for that. fenceMu guards fence and
	// fenced.
	writing sync.Mutex
	fenceMu sync.Mutex
	fence   int64         // results of an older generation are dropped unwritten
	fenced  chan struct{} // closed, and replaced, by each Fence: wakes a retry's wait
}

// Retry is the backoff of failed sink commits: exponential from Initial,
// doubling up to Max between attempts, with jitter, and no overall limit (a
// limit would silently drop rows; the operator sees Ready turn false).
// While it waits, a sink that can be pinged (Pinger) is pinged every
// ProbeInterval, and the next attempt comes as soon as a ping succeeds: a
// long outage delays the first write after the server's return by about
// one ProbeInterval, not by Max.
type Retry struct {
	Initial time.Duration
	Max     time.Duration
	// Retryable, when set, says which errors are worth retrying; any other
	// (bad credentials, a schema problem) stops the run at once.
	Retryable func(error) bool
	// Invalid, when set, says which of those other errors concern the rows
	// of one write rather than the sink (a value no column can hold,
	// sinks/clickhouse's IsRowError): neither retrying nor restarting can
	// make such a write succeed, so it is skipped, counted (SkippedWrites)
	// and logged, and the run goes on. A dead-letter audit write is then
	// tried one dead letter at a time, and only those that fail are
	// skipped (each is in the dead-letter topic all the same).
	Invalid func(error) bool
}

// ProbeInterval is how often a failing sink that is a Pinger is pinged
// between retries.
const ProbeInterval = 500 * time.Millisecond

// Pinger is a sink that can tell cheaply whether its server answers
// (sinks/clickhouse).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Paused returns nil while the sink accepts commits. While commits fail it
// returns a channel that is closed once one succeeds again: the source
// stops reading until then (consumer.KafkaConfig.Paused), so that nothing
// piles up in memory behind a failing sink. Safe for concurrent use.
func (p *Pipeline) Paused() <-chan struct{} {
	p.pauseMu.Lock()
	defer p.pauseMu.Unlock()
	if p.failing.Load() == 0 {
		return nil
	}
	return p.resumed
}

// setFailing marks the sink failing, returning false when it was already.
func (p *Pipeline) setFailing() bool {
	p.pauseMu.Lock()
	defer p.pauseMu.Unlock()
	if !p.failing.CompareAndSwap(0, time.Now().UnixNano()) {
		return false
	}
	p.resumed = make(chan struct{})
	return true
}

// setRecovered marks the sink accepting commits, resuming the source, and
// returns since when it had failed (zero when it had not).
func (p *Pipeline) setRecovered() time.Time {
	p.pauseMu.Lock()
	defer p.pauseMu.Unlock()
	since := p.failing.Swap(0)
	if since == 0 {
		return time.Time{}
	}
	close(p.resumed)
	p.resumed = nil
	return time.Unix(0, since)
}

// Ready reports whether the sink accepts commits; when it does not, since
// tells since when. A job that is not ready is alive but behind.
func (p *Pipeline) Ready() (ok bool, since time.Time) {
	if t := p.failing.Load(); t != 0 {
		return false, time.Unix(0, t)
	}
	return true, time.Time{}
}

// CommitFailures is the number of failed sink commit attempts so far.
func (p *Pipeline) CommitFailures() int64 { return p.failures.Load() }

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
		p.Windows.Refresh = func() (map[windows.Key]time.Time, error) {
			// Another instance may have fed the detectors, and fired or
			// resolved alerts, meanwhile.
			if h, ok := p.Alerts.(handover); ok {
				h.Handover()
			}
			if err := p.restoreDetectors(ctx); err != nil {
				return nil, err
			}
			if err := p.restoreVolumes(ctx); err != nil {
				return nil, err
			}
			return r.Committed(ctx)
		}
	}
	if err := p.restoreDetectors(ctx); err != nil {
		return err
	}
	if err := p.restoreVolumes(ctx); err != nil {
		return err
	}
	app := p.Sink.Appender(ctx)
	_, p.keepDetectors = app.(detectorAppender)
	_ = app.Rollback()
	if l, ok := p.Sink.(labelLoader); ok && p.Windows.Labels != nil && p.BaselineByID != nil {
		horizon := p.Windows.Labels.Horizon
		if horizon <= 0 {
			horizon = windows.DefaultHorizon
		}
		p.Windows.RestoreLabels = func() (windows.JoinState, error) {
			st, skipped, err := l.LoadLabelJoin(ctx, horizon, p.BaselineByID)
			if err != nil {
				return st, fmt.Errorf("read back the late-label join: %w", err)
			}
			if p.Log != nil {
				p.Log.Info("late-label join read back", "windows", len(st.Bases), "predictions", len(st.Keys), "labels", len(st.Labels), "windows_without_baseline", skipped)
			}
			return st, nil
		}
	}
	p.assigner = windows.New(p.Windows)
	p.audit = make(chan auditEntry, auditQueue)
	p.running = make(chan struct{})
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
	sourceDone := make(chan struct{})
	g.Go(func() error {
		defer close(sourceDone) // no more dead letters: Audit is called from the source's loop
		return p.Source.Run(gctx, batches)
	})
	g.Go(func() error { return p.assigner.Run(gctx, batches, closed) })
	g.Go(func() error { return p.commit(gctx, closed) })
	if p.DeadLetters != nil {
		g.Go(func() error { return p.auditLoop(gctx, sourceDone) })
	}
	go func() { <-gctx.Done(); close(p.running) }()
	return g.Wait()
}

// Fence makes the commit stage drop, unwritten, every result of a
// generation before gen, and returns once none is being written: called
// by the source when its partitions are revoked (consumer.KafkaConfig.
// Fence), it keeps this instance from writing what the partitions' next
// owner reads back and redoes (the late-label join, the detectors), which
// would count twice or not at all. A write in flight finishes first; one
// being retried stops retrying.
func (p *Pipeline) Fence(gen int64) {
	p.fenceMu.Lock()
	if gen > p.fence {
		p.fence = gen
	}
	if p.fenced != nil {
		close(p.fenced)
	}
	p.fenced = make(chan struct{})
	p.fenceMu.Unlock()
	p.writing.Lock()
	//lint:ignore SA2001 an empty critical section: it waits for the write in flight
	p.writing.Unlock()
}

// stale reports whether results of generation gen are fenced off.
func (p *Pipeline) stale(gen int64) bool {
	p.fenceMu.Lock()
	defer p.fenceMu.Unlock()
	return gen < p.fence
}

// nextFence returns the channel the next Fence closes.
func (p *Pipeline) nextFence() <-chan struct{} {
	p.fenceMu.Lock()
	defer p.fenceMu.Unlock()
	if p.fenced == nil {
		p.fenced = make(chan struct{})
	}
	return p.fenced
}

// errFenced stops the retries of a write fenced off meanwhile.
var errFenced = errors.New("fenced: the partitions were revoked")

// commit evaluates each closed window and commits its rows, then
// acknowledges it. On a failed commit it acknowledges with the error and
// returns it, which stops the other stages; windows not yet committed stay
// unacknowledged, so their offsets are never committed.
func (p *Pipeline) commit(ctx context.Context, in <-chan windows.Closed) error {
	for c := range in {
		if err := p.commitOne(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// commitOne evaluates and commits one closed window, late report or batch
// of late labels, unless it is fenced off (Fence): then it is dropped and
// acknowledged, its offsets no longer marked by the source.
func (p *Pipeline) commitOne(ctx context.Context, c windows.Closed) error {
	p.writing.Lock()
	defer p.writing.Unlock()
	if p.stale(c.Generation) {
		c.Ack(nil)
		return nil
	}
	res := Result{Window: c.Window, Late: c.Late, Relabel: c.Relabel}
	switch {
	case c.Window != nil:
		res.Rows = p.Evaluator.Evaluate(c.Window)
		res.Distributions = p.Evaluator.Distributions(c.Window)
	case c.Late != nil:
		res.Rows = []drift.Row{drift.Late(c.Late)}
	default:
		for _, w := range c.Relabel {
			res.Rows = append(res.Rows, p.Evaluator.EvaluateLabels(w)...)
		}
	}
	if p.Alerts != nil {
		p.Alerts.Classify(res.Rows)
	} else {
		alerts.Classify(res.Rows)
	}
	if err := p.detectorStates(&res); err != nil {
		c.Ack(err)
		return err
	}
	writeStart := time.Now()
	if err := p.writeRetrying(ctx, res, &c); err != nil {
		if errors.Is(err, errFenced) {
			c.Ack(nil)
			return nil
		}
		if !p.invalid(err) {
			c.Ack(err)
			return err
		}
		p.skip(1, err) // the rows can never be written: go on without them
		c.Ack(nil)
		return nil
	}
	// Scaled out, the alerts of a model this instance has just taken over
	// are read back before its rows are observed.
	if h, ok := p.Alerts.(handover); ok {
		err := p.retrying(ctx, "read back alerts", func() error {
			if err := h.Own(ctx, res.Rows); err != nil {
				if p.stale(c.Generation) {
					return fmt.Errorf("%w (%v)", errFenced, err) // the next owner reads them back
				}
				return err
			}
			return nil
		})
		if err != nil && !errors.Is(err, errFenced) {
			c.Ack(err)
			return err
		}
	}
	// The alerts' state changes are as durable as the rows before the
	// window is acknowledged: a job killed after the acknowledgement
	// never reads the window again, so it must find its alerts' state
	// in the audit trail.
	if p.Alerts != nil {
		p.Alerts.Observe(res.Rows, c.Window != nil)
		if err := p.Alerts.Sync(ctx); err != nil {
			c.Ack(err)
			return err
		}
	}
	c.Ack(nil)
	if p.observe != nil {
		p.observe(res, time.Since(writeStart))
	}
	if p.OnCommit != nil {
		p.OnCommit(res)
	}
	return nil
}

// writeRetrying writes res, made of c, retrying per p.Retry until it is
// written or fenced off (errFenced).
func (p *Pipeline) writeRetrying(ctx context.Context, res Result, c *windows.Closed) error {
	if err := p.retrying(ctx, "sink commit", func() error {
		if p.stale(c.Generation) {
			return errFenced
		}
		return p.write(res, c)
	}); err != nil {
		return fmt.Errorf("sink commit (retried until stopped): %w", err)
	}
	return nil
}

// retrying runs op until it succeeds, or, with p.Retry set, until ctx ends
// or op fails with an error p.Retry does not retry. While op fails the
// pipeline reports itself not ready.
func (p *Pipeline) retrying(ctx context.Context, what string, op func() error) error {
	if p.Retry == nil {
		return op()
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = p.Retry.Initial, p.Retry.Max
	b.MaxElapsedTime = 0 // never give up on rows: a gap in the results is worse than a delay
	for {
		err := op()
		if err == nil {
			if since := p.setRecovered(); !since.IsZero() && p.Log != nil {
				p.Log.Info("sink recovered; reading resumed", "failing_for", time.Since(since).Round(time.Millisecond))
			}
			return nil
		}
		if errors.Is(err, errFenced) {
			return err
		}
		p.failures.Add(1)
		if p.Retry.Retryable != nil && !p.Retry.Retryable(err) {
			return err
		}
		if p.setFailing() && p.Log != nil {
			p.Log.Warn(what+" failed; retrying, reading paused", "err", err)
		}
		if err := p.backOff(ctx, b.NextBackOff()); err != nil {
			return err
		}
	}
}

// backOff waits for d, or until the sink answers a ping (one every
// ProbeInterval, when it is a Pinger), whichever comes first; it returns
// ctx's error if ctx ends first.
func (p *Pipeline) backOff(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	fenced := p.nextFence() // a Fence ends the wait: the next attempt may be fenced off
	var probe <-chan time.Time
	pinger, ok := p.Sink.(Pinger)
	if ok && d > ProbeInterval {
		t := time.NewTicker(ProbeInterval)
		defer t.Stop()
		probe = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return nil
		case <-fenced:
			return nil
		case <-probe:
			pctx, cancel := context.WithTimeout(ctx, ProbeInterval)
			err := pinger.Ping(pctx)
			cancel()
			if err == nil {
				return nil
			}
		}
	}
}

// windowAppender is an Appender that also records the window its rows came
// from (sinks/clickhouse writes window_summaries, which tell a restarted job
// which windows are complete).
type windowAppender interface {
	AppendWindow(sinks.WindowSummary) error
}

// detectorAppender is an Appender that also keeps the error-stream
// detectors' state (sinks/clickhouse), read back through detectorLoader.
type detectorAppender interface {
	AppendDetectorStates([]drift.DetectorState) error
}

// detectorLoader is a sink that reads back what detectorAppender kept.
type detectorLoader interface {
	LoadDetectorStates(ctx context.Context) ([]drift.DetectorState, error)
}

// detectorStates sets res.detectors to the state, after res's evaluation,
// of the detectors that read errors in it, when the sink keeps them.
func (p *Pipeline) detectorStates(res *Result) error {
	if !p.keepDetectors {
		return nil
	}
	var keys []windows.Key
	for _, w := range append([]*windows.Window{res.Window}, res.Relabel...) {
		if w != nil && len(w.Errors) > 0 && !slices.Contains(keys, w.Key) {
			keys = append(keys, w.Key)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	var err error
	res.detectors, err = p.Evaluator.DetectorStates(keys)
	return err
}

// restoreDetectors gives the evaluator back the detectors' states the sink
// kept.
func (p *Pipeline) restoreDetectors(ctx context.Context) error {
	l, ok := p.Sink.(detectorLoader)
	if !ok {
		return nil
	}
	states, err := l.LoadDetectorStates(ctx)
	if err == nil {
		err = p.Evaluator.RestoreDetectors(states)
	}
	if err != nil {
		return fmt.Errorf("read back the error-stream detectors: %w", err)
	}
	if p.Log != nil && len(states) > 0 {
		p.Log.Info("error-stream detectors read back", "model_versions", len(states))
	}
	return nil
}

// volumeLoader is a sink that reads back the record counts of the windows
// it holds (sinks/clickhouse's window_summaries).
type volumeLoader interface {
	LoadWindowVolumes(ctx context.Context) ([]drift.WindowVolume, error)
}

// restoreVolumes gives the evaluator the record counts of the windows the
// sink holds: the history its volume expectation goes on from.
func (p *Pipeline) restoreVolumes(ctx context.Context) error {
	l, ok := p.Sink.(volumeLoader)
	if !ok {
		return nil
	}
	vs, err := l.LoadWindowVolumes(ctx)
	if err != nil {
		return fmt.Errorf("read back the windows' volumes: %w", err)
	}
	p.Evaluator.RestoreVolumes(vs)
	if p.Log != nil && len(vs) > 0 {
		p.Log.Info("window volumes read back", "windows", len(vs))
	}
	return nil
}

// labelAppender is an Appender that also keeps what the late-label join
// needs to go on after a restart (sinks/clickhouse): the predictions
// awaiting labels and the labels received, read back through
// windows.Config.RestoreLabels.
type labelAppender interface {
	AppendPredictionKeys([]windows.PredictionKey) error
	AppendLabels([]consumer.Label) error
}

// write commits res's rows and, for a window, its summary, in one commit,
// with what the late-label join keeps of c where the sink keeps it. A
// window without rows (no feature had enough samples) still commits its
// summary.
func (p *Pipeline) write(res Result, c *windows.Closed) error {
	rows, w := res.Rows, res.Window
	app := p.Sink.Appender(context.Background())
	wa, summarize := app.(windowAppender)
	summarize = summarize && w != nil
	la, joins := app.(labelAppender)
	keep := joins && (len(c.Keys) > 0 || len(c.Labels) > 0)
	if len(rows) == 0 && !summarize && !keep {
		return app.Rollback()
	}
	what := "late report"
	switch {
	case w != nil:
		what = fmt.Sprintf("window %s %s@%s", w.Model, w.Version, w.Start.Format(time.RFC3339))
	case c.Labels != nil:
		what = fmt.Sprintf("%d late labels", len(c.Labels))
	case len(rows) > 0:
		what = fmt.Sprintf("late report %s %s@%s", rows[0].Model, rows[0].ModelVersion, rows[0].WindowStart.Format(time.RFC3339))
	}
	fail := func(err error) error {
		_ = app.Rollback()
		return err
	}
	if err := app.Append(rows...); err != nil {
		return fail(fmt.Errorf("append %d rows of %s: %w", len(rows), what, err))
	}
	if da, ok := app.(detectorAppender); ok && len(res.detectors) > 0 {
		if err := da.AppendDetectorStates(res.detectors); err != nil {
			return fail(fmt.Errorf("append detector states of %s: %w", what, err))
		}
	}
	if summarize {
		s := sinks.WindowSummary{Model: w.Model, Version: w.Version, Start: w.Start, End: w.End, BaselineID: w.Baseline.ID, Records: w.Records, Distributions: res.Distributions}
		if joins && c.LabelBase != nil {
			b, err := c.LabelBase.MarshalLabelBase()
			if err != nil {
				return fail(err)
			}
			s.LabelState = b
		}
		if err := wa.AppendWindow(s); err != nil {
			return fail(fmt.Errorf("append summary of %s: %w", what, err))
		}
	}
	if keep {
		if err := la.AppendPredictionKeys(c.Keys); err != nil {
			return fail(fmt.Errorf("append %d prediction keys of %s: %w", len(c.Keys), what, err))
		}
		if err := la.AppendLabels(c.Labels); err != nil {
			return fail(fmt.Errorf("append labels of %s: %w", what, err))
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("commit %d rows of %s: %w", len(rows), what, err)
	}
	return nil
}
