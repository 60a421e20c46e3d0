// Package alertmanager delivers driftwatch's alerts to Prometheus
// Alertmanager through its API v2 (POST /api/v2/alerts, a JSON array of
// postableAlert).
//
// A Client keeps the set of firing alerts, keyed by their label set, and
// posts them to every Alertmanager URL it is given, each through a queue and
// a sender goroutine of its own, so that an Alertmanager that is down delays
// no other:
//
//   - Fire posts an alert at once and re-posts it every ResendInterval with
//     endsAt = now + EndsAfter, so that a restarted Alertmanager (which keeps
//     alerts only in memory) gets it back at the next resend, and so that
//     Alertmanager resolves it by itself if driftwatch dies.
//   - Resolve posts it once more with endsAt = the time of resolution and
//     stops resending it.
//   - Queued alerts go out in batches (one request, many alerts). Within a
//     batch higher severities come first (severity label SEV-1 before SEV-2
//     before ... before any other value), so that an inhibiting SEV-1 reaches
//     Alertmanager no later than the SEV-3 it silences.
//   - A queue holds transitions, not just each alert's latest state: an
//     alert (a label set) fired and resolved while an Alertmanager is down
//     reaches it, once it is back, as its fire (startsAt the detection time)
//     and then, in a later request, its resolution (endsAt the time of
//     resolution), the resolution held until MinFiring after Alertmanager
//     accepted the fire. An alert's states go out in order, one per request;
//     a newer state of a queued fire (a resend) takes its place, and a
//     resolution supersedes a queued resend of a fire Alertmanager has. Past
//     QueueSize a delivery is dropped and counted: first the oldest fire of
//     an alert still firing (the next resend queues it again), then the
//     oldest resolution whose fire Alertmanager has (it would end the alert
//     at its endsAt anyway), last the oldest fire with its resolution.
//   - Whether a receiver is notified of such an alert firing is
//     Alertmanager's decision: it notifies a group's alerts when it flushes
//     the group, and an alert fired and resolved between two flushes is
//     never notified. A new group whose first alert's startsAt + group_wait
//     is past (an outage longer than the route's group_wait) is flushed at
//     once, so MinFiring's default (2s) lets receivers see it fire; set
//     MinFiring to the routes' group_wait (group_interval if the group may
//     have been notified already) to be sure in every case. Either way the
//     fire and the resolution reach Alertmanager's API, and both are in the
//     audit trail (alert_history).
//   - Failed posts are retried with exponential backoff (cenkalti/backoff/v4)
//     without an elapsed-time limit, waiting at most RetryMax (default 5s)
//     between attempts, so that the queue goes out within RetryMax of an
//     Alertmanager's return. A 4xx response other than 408 and 429
//     is permanent: a batch that gets one is re-posted one alert per request,
//     and an alert that still gets one is dropped (counted as Failed and
//     Dropped), so that one invalid alert does not block the queue.
//
// The inhibition trait: Alertmanager notifies an alert whose startsAt +
// group_wait is already past at once, before an inhibiting alert posted
// after it can silence it. Callers must therefore pass StartsAt as the time
// driftwatch detected the condition (when it evaluated the window), never
// back-dated to the window's start, and fire an inhibiting alert before
// those it inhibits; the Client keeps the first StartsAt of an alert and
// orders each batch by severity.
//
// It deliberately does not decide what fires (package alerts does), hold
// routing, grouping, inhibition or silences (Alertmanager's configuration
// does), nor deduplicate across driftwatch instances (Alertmanager does, by
// label set).
package alertmanager

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config.
const (
	DefaultResendInterval = time.Minute
	DefaultTimeout        = 10 * time.Second
	DefaultQueueSize      = 1024
	DefaultBatchSize      = 256 // as Prometheus' notifier
	DefaultRetryInitial   = time.Second
	DefaultRetryMax       = 5 * time.Second
	DefaultMinFiring      = 2 * time.Second
)

// apiPath is where Alertmanager's API v2 takes alerts, below the URL's own
// path (its --web.route-prefix).
const apiPath = "/api/v2/alerts"

// Alert is one alert as Alertmanager's API v2 takes it (postableAlert). Its
// identity is its label set. The Client copies the maps it is given; the
// maps of an Alert it hands out (in a Delivery) must not be modified.
type Alert struct {
	Labels       map[string]string // identity: alertname, severity, model, model_version, family, subject, ...
	Annotations  map[string]string // summary, description, dashboard, runbook_url, ...
	StartsAt     time.Time         // when driftwatch detected it (do not back-date); zero: the time of the first Fire
	GeneratorURL string            // optional link back to driftwatch
}

