package main

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/synth"
)

// TestBigDeadLettersEndToEnd sends records of 1.0 MB (not JSON), 1.2 MB
// and 3 MB (too_big: over kafka.max_record_bytes, 1 MiB) mid-stream on a
// topic that accepts 4 MiB, while the dead-letter topic keeps the broker's
// default (about 1 MiB), as when only the source topic's limit was raised.
// `driftwatch run` must keep going: every window ends in ClickHouse as
// replay has it, the offsets commit past the big records, and each is in
// the dead-letter topic (the 1.0 MB one whole, the others cut and marked)
// and in dead_letters.
func TestBigDeadLettersEndToEnd(t *testing.T) {
	r := newRig(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), faultTimeout)
	defer cancel()
	resp, err := r.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: kadm.StringPtr(strconv.Itoa(4 << 20))}}, r.topic)
	if err == nil {
		_, err = resp.On(r.topic, nil)
	}
	if err != nil {
		t.Fatalf("raise max.message.bytes of %s: %v", r.topic, err)
	}
	big, err := kgo.NewClient(kgo.SeedBrokers(r.brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()

	total := r.scen.Windows * len(r.scen.Models)
	r.produce(0, 1, 2, 3, 4)
	d := r.start()
	r.waitWindows(d, 2)

	at := r.scen.Start.Add(4 * r.scen.Window)
	sizes := []int{1_000_000, 1_200_000, 3_000_000}
	var msgs []synth.Message
	var recs []*kgo.Record
	for i, n := range sizes {
		v := append([]byte(`{"prediction_id":"big-`+strconv.Itoa(i)+`","padding":"`), bytes.Repeat([]byte("x"), n)...)
		v = v[:n] // not JSON: the padding never ends
		msgs = append(msgs, synth.Message{Key: []byte("big-" + strconv.Itoa(i)), Value: v, Time: at, Model: "fraud", Bad: true, Window: 4})
		recs = append(recs, &kgo.Record{Topic: r.topic, Partition: int32(i % faultPartitions), Key: msgs[i].Key, Value: v,
			Context: context.WithValue(context.Background(), msgKey{}, i)})
	}
	if err := r.send(big, recs, msgs); err != nil {
		t.Fatal(err)
	}
	r.produce(5, 6, 7, 8, 9)
	r.produceClosers()
	r.finish(d, total)

	// The big records in the dead-letter topic.
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.brokers...), kgo.ConsumeTopics(r.dlq), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := r.adm.ListEndOffsets(ctx, r.dlq)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(0)
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })
	found := map[string]map[string]string{} // source -> headers
	values := map[string]int{}
	for n := int64(0); n < want; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: %d of %d records: %v", r.dlq, n, want, ctx.Err())
		}
		fs.EachRecord(func(rec *kgo.Record) {
			n++
			h := map[string]string{}
			for _, x := range rec.Headers {
				h[x.Key] = string(x.Value)
			}
			if k := string(rec.Key); len(k) > 4 && k[:4] == "big-" {
				found[k] = h
				values[k] = len(rec.Value)
			}
		})
	}
	rcs, err := r.adm.DescribeTopicConfigs(ctx, r.dlq)
	if err != nil {
		t.Fatal(err)
	}
	limit := 0
	if rc, err := rcs.On(r.dlq, nil); err == nil {
		for _, c := range rc.Configs {
			if c.Key == "max.message.bytes" && c.Value != nil {
				limit, _ = strconv.Atoi(*c.Value)
			}
		}
	}
	if limit == 0 {
		t.Fatalf("no max.message.bytes for %s", r.dlq)
	}
	for i, n := range sizes {
		k := "big-" + strconv.Itoa(i)
		h, ok := found[k]
		if !ok {
			t.Errorf("record of %d bytes not in %s", n, r.dlq)
			continue
		}
		reason := consumer.ReasonTooBig
		if n < 1<<20 {
			reason = consumer.ReasonNotJSON
		}
		cut := n+1024 > limit // with room for the headers
		switch {
		case h[consumer.HeaderReason] != reason:
			t.Errorf("record of %d bytes: reason %q, want %s", n, h[consumer.HeaderReason], reason)
		case !cut && (values[k] != n || h[consumer.HeaderTruncated] != ""):
			t.Errorf("record of %d bytes: dead letter of %d bytes, truncated=%q; want it whole", n, values[k], h[consumer.HeaderTruncated])
		case cut && (h[consumer.HeaderTruncated] != "true" || h[consumer.HeaderOriginalSize] != strconv.Itoa(n) || values[k] >= n):
			t.Errorf("record of %d bytes: dead letter of %d bytes, truncated=%q original_size=%q; want it cut and marked",
				n, values[k], h[consumer.HeaderTruncated], h[consumer.HeaderOriginalSize])
		}
		// The audit row keeps the record's full size and a bounded excerpt,
		// whatever the dead letter kept.
		var size uint32
		var excerpt uint64
		src := recs[i]
		if err := r.ch.QueryRow(ctx, "SELECT size_bytes, length(excerpt) FROM dead_letters FINAL WHERE topic = ? AND kafka_partition = ? AND kafka_offset = ?",
			src.Topic, src.Partition, src.Offset).Scan(&size, &excerpt); err != nil {
			t.Fatalf("dead_letters row of %s/%d@%d: %v", src.Topic, src.Partition, src.Offset, err)
		}
		if int(size) != n || excerpt > 1024 {
			t.Errorf("dead_letters row of the record of %d bytes: size_bytes %d, excerpt of %d bytes", n, size, excerpt)
		}
		t.Logf("record of %d bytes (%s): dead letter of %d bytes from %s, truncated=%q original_size=%q; dead_letters size_bytes %d, excerpt %d bytes",
			n, h[consumer.HeaderReason], values[k], h[consumer.HeaderSource], h[consumer.HeaderTruncated], h[consumer.HeaderOriginalSize], size, excerpt)
	}
}
