package alertmanager

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// transitions are the accepted deliveries of the alerts on subject, in
// order, as "fire startsAt" or "resolve", with when each was accepted.
func transitions(ds []Delivery, subject string) (states []string, at []time.Time) {
	for _, d := range ds {
		if d.Err != nil || d.Dropped || d.Alert.Labels["subject"] != subject {
			continue
		}
		s := "fire " + d.Alert.StartsAt.UTC().Format(time.TimeOnly)
		if d.Resolved {
			s = "resolve"
		}
		states = append(states, s)
		at = append(at, d.At)
	}
	return states, at
}

// TestTransitionsDuringOutage: an alert that fires, resolves, fires again
// and resolves again while its Alertmanager is down for 30 minutes (resends
// every 10 s meanwhile) reaches it, once back, as those four states in
// order, each in a request of its own with its own times, every resolution
// at least MinFiring (2 s) after its fire was accepted, and all within 10 s
// of the return (with the default RetryMax). An alert still firing is
// posted once, its resends superseded.
func TestTransitionsDuringOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		am := newFakeAM(t)
		am.setDown(true)
		ds := newDeliveries()
		c := memClient(t, Config{ResendInterval: 10 * time.Second, OnDelivery: ds.add}, map[string]*fakeAM{"am:9093": am})
		stop := start(t, c)
		t0 := time.Now()
		a := alert("FeatureDrift", "SEV-2", "amount")
		c.Fire(a)
		c.Fire(alert("FeatureDrift", "SEV-3", "country"))
		time.Sleep(time.Minute)
		c.Resolve(a.Labels, time.Time{})
		time.Sleep(time.Minute)
		c.Fire(a)
		time.Sleep(time.Minute)
		c.Resolve(a.Labels, time.Time{})
		time.Sleep(27 * time.Minute)
		synctest.Wait()
		if st := c.Stats().URLs[0]; st.Sent != 0 || st.Pending != 5 || st.Superseded == 0 || st.Dropped != 0 {
			t.Fatalf("during the outage: %+v, want nothing sent, 5 pending (4 transitions and a fire), resends superseded", st)
		}
		back := time.Now()
		am.setDown(false)
		time.Sleep(9 * time.Second) // before the next resend
		synctest.Wait()

		got, at := transitions(ds.all(), "amount")
		want := []string{"fire " + t0.UTC().Format(time.TimeOnly), "resolve", "fire " + t0.Add(2*time.Minute).UTC().Format(time.TimeOnly), "resolve"}
		if !slices.Equal(got, want) {
			t.Fatalf("accepted for amount: %q, want %q", got, want)
		}
		for i := 1; i < len(at); i += 2 {
			if hold := at[i].Sub(at[i-1]); hold < 2*time.Second {
				t.Errorf("resolution %d accepted %v after its fire, want at least MinFiring (2s)", i/2+1, hold)
			}
		}
		if d := at[len(at)-1].Sub(back); d > 10*time.Second {
			t.Errorf("the last transition accepted %v after the return, want within 10s", d)
		}
		t.Logf("after the return: first post accepted after %v, last after %v", at[0].Sub(back), at[len(at)-1].Sub(back))
		var ends []string
		for _, r := range am.requests() {
			n := 0
			for _, p := range r.Alerts {
				if p.Labels["subject"] == "amount" {
					n++
					if p.endsAt(t).Before(back) {
						ends = append(ends, p.endsAt(t).Sub(t0).String())
					}
				}
			}
			if n > 1 {
				t.Errorf("a request holds %d states of one alert: %+v", n, r.Alerts)
			}
		}
		if want := []string{"1m0s", "3m0s"}; !slices.Equal(ends, want) {
			t.Errorf("resolutions end %v after the first fire, want %v", ends, want)
		}
		if got, _ := transitions(ds.all(), "country"); len(got) != 1 {
			t.Errorf("accepted for country: %q, want its fire once", got)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestResolutionSupersedesResend: a resend queued for an alert its
// Alertmanager has is superseded by the resolution, which goes out without
// a hold once the Alertmanager returns.
func TestResolutionSupersedesResend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		am := newFakeAM(t)
		ds := newDeliveries()
		c := memClient(t, Config{ResendInterval: time.Minute, OnDelivery: ds.add}, map[string]*fakeAM{"am:9093": am})
		stop := start(t, c)
		a := alert("FeatureDrift", "SEV-3", "amount")
		c.Fire(a)
		synctest.Wait()
		am.setDown(true)
		time.Sleep(90 * time.Second) // a resend fails
		c.Resolve(a.Labels, time.Time{})
		synctest.Wait()
		if st := c.Stats().URLs[0]; st.Sent != 1 || st.Pending != 1 || st.Superseded != 1 {
			t.Fatalf("before the return: %+v, want the fire sent, the resend superseded by the resolution", st)
		}
		back := time.Now()
		am.setDown(false)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		got, at := transitions(ds.all(), "amount")
		if want := []string{"fire " + back.Add(-90*time.Second).UTC().Format(time.TimeOnly), "resolve"}; !slices.Equal(got, want) {
			t.Fatalf("accepted: %q, want %q", got, want)
		}
		if d := at[1].Sub(back); d > 5*time.Second {
			t.Errorf("resolution accepted %v after the return, want within RetryMax (5s)", d)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestOverflowOrder: past QueueSize the queue drops, first, the oldest fire
// of an alert still firing (the new one's too), then the oldest resolution
// whose fire is not queued, and last the oldest fire with its resolution
// (both); what is left goes out in order.
func TestOverflowOrder(t *testing.T) {
	fire := func(c *Client, s string) { c.Fire(alert("FeatureDrift", "SEV-3", s)) }
	resolve := func(c *Client, s string) { c.Resolve(alert("FeatureDrift", "SEV-3", s).Labels, time.Time{}) }
	for _, tc := range []struct {
		name          string
		size          int
		steps         string // f<subject> fires, r<subject> resolves
		dropped, left string // "fire P", "resolve P", in order
	}{
		{"still firing first", 4, "rL fP rP fF fG", "fire F", "resolve L,fire P,fire G,resolve P"},
		{"the new fire too", 2, "fP rP fG", "fire G", "fire P,resolve P"},
		{"lone resolutions next", 3, "rL fP rP rM", "resolve L", "fire P,resolve M,resolve P"},
		{"pairs last", 3, "fP rP fQ rQ", "fire P,resolve P", "fire Q,resolve Q"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				am := newFakeAM(t)
				ds := newDeliveries()
				c := memClient(t, Config{QueueSize: tc.size, MaxFiring: tc.size, ResendInterval: time.Hour, OnDelivery: ds.add}, map[string]*fakeAM{"am:9093": am})
				for _, st := range strings.Fields(tc.steps) { // queued before Run
					if st[0] == 'f' {
						fire(c, st[1:])
					} else {
						resolve(c, st[1:])
					}
				}
				name := func(d Delivery) string {
					return map[bool]string{false: "fire ", true: "resolve "}[d.Resolved] + d.Alert.Labels["subject"]
				}
				var dropped []string
				for _, d := range ds.all() {
					dropped = append(dropped, name(d))
				}
				stop := start(t, c)
				synctest.Wait()
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				var left []string
				for _, d := range ds.all()[len(dropped):] {
					if d.Err == nil {
						left = append(left, name(d))
					}
				}
				if got := strings.Join(dropped, ","); got != tc.dropped {
					t.Errorf("dropped %s, want %s", got, tc.dropped)
				}
				if got := strings.Join(left, ","); got != tc.left {
					t.Errorf("delivered %s, want %s", got, tc.left)
				}
				if st := c.Stats().URLs[0]; st.Dropped != uint64(strings.Count(tc.dropped, ",")+1) {
					t.Errorf("stats %+v", st)
				}
			})
		})
	}
}

