package alertmanager

import (
	"bytes"
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
)

const (
	bodyExcerpt = 512      // bytes of an error response kept in a StatusError
	bodyDrain   = 64 << 10 // bytes of a response read to reuse its connection
)

// StatusError is a non-2xx response to a post.
type StatusError struct {
	URL    string // the endpoint posted to
	Alerts int    // alerts in the request
	Code   int
	Body   string // the start of the response body
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("post %d alerts to %s: status %d %s: %q", e.Alerts, e.URL, e.Code, http.StatusText(e.Code), e.Body)
}

// Permanent reports whether posting the same alerts again cannot succeed:
// a 4xx other than 408 (request timeout) and 429 (too many requests).
func (e *StatusError) Permanent() bool {
	return e.Code >= 400 && e.Code < 500 && e.Code != http.StatusRequestTimeout && e.Code != http.StatusTooManyRequests
}

func permanent(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Permanent()
}

// entry is one queued delivery: a state of one alert for one URL. It is
// never modified once queued, except attempts (under the queue's lock); a
// newer state is a new entry.
type entry struct {
	fp       string
	alert    Alert
	resolved bool
	endsAt   time.Time // of a resolution
	attempts int
}

// item is an entry taken for one attempt.
type item struct {
	e       *entry
	attempt int
}

// sender owns one URL's queue and posts it from Run's goroutine for the URL.
type sender struct {
	cfg      *Config
	url      string // as configured
	endpoint string // url + apiPath

	mu    sync.Mutex
	queue list.List                // of *entry, oldest first
	byFP  map[string]*list.Element // the queued entry of each alert
	ready chan struct{}            // signalled (capacity 1) after a push

	sent, failed, dropped, superseded atomic.Uint64

	// Used only by the sender's goroutine.
	singles int // post this many next attempts one alert each, after a permanent rejection of a batch
	items   []item
	body    []postable
	buf     bytes.Buffer
}

func newSender(cfg *Config, url, endpoint string) *sender {
	return &sender{cfg: cfg, url: url, endpoint: endpoint, byFP: make(map[string]*list.Element), ready: make(chan struct{}, 1)}
}

// push queues e, superseding the queued entry of the same alert and
// dropping the oldest past QueueSize; it appends the drop, if any, to drops.
func (s *sender) push(e *entry, drops []Delivery) []Delivery {
	s.mu.Lock()
	if el, ok := s.byFP[e.fp]; ok {
		s.queue.Remove(el)
		s.superseded.Add(1)
	}
	var old *entry
	if s.queue.Len() >= s.cfg.QueueSize {
		old = s.queue.Remove(s.queue.Front()).(*entry)
		delete(s.byFP, old.fp)
	}
	s.byFP[e.fp] = s.queue.PushBack(e)
	attempts := 0
	if old != nil {
		attempts = old.attempts
	}
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
	if old == nil {
		return drops
	}
	s.dropped.Add(1)
	return append(drops, s.delivery(old, attempts, ErrQueueFull, true))
}

// take returns up to n of the oldest entries for an attempt, counting it.
func (s *sender) take(n int) []item {
	s.items = s.items[:0]
	s.mu.Lock()
	defer s.mu.Unlock()
	for el := s.queue.Front(); el != nil && len(s.items) < n; el = el.Next() {
		e := el.Value.(*entry)
		e.attempts++
		s.items = append(s.items, item{e, e.attempts})
	}
	return s.items
}

// done removes e unless a newer state of its alert replaced it, or it was
// dropped, meanwhile.
func (s *sender) done(e *entry) {
	s.mu.Lock()
	if el, ok := s.byFP[e.fp]; ok && el.Value == e {
		s.queue.Remove(el)
		delete(s.byFP, e.fp)
	}
	s.mu.Unlock()
}

// removeAll removes the queued entries that keep says not to and returns
// them.
func (s *sender) removeAll(keep func(*entry) bool) []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*entry
	for el := s.queue.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*entry); !keep(e) {
			s.queue.Remove(el)
			delete(s.byFP, e.fp)
			out = append(out, e)
		}
		el = next
	}
	return out
}

func (s *sender) stats() URLStats {
	s.mu.Lock()
	pending := s.queue.Len()
	s.mu.Unlock()
	return URLStats{
		URL: s.url, Sent: s.sent.Load(), Failed: s.failed.Load(), Dropped: s.dropped.Load(),
		Superseded: s.superseded.Load(), Pending: pending,
	}
}

func (s *sender) delivery(e *entry, attempt int, err error, dropped bool) Delivery {
	return Delivery{URL: s.url, Alert: e.alert, Resolved: e.resolved, Attempt: attempt, Err: err, Dropped: dropped, At: s.cfg.Now()}
}

func (s *sender) report(d Delivery) {
	if s.cfg.OnDelivery != nil {
		s.cfg.OnDelivery(d)
	}
}

