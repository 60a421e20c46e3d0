package consumer

import (
	"testing"
	"time"
)

func TestMarkTableWatermark(t *testing.T) {
	ns := func(m int) int64 { return time.Date(2026, 12, 5, 10, m, 0, 0, time.UTC).UnixNano() }
	var tb markTable
	step := func(want int64, clocks ...PartitionMark) {
		t.Helper()
		b, err := MarshalMark(Mark{Topic: "preds", Partitions: 3, Clocks: clocks})
		if err != nil {
			t.Fatal(err)
		}
		m, err := UnmarshalMark(b)
		if err != nil {
			t.Fatal(err)
		}
		tb.add(m)
		got := tb.watermark()
		if want == 0 && !got.IsZero() || want != 0 && got.UnixNano() != want {
			t.Fatalf("watermark %v, want %v", got, time.Unix(0, want).UTC())
		}
	}
	step(0, PartitionMark{Partition: 0, Mark: ns(10), Newest: ns(12)})                                           // 1 and 2 unheard of
	step(0, PartitionMark{Partition: 1, Mark: ns(5), Newest: ns(6)}, PartitionMark{Partition: 2, Newest: ns(1)}) // 2 has no clock yet
	step(ns(5), PartitionMark{Partition: 2, Mark: ns(7), Newest: ns(8)})
	step(ns(7), PartitionMark{Partition: 1, Mark: ns(9), Newest: ns(9)})
	step(ns(7), PartitionMark{Partition: 1, Newest: ns(2)})                                                                                                  // a new owner's fresh clock: the old mark holds
	step(ns(9), PartitionMark{Partition: 2, Mark: ns(7), Newest: ns(8), Idle: true})                                                                         // idle: no longer holds back
	step(ns(20), PartitionMark{Partition: 0, Mark: ns(10), Newest: ns(20), Idle: true}, PartitionMark{Partition: 1, Mark: ns(9), Newest: ns(9), Idle: true}) // all idle: the newest
	for _, bad := range []string{`{}`, `{"topic":"t","partitions":2,"clocks":[{"p":2}]}`, `not json`} {
		if _, err := UnmarshalMark([]byte(bad)); err == nil {
			t.Errorf("mark %s decoded", bad)
		}
	}
	if p := PartialsPartition("fraud", 12); p < 0 || p >= 12 || p != PartialsPartition("fraud", 12) {
		t.Errorf("partition %d", p)
	}
}