// TestAnnouncedBounded: the sender's record of the fires Alertmanager
// accepted ends with their resolutions, so that it holds no more than the
// alerts firing.
func TestAnnouncedBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		am := newFakeAM(t)
		c := memClient(t, Config{ResendInterval: time.Hour}, map[string]*fakeAM{"am:9093": am})
		stop := start(t, c)
		for i := range 100 {
			a := alert("FeatureDrift", "SEV-3", fmt.Sprint("s", i))
			c.Fire(a)
			synctest.Wait()
			if i%2 == 0 {
				c.Resolve(a.Labels, time.Time{})
				time.Sleep(3 * time.Second) // past MinFiring
				synctest.Wait()
			}
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		s := c.senders[0]
		s.mu.Lock()
		n := len(s.announced)
		s.mu.Unlock()
		if n != 50 {
			t.Errorf("%d alerts recorded as announced, want the 50 firing", n)
		}
	})
}

// TestHoldIgnoresInjectedClock: MinFiring is measured in real time, so a
// Config.Now that stands still (for the times posted) does not hold a
// resolution forever.
func TestHoldIgnoresInjectedClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		am := newFakeAM(t)
		am.setDown(true)
		ds := newDeliveries()
		frozen := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		c := memClient(t, Config{Now: func() time.Time { return frozen }, OnDelivery: ds.add}, map[string]*fakeAM{"am:9093": am})
		stop := start(t, c)
		a := alert("FeatureDrift", "SEV-2", "amount")
		c.Fire(a)
		c.Resolve(a.Labels, frozen)
		time.Sleep(time.Minute)
		am.setDown(false)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if got, _ := transitions(ds.all(), "amount"); !slices.Equal(got, []string{"fire 12:00:00", "resolve"}) {
			t.Errorf("accepted %q, want the fire and the resolution", got)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}
