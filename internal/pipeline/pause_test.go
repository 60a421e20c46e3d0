package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// pingSink is an outageSink that answers pings while it is up.
type pingSink struct{ outageSink }

func (s *pingSink) Ping(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("connection refused")
	}
	return nil
}

// TestOutagePausesAndProbeResumes: while commits fail, Paused hands the
// source a channel, and the channel is closed as soon as the sink answers
// a ping again, without waiting out the backoff (an hour here).
func TestOutagePausesAndProbeResumes(t *testing.T) {
	src := &ackSource{base: baseline(), hours: 3}
	sink := &pingSink{outageSink{down: true}}
	p := &Pipeline{
		Source:    src,
		Windows:   windows.Config{Size: time.Hour, FlushAtEnd: true},
		Evaluator: drift.NewEvaluator(drift.DefaultPolicy(), nil),
		Sink:      sink,
		Retry:     &Retry{Initial: time.Hour, Max: time.Hour},
	}
	if p.Paused() != nil {
		t.Fatal("paused before anything failed")
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	deadline := time.Now().Add(10 * time.Second)
	var resumed <-chan struct{}
	for resumed == nil {
		if time.Now().After(deadline) {
			t.Fatal("not paused 10 s into the outage")
		}
		resumed = p.Paused()
		time.Sleep(time.Millisecond)
	}
	if ok, _ := p.Ready(); ok {
		t.Error("ready while paused")
	}
	select {
	case <-resumed:
		t.Fatal("resumed while the sink is down")
	case <-time.After(2 * ProbeInterval):
	}
	sink.set(false)
	back := time.Now()
	select {
	case <-resumed:
	case <-time.After(10 * time.Second):
		t.Fatal("not resumed 10 s after the sink returned (backoff 1h)")
	}
	if d := time.Since(back); d > 3*ProbeInterval {
		t.Errorf("resumed %s after the sink returned, want within about one probe interval (%s)", d, ProbeInterval)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p.Paused() != nil {
		t.Error("paused after recovery")
	}
	if len(sink.committed) != 3 {
		t.Errorf("committed %v, want 3 windows", sink.committed)
	}
}
