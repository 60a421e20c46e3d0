package actions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// destination delivers one action in one attempt. An error for which
// permanent is true is not retried.
type destination interface {
	name() string // Config.WebhookURL or Config.Topic
	deliver(ctx context.Context, e *entry) error
}

// entry is a triggered action with its body, shared by every destination's
// queue and never modified.
type entry struct {
	action Action
	body   []byte
}

func newEntry(a Action) (*entry, error) {
	body, err := encode(&a)
	if err != nil {
		return nil, err
	}
	return &entry{action: a, body: body}, nil
}

// permanentError marks an error that retrying the same delivery cannot
// cure.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Permanent()
	}
	var pe *permanentError
	return errors.As(err, &pe)
}

// sender owns one destination's queue and delivers it from Run's goroutine
// for the destination.
type sender struct {
	d     *Dispatcher
	dest  destination
	ready chan struct{} // signalled (capacity 1) after a push

	// Guarded by d.mu. cur and attempts are written only by Run's
	// goroutine for the destination, which reads them without the lock.
	queue                      []*entry // waiting, oldest first
	cur                        *entry   // the entry taken for delivery, if any
	attempts                   int      // attempts made on cur
	delivered, failed, dropped uint64
}

func newSender(d *Dispatcher, dest destination) *sender {
	return &sender{d: d, dest: dest, ready: make(chan struct{}, 1)}
}

// push queues e, dropping the oldest waiting entry past QueueSize; it
// appends the drop, if any, to drops. d.mu is held.
func (s *sender) push(e *entry, drops []Delivery) []Delivery {
	if len(s.queue) >= s.d.cfg.QueueSize {
		old := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.dropped++
		drops = append(drops, s.delivery(old, 0, ErrQueueFull, true))
	}
	s.queue = append(s.queue, e)
	select {
	case s.ready <- struct{}{}:
	default:
	}
	return drops
}

// take takes the oldest waiting entry for delivery, or returns nil.
func (s *sender) take() *entry {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if len(s.queue) == 0 {
		return nil
	}
	e := s.queue[0]
	s.queue[0] = nil
	s.queue = s.queue[1:]
	s.cur, s.attempts = e, 0
	return e
}

// dropQueued drops every waiting entry, appending the drops to drops.
// d.mu is held.
func (s *sender) dropQueued(err error, drops []Delivery) []Delivery {
	for _, e := range s.queue {
		s.dropped++
		drops = append(drops, s.delivery(e, 0, err, true))
	}
	clear(s.queue)
	s.queue = s.queue[:0]
	return drops
}

func (s *sender) stats() DestinationStats {
	pending := len(s.queue)
	if s.cur != nil {
		pending++
	}
	return DestinationStats{Destination: s.dest.name(), Delivered: s.delivered, Failed: s.failed, Dropped: s.dropped, Pending: pending}
}

func (s *sender) delivery(e *entry, attempt int, err error, dropped bool) Delivery {
	return Delivery{Action: e.action, Destination: s.dest.name(), Attempt: attempt, Err: err, Dropped: dropped, At: s.d.cfg.Now()}
}

// finish ends the delivery of the entry taken, counting its last attempt
// (err nil: delivered; else it failed and dropped says whether it is given
// up), and reports it.
func (s *sender) finish(err error, dropped bool) {
	s.d.mu.Lock()
	e, attempts := s.cur, s.attempts
	switch {
	case err == nil:
		s.delivered++
	case dropped:
		s.dropped++
		if !errors.Is(err, ErrShutdown) {
			s.failed++
		}
	default:
		s.failed++
	}
	if err == nil || dropped {
		s.cur = nil
	}
	s.d.mu.Unlock()
	s.d.report([]Delivery{s.delivery(e, attempts, err, dropped)})
}

func (s *sender) newBackoff() *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(s.d.cfg.RetryInitial),
		backoff.WithMaxInterval(s.d.cfg.RetryMax),
		backoff.WithMaxElapsedTime(0), // never give up (the default is 15 min)
	)
	b.Reset()
	return b
}

// run delivers the queue until ctx is done, then flushes.
func (s *sender) run(ctx context.Context) error {
	for {
		if ctx.Err() != nil {
			return s.flush(ctx)
		}
		if s.cur == nil && s.take() == nil {
			select {
			case <-ctx.Done():
				return s.flush(ctx)
			case <-s.ready:
				continue
			}
		}
		if !s.deliver(ctx) {
			return s.flush(ctx)
		}
	}
}

// deliver attempts the entry taken until it is delivered or given up
// (true), or ctx is done (false: it stays taken).
func (s *sender) deliver(ctx context.Context) bool {
	b := s.newBackoff()
	for {
		s.d.mu.Lock()
		s.attempts++
		s.d.mu.Unlock()
		err := s.dest.deliver(ctx, s.cur)
		if err != nil && ctx.Err() != nil {
			return false // stopped, not failed: the flush tries again
		}
		if err == nil || permanent(err) {
			s.finish(err, err != nil)
			return true
		}
		s.finish(err, false)
		if wait(ctx, b.NextBackOff()) != nil {
			return false
		}
	}
}

// flush delivers the entry taken and the queue, retrying until they are
// delivered or FlushTimeout has passed since ctx ended; it drops what is
// left.
func (s *sender) flush(ctx context.Context) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.d.cfg.FlushTimeout)
	defer cancel()
	for fctx.Err() == nil && (s.cur != nil || s.take() != nil) {
		s.deliver(fctx)
	}
	n := 0
	if s.cur != nil {
		s.finish(ErrShutdown, true)
		n++
	}
	s.d.mu.Lock()
	drops := s.dropQueued(ErrShutdown, nil)
	s.d.mu.Unlock()
	s.d.report(drops)
	n += len(drops)
	if n > 0 {
		return fmt.Errorf("flush actions to %s: %d not delivered within %v", s.dest.name(), n, s.d.cfg.FlushTimeout)
	}
	return nil
}

// wait sleeps for d or until ctx is done.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
