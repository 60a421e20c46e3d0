// Package actions delivers driftwatch's automated actions, retrain and
// rollback triggers, to the systems that carry them out: as signed webhook
// calls and as records on a Kafka topic, each with the metric rows that
// caused it.
//
// A Dispatcher takes actions (Trigger), lets through at most one per (kind,
// model, model_version) per Config.Interval, and delivers each to every
// destination it is configured with, through a bounded queue and a
// goroutine per destination, so that a destination that is down delays no
// other. Delivery is at least once: a failed attempt is retried with
// exponential backoff (cenkalti/backoff/v4) without an elapsed-time limit,
// and a receiver may see the same action twice (after a timeout on a
// request it did process, say); receivers deduplicate on the action's id.
// Each destination gets actions in the order they were triggered.
//
// # Wire format, version 1
//
// This is an outside contract. Fields may be added within a version;
// removing, renaming or changing the meaning of one bumps "version", which
// receivers should check.
//
// The body, the same for every destination and every attempt, is a JSON
// object:
//
//	{
//	  "version": 1,
//	  "id": "retrain/fraud/3/2026-11-23T12:00:00Z",
//	  "action": "retrain",             // or "rollback"
//	  "model": "fraud",
//	  "model_version": "3",
//	  "reason": "FeatureDrift",         // the alert that caused it (its alertname)
//	  "severity": "SEV-2",
//	  "window_start": "2026-11-23T12:00:00Z",
//	  "window_end": "2026-11-23T13:00:00Z",
//	  "triggered_at": "2026-11-23T13:00:05Z",
//	  "evidence": [ ... ]               // metric rows as in CONTRACT.md section 3, [] if none
//	}
//
// Times are RFC 3339 in UTC, with fractional seconds when they have them
// (the evidence rows' times too). "id" is the idempotency key, by
// convention kind/model/model_version/window_start (MakeID).
//
// Webhook: POST to Config.WebhookURL with the body and the headers
//
//	Content-Type: application/json
//	X-Driftwatch-Timestamp: <unix seconds when this attempt was sent>
//	X-Driftwatch-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//	X-Driftwatch-Delivery: <id>
//	Idempotency-Key: <id>
//
// A receiver checks the signature with Verify (or its own constant-time
// HMAC comparison) on the raw body, rejects timestamps more than 5 minutes
// from its clock (Verify does, DefaultTolerance; WithTolerance changes it),
// so that a captured request cannot be replayed later (each retry is
// signed afresh, so a fresh timestamp does not mean a new action), and
// deduplicates on the id. Its answer
// decides what happens next: 2xx is delivered; 5xx, 408, 429 and network
// errors are retried; any other status, including 3xx (redirects are not
// followed), is a permanent rejection: the action is dropped for that
// destination, counted and reported (Delivery.Dropped), never retried.
//
// Kafka: one record on Config.Topic with key "<model>/<model_version>" (so
// that one model version's actions keep their order in one partition), the
// body as value, the headers driftwatch.action=<action> and
// driftwatch.id=<id>, and the time of the decision as timestamp. A produce
// that fails is retried like a webhook call, except for errors retrying
// cannot cure (a record too large, an invalid topic, a closed client),
// which drop it.
//
// It deliberately does not decide when to retrain or roll back (package
// alerts does), carry either out, persist the suppression state across
// restarts (Restore seeds it, from the audit trail for instance), or
// deduplicate across driftwatch instances (receivers do, by id).
package actions

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/stats/drift"
)

// Kinds of Action.
const (
	KindRetrain  = "retrain"
	KindRollback = "rollback"
)

// Defaults of Config.
const (
	DefaultInterval     = 24 * time.Hour
	DefaultTimeout      = 10 * time.Second
	DefaultQueueSize    = 256
	DefaultRetryInitial = time.Second
	DefaultRetryMax     = time.Minute
	DefaultMaxTracked   = 4096
)

// Action is one trigger, with the evidence that caused it. Its wire form is
// the body described in the package doc (MarshalJSON, UnmarshalJSON).
type Action struct {
	// ID is the idempotency key receivers deduplicate on, set by the
	// caller: by convention MakeID(Kind, Model, ModelVersion,
	// WindowStart). Required, without control characters (it is sent as
	// an HTTP header).
	ID           string
	Kind         string // KindRetrain or KindRollback
	Model        string // required
	ModelVersion string
	Reason       string // the alert that caused it (its alertname)
	Severity     string // SEV-1 ... SEV-4
	// WindowStart and WindowEnd are the event-time window whose rows
	// caused it.
	WindowStart, WindowEnd time.Time
	// Evidence are the metric rows that caused it (finite values). The
	// Dispatcher encodes them once, in Trigger; they are not modified.
	Evidence []drift.Row
	// At is when driftwatch decided it (zero: Config.Now at Trigger).
	// Config.Interval is measured on it.
	At time.Time
}