func (s *sender) newBackoff() *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(s.cfg.RetryInitial),
		backoff.WithMaxInterval(s.cfg.RetryMax),
		backoff.WithMaxElapsedTime(0), // never give up on an alert (the default is 15 min)
	)
	b.Reset()
	return b
}

// run posts the queue until ctx is done, then flushes.
func (s *sender) run(ctx context.Context) error {
	b := s.newBackoff()
	for {
		if s.attempt(ctx) {
			b.Reset()
			select {
			case <-ctx.Done():
				return s.flush(ctx)
			case <-s.ready:
			}
			continue
		}
		if ctx.Err() != nil {
			return s.flush(ctx)
		}
		if err := wait(ctx, b.NextBackOff()); err != nil {
			return s.flush(ctx)
		}
	}
}

// attempt posts queued batches until the queue is empty (true) or a post
// fails for a reason worth retrying or ctx ends (false).
func (s *sender) attempt(ctx context.Context) bool {
	for ctx.Err() == nil {
		n := s.cfg.BatchSize
		if s.singles > 0 {
			n = 1
		}
		items := s.take(n)
		if len(items) == 0 {
			s.singles = 0
			return true
		}
		err := s.post(ctx, items)
		if err != nil && ctx.Err() != nil {
			return false // stopped, not failed: the flush or a later run retries
		}
		if s.singles > 0 && (err == nil || permanent(err)) {
			s.singles--
		}
		switch {
		case err == nil:
			for _, it := range items {
				s.sent.Add(1)
				s.done(it.e)
				s.report(s.delivery(it.e, it.attempt, nil, false))
			}
		case permanent(err) && len(items) == 1:
			it := items[0]
			s.failed.Add(1)
			s.dropped.Add(1)
			s.done(it.e)
			s.report(s.delivery(it.e, it.attempt, err, true))
		default:
			for _, it := range items {
				s.failed.Add(1)
				s.report(s.delivery(it.e, it.attempt, err, false))
			}
			if !permanent(err) {
				return false
			}
			// Alertmanager rejects a whole batch for one invalid alert
			// (though it keeps the valid ones): find it one alert per post.
			s.singles = len(items)
		}
	}
	return false
}

// flush drops the queued fires and posts the queued resolutions, retrying
// until they are delivered or FlushTimeout has passed since ctx ended.
func (s *sender) flush(ctx context.Context) error {
	for _, e := range s.removeAll(func(e *entry) bool { return e.resolved }) {
		s.dropped.Add(1)
		s.report(s.delivery(e, e.attempts, ErrShutdown, true))
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.FlushTimeout)
	defer cancel()
	b := s.newBackoff()
	for !s.attempt(fctx) {
		if wait(fctx, b.NextBackOff()) != nil {
			break
		}
	}
	left := s.removeAll(func(*entry) bool { return false })
	for _, e := range left {
		s.dropped.Add(1)
		s.report(s.delivery(e, e.attempts, ErrShutdown, true))
	}
	if len(left) > 0 {
		return fmt.Errorf("flush alertmanager %s: %d queued alerts (resolutions) not delivered within %v", s.url, len(left), s.cfg.FlushTimeout)
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

// postable is Alertmanager API v2's postableAlert. Times are RFC 3339 in
// UTC (time.Time's JSON form). startsAt is omitted for the resolution of
// an alert not firing here: Alertmanager then takes endsAt.
type postable struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// post posts items in one request, higher severities first; a fire's
// endsAt is now + EndsAfter.
func (s *sender) post(ctx context.Context, items []item) error {
	slices.SortStableFunc(items, func(x, y item) int {
		return severityRank(x.e.alert.Labels) - severityRank(y.e.alert.Labels)
	})
	endsAt := s.cfg.Now().Add(s.cfg.EndsAfter).UTC()
	s.body = s.body[:0]
	for _, it := range items {
		a := it.e.alert
		p := postable{Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.StartsAt.UTC(), EndsAt: endsAt, GeneratorURL: a.GeneratorURL}
		if it.e.resolved {
			p.EndsAt = it.e.endsAt.UTC()
		}
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		s.body = append(s.body, p)
	}
	s.buf.Reset()
	if err := json.NewEncoder(&s.buf).Encode(s.body); err != nil {
		return fmt.Errorf("encode %d alerts for %s: %w", len(items), s.url, err)
	}
	clear(s.body) // do not keep the alerts' maps alive
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, s.endpoint, bytes.NewReader(s.buf.Bytes()))
	if err != nil {
		return fmt.Errorf("post %d alerts to %s: %w", len(items), s.endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("post %d alerts: %w", len(items), err) // *url.Error names the method and URL
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, bodyDrain))
		return nil
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, bodyExcerpt))
	io.Copy(io.Discard, io.LimitReader(resp.Body, bodyDrain))
	return &StatusError{URL: s.endpoint, Alerts: len(items), Code: resp.StatusCode, Body: string(bytes.TrimSpace(excerpt))}
}
