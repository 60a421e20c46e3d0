package consumer

import "time"

// MaxWatermarkOutliers bounds KafkaConfig.WatermarkOutliers and
// FileConfig.WatermarkOutliers: each partition keeps that many event times
// (plus one) to derive its clock.
const MaxWatermarkOutliers = 100_000

// eventClock is one partition's (or one file's) event-time progress, as
// the watermark reads it: the (outliers+1)-th newest good event time read
// from it, so that up to outliers records stamped ahead of the rest (a
// producer with a skewed clock, a record of the future in a backfill) do
// not move it. It is zero until outliers+1 good records were read, and never
// goes back. Records ahead are not dropped: they are windowed as any other
// and their windows close when the watermark reaches them (or when every
// partition is idle, see partitionClocks). With outliers 0 it is the newest
// event time read. Not safe for concurrent use.
type eventClock struct {
	outliers int
	top      []int64   // min-heap of the outliers+1 newest event times read, unix nanoseconds
	newest   time.Time // newest event time read; zero before the first
	newestNS int64     // newest in unix nanoseconds
}

// observe notes the event time of a good record (within the contract's
// MinEventTime to MaxEventTime, so that its unix nanoseconds are defined).
func (c *eventClock) observe(t time.Time) { c.observeNanos(t.UnixNano()) }

// observeNanos is observe of an event time in unix nanoseconds.
func (c *eventClock) observeNanos(ns int64) {
	if ns > c.newestNS {
		c.newestNS = ns
		c.newest = time.Unix(0, ns).UTC()
	}
	switch {
	case len(c.top) <= c.outliers:
		c.top = append(c.top, ns)
		c.up(len(c.top) - 1)
	case ns > c.top[0]:
		c.top[0] = ns
		c.down(0)
	}
}

// mark is the clock's time: the (outliers+1)-th newest event time read, in
// UTC, or zero while fewer were read.
func (c *eventClock) mark() time.Time {
	if len(c.top) <= c.outliers {
		return time.Time{}
	}
	return time.Unix(0, c.top[0]).UTC()
}

func (c *eventClock) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if c.top[i] >= c.top[p] {
			return
		}
		c.top[i], c.top[p] = c.top[p], c.top[i]
		i = p
	}
}

func (c *eventClock) down(i int) {
	n := len(c.top)
	for {
		m, l, r := i, 2*i+1, 2*i+2
		if l < n && c.top[l] < c.top[m] {
			m = l
		}
		if r < n && c.top[r] < c.top[m] {
			m = r
		}
		if m == i {
			return
		}
		c.top[i], c.top[m] = c.top[m], c.top[i]
		i = m
	}
}
