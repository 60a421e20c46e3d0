package synth

import (
	"testing"
	"time"
)

// TestGenerateArrival: messages come in order of Arrival, a prediction at
// most Jitter after its event time, a duplicate after its first send, a
// label at its own timestamp.
func TestGenerateArrival(t *testing.T) {
	c := smallConfig()
	c.Models[0].LabelShare, c.Models[0].LabelDelay = 0.3, [2]time.Duration{15 * time.Minute, 4 * time.Hour}
	var last time.Time
	first := make(map[string]time.Time)
	var labels, dups int
	for i, m := range collect(t, c) {
		switch {
		case m.Arrival.Before(last):
			t.Fatalf("message %d arrives at %v, before %v", i, m.Arrival, last)
		case m.Label:
			labels++
			if !m.Arrival.Equal(m.Time) {
				t.Fatalf("label %d arrives at %v, its time is %v", i, m.Arrival, m.Time)
			}
		case m.Arrival.Before(m.Time) || m.Arrival.After(m.Time.Add(c.Jitter)):
			t.Fatalf("prediction %d at %v arrives at %v: not within %v after it", i, m.Time, m.Arrival, c.Jitter)
		case m.Duplicate:
			dups++
			if at, ok := first[string(m.Key)]; !ok || m.Arrival.Before(at) {
				t.Fatalf("duplicate %d arrives at %v, its first send at %v (sent: %v)", i, m.Arrival, at, ok)
			}
		default:
			first[string(m.Key)] = m.Arrival
		}
		last = m.Arrival
	}
	if labels == 0 || dups == 0 {
		t.Fatalf("%d labels, %d duplicates: nothing to check", labels, dups)
	}
}
