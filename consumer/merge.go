package consumer

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// mergeState is what a Kafka source in merge mode (KafkaConfig.Partials)
// keeps besides the machinery it shares with the records mode: the marks
// of each partials partition it owns, the watermark it last handed on, and
// its counts.
//
// The group's balancer is eager, as in the records mode: on any rebalance
// every partition is revoked, the source emits a Reset batch (the Assigner
// drops its open windows) and forgets the revoked partitions' marks, and
// every partition it owns afterwards is read again from its committed
// offset, which never runs ahead of durable windows. Its marks come again
// with it, except those before the committed offset: a partition taken
// over holds the watermark at zero until its next mark, which a fold
// instance writes at each of its commits.
type mergeState struct {
	mu     sync.Mutex // guards tables: the group's callbacks change them
	tables map[int32]*markTable

	// The poll loop's alone.
	lastWM             time.Time // watermark of the last batch of deltas handed on
	deltas, marks, bad int64
}

// assign starts the marks of partials partitions ps, none yet.
func (m *mergeState) assign(ps []int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range ps {
		if m.tables[p] == nil {
			m.tables[p] = new(markTable)
		}
	}
}

// revoke forgets the marks of partials partitions ps: whoever owns them
// next reads them again from the committed offsets.
func (m *mergeState) revoke(ps []int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range ps {
		delete(m.tables, p)
	}
}

// add notes mark mk, read from partials partition p.
func (m *mergeState) add(p int32, mk Mark) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tables[p]
	if t == nil { // read before its assignment callback ran
		t = new(markTable)
		m.tables[p] = t
	}
	t.add(mk)
}

// watermark is the oldest over the owned partials partitions of their
// marks' watermark (markTable.watermark), zero while one of them has none
// (or none is owned): a window closes only once the marks in every owned
// partition have passed it.
//
// A fold instance writes, in one transaction, its deltas (and labels) to
// their models' partitions, then its mark to every partition, and the
// source reads only committed transactions, each partition in offset
// order; so once a partition's marks have passed a window, every delta of
// the window in that partition has been read. The deltas of a window of
// model m are only in m's partition (PartialsPartition), so m's partition
// alone would do; one watermark for the whole Assigner is simpler, and
// only more conservative: the oldest partition's marks are never ahead of
// m's.
func (m *mergeState) watermark() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	var wm time.Time
	first := true
	for _, t := range m.tables {
		w := t.watermark()
		if w.IsZero() {
			return time.Time{}
		}
		if first || w.Before(wm) {
			wm = w
		}
		first = false
	}
	return wm
}

// readPartials turns one poll of the partials topic into batches: per
// partials partition, in partition order, one Batch of the deltas read
// from it, in offset order (Partials non-nil, empty when it had only
// marks: its marks still move the watermark); then, per partition, one
// Batch of its labels. Only the last batch of deltas carries the new
// watermark, the others the previous one, so that no delta of the poll
// arrives after the watermark closed its window; the label batches carry
// the new one. A partition's share of the poll is one acknowledgement
// entry, as in handle. Records of an unknown kind, and marks and labels
// that do not decode, are logged, counted (PartialsBad) and skipped; the
// transactions' commit markers are skipped. Batches are sent until work is
// done.
func (k *Kafka) readPartials(work context.Context, fetches kgo.Fetches, out chan<- Batch, next map[TopicPartition]int64) {
	m := k.merge
	type share struct {
		p         *pollAck
		partition int32
		deltas    [][]byte
		merge     bool // deltas or marks: the share gets a batch of deltas
		labels    []Label
	}
	var shares []share
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 {
			return
		}
		tp := TopicPartition{fp.Topic, fp.Partition}
		last := fp.Records[len(fp.Records)-1]
		sh := share{p: k.acks.open(tp, last), partition: fp.Partition}
		next[tp] = last.Offset + 1
		for _, r := range fp.Records {
			if r.Attrs.IsControl() {
				continue
			}
			switch kind := recordKind(r); kind {
			case KindDelta:
				// A record's Value is its own: kgo never reuses it.
				sh.deltas = append(sh.deltas, r.Value)
				sh.merge = true
				m.deltas++
			case KindMark:
				mk, err := UnmarshalMark(r.Value)
				if err != nil {
					k.badPartial(r, kind, err)
					continue
				}
				m.add(fp.Partition, mk)
				sh.merge = true
				m.marks++
			case KindLabel:
				l, err := DecodeLabel(r.Value, k.cfg.MaxRecordBytes)
				if err != nil {
					k.badPartial(r, kind, err)
					continue
				}
				sh.labels = append(sh.labels, l)
				k.labels++
			default:
				k.badPartial(r, kind, errors.New("unknown record kind"))
			}
		}
		shares = append(shares, sh)
	})
	slices.SortFunc(shares, func(a, b share) int { return cmp.Compare(a.partition, b.partition) })

	wm := m.watermark()
	if wm.Before(m.lastWM) {
		wm = m.lastWM // the marks of one source's topic never go back; a new topic's start from zero
	}
	var batches []Batch
	var owners []*pollAck
	for _, sh := range shares {
		if sh.merge {
			if sh.deltas == nil {
				sh.deltas = [][]byte{}
			}
			batches = append(batches, Batch{Partition: sh.partition, Partials: sh.deltas, Watermark: m.lastWM})
			owners = append(owners, sh.p)
		}
	}
	if len(batches) > 0 {
		batches[len(batches)-1].Watermark = wm
		m.lastWM = wm
	}
	for _, sh := range shares {
		if len(sh.labels) > 0 {
			batches = append(batches, Batch{Partition: sh.partition, Labels: sh.labels, Watermark: m.lastWM})
			owners = append(owners, sh.p)
		}
	}

	k.mu.Lock()
	k.counts.Deltas, k.counts.Labels, k.counts.Marks, k.counts.PartialsBad = m.deltas, k.labels, m.marks, m.bad
	k.counts.Records = m.deltas + k.labels + m.marks + m.bad
	k.counts.Pauses = k.pauses
	k.mu.Unlock()
	sent := send(work, out, batches, func(i int) func(error) {
		p := owners[i]
		k.acks.add(p)
		return func(err error) { k.acks.done(p, err) }
	})
	if !sent {
		return // shutting down, or an acknowledgement failed: this poll stays unmarked
	}
	for _, sh := range shares {
		k.acks.done(sh.p, nil) // the entry's own reference, taken by open
	}
}

// recordKind is r's KindHeader header (the last, if repeated); "" if none.
func recordKind(r *kgo.Record) string {
	kind := ""
	for _, h := range r.Headers {
		if h.Key == KindHeader {
			kind = string(h.Value)
		}
	}
	return kind
}

// badPartial logs and counts a partials record that the merge skips. The
// partials topic is driftwatch's own: such a record is a bug or a foreign
// writer's, rare, so each is logged.
func (k *Kafka) badPartial(r *kgo.Record, kind string, err error) {
	k.merge.bad++
	k.log.Warn("partials record skipped: a driftwatch bug or a foreign writer",
		"topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "kind", kind, "err", err)
}