// Config configures a Client. Zero durations and sizes take the defaults
// given.
type Config struct {
	// URLs are every replica of an HA Alertmanager, such as
	// http://127.0.0.1:9093 (with a path if it runs with
	// --web.route-prefix); each gets every alert. Never a load balancer:
	// replicas share notifications, not alerts.
	URLs []string
	// ResendInterval is how often firing alerts are re-posted, with
	// endsAt = now + EndsAfter (default 1m).
	ResendInterval time.Duration
	// EndsAfter is how far past each post a firing alert's endsAt lies, so
	// that Alertmanager resolves it by itself if driftwatch dies. Default 4
	// × ResendInterval; it must exceed ResendInterval.
	EndsAfter time.Duration
	// Timeout bounds each HTTP request (default 10s).
	Timeout time.Duration
	// QueueSize bounds the deliveries pending per URL (default 1024); past
	// it the oldest is dropped and counted.
	QueueSize int
	// MaxFiring bounds the alerts firing at once (default QueueSize, which
	// it may not exceed, since every resend queues them all); Fire of a new
	// alert past it is refused and counted (Stats.Refused).
	MaxFiring int
	// BatchSize is the most alerts posted in one request (default 256).
	BatchSize int
	// RetryInitial and RetryMax bound the exponential backoff between
	// failed posts to a URL (defaults 1s and 5s; RetryMax bounds each wait,
	// jitter included, and so how long after an Alertmanager's return its
	// queue starts to go out). Retries never give up by elapsed time: a
	// delivery is retried until it succeeds, is superseded by a newer state
	// of the same alert, or is dropped for the queue bound.
	RetryInitial, RetryMax time.Duration
	// MinFiring is how long after a URL accepted an alert's fire its
	// resolution may follow (default 2s; it must be below EndsAfter). It
	// holds only resolutions queued behind a fire delivered late (after an
	// outage, say), so that Alertmanager can notify the alert firing
	// before it is resolved (see the package doc).
	MinFiring time.Duration
	// FlushTimeout bounds the best-effort delivery of queued resolutions
	// when Run's context ends (default Timeout).
	FlushTimeout time.Duration
	// HTTPClient posts the alerts (default a new http.Client); Timeout
	// applies to each request in addition to its own.
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnDelivery, if set, is called after each attempt to post an alert to
	// a URL, and when a queued alert is dropped, for the audit trail. It is
	// called from the Client's goroutines (concurrently for different URLs)
	// and from Fire and Resolve (for drops), never with a lock held; it
	// must be quick.
	OnDelivery func(d Delivery)
}

// Delivery is the outcome of one attempt to post one alert to one URL, or of
// giving it up.
type Delivery struct {
	URL      string // as in Config.URLs
	Alert    Alert
	Resolved bool // a resolution, not a fire
	Attempt  int  // 1 for the first post of this state of the alert to URL; 0 if never posted
	Err      error
	// Dropped says the delivery was given up: Err is ErrQueueFull,
	// ErrShutdown, or a *StatusError of a permanent rejection.
	Dropped bool
	At      time.Time
}

// Errors of Deliveries given up without a response.
var (
	ErrQueueFull = errors.New("queue full: oldest delivery dropped")
	ErrShutdown  = errors.New("client stopped before delivery")
)

// Client posts alerts to Alertmanager. Fire, Resolve and Stats are safe for
// concurrent use, before, during and after Run; only Run delivers (what is
// queued before Run goes out, in batches, when it starts).
type Client struct {
	cfg     Config
	senders []*sender

	mu       sync.Mutex
	firing   map[string]firingAlert // by fingerprint
	episodes uint64                 // episodes begun (the last one's number)
	refused  uint64

	running atomic.Bool
}

// New returns a Client for cfg, or an error if a URL is not an absolute
// http or https URL with a host, or a setting is out of range.
func New(cfg Config) (*Client, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, firing: make(map[string]firingAlert)}
	seen := make(map[string]bool, len(cfg.URLs))
	for _, raw := range cfg.URLs {
		endpoint, err := endpointOf(raw)
		if err != nil {
			return nil, err
		}
		if seen[endpoint] {
			return nil, fmt.Errorf("alertmanager url %q: listed twice", raw)
		}
		seen[endpoint] = true
		c.senders = append(c.senders, newSender(&c.cfg, raw, endpoint))
	}
	return c, nil
}

