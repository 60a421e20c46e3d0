package alertmanager

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/internal/testservers"
)

// privateAlertmanager is an Alertmanager of the test's own, started and
// stopped by deploy/servers/alertmanager.sh on a free port, so that the
// test can take it down (the shared one stays up for the others).
type privateAlertmanager struct {
	t    *testing.T
	env  []string
	base string
}

func newPrivateAlertmanager(t *testing.T) *privateAlertmanager {
	testservers.AlertmanagerURL(t) // the same gate: skip locally without the servers, fail in CI
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	am := &privateAlertmanager{t: t, base: "http://127.0.0.1:" + strconv.Itoa(port),
		env: append(os.Environ(), "DRIFTWATCH_ALERTMANAGER_DIR="+t.TempDir(), "DRIFTWATCH_ALERTMANAGER_PORT="+strconv.Itoa(port))}
	t.Cleanup(func() { am.run("stop") })
	return am
}

func (am *privateAlertmanager) run(verb string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "../../deploy/servers/alertmanager.sh", verb)
	cmd.Env = am.env
	if out, err := cmd.CombinedOutput(); err != nil {
		am.t.Fatalf("alertmanager.sh %s: %v\n%s", verb, err, out)
	}
}

// TestAlertmanagerOutage: alerts fired while Alertmanager is down are
// delivered once it is up; after it restarts (it keeps alerts only in
// memory, so it comes back empty) the resend gives it the firing alert
// again; a resolution sent while it is down arrives when it returns. The
// client never stops trying and nothing crashes.
func TestAlertmanagerOutage(t *testing.T) {
	am := newPrivateAlertmanager(t)
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections) // AlertmanagerAlerts' connections, for goleak
	model := testservers.UniqueName(t, "model")
	ds := newDeliveries()
	c := mustNew(t, Config{URLs: []string{am.base}, HTTPClient: realHTTPClient(t), ResendInterval: time.Second, EndsAfter: time.Minute,
		RetryInitial: 100 * time.Millisecond, RetryMax: 500 * time.Millisecond, OnDelivery: ds.add})
	stop := start(t, c)
	held := func(want int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			got := testservers.AlertmanagerAlerts(t, am.base, map[string]string{"model": model})
			if len(got) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %s Alertmanager holds %d alerts for %s, want %d; client %+v", within, len(got), model, want, c.Stats())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	a := alert("DriftwatchOutage", "SEV-2", "amount")
	a.Labels["model"] = model
	c.Fire(a) // Alertmanager is not up yet
	time.Sleep(time.Second)
	if st := c.Stats().Total(); st.Sent != 0 || st.Failed == 0 {
		t.Fatalf("with Alertmanager down: %+v, want failed attempts and nothing sent", st)
	}
	am.run("start")
	held(1, 10*time.Second)
	am.run("stop")
	am.run("start") // back empty
	held(1, 10*time.Second)
	am.run("stop")
	c.Resolve(a.Labels, time.Now())
	time.Sleep(500 * time.Millisecond)
	am.run("start")
	// The resolution arrives (Alertmanager came back empty, so it is the
	// delivery that shows it), and no resend re-creates the alert.
	ds.waitFor(t, "the resolution delivered", func() bool {
		for _, d := range ds.all() {
			if d.Resolved && d.Err == nil {
				return true
			}
		}
		return false
	})
	time.Sleep(2 * time.Second)
	held(0, 10*time.Second)
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	st := c.Stats()
	t.Logf("sent %d, failed attempts %d, dropped %d, firing %d", st.Total().Sent, st.Total().Failed, st.Total().Dropped, st.Firing)
	if st.Firing != 0 || st.Total().Dropped != 0 {
		t.Errorf("stats %+v: want nothing firing and nothing dropped", st)
	}
}
