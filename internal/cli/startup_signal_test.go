package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStopDuringStartupExitsZero: a stop (SIGTERM, Ctrl-C: the context
// ending) while run is still starting, here while it retries a broker it
// cannot reach, is an orderly stop: exit 0, not a failure.
func TestStopDuringStartupExitsZero(t *testing.T) {
	dir := t.TempDir()
	_, scen := scenario(t, dir)
	baseDir := buildBaselines(t, dir, scen)
	closed := freeAddr(t)
	cfg := filepath.Join(dir, "driftwatch.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("kafka:\n  brokers: [%q]\n  topic: stop\n  dead_letter_topic: stop.dlq\n  group: stop\nsinks:\n  jsonl: {path: %q}\nbaselines:\n  dir: %q\nstartup_timeout: 10m\n",
		closed, filepath.Join(dir, "metrics.jsonl"), baseDir)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	exited := make(chan int, 1)
	go func() { exited <- Main(ctx, []string{"run", "--config", cfg}, io.Discard, &stderr) }()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stderr.String(), "cannot reach kafka") {
		select {
		case code := <-exited:
			t.Fatalf("run exited %d before the stop; log:\n%s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("run never reported the unreachable broker; log:\n%s", stderr.String())
		}
	}
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("a stop during start-up: exit %d, want 0; log:\n%s", code, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("run did not stop within a minute of the stop; log:\n%s", stderr.String())
	}
}