// fill validates cfg and sets its defaults.
func (cfg *Config) fill() error {
	if len(cfg.URLs) == 0 {
		return errors.New("alertmanager: no urls")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"resend_interval", cfg.ResendInterval}, {"ends_after", cfg.EndsAfter}, {"timeout", cfg.Timeout},
		{"retry_initial", cfg.RetryInitial}, {"retry_max", cfg.RetryMax}, {"flush_timeout", cfg.FlushTimeout}, {"min_firing", cfg.MinFiring},
	} {
		if d.v < 0 {
			return fmt.Errorf("alertmanager %s %v: negative", d.name, d.v)
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"queue_size", cfg.QueueSize}, {"max_firing", cfg.MaxFiring}, {"batch_size", cfg.BatchSize}} {
		if n.v < 0 {
			return fmt.Errorf("alertmanager %s %d: negative", n.name, n.v)
		}
	}
	cfg.URLs = slices.Clone(cfg.URLs)
	if cfg.ResendInterval == 0 {
		cfg.ResendInterval = DefaultResendInterval
	}
	if cfg.EndsAfter == 0 {
		cfg.EndsAfter = 4 * cfg.ResendInterval
	}
	if cfg.EndsAfter <= cfg.ResendInterval {
		return fmt.Errorf("alertmanager ends_after %v: must exceed resend_interval %v, or firing alerts resolve between resends", cfg.EndsAfter, cfg.ResendInterval)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.MaxFiring == 0 {
		cfg.MaxFiring = cfg.QueueSize
	}
	if cfg.MaxFiring > cfg.QueueSize {
		return fmt.Errorf("alertmanager max_firing %d: exceeds queue_size %d, so every resend would overflow the queues", cfg.MaxFiring, cfg.QueueSize)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.RetryInitial == 0 {
		cfg.RetryInitial = DefaultRetryInitial
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = DefaultRetryMax
	}
	if cfg.RetryMax < cfg.RetryInitial {
		return fmt.Errorf("alertmanager retry_max %v: below retry_initial %v", cfg.RetryMax, cfg.RetryInitial)
	}
	if cfg.MinFiring == 0 {
		cfg.MinFiring = DefaultMinFiring
	}
	if cfg.MinFiring >= cfg.EndsAfter {
		return fmt.Errorf("alertmanager min_firing %v: must be below ends_after %v, or Alertmanager ends held alerts by itself", cfg.MinFiring, cfg.EndsAfter)
	}
	if cfg.FlushTimeout == 0 {
		cfg.FlushTimeout = cfg.Timeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return nil
}

// endpointOf is the API v2 alerts endpoint of an Alertmanager URL.
func endpointOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("alertmanager url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("alertmanager url %q: scheme must be http or https", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("alertmanager url %q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("alertmanager url %q: must not have a query, fragment or user", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/") + apiPath
	u.RawPath = ""
	return u.String(), nil
}

// firingAlert is an alert firing here, and the number of its episode (its
// run from this Fire to its Resolve).
type firingAlert struct {
	Alert
	episode uint64
}

// Fire records a new or still-firing alert and queues it for every URL at
// once; it is re-posted every ResendInterval until Resolve. An alert already
// firing (the same label set) keeps its first StartsAt and takes a's
// annotations and GeneratorURL. A new alert past MaxFiring is refused and
// counted. Fire does not block on the network.
func (c *Client) Fire(a Alert) {
	a = clone(a)
	fp := fingerprint(a.Labels)
	var drops []Delivery
	c.mu.Lock()
	f, ok := c.firing[fp]
	if ok {
		a.StartsAt = f.StartsAt
	} else {
		if len(c.firing) >= c.cfg.MaxFiring {
			c.refused++
			c.mu.Unlock()
			return
		}
		if a.StartsAt.IsZero() {
			a.StartsAt = c.cfg.Now()
		}
		c.episodes++
		f.episode = c.episodes
	}
	f.Alert = a
	c.firing[fp] = f
	for _, s := range c.senders {
		drops = s.push(&entry{fp: fp, episode: f.episode, alert: a}, drops)
	}
	c.mu.Unlock()
	c.report(drops)
}

// Resolve stops resending the alert with these labels and queues it for
// every URL once, behind its fire if that is still queued, with endsAt = at (the time of resolution; zero means now,
// and a time before its StartsAt means its StartsAt). An alert that is not
// firing here (such as one fired before driftwatch restarted) is posted
// with its labels only, which resolves it in Alertmanager if it is there.
func (c *Client) Resolve(labels map[string]string, at time.Time) {
	fp := fingerprint(labels)
	var drops []Delivery
	c.mu.Lock()
	f, ok := c.firing[fp]
	if ok {
		delete(c.firing, fp)
	} else {
		f.Alert = Alert{Labels: maps.Clone(labels)}
	}
	a := f.Alert
	if at.IsZero() {
		at = c.cfg.Now()
	}
	if at.Before(a.StartsAt) {
		at = a.StartsAt
	}
	for _, s := range c.senders {
		drops = s.push(&entry{fp: fp, episode: f.episode, alert: a, resolved: true, endsAt: at}, drops)
	}
	c.mu.Unlock()
	c.report(drops)
}

// Forget stops re-sending the alert with these labels without resolving
// it: another instance now owns it (scale-out) and sends it on. Alertmanager
// keeps it firing as long as someone re-sends it.
func (c *Client) Forget(labels map[string]string) {
	c.mu.Lock()
	delete(c.firing, fingerprint(labels))
	c.mu.Unlock()
}

// resend queues every firing alert for every URL, higher severities first.
func (c *Client) resend() {
	var drops []Delivery
	c.mu.Lock()
	fps := slices.Collect(maps.Keys(c.firing))
	slices.SortFunc(fps, func(x, y string) int {
		if d := severityRank(c.firing[x].Labels) - severityRank(c.firing[y].Labels); d != 0 {
			return d
		}
		return strings.Compare(x, y)
	})
	for _, s := range c.senders {
		for _, fp := range fps {
			f := c.firing[fp]
			drops = s.push(&entry{fp: fp, episode: f.episode, alert: f.Alert}, drops)
		}
	}
	c.mu.Unlock()
	c.report(drops)
}

func (c *Client) report(ds []Delivery) {
	if c.cfg.OnDelivery == nil {
		return
	}
	for _, d := range ds {
		c.cfg.OnDelivery(d)
	}
}

// Run delivers until ctx is done: it owns one sender goroutine per URL and
// the resend ticker, and returns once all have stopped. When ctx ends, each
// sender drops its queued fires of alerts still firing (the alerts expire in
// Alertmanager at their endsAt) and spends at most FlushTimeout posting its
// queued resolutions, with the fires queued before them, in order and
// without holding them for MinFiring;
// Run returns nil if all were delivered, else an error naming what was
// dropped. Run may be called once.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("alertmanager client: Run called twice")
	}
	var (
		wg   sync.WaitGroup
		errs = make([]error, len(c.senders))
	)
	for i, s := range c.senders {
		wg.Go(func() { errs[i] = s.run(ctx) })
	}
	wg.Go(func() {
		t := time.NewTicker(c.cfg.ResendInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.resend()
			}
		}
	})
	wg.Wait()
	return errors.Join(errs...)
}

