package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/driftwatch/driftwatch/internal/config"
	"github.com/driftwatch/driftwatch/internal/pipeline"
)

func TestProblem(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("ping: %w", kerr.SaslAuthenticationFailed), "authentication failed"},
		{kerr.UnsupportedSaslMechanism, "SASL mechanism refused"},
		{fmt.Errorf("unable to dial: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), "unreachable"},
		{context.DeadlineExceeded, "unreachable"},
		{errors.New("unknown topic"), ""},
	} {
		if got := problem(tc.err); got != tc.want {
			t.Errorf("problem(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestWatchKafka: while the running job's pings fail, /readyz's reasons
// name the brokers and the failure, and the failure is logged once; when
// pings succeed again, the job is ready and says so.
func TestWatchKafka(t *testing.T) {
	k := config.Default().Kafka
	k.Brokers = []string{"127.0.0.1:1"}
	k.SASL = config.KafkaSASL{Mechanism: config.SASLScramSHA512, Username: "u"}
	h := &health{}
	if why := h.ready(); why != "starting" {
		t.Fatalf("ready() = %q before the pipeline started", why)
	}
	h.started(&pipeline.Pipeline{})
	var mu sync.Mutex
	down := true
	ping := func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return kerr.SaslAuthenticationFailed
		}
		return nil
	}
	var logBuf syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchKafka(ctx, slog.New(slog.NewTextHandler(&logBuf, nil)), h, k, time.Millisecond, ping)
	}()
	defer func() { cancel(); <-done }()
	waitUntil(t, func() bool { return h.ready() != "" })
	want := "kafka brokers 127.0.0.1:1 (SASL SCRAM-SHA-512 as user u, no TLS): authentication failed"
	if why := h.ready(); !strings.HasPrefix(why, want) {
		t.Fatalf("ready() = %q, want it to start with %q", why, want)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	waitUntil(t, func() bool { return h.ready() == "" })
	cancel()
	<-done
	log := logBuf.String()
	if n := strings.Count(log, "cannot reach kafka"); n != 1 || !strings.Contains(log, "kafka reachable again") {
		t.Errorf("log (want one failure, then the recovery):\n%s", log)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}
