package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/synth"
)

// TestTimesOutOfRangeAreDeadLettered produces, between the first and the
// second window of a known-drift stream, records whose times ClickHouse's
// DateTime columns cannot hold: event times of 1900-01-01 and 1969-12-31
// (with Kafka timestamps of -1, Kafka's "no timestamp", of 1960, and of
// now), and records that break the contract otherwise (not JSON, a missing
// field) with Kafka timestamps of -1 and 1960. Each is dead-lettered with
// its reason (bad_timestamp for the event times) and audited in
// dead_letters, whose record_time holds the receive time when the Kafka
// timestamp does not fit, and record_time_ms the Kafka timestamp as read.
// Nothing stops the job: every window is committed as replay computes it,
// and the alerts of the drifted windows reach alert_history.
func TestTimesOutOfRangeAreDeadLettered(t *testing.T) {
	r := newRig(t, "")
	var donor synth.Message // a good record to derive the bad ones from
	for _, m := range r.msgs {
		if !m.Bad && !m.Duplicate && !m.Label && m.Window == 0 {
			donor = m
			break
		}
	}
	withTime := func(id string, ts string) []byte {
		var v map[string]any
		if err := json.Unmarshal(donor.Value, &v); err != nil {
			t.Fatal(err)
		}
		v["prediction_id"], v["timestamp"] = id, ts
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	noTimestamp := time.UnixMilli(-1)
	y1960 := time.Date(1960, 6, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		value  []byte
		kafka  time.Time // zero: the producer's clock
		reason string
	}{
		{withTime("ts-1900-none", "1900-01-01T00:00:00Z"), noTimestamp, consumer.ReasonBadTimestamp},
		{withTime("ts-1969-1960", "1969-12-31T23:59:59Z"), y1960, consumer.ReasonBadTimestamp},
		{withTime("ts-1900-now", "1900-01-01T00:00:00Z"), time.Time{}, consumer.ReasonBadTimestamp},
		{withTime("ts-1969-now", "1969-12-31T23:59:59.999Z"), time.Time{}, consumer.ReasonBadTimestamp},
		{[]byte(`{"prediction_id": "not json`), noTimestamp, consumer.ReasonNotJSON},
		{[]byte(`{"prediction_id": "no-model"}`), y1960, consumer.ReasonMissingField},
	}
	bad := make([]synth.Message, len(cases))
	recs := make([]*kgo.Record, len(cases))
	for i, c := range cases {
		bad[i] = synth.Message{Key: []byte(fmt.Sprint("bad-", i)), Value: c.value, Model: donor.Model, Bad: true, Window: -1}
		recs[i] = &kgo.Record{Topic: r.topic, Partition: int32(i % faultPartitions), Key: bad[i].Key, Value: c.value, Timestamp: c.kafka,
			Context: context.WithValue(context.Background(), msgKey{}, i)}
	}
	// Replay reads them where the broker has them: after window 0.
	at := slices.IndexFunc(r.msgs, func(m synth.Message) bool { return m.Window == 1 })
	r.msgs = slices.Insert(r.msgs, at, bad...)
	r.produce(0)
	if err := r.send(r.manual, recs, bad); err != nil {
		t.Fatal(err)
	}
	r.produce(seq(r.scen.Windows)[1:]...)
	r.produceClosers()

	d := r.start()
	r.waitWindows(d, r.scen.Windows*len(r.scen.Models))
	r.waitDeadLetters(d)
	if d.exited() {
		t.Fatalf("driftwatch exited: %v; log:\n%s", d.err, r.logTail())
	}
	r.waitAlertHistory(d)
	r.stop(d)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r.mu.Lock()
	offsets := map[string]int{} // source -> case
	for p, prs := range r.produced {
		for _, pr := range prs {
			if i := slices.IndexFunc(bad, func(m synth.Message) bool { return string(m.Key) == string(pr.msg.Key) }); i >= 0 {
				offsets[fmt.Sprintf("%s/%d@%d", r.topic, p, pr.offset)] = i
			}
		}
	}
	r.mu.Unlock()
	rows, err := r.ch.Query(ctx, `SELECT topic, kafka_partition, kafka_offset, reason, record_time, received_at, record_time_ms
		FROM dead_letters FINAL`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for rows.Next() {
		var topic, reason string
		var p int32
		var off, ms int64
		var recordTime, receivedAt time.Time
		if err := rows.Scan(&topic, &p, &off, &reason, &recordTime, &receivedAt, &ms); err != nil {
			t.Fatal(err)
		}
		i, ok := offsets[fmt.Sprintf("%s/%d@%d", topic, p, off)]
		if !ok {
			continue
		}
		seen[i] = true
		c := cases[i]
		if reason != c.reason {
			t.Errorf("case %d (%s): reason %q, want %q", i, c.value, reason, c.reason)
		}
		switch {
		case c.kafka.IsZero():
			if d := time.Since(recordTime); d < -time.Hour || d > time.Hour {
				t.Errorf("case %d: record_time %v, want the producer's clock", i, recordTime)
			}
		default:
			if ms != c.kafka.UnixMilli() {
				t.Errorf("case %d: record_time_ms %d, want the Kafka timestamp %d", i, ms, c.kafka.UnixMilli())
			}
			if !recordTime.Equal(receivedAt) {
				t.Errorf("case %d: record_time %v, want the receive time %v for a Kafka timestamp before 1970", i, recordTime, receivedAt)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for i := range cases {
		if !seen[i] {
			t.Errorf("case %d (%s): not in dead_letters", i, cases[i].value)
		}
	}
	var ancient uint64
	if err := r.ch.QueryRow(ctx, "SELECT count() FROM drift_metrics WHERE window_start < toDateTime('2000-01-01 00:00:00', 'UTC') OR window_start > toDateTime('2100-01-01 00:00:00', 'UTC')").Scan(&ancient); err != nil {
		t.Fatal(err)
	}
	if ancient != 0 {
		t.Errorf("%d drift_metrics rows of windows outside 2000 to 2100", ancient)
	}
	r.mustCheckCommitted()
	r.verify()
}

// waitAlertHistory waits until alert_history holds a firing alert.
func (r *rig) waitAlertHistory(d *daemon) {
	r.t.Helper()
	deadline := time.Now().Add(faultTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var n uint64
		err := r.ch.QueryRow(ctx, "SELECT count() FROM alert_history WHERE state = 'firing'").Scan(&n)
		cancel()
		if err == nil && n > 0 {
			return
		}
		if d.exited() {
			r.t.Fatalf("driftwatch exited (%v) before alert_history held a firing alert; log:\n%s", d.err, r.logTail())
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no firing alert in alert_history after %s (%v); log:\n%s", faultTimeout, err, r.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