// Stats are a Client's counts since New. Sent, Failed and Dropped count
// alerts (a batch of n alerts counts n), not requests.
type Stats struct {
	Firing  int    // alerts firing now (resent every ResendInterval)
	Refused uint64 // Fire calls of new alerts refused past MaxFiring
	URLs    []URLStats
}

// URLStats are the counts of one URL.
type URLStats struct {
	URL        string // as in Config.URLs
	Sent       uint64 // alerts posted and accepted (2xx)
	Failed     uint64 // attempts to post an alert that failed (each retry counts)
	Dropped    uint64 // deliveries given up: queue overflow, permanent rejection (also counted in Failed), shutdown; one dropped for overflow while its post was in flight may still be delivered by that post (and counted in Sent too)
	Superseded uint64 // queued deliveries replaced by a newer state of the same alert before they were delivered
	Pending    int    // deliveries queued now, including those being posted
}

// Stats returns the counts now, with URLs in Config.URLs order.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	st := Stats{Firing: len(c.firing), Refused: c.refused}
	c.mu.Unlock()
	for _, s := range c.senders {
		st.URLs = append(st.URLs, s.stats())
	}
	return st
}

// Total sums the counts of every URL (its URL is empty).
func (s Stats) Total() URLStats {
	var t URLStats
	for _, u := range s.URLs {
		t.Sent += u.Sent
		t.Failed += u.Failed
		t.Dropped += u.Dropped
		t.Superseded += u.Superseded
		t.Pending += u.Pending
	}
	return t
}

// fingerprint is an alert's identity: its labels sorted by name, as
// name\xffvalue\xff pairs (\xff occurs in no valid UTF-8 label).
func fingerprint(labels map[string]string) string {
	names := slices.Sorted(maps.Keys(labels))
	n := 0
	for _, k := range names {
		n += len(k) + len(labels[k]) + 2
	}
	var b strings.Builder
	b.Grow(n)
	for _, k := range names {
		b.WriteString(k)
		b.WriteByte(0xff)
		b.WriteString(labels[k])
		b.WriteByte(0xff)
	}
	return b.String()
}

// severityRank orders alerts for posting: SEV-n ranks n (case-insensitive,
// with or without the dash); any other severity ranks after every SEV-n.
func severityRank(labels map[string]string) int {
	s := strings.ToUpper(labels["severity"])
	if rest, ok := strings.CutPrefix(s, "SEV"); ok {
		if n, err := strconv.Atoi(strings.TrimPrefix(rest, "-")); err == nil && n >= 0 && n < 1000 {
			return n
		}
	}
	return 1000
}

func clone(a Alert) Alert {
	a.Labels = maps.Clone(a.Labels)
	a.Annotations = maps.Clone(a.Annotations)
	return a
}
