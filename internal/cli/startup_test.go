package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/internal/testservers"
)

// syncBuffer is a bytes.Buffer that a running command writes while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Figures of TestStartupFailuresAreLoud.
const (
	loudStartupTimeout = 8 * time.Second
	loudWithin         = 10 * time.Second // the error is logged and /readyz says it within this
)

// TestStartupFailuresAreLoud starts `driftwatch run` against the real
// broker and ClickHouse with a wrong SCRAM password, a wrong PLAIN
// password, a broker address nobody listens on, and a wrong ClickHouse
// password, and a ClickHouse address nobody listens on. Each time the log names the server, the user and mechanism and
// what failed within 10 s, /readyz answers 503 with the same reason, the
// password shows nowhere, and run exits 1 once startup_timeout has passed.
func TestStartupFailuresAreLoud(t *testing.T) {
	brokers := testservers.KafkaEnv(t, testservers.KafkaGate)
	saslBrokers := testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_BROKERS")
	scramUser := testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_USER")
	plainUser := testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_PLAIN_USER")
	chAddr := testservers.ClickHouseEnv(t, testservers.ClickHouseGate)
	chUser := testservers.ClickHouseEnv(t, "DRIFTWATCH_CLICKHOUSE_USER")

	dir := t.TempDir()
	_, scen := scenario(t, dir)
	baseDir := buildBaselines(t, dir, scen)
	// The wrong password: the secret that must never be shown.
	wrong := "not-the-password-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Setenv("DRIFTWATCH_TEST_WRONG_PASSWORD", wrong)
	closed := freeAddr(t)

	kafka := func(brokers, sasl string) string {
		return fmt.Sprintf("kafka:\n  brokers: [%q]\n  topic: loud\n  dead_letter_topic: loud.dlq\n  group: loud\n%s", brokers, sasl)
	}
	jsonl := fmt.Sprintf("sinks:\n  jsonl: {path: %q}\n", filepath.Join(dir, "metrics.jsonl"))
	for _, tc := range []struct {
		name        string
		kafka, sink string
		want        []string // in the logged error and in /readyz's body
	}{
		{"kafka SCRAM wrong password",
			kafka(saslBrokers, fmt.Sprintf("  sasl: {mechanism: SCRAM-SHA-256, username: %q, password_env: DRIFTWATCH_TEST_WRONG_PASSWORD}\n", scramUser)), jsonl,
			[]string{saslBrokers, "SCRAM-SHA-256", scramUser, "authentication failed"}},
		{"kafka PLAIN wrong password",
			kafka(saslBrokers, fmt.Sprintf("  sasl: {mechanism: PLAIN, username: %q, password_env: DRIFTWATCH_TEST_WRONG_PASSWORD}\n", plainUser)), jsonl,
			[]string{saslBrokers, "PLAIN", plainUser, "authentication failed"}},
		{"kafka unreachable",
			kafka(closed, ""), jsonl,
			[]string{closed, "no SASL", "unreachable"}},
		{"clickhouse wrong password",
			kafka(brokers, ""),
			fmt.Sprintf("sinks:\n  clickhouse: {enabled: true, addr: [%q], database: default, username: %q, password_env: DRIFTWATCH_TEST_WRONG_PASSWORD}\n", chAddr, chUser),
			[]string{chAddr, chUser, "clickhouse", "authentication failed"}},
		{"clickhouse unreachable",
			kafka(brokers, ""),
			fmt.Sprintf("sinks:\n  clickhouse: {enabled: true, addr: [%q], database: default, username: %q, password_env: DRIFTWATCH_TEST_WRONG_PASSWORD, dial_timeout: 2s}\n", closed, chUser),
			[]string{closed, chUser, "clickhouse", "unreachable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			httpAddr := freeAddr(t)
			cfg := filepath.Join(t.TempDir(), "driftwatch.yml")
			if err := os.WriteFile(cfg, []byte(fmt.Sprintf("%s%sbaselines:\n  dir: %q\nhttp:\n  listen: %q\nstartup_timeout: %s\n",
				tc.kafka, tc.sink, baseDir, httpAddr, loudStartupTimeout)), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stderr syncBuffer
			began := time.Now()
			exited := make(chan int, 1)
			go func() { exited <- Main(ctx, []string{"run", "--config", cfg}, io.Discard, &stderr) }()

			var logged, refused time.Time
			var readyBody string
			code, ended := -1, time.Time{}
			for ended.IsZero() {
				if time.Since(began) > loudStartupTimeout+loudWithin {
					cancel()
					t.Fatalf("run still running %s after start, startup_timeout %s; log:\n%s", time.Since(began), loudStartupTimeout, stderr.String())
				}
				if logged.IsZero() && errorLine(stderr.String(), tc.want) != "" {
					logged = time.Now()
				}
				if refused.IsZero() {
					if status, body := getReadyz(httpAddr); status == http.StatusServiceUnavailable && containsAll(body, tc.want) {
						refused, readyBody = time.Now(), body
					}
				}
				select {
				case code = <-exited:
					ended = time.Now()
				case <-time.After(100 * time.Millisecond):
				}
			}
			log := stderr.String()
			t.Logf("error logged after %s, /readyz 503 with it after %s, exit %d after %s; /readyz said:\n%s",
				sinceOrNever(logged, began), sinceOrNever(refused, began), code, ended.Sub(began).Round(100*time.Millisecond), readyBody)
			if logged.IsZero() || logged.Sub(began) > loudWithin {
				t.Errorf("no error naming %q logged within %s; log:\n%s", tc.want, loudWithin, log)
			}
			if refused.IsZero() || refused.Sub(began) > loudWithin {
				t.Errorf("/readyz did not answer 503 naming %q within %s; log:\n%s", tc.want, loudWithin, log)
			}
			if code != 1 {
				t.Errorf("run exited %d, want 1; log:\n%s", code, log)
			}
			if d := ended.Sub(began); d < loudStartupTimeout {
				t.Errorf("run exited %s after start, before startup_timeout %s", d, loudStartupTimeout)
			}
			if !strings.Contains(log, "startup_timeout") {
				t.Errorf("the final error does not say that startup_timeout ran out; log:\n%s", log)
			}
			if strings.Contains(log, wrong) || strings.Contains(readyBody, wrong) {
				t.Errorf("the password shows; log:\n%s\n/readyz:\n%s", log, readyBody)
			}
		})
	}
}

// errorLine returns the first error-level line of log holding every
// string of want, or "".
func errorLine(log string, want []string) string {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "level=ERROR") && containsAll(line, want) {
			return line
		}
	}
	return ""
}

func containsAll(s string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// getReadyz returns the status and body of /readyz at addr (0 when it does
// not answer).
func getReadyz(addr string) (int, string) {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func sinceOrNever(t, began time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Sub(began).Round(100 * time.Millisecond).String()
}
