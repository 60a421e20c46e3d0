package alertmanager

import (
	"context"
	"errors"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// alert is a drift alert on subject at sev.
func alert(name, sev, subject string) Alert {
	return Alert{
		Labels: map[string]string{
			"alertname": name, "severity": sev, "model": "fraud", "model_version": "3",
			"family": "feature", "subject": subject,
		},
		Annotations: map[string]string{
			"summary":     name + " on " + subject,
			"description": "psi 0.31 over 0.2 for 3 windows",
			"dashboard":   "http://grafana/d/driftwatch?var-model=fraud",
			"runbook_url": "https://runbooks/driftwatch/" + name,
		},
		GeneratorURL: "http://driftwatch/reports/fraud",
	}
}

func mustNew(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// start runs c until the returned stop is called, or the test ends; stop
// returns Run's error.
func start(t testing.TB, c *Client) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	var (
		once sync.Once
		err  error
	)
	stop = func() error {
		once.Do(func() { cancel(); err = <-errc })
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// memClient is a Client whose URLs http://<host> reach the fakes in
// process, for tests inside a synctest bubble.
func memClient(t testing.TB, cfg Config, fakes map[string]*fakeAM) *Client {
	t.Helper()
	for _, host := range slices.Sorted(maps.Keys(fakes)) {
		cfg.URLs = append(cfg.URLs, "http://"+host)
	}
	cfg.HTTPClient = &http.Client{Transport: memTransport(fakes)}
	return mustNew(t, cfg)
}

func TestNewRejects(t *testing.T) {
	url := []string{"http://127.0.0.1:9093"}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no urls", Config{}, "alertmanager: no urls"},
		{"scheme", Config{URLs: []string{"ftp://am:9093"}}, `alertmanager url "ftp://am:9093": scheme must be http or https`},
		{"host:port without scheme", Config{URLs: []string{"am:9093"}}, `alertmanager url "am:9093": scheme must be http or https`},
		{"no host", Config{URLs: []string{"http:///api"}}, `alertmanager url "http:///api": no host`},
		{"query", Config{URLs: []string{"http://am:9093/?x=1"}}, "must not have a query, fragment or user"},
		{"unparsable", Config{URLs: []string{"http://am:port"}}, `alertmanager url "http://am:port": parse`},
		{"twice", Config{URLs: []string{"http://am:9093", "http://am:9093/"}}, `alertmanager url "http://am:9093/": listed twice`},
		{"ends before next resend", Config{URLs: url, ResendInterval: time.Minute, EndsAfter: time.Minute}, "alertmanager ends_after 1m0s: must exceed resend_interval 1m0s"},
		{"negative timeout", Config{URLs: url, Timeout: -time.Second}, "alertmanager timeout -1s: negative"},
		{"negative queue", Config{URLs: url, QueueSize: -1}, "alertmanager queue_size -1: negative"},
		{"max firing past queue", Config{URLs: url, QueueSize: 10, MaxFiring: 11}, "alertmanager max_firing 11: exceeds queue_size 10"},
		{"retry max below initial", Config{URLs: url, RetryInitial: 2 * time.Second, RetryMax: time.Second}, "alertmanager retry_max 1s: below retry_initial 2s"},
		{"min firing past ends after", Config{URLs: url, MinFiring: 4 * time.Minute}, "alertmanager min_firing 4m0s: must be below ends_after 4m0s"},
		{"negative min firing", Config{URLs: url, MinFiring: -time.Second}, "alertmanager min_firing -1s: negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	c := mustNew(t, Config{URLs: []string{"http://am-1:9093", "https://am-2/alertmanager/"}})
	cfg := c.cfg
	if cfg.ResendInterval != time.Minute || cfg.EndsAfter != 4*time.Minute || cfg.Timeout != 10*time.Second ||
		cfg.QueueSize != 1024 || cfg.MaxFiring != 1024 || cfg.BatchSize != 256 ||
		cfg.RetryInitial != time.Second || cfg.RetryMax != 5*time.Second || cfg.MinFiring != 2*time.Second || cfg.FlushTimeout != 10*time.Second ||
		cfg.HTTPClient == nil || cfg.Now == nil {
		t.Fatalf("defaults: %+v", cfg)
	}
	want := []string{"http://am-1:9093/api/v2/alerts", "https://am-2/alertmanager/api/v2/alerts"}
	for i, s := range c.senders {
		if s.endpoint != want[i] {
			t.Errorf("endpoint %d: %s, want %s", i, s.endpoint, want[i])
		}
	}
	if c := mustNew(t, Config{URLs: want[:1], ResendInterval: 30 * time.Second}); c.cfg.EndsAfter != 2*time.Minute {
		t.Errorf("EndsAfter for a 30 s resend: %v, want 2m", c.cfg.EndsAfter)
	}
}

func TestSeverityRankAndFingerprint(t *testing.T) {
	for sev, want := range map[string]int{"SEV-1": 1, "sev-2": 2, "SEV3": 3, "SEV-4": 4, "critical": 1000, "": 1000, "SEV-x": 1000} {
		if got := severityRank(map[string]string{"severity": sev}); got != want {
			t.Errorf("severityRank(%q) = %d, want %d", sev, got, want)
		}
	}
	a := map[string]string{"alertname": "Drift", "model": "m", "subject": "x"}
	b := map[string]string{"subject": "x", "model": "m", "alertname": "Drift"}
	if fingerprint(a) != fingerprint(b) {
		t.Error("fingerprint depends on map order")
	}
	b["subject"] = "y"
	if fingerprint(a) == fingerprint(b) {
		t.Error("fingerprint ignores a label value")
	}
	// A value cannot run into the next name.
	if fingerprint(map[string]string{"a": "b", "c": "d"}) == fingerprint(map[string]string{"a": "bc", "": "d"}) {
		t.Error("fingerprint is ambiguous")
	}
}

// TestBatchJSONShape: alerts queued together go out in one request, highest
// severity first, as API v2 postableAlerts with RFC 3339 times in UTC.
func TestBatchJSONShape(t *testing.T) {
	am := newFakeAM(t)
	srv := startServer(t, am, "127.0.0.1:0")
	now := time.Date(2026, 11, 23, 13, 0, 0, 500_000_000, time.FixedZone("CET", 3600))
	ds := newDeliveries()
	c := mustNew(t, Config{
		URLs: []string{srv.URL}, HTTPClient: realHTTPClient(t), ResendInterval: time.Hour,
		Now: func() time.Time { return now }, OnDelivery: ds.add,
	})
	sev3 := alert("FeatureDrift", "SEV-3", "amount")
	sev3.StartsAt = now.Add(-time.Second) // detected a second ago
	sev2 := alert("FairnessBreach", "SEV-2", "gender")
	sev1 := alert("PredictionCollapse", "SEV-1", "prediction") // zero StartsAt: detected now
	c.Fire(sev3)
	c.Fire(sev2)
	c.Fire(sev1)
	stop := start(t, c)
	ds.waitFor(t, "the delivery", func() bool { return c.Stats().URLs[0].Sent == 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	reqs := am.requests()
	if len(reqs) != 1 || len(reqs[0].Alerts) != 3 {
		t.Fatalf("requests: %+v, want one of 3 alerts", reqs)
	}
	got := reqs[0].Alerts
	for i, want := range []Alert{sev1, sev2, sev3} {
		if !maps.Equal(got[i].Labels, want.Labels) || !maps.Equal(got[i].Annotations, want.Annotations) || got[i].GeneratorURL != want.GeneratorURL {
			t.Errorf("alert %d: %+v, want %+v", i, got[i], want)
		}
		if got[i].EndsAt != "2026-11-23T16:00:00.5Z" { // now + 4 × the 1 h resend interval
			t.Errorf("alert %d: endsAt %q", i, got[i].EndsAt)
		}
	}
	if got[0].StartsAt != "2026-11-23T12:00:00.5Z" || got[2].StartsAt != "2026-11-23T11:59:59.5Z" {
		t.Errorf("startsAt %q and %q, want the detection times in UTC", got[0].StartsAt, got[2].StartsAt)
	}
	st := c.Stats()
	if tot := st.Total(); st.Firing != 3 || tot.Sent != 3 || tot.Failed != 0 || tot.Pending != 0 || st.URLs[0].URL != srv.URL {
		t.Errorf("stats %+v, total %+v", st, tot)
	}
}

// TestResendKeepsAlertAlive: a firing alert is re-posted every
// ResendInterval with endsAt = now + EndsAfter; firing it again updates its
// annotations but keeps its first StartsAt.
func TestResendKeepsAlertAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		am := newFakeAM(t)
		c := memClient(t, Config{ResendInterval: time.Minute}, map[string]*fakeAM{"am:9093": am})
		stop := start(t, c)
		t0 := time.Now()
		a := alert("FeatureDrift", "SEV-3", "amount")
		a.StartsAt = t0
		c.Fire(a)
		synctest.Wait()
		check := func(n int, endsAt time.Time, description string) {
			t.Helper()
			got := am.accepted()
			if len(got) != n {
				t.Fatalf("%d alerts posted, want %d: %+v", len(got), n, got)
			}
			last := got[n-1]
			if !last.endsAt(t).Equal(endsAt) || !parseTime(t, last.StartsAt).Equal(t0) || last.Annotations["description"] != description {
				t.Fatalf("post %d: %+v, want endsAt %v, startsAt %v, description %q", n, last, endsAt, t0, description)
			}
		}
		check(1, t0.Add(4*time.Minute), a.Annotations["description"])

		time.Sleep(time.Minute)
		synctest.Wait()
		check(2, t0.Add(5*time.Minute), a.Annotations["description"])

		time.Sleep(10 * time.Second)
		b := alert("FeatureDrift", "SEV-3", "amount")
		b.Annotations["description"] = "psi 0.45 over 0.2 for 4 windows"
		b.StartsAt = time.Now()
		c.Fire(b)
		synctest.Wait()
		check(3, t0.Add(70*time.Second+4*time.Minute), b.Annotations["description"])

		// An Alertmanager restarted meanwhile has it back at the next resend.
		time.Sleep(50 * time.Second)
		synctest.Wait()
		check(4, t0.Add(6*time.Minute), b.Annotations["description"])

		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if st := c.Stats(); st.Firing != 1 || st.URLs[0].Sent != 4 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestResolve: Resolve posts the alert once with endsAt = at and stops
// resending it; resolving an alert not firing here posts its labels.
func TestResolve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		am := newFakeAM(t)
		ds := newDeliveries()
		c := memClient(t, Config{ResendInterval: time.Minute, OnDelivery: ds.add}, map[string]*fakeAM{"am:9093": am})
		stop := start(t, c)
		t0 := time.Now()
		a := alert("FeatureDrift", "SEV-3", "amount")
		c.Fire(a)
		synctest.Wait()
		time.Sleep(30 * time.Second)
		at := time.Now().Add(-5 * time.Second) // the window that cleared
		c.Resolve(maps.Clone(a.Labels), at)
		synctest.Wait()
		time.Sleep(2 * time.Minute) // two resend ticks
		synctest.Wait()

		got := am.accepted()
		if len(got) != 2 {
			t.Fatalf("posted %+v, want the fire and its resolution only", got)
		}
		if r := got[1]; !maps.Equal(r.Labels, a.Labels) || !r.endsAt(t).Equal(at) || !parseTime(t, r.StartsAt).Equal(t0) || !maps.Equal(r.Annotations, a.Annotations) {
			t.Errorf("resolution %+v, want endsAt %v and the fire's startsAt %v", r, at, t0)
		}
		if st := c.Stats(); st.Firing != 0 {
			t.Errorf("firing %d after Resolve", st.Firing)
		}
		if d := ds.all(); len(d) != 2 || d[0].Resolved || !d[1].Resolved || d[1].Attempt != 1 || d[1].Err != nil {
			t.Errorf("deliveries %+v", d)
		}

		// Not firing here (fired before a restart): labels and endsAt only.
		other := map[string]string{"alertname": "FeatureDrift", "subject": "country"}
		c.Resolve(other, time.Time{})
		synctest.Wait()
		got = am.accepted()
		if r := got[len(got)-1]; len(got) != 3 || !maps.Equal(r.Labels, other) || r.StartsAt != "" || r.Annotations != nil || !r.endsAt(t).Equal(time.Now()) {
			t.Errorf("resolution of an unknown alert: %+v", got)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestTwoURLsOneDown: an Alertmanager that refuses connections does not
// delay the other, which gets everything; it catches up when it comes back.
func TestTwoURLsOneDown(t *testing.T) {
	up := newFakeAM(t)
	srvUp := startServer(t, up, "127.0.0.1:0")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := l.Addr().String()
	l.Close() // refused until the server below starts on it
	ds := newDeliveries()
	c := mustNew(t, Config{
		URLs: []string{srvUp.URL, "http://" + downAddr}, HTTPClient: realHTTPClient(t),
		ResendInterval: time.Hour, RetryInitial: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond,
		OnDelivery: ds.add,
	})
	start(t, c)
	subjects := []string{"amount", "country", "device"}
	for _, s := range subjects {
		c.Fire(alert("FeatureDrift", "SEV-3", s))
	}
	ds.waitFor(t, "every alert at the up URL, failed attempts at the down URL", func() bool {
		st := c.Stats()
		return st.URLs[0].Sent == 3 && st.URLs[1].Failed >= 3
	})
	st := c.Stats()
	if st.URLs[0].Sent != 3 || st.URLs[0].Pending != 0 || st.URLs[1].Sent != 0 || st.URLs[1].Pending != 3 {
		t.Fatalf("while down: %+v", st)
	}
	for _, d := range ds.all() {
		if d.URL == st.URLs[1].URL && (d.Err == nil || !strings.Contains(d.Err.Error(), downAddr)) {
			t.Fatalf("delivery to the down URL: %+v, want an error naming it", d)
		}
	}

	down := newFakeAM(t)
	startServer(t, down, downAddr)
	ds.waitFor(t, "the down URL to catch up", func() bool { return c.Stats().URLs[1].Sent == 3 })
	var got []string
	for _, a := range down.accepted() {
		got = append(got, a.Labels["subject"])
	}
	slices.Sort(got)
	if !slices.Equal(got, subjects) {
		t.Errorf("the returned URL got %v, want %v", got, subjects)
	}
	if st := c.Stats().URLs[1]; st.Pending != 0 || st.Dropped != 0 {
		t.Errorf("after catching up: %+v", st)
	}
}

// TestQueueOverflow: past QueueSize the oldest delivery is dropped, counted
// and reported; past MaxFiring a new alert is refused.
func TestQueueOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		am := newFakeAM(t)
		ds := newDeliveries()
		c := memClient(t, Config{QueueSize: 3, OnDelivery: ds.add}, map[string]*fakeAM{"am:9093": am})
		subjects := []string{"a", "b", "c", "d", "e"}
		for _, s := range subjects { // queued before Run
			c.Resolve(map[string]string{"alertname": "FeatureDrift", "subject": s}, time.Time{})
		}
		st := c.Stats().URLs[0]
		if st.Dropped != 2 || st.Pending != 3 {
			t.Fatalf("stats %+v, want 2 dropped and 3 pending", st)
		}
		d := ds.all()
		if len(d) != 2 || d[0].Alert.Labels["subject"] != "a" || d[1].Alert.Labels["subject"] != "b" ||
			!errors.Is(d[0].Err, ErrQueueFull) || !d[0].Dropped || d[0].Attempt != 0 {
			t.Fatalf("drops reported %+v, want a and b", d)
		}
		stop := start(t, c)
		synctest.Wait()
		var got []string
		for _, a := range am.accepted() {
			got = append(got, a.Labels["subject"])
		}
		if !slices.Equal(got, subjects[2:]) {
			t.Errorf("delivered %v, want %v", got, subjects[2:])
		}

		for _, s := range subjects[:4] {
			c.Fire(alert("FeatureDrift", "SEV-3", s))
		}
		synctest.Wait()
		if st := c.Stats(); st.Firing != 3 || st.Refused != 1 {
			t.Errorf("firing %d, refused %d; want 3 and 1", st.Firing, st.Refused)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRetryNeverGivesUp: 5xx and 429 are retried with backoff, past
// backoff's default 15-minute limit, until delivered.
func TestRetryNeverGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		am := newFakeAM(t)
		failing := true
		am.setStatus(func([]posted) int {
			if !failing {
				return http.StatusOK
			}
			if len(am.reqs)%2 == 0 {
				return http.StatusTooManyRequests
			}
			return http.StatusInternalServerError
		})
		ds := newDeliveries()
		c := memClient(t, Config{ResendInterval: time.Hour, RetryInitial: time.Second, RetryMax: 10 * time.Second, OnDelivery: ds.add},
			map[string]*fakeAM{"am:9093": am})
		stop := start(t, c)
		c.Fire(alert("ModelDown", "SEV-1", "throughput"))
		time.Sleep(20 * time.Minute)
		synctest.Wait()
		am.mu.Lock()
		failing = false
		am.mu.Unlock()
		time.Sleep(15 * time.Second) // past RetryMax × 1.5
		synctest.Wait()

		n := len(am.requests())
		st := c.Stats().URLs[0]
		if n < 20*60/15 || st.Sent != 1 || st.Failed != uint64(n-1) || st.Pending != 0 || st.Dropped != 0 {
			t.Fatalf("%d requests, stats %+v", n, st)
		}
		if d := ds.all(); d[len(d)-1].Attempt != n || d[len(d)-1].Err != nil {
			t.Errorf("last delivery %+v, want attempt %d succeeded", d[len(d)-1], n)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRejectedAlertDropped: Alertmanager answers 400 to a batch holding an
// invalid alert; the batch is re-posted one alert per request, the invalid
// alert is dropped (Failed and Dropped), the others are delivered, and the
// queue moves on.
func TestRejectedAlertDropped(t *testing.T) {
	am := newFakeAM(t)
	am.setStatus(func(alerts []posted) int {
		for _, a := range alerts {
			if a.Labels["subject"] == "bad" {
				return http.StatusBadRequest
			}
		}
		return http.StatusOK
	})
	srv := startServer(t, am, "127.0.0.1:0")
	ds := newDeliveries()
	c := mustNew(t, Config{URLs: []string{srv.URL}, HTTPClient: realHTTPClient(t), ResendInterval: time.Hour, OnDelivery: ds.add})
	for _, s := range []string{"good1", "bad", "good2"} {
		c.Fire(alert("FeatureDrift", "SEV-3", s))
	}
	start(t, c)
	ds.waitFor(t, "the batch sorted out", func() bool { return c.Stats().URLs[0].Pending == 0 })
	c.Fire(alert("FeatureDrift", "SEV-3", "good3"))
	ds.waitFor(t, "the next alert", func() bool { return c.Stats().URLs[0].Sent == 3 })

	var shape []string
	for _, r := range am.requests() {
		var subjects []string
		for _, a := range r.Alerts {
			subjects = append(subjects, a.Labels["subject"])
		}
		shape = append(shape, strings.Join(subjects, "+")+":"+http.StatusText(r.Code))
	}
	want := []string{"good1+bad+good2:Bad Request", "good1:OK", "bad:Bad Request", "good2:OK", "good3:OK"}
	if !slices.Equal(shape, want) {
		t.Errorf("requests %v, want %v", shape, want)
	}
	if st := c.Stats().URLs[0]; st.Sent != 3 || st.Failed != 4 || st.Dropped != 1 || st.Pending != 0 {
		t.Errorf("stats %+v, want 3 sent, 4 failed attempts (3 in the batch, 1 alone), 1 dropped", st)
	}
	var dropped []Delivery
	for _, d := range ds.all() {
		if d.Dropped {
			dropped = append(dropped, d)
		}
	}
	var se *StatusError
	if len(dropped) != 1 || dropped[0].Alert.Labels["subject"] != "bad" || dropped[0].Attempt != 2 ||
		!errors.As(dropped[0].Err, &se) || se.Code != 400 || !se.Permanent() || !strings.Contains(se.Body, "rejected with 400") {
		t.Errorf("dropped %+v", dropped)
	}
}

// TestShutdownFlushesResolutions: when Run's context ends, queued
// resolutions are posted and queued fires dropped.
func TestShutdownFlushesResolutions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		am := newFakeAM(t)
		ds := newDeliveries()
		c := memClient(t, Config{OnDelivery: ds.add}, map[string]*fakeAM{"am:9093": am})
		c.Fire(alert("FeatureDrift", "SEV-3", "amount"))
		c.Resolve(map[string]string{"alertname": "FeatureDrift", "subject": "country"}, time.Time{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := c.Run(ctx); err != nil {
			t.Fatal(err)
		}
		got := am.accepted()
		if len(got) != 1 || got[0].Labels["subject"] != "country" {
			t.Errorf("flushed %+v, want the resolution only", got)
		}
		if st := c.Stats().URLs[0]; st.Sent != 1 || st.Dropped != 1 || st.Pending != 0 {
			t.Errorf("stats %+v", st)
		}
		if d := ds.all(); len(d) != 2 || !errors.Is(d[0].Err, ErrShutdown) || d[0].Resolved || d[1].Err != nil {
			t.Errorf("deliveries %+v", d)
		}
		if err := c.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "Run called twice") {
			t.Errorf("second Run: %v", err)
		}
	})
}

// TestShutdownFlushBounded: an Alertmanager that is down holds shutdown
// for FlushTimeout at most; Run says what it dropped.
func TestShutdownFlushBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up, down := newFakeAM(t), newFakeAM(t)
		down.setDown(true)
		c := memClient(t, Config{FlushTimeout: 5 * time.Second, RetryInitial: time.Second, RetryMax: time.Second},
			map[string]*fakeAM{"am-1:9093": up, "am-2:9093": down})
		stop := start(t, c)
		c.Resolve(map[string]string{"alertname": "FeatureDrift", "subject": "country"}, time.Time{})
		synctest.Wait()
		t0 := time.Now()
		err := stop()
		if err == nil || !strings.Contains(err.Error(), "flush alertmanager http://am-2:9093: 1 queued alerts (resolutions and their fires) not delivered within 5s") {
			t.Fatalf("Run: %v", err)
		}
		if d := time.Since(t0); d > 5*time.Second {
			t.Errorf("shutdown took %v, past the 5 s flush timeout", d)
		}
		if st := c.Stats(); st.URLs[0].Sent != 1 || st.URLs[1].Dropped != 1 || st.URLs[1].Pending != 0 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestRunStopsWithContext: Run returns soon after its context ends, with
// every goroutine stopped (TestMain's goleak), even with a request hanging.
func TestRunStopsWithContext(t *testing.T) {
	entered, hang := make(chan struct{}), make(chan struct{})
	defer close(hang)
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}), "127.0.0.1:0")
	ds := newDeliveries()
	c := mustNew(t, Config{URLs: []string{srv.URL}, HTTPClient: realHTTPClient(t), FlushTimeout: 50 * time.Millisecond, OnDelivery: ds.add})
	stop := start(t, c)
	c.Fire(alert("FeatureDrift", "SEV-3", "amount"))
	<-entered
	t0 := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("Run took %v to stop", d)
	}
	if st := c.Stats().URLs[0]; st.Failed != 0 || st.Dropped != 1 || st.Pending != 0 {
		t.Errorf("stats %+v: want the fire dropped at shutdown, not counted as a failed attempt", st)
	}
}
