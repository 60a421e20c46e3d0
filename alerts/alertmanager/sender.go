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

// entry is one queued delivery: a state of one alert for one URL, the fire
// or the resolution of one episode of the alert (its run from a Fire of it
// not firing to its Resolve). It is never modified once queued, except
// attempts (under the queue's lock); a newer state is a new entry.
type entry struct {
	fp       string
	episode  uint64 // 0: the resolution of an alert not firing here
	alert    Alert
	resolved bool
	endsAt   time.Time // of a resolution
	attempts int
}

// announcement is the episode of an alert whose fire a URL accepted, and
// when it first did, by time.Now (monotonic): MinFiring is real time that
// Alertmanager needs, whatever Config.Now says.
type announcement struct {
	episode uint64
	at      time.Time
}

// item is an entry taken for one attempt.
type item struct {
	e       *entry
	attempt int
}

// sender owns one URL's queue and posts it from Run's goroutine for the URL.
//
// The queue holds transitions, not just the latest state: each alert's
// queued entries, oldest first, alternate fires and resolutions, and only
// the oldest of an alert is posted, so Alertmanager gets them in order, each
// in a request of its own. A newer state of a queued fire (a resend, new
// annotations) takes its place; a resolution supersedes a queued fire only
// if the URL accepted that episode's fire already.
type sender struct {
	cfg      *Config
	url      string // as configured
	endpoint string // url + apiPath

	mu        sync.Mutex
	queue     list.List                  // of *entry, oldest first
	byFP      map[string][]*list.Element // each alert's queued entries, oldest first
	announced map[string]announcement    // alerts whose fire was accepted, until their resolution is delivered or given up
	ready     chan struct{}              // signalled (capacity 1) after a push

	sent, failed, dropped, superseded atomic.Uint64

	// Used only by the sender's goroutine.
	singles int // post this many next attempts one alert each, after a permanent rejection of a batch
	items   []item
	body    []postable
	buf     bytes.Buffer
}

func newSender(cfg *Config, url, endpoint string) *sender {
	return &sender{cfg: cfg, url: url, endpoint: endpoint, byFP: make(map[string][]*list.Element),
		announced: make(map[string]announcement), ready: make(chan struct{}, 1)}
}

// push queues e behind the alert's queued entries (a fire behind a queued
// fire takes its place, and so does a resolution behind a resolution), then
// drops entries past QueueSize in victim's order, e too if it comes first;
// it appends the drops to drops.
func (s *sender) push(e *entry, drops []Delivery) []Delivery {
	var gone []*entry
	s.mu.Lock()
	if els := s.byFP[e.fp]; len(els) > 0 {
		last := els[len(els)-1]
		le := last.Value.(*entry)
		switch {
		case e.resolved == le.resolved:
			if e.resolved && e.episode == 0 {
				e.episode = le.episode // resolved twice: the first knew its episode
			}
			last.Value = e
			s.superseded.Add(1)
			s.mu.Unlock()
			s.signal()
			return drops
		case e.resolved && le.episode == e.episode && s.announced[e.fp].episode == e.episode:
			// A resend of a fire the URL has: the resolution carries the alert.
			s.remove(last)
			s.superseded.Add(1)
		}
	}
	s.byFP[e.fp] = append(s.byFP[e.fp], s.queue.PushBack(e))
	for s.queue.Len() > s.cfg.QueueSize {
		for _, el := range s.victim() {
			old := el.Value.(*entry)
			s.remove(el)
			s.forget(old)
			gone = append(gone, old)
		}
	}
	for _, old := range gone { // attempts is guarded by mu
		drops = append(drops, s.delivery(old, old.attempts, ErrQueueFull, true))
	}
	s.mu.Unlock()
	s.signal()
	s.dropped.Add(uint64(len(gone)))
	return drops
}

func (s *sender) signal() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// victim returns the queued entries to drop for the queue bound (under mu): the
// oldest fire of an alert still firing (no resolution queued behind it: the
// next resend queues it again), else the oldest resolution of an alert
// whose fire is not queued (Alertmanager has it, and ends it at its endsAt
// anyway), else the oldest fire with the resolution behind it: an episode
// Alertmanager never saw goes last, whole.
func (s *sender) victim() []*list.Element {
	var lone *list.Element
	for el := s.queue.Front(); el != nil; el = el.Next() {
		e := el.Value.(*entry)
		els := s.byFP[e.fp]
		if !e.resolved && els[len(els)-1] == el {
			return []*list.Element{el}
		}
		if lone == nil && e.resolved && els[0] == el {
			lone = el
		}
	}
	if lone != nil {
		return []*list.Element{lone}
	}
	el := s.queue.Front()
	els := s.byFP[el.Value.(*entry).fp] // el is a fire with a resolution behind it
	return []*list.Element{els[0], els[1]}
}

// remove takes el out of the queue (under mu).
func (s *sender) remove(el *list.Element) {
	e := s.queue.Remove(el).(*entry)
	els := s.byFP[e.fp]
	if i := slices.Index(els, el); i >= 0 {
		els = slices.Delete(els, i, i+1)
	}
	if len(els) == 0 {
		delete(s.byFP, e.fp)
	} else {
		s.byFP[e.fp] = els
	}
}

// forget ends the announcement of e's episode once its resolution has left
// the queue (under mu).
func (s *sender) forget(e *entry) {
	if e.resolved && s.announced[e.fp].episode == e.episode {
		delete(s.announced, e.fp)
	}
}

