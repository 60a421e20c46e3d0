package pipeline

import (
	"context"
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
