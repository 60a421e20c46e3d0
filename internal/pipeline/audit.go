package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/sinks"
)

// auditWait is how long the audit stage waits for more dead letters before
// writing the ones it has.
const auditWait = 50 * time.Millisecond

type auditEntry struct {
	d    sinks.DeadLetter
	done func(error)
}

// Audit queues one dead letter for DeadLetters; done is called once it is
// written. It blocks while the queue is full (back-pressure on the source);
// once the pipeline stops it returns at once and never calls done, so the
// record's offset stays uncommitted. Pass it as consumer.KafkaConfig.Audit;
// call it only after Start.
func (p *Pipeline) Audit(d consumer.DeadLetter, done func(error)) {
	e := auditEntry{d: sinks.DeadLetter{
		Topic: d.Topic, Partition: d.Partition, Offset: d.Offset, RecordTime: d.Timestamp, ReceivedAt: d.Received,
		DeadLetterTopic: d.DeadLetterTopic, Reason: d.Reason, Size: len(d.Value), Excerpt: string(d.Value),
	}, done: done}
	select {
	case p.audit <- e:
	case <-p.running:
	}
}

// auditLoop writes queued dead letters in batches until ctx ends, or the
// source has ended and the queue is empty. A write that fails for good
// fails its dead letters' acknowledgements and stops the pipeline; one cut
// short by ctx acknowledges nothing.
func (p *Pipeline) auditLoop(ctx context.Context, sourceDone <-chan struct{}) error {
	for {
		var batch []auditEntry
		select {
		case e := <-p.audit:
			batch = append(batch, e)
		case <-ctx.Done():
			return nil
		case <-sourceDone:
			select {
			case e := <-p.audit:
				batch = append(batch, e)
			default:
				return nil
			}
		}
		wait := time.NewTimer(auditWait)
	gather:
		for len(batch) < auditBatch {
			select {
			case e := <-p.audit:
				batch = append(batch, e)
			case <-wait.C:
				break gather
			case <-ctx.Done():
				break gather
			}
		}
		wait.Stop()
		dls := make([]sinks.DeadLetter, len(batch))
		for i, e := range batch {
			dls[i] = e.d
		}
		err := p.retrying(ctx, "dead-letter audit", func() error { return p.DeadLetters(ctx, dls) })
		if err != nil && p.invalid(err) {
			err = p.auditEach(ctx, dls)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			err = fmt.Errorf("write %d dead letters: %w", len(dls), err)
		}
		for _, e := range batch {
			e.done(err)
		}
		if err != nil {
			return err
		}
	}
}

// auditEach writes dls one at a time, after a write of them all failed for
// Retry.Invalid, and skips those that fail so (counted, logged once). It
// returns the first other error.
func (p *Pipeline) auditEach(ctx context.Context, dls []sinks.DeadLetter) error {
	skipped := 0
	var first error
	for i := range dls {
		one := dls[i : i+1]
		err := p.retrying(ctx, "dead-letter audit", func() error { return p.DeadLetters(ctx, one) })
		switch {
		case err == nil:
		case p.invalid(err):
			if skipped++; skipped == 1 {
				first = err
			}
		default:
			return err
		}
	}
	if skipped > 0 {
		p.skip(skipped, fmt.Errorf("%d of %d dead letters: %w", skipped, len(dls), first))
	}
	return nil
}

// invalid reports whether err is a write's own fault (Retry.Invalid).
func (p *Pipeline) invalid(err error) bool {
	return p.Retry != nil && p.Retry.Invalid != nil && p.Retry.Invalid(err) && !errors.Is(err, context.Canceled)
}

// skip counts n writes skipped for Retry.Invalid and logs it, once.
func (p *Pipeline) skip(n int, err error) {
	p.skipped.Add(int64(n))
	if p.Log != nil {
		p.Log.Warn("write skipped: the sink cannot hold its rows", "writes", n, "err", err)
	}
}

// SkippedWrites is the number of writes (window commits, dead-letter audit
// rows) skipped because the sink can never hold their rows
// (Retry.Invalid).
func (p *Pipeline) SkippedWrites() int64 { return p.skipped.Load() }