// take returns up to n entries for an attempt, counting it: the oldest
// queued entry of each alert, oldest first, except a resolution whose fire
// the URL accepted less than MinFiring ago, unless hold is false. next is
// when the first such resolution may go (zero if none).
func (s *sender) take(n int, hold bool) (items []item, next time.Time) {
	s.items = s.items[:0]
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for el := s.queue.Front(); el != nil && len(s.items) < n; el = el.Next() {
		e := el.Value.(*entry)
		if s.byFP[e.fp][0] != el {
			continue // behind an earlier state of its alert
		}
		if a, ok := s.announced[e.fp]; hold && e.resolved && ok && a.episode == e.episode {
			if at := a.at.Add(s.cfg.MinFiring); now.Before(at) {
				if next.IsZero() || at.Before(next) {
					next = at
				}
				continue
			}
		}
		e.attempts++
		s.items = append(s.items, item{e, e.attempts})
	}
	return s.items, next
}

// done removes e, delivered or given up, unless a newer state of its alert
// replaced it, or it was dropped, meanwhile; a fire accepted announces its
// episode.
func (s *sender) done(e *entry, delivered bool) {
	s.mu.Lock()
	for _, el := range s.byFP[e.fp] {
		if el.Value == e {
			s.remove(el)
			break
		}
	}
	if delivered && !e.resolved && s.announced[e.fp].episode != e.episode {
		s.announced[e.fp] = announcement{e.episode, time.Now()}
	}
	s.forget(e)
	s.mu.Unlock()
}

// removeAll removes the queued entries that keep says not to and returns
// them; keep is called under mu, with each entry's element.
func (s *sender) removeAll(keep func(*list.Element) bool) []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*entry
	for el := s.queue.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*entry); !keep(el) {
			s.remove(el)
			s.forget(e)
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

// run posts the queue until ctx is done, then flushes. Between failed
// attempts it waits with exponential backoff, never longer than RetryMax.
func (s *sender) run(ctx context.Context) error {
	b := s.newBackoff()
	for {
		empty, next := s.attempt(ctx, true)
		if empty {
			b.Reset()
			if err := s.idle(ctx, next); err != nil {
				return s.flush(ctx)
			}
			continue
		}
		if ctx.Err() != nil {
			return s.flush(ctx)
		}
		if err := wait(ctx, min(b.NextBackOff(), s.cfg.RetryMax)); err != nil {
			return s.flush(ctx)
		}
	}
}

// idle waits for a push, or until next (when a held resolution may go; zero:
// none), or until ctx is done (its error).
func (s *sender) idle(ctx context.Context, next time.Time) error {
	var due <-chan time.Time
	if !next.IsZero() {
		t := time.NewTimer(time.Until(next))
		defer t.Stop()
		due = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ready:
	case <-due:
	}
	return nil
}

// attempt posts queued batches until nothing can be posted now (true, with
// when a held resolution may go, zero if none) or a post fails for a reason
// worth retrying or ctx ends (false). hold says whether to hold resolutions
// for MinFiring (take).
func (s *sender) attempt(ctx context.Context, hold bool) (bool, time.Time) {
	for ctx.Err() == nil {
		n := s.cfg.BatchSize
		if s.singles > 0 {
			n = 1
		}
		items, next := s.take(n, hold)
		if len(items) == 0 {
			s.singles = 0
			return true, next
		}
		err := s.post(ctx, items)
		if err != nil && ctx.Err() != nil {
			return false, time.Time{} // stopped, not failed: the flush or a later run retries
		}
		if s.singles > 0 && (err == nil || permanent(err)) {
			s.singles--
		}
		switch {
		case err == nil:
			for _, it := range items {
				s.sent.Add(1)
				s.done(it.e, true)
				s.report(s.delivery(it.e, it.attempt, nil, false))
			}
		case permanent(err) && len(items) == 1:
			it := items[0]
			s.failed.Add(1)
			s.dropped.Add(1)
			s.done(it.e, false)
			s.report(s.delivery(it.e, it.attempt, err, true))
		default:
			for _, it := range items {
				s.failed.Add(1)
				s.report(s.delivery(it.e, it.attempt, err, false))
			}
			if !permanent(err) {
				return false, time.Time{}
			}
			// Alertmanager rejects a whole batch for one invalid alert
			// (though it keeps the valid ones): find it one alert per post.
			s.singles = len(items)
		}
	}
	return false, time.Time{}
}

// flush drops the queued fires of alerts still firing (they expire in
// Alertmanager at their endsAt) and posts the rest, the queued resolutions
// with the fires before them, in order and without holding them, retrying
// until they are delivered or FlushTimeout has passed since ctx ended.
func (s *sender) flush(ctx context.Context) error {
	firing := s.removeAll(func(el *list.Element) bool {
		e := el.Value.(*entry)
		els := s.byFP[e.fp]
		return e.resolved || els[len(els)-1] != el
	})
	for _, e := range firing {
		s.dropped.Add(1)
		s.report(s.delivery(e, e.attempts, ErrShutdown, true))
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.FlushTimeout)
	defer cancel()
	b := s.newBackoff()
	for {
		if empty, _ := s.attempt(fctx, false); empty {
			break
		}
		if wait(fctx, min(b.NextBackOff(), s.cfg.RetryMax)) != nil {
			break
		}
	}
	left := s.removeAll(func(*list.Element) bool { return false })
	for _, e := range left {
		s.dropped.Add(1)
		s.report(s.delivery(e, e.attempts, ErrShutdown, true))
	}
	if len(left) > 0 {
		return fmt.Errorf("flush alertmanager %s: %d queued alerts (resolutions and their fires) not delivered within %v", s.url, len(left), s.cfg.FlushTimeout)
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