// MakeID is the conventional id of an action:
// kind/model/model_version/window_start, the window start in RFC 3339 UTC.
func MakeID(kind, model, modelVersion string, windowStart time.Time) string {
	return kind + "/" + model + "/" + modelVersion + "/" + windowStart.UTC().Format(time.RFC3339Nano)
}

// Validate reports whether a can be delivered: an id without control
// characters, a known kind, a model, and finite evidence (JSON has no NaN
// or infinity).
func (a Action) Validate() error {
	if a.ID == "" {
		return errors.New("action: no id")
	}
	for i := 0; i < len(a.ID); i++ {
		if c := a.ID[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("action %q: id has a control character", a.ID)
		}
	}
	if a.Kind != KindRetrain && a.Kind != KindRollback {
		return fmt.Errorf("action %s: kind %q: want %q or %q", a.ID, a.Kind, KindRetrain, KindRollback)
	}
	if a.Model == "" {
		return fmt.Errorf("action %s: no model", a.ID)
	}
	for i := range a.Evidence {
		r := &a.Evidence[i]
		if !finite(r.Value) || !finite(r.Threshold) || r.PValue != nil && !finite(*r.PValue) || r.MDE != nil && !finite(*r.MDE) {
			return fmt.Errorf("action %s: evidence row %d (%s %s %s): not finite", a.ID, i, r.Family, r.Subject, r.Metric)
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Config configures a Dispatcher. At least one destination (WebhookURL or
// Topic) is required. Zero durations and sizes take the defaults given.
type Config struct {
	// WebhookURL is the absolute http or https URL actions are posted to;
	// "" for no webhook.
	WebhookURL string
	// Secret is the HMAC-SHA256 key of the webhook signature, required
	// with WebhookURL; use 32 random bytes or more. The Dispatcher copies
	// it.
	Secret []byte
	// Topic is the Kafka topic actions are produced to; "" for none.
	Topic string
	// Client produces to Topic; required with Topic, ignored without. It
	// is owned by the caller, who closes it after Run has returned. Its
	// own settings (RecordDeliveryTimeout, RecordRetries, ...) apply to
	// each attempt.
	Client *kgo.Client
	// Interval is the least time between two actions of the same kind,
	// model and model version, measured on Action.At (default 24h).
	Interval time.Duration
	// MaxTracked bounds the (kind, model, model version) kept for
	// Interval (default 4096). Past it, those whose Interval has passed
	// are forgotten, then the oldest, which is counted (Stats.Evicted):
	// its next action is not suppressed.
	MaxTracked int
	// Timeout bounds each attempt (default 10s): a webhook request, or a
	// produce (which kgo can cancel only until the record is sent).
	Timeout time.Duration
	// QueueSize bounds the actions waiting per destination, besides the
	// one being delivered (default 256); past it the oldest waiting one
	// is dropped and counted.
	QueueSize int
	// RetryInitial and RetryMax bound the exponential backoff between
	// failed attempts (defaults 1s and 1m). Retries never give up by
	// elapsed time: an action is retried until it is delivered, rejected
	// permanently, dropped for the queue bound, or Run stops.
	RetryInitial, RetryMax time.Duration
	// FlushTimeout bounds the best-effort delivery of what is queued when
	// Run's context ends (default Timeout).
	FlushTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// HTTPClient posts to the webhook (default a new http.Client). The
	// Dispatcher uses a copy that does not follow redirects.
	HTTPClient *http.Client
	// OnDelivery, if set, is called after each attempt per destination and
	// for each action dropped, for the audit trail. It is called from
	// Run's goroutines (concurrently for different destinations), from
	// Trigger (for drops past QueueSize) and from Run as it returns, never
	// with a lock held; it must be quick.
	OnDelivery func(d Delivery)
}

// Delivery is the outcome of one attempt to deliver an action to one
// destination, or of giving it up.
type Delivery struct {
	Action      Action // shares Evidence with the triggered action: do not modify
	Destination string // Config.WebhookURL or Config.Topic
	// Attempt is 1 for the first attempt to deliver Action to
	// Destination; for a drop, the attempts made (0 if none).
	Attempt int
	Err     error // nil: delivered
	// Dropped says the action was given up for Destination: Err is
	// ErrQueueFull, ErrShutdown, or a permanent rejection (a *StatusError
	// of the webhook, a produce error of Kafka).
	Dropped bool
	At      time.Time
}

// Errors of actions dropped without a response.
var (
	ErrQueueFull = errors.New("queue full: oldest action dropped")
	ErrShutdown  = errors.New("dispatcher stopped before delivery")
)

// Dispatcher delivers actions. Trigger, Restore and Stats are safe for
// concurrent use, before, during and after Run; only Run delivers (what is
// triggered before Run goes out when it starts).
type Dispatcher struct {
	cfg     Config
	senders []*sender

	mu                                       sync.Mutex // guards the fields below and every sender's queue
	last                                     map[key]time.Time
	triggered, suppressed, rejected, evicted uint64
	stopped                                  bool // Run has returned

	running atomic.Bool
}

// key is what Interval applies to.
type key struct{ kind, model, version string }

// New returns a Dispatcher for cfg, or an error if no destination is set, a
// destination is incomplete or malformed, or a setting is out of range.
func New(cfg Config) (*Dispatcher, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	d := &Dispatcher{cfg: cfg, last: make(map[key]time.Time)}
	if cfg.WebhookURL != "" {
		hc := *cfg.HTTPClient
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		d.senders = append(d.senders, newSender(d, &webhook{
			url: cfg.WebhookURL, secret: cfg.Secret, client: &hc, timeout: cfg.Timeout, now: cfg.Now,
		}))
	}
	if cfg.Topic != "" {
		d.senders = append(d.senders, newSender(d, &kafka{topic: cfg.Topic, client: cfg.Client, timeout: cfg.Timeout}))
	}
	return d, nil
}

// fill validates cfg and sets its defaults.
func (cfg *Config) fill() error {
	if cfg.WebhookURL == "" && cfg.Topic == "" {
		return errors.New("actions: no destination: set a webhook url or a topic")
	}
	if cfg.WebhookURL != "" {
		if err := checkURL(cfg.WebhookURL); err != nil {
			return err
		}
		if len(cfg.Secret) == 0 {
			return fmt.Errorf("actions webhook %s: no secret to sign with", cfg.WebhookURL)
		}
		cfg.Secret = slices.Clone(cfg.Secret)
	}
	if cfg.Topic != "" {
		if err := checkTopic(cfg.Topic); err != nil {
			return err
		}
		if cfg.Client == nil {
			return fmt.Errorf("actions topic %s: no kafka client", cfg.Topic)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"interval", cfg.Interval}, {"timeout", cfg.Timeout}, {"retry_initial", cfg.RetryInitial},
		{"retry_max", cfg.RetryMax}, {"flush_timeout", cfg.FlushTimeout},
	} {
		if d.v < 0 {
			return fmt.Errorf("actions %s %v: negative", d.name, d.v)
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"queue_size", cfg.QueueSize}, {"max_tracked", cfg.MaxTracked}} {
		if n.v < 0 {
			return fmt.Errorf("actions %s %d: negative", n.name, n.v)
		}
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.MaxTracked == 0 {
		cfg.MaxTracked = DefaultMaxTracked
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.RetryInitial == 0 {
		cfg.RetryInitial = DefaultRetryInitial
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = DefaultRetryMax
	}
	if cfg.RetryMax < cfg.RetryInitial {
		return fmt.Errorf("actions retry_max %v: below retry_initial %v", cfg.RetryMax, cfg.RetryInitial)
	}
	if cfg.FlushTimeout == 0 {
		cfg.FlushTimeout = cfg.Timeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	return nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("actions webhook url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("actions webhook url %q: scheme must be http or https", raw)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("actions webhook url %q: no host", raw)
	}
	return nil
}

// checkTopic applies Kafka's rule for topic names.
func checkTopic(topic string) error {
	if len(topic) > 249 || topic == "." || topic == ".." {
		return fmt.Errorf("actions topic %q: not a valid kafka topic name", topic)
	}
	for i := 0; i < len(topic); i++ {
		c := topic[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("actions topic %q: not a valid kafka topic name (letters, digits, '.', '_', '-')", topic)
		}
	}
	return nil
}

// Trigger queues a for delivery to every destination and returns true,
// unless an action of the same kind, model and model version was
// triggered less than Interval before a.At (then it returns false and
// counts a as suppressed). It also returns false, counting a as rejected,
// if a is invalid (Validate) or Run has returned. A zero a.At is set to
// now. Trigger does not block on the network; it encodes a once.
func (d *Dispatcher) Trigger(a Action) bool {
	if a.At.IsZero() {
		a.At = d.cfg.Now()
	}
	var (
		e   *entry
		err = a.Validate()
	)
	if err == nil {
		e, err = newEntry(a)
	}
	d.mu.Lock()
	if err != nil || d.stopped {
		d.rejected++
		d.mu.Unlock()
		return false
	}
	k := key{a.Kind, a.Model, a.ModelVersion}
	if last, ok := d.last[k]; ok && a.At.Sub(last) < d.cfg.Interval {
		d.suppressed++
		d.mu.Unlock()
		return false
	}
	d.remember(k, a.At)
	d.triggered++
	var drops []Delivery
	for _, s := range d.senders {
		drops = s.push(e, drops)
	}
	d.mu.Unlock()
	d.report(drops)
	return true
}

// Restore records that an action of this kind, model and model version was
// triggered at at (read back from the audit trail when driftwatch starts,
// say), so that Trigger suppresses those less than Interval after it. A
// later time already recorded is kept.
func (d *Dispatcher) Restore(kind, model, modelVersion string, at time.Time) {
	k := key{kind, model, modelVersion}
	d.mu.Lock()
	if last, ok := d.last[k]; !ok || at.After(last) {
		d.remember(k, at)
	}
	d.mu.Unlock()
}

// remember records k at at, within MaxTracked. d.mu is held.
func (d *Dispatcher) remember(k key, at time.Time) {
	if _, ok := d.last[k]; !ok && len(d.last) >= d.cfg.MaxTracked {
		for k2, t := range d.last {
			if at.Sub(t) >= d.cfg.Interval {
				delete(d.last, k2)
			}
		}
		if len(d.last) >= d.cfg.MaxTracked {
			var (
				oldest key
				first  = true
				min    time.Time
			)
			for k2, t := range d.last {
				if first || t.Before(min) {
					oldest, min, first = k2, t, false
				}
			}
			delete(d.last, oldest)
			d.evicted++
		}
	}
	d.last[k] = at
}

func (d *Dispatcher) report(ds []Delivery) {
	if d.cfg.OnDelivery == nil {
		return
	}
	for _, x := range ds {
		d.cfg.OnDelivery(x)
	}
}

// Run delivers until ctx is done: it owns one goroutine per destination and
// returns once all have stopped. When ctx ends, each destination spends at
// most FlushTimeout delivering what it has queued (best effort) and drops
// the rest; Run returns nil if nothing was dropped so, else an error naming
// what was. Triggers after Run has returned are rejected. Run may be
// called once.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("actions dispatcher: Run called twice")
	}
	var (
		wg   sync.WaitGroup
		errs = make([]error, len(d.senders), len(d.senders)+1)
	)
	for i, s := range d.senders {
		wg.Go(func() { errs[i] = s.run(ctx) })
	}
	wg.Wait()
	// Refuse triggers from now on, and drop those that came in after a
	// destination's flush had emptied its queue.
	var drops []Delivery
	d.mu.Lock()
	d.stopped = true
	for _, s := range d.senders {
		drops = s.dropQueued(ErrShutdown, drops)
	}
	d.mu.Unlock()
	d.report(drops)
	if len(drops) > 0 {
		errs = append(errs, fmt.Errorf("stop actions dispatcher: %d deliveries triggered during shutdown dropped", len(drops)))
	}
	return errors.Join(errs...)
}

// Stats are a Dispatcher's counts since New.
type Stats struct {
	Triggered  uint64 // actions queued for every destination
	Suppressed uint64 // Trigger calls within Interval of the same kind, model and version
	Rejected   uint64 // Trigger calls of invalid actions, or after Run returned
	Evicted    uint64 // (kind, model, version) forgotten before their Interval passed, past MaxTracked
	// Destinations are the webhook then the topic, as configured.
	Destinations []DestinationStats
}

// DestinationStats are the counts of one destination.
type DestinationStats struct {
	Destination string // Config.WebhookURL or Config.Topic; "" in a Total
	Delivered   uint64 // actions accepted (2xx, or produced)
	Failed      uint64 // attempts that failed, each retry counted, permanent rejections included
	Dropped     uint64 // actions given up: queue overflow, permanent rejection, shutdown
	Pending     int    // actions queued now, including the one being delivered
}

// Stats returns the counts now.
func (d *Dispatcher) Stats() Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := Stats{Triggered: d.triggered, Suppressed: d.suppressed, Rejected: d.rejected, Evicted: d.evicted}
	for _, s := range d.senders {
		st.Destinations = append(st.Destinations, s.stats())
	}
	return st
}

// Total sums the counts of every destination.
func (s Stats) Total() DestinationStats {
	var t DestinationStats
	for _, x := range s.Destinations {
		t.Delivered += x.Delivered
		t.Failed += x.Failed
		t.Dropped += x.Dropped
		t.Pending += x.Pending
	}
	return t
}
