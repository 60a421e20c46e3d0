package consumer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// periodIdle is how long ReadPeriod waits for a fetch before it takes the
// partitions left as read to their end.
const periodIdle = 10 * time.Second

// ReadPeriod reads the records of topic that a production period [from,
// until) may hold, without a consumer group, and calls each with every
// record's value, in order per partition. It starts each partition at its
// first record with a Kafka timestamp at or after from (a record is
// produced after its event time), and stops it at the end offset it had
// when ReadPeriod began, or at its first record with a Kafka timestamp at
// or after until+grace (records produced up to grace after their event
// time are still read), whichever comes first. The caller selects by event
// time. It returns each's error, or ctx's.
func ReadPeriod(ctx context.Context, opts []kgo.Opt, topic string, from, until time.Time, grace time.Duration, each func(value []byte) error) error {
	if !until.After(from) {
		return fmt.Errorf("read %s from %s until %s: an empty period", topic, from.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("read %s: end offsets: %w", topic, err)
	}
	starts, err := adm.ListOffsetsAfterMilli(ctx, from.UnixMilli(), topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fmt.Errorf("read %s: offsets at %s: %w", topic, from.Format(time.RFC3339), err)
	}
	if len(ends[topic]) == 0 {
		return fmt.Errorf("read %s: no such topic", topic)
	}
	end := make(map[int32]int64)
	assign := make(map[int32]kgo.Offset)
	for p, e := range ends[topic] {
		s, ok := starts.Lookup(topic, p)
		if !ok || s.Offset < 0 || s.Offset >= e.Offset {
			continue // nothing at or after from
		}
		end[p] = e.Offset
		assign[p] = kgo.NewOffset().At(s.Offset)
	}
	if len(assign) == 0 {
		return nil
	}
	cl.Close()
	cl, err = kgo.NewClient(append(slices.Clone(opts), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: assign}))...)
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	defer cl.Close()
	stopAt := until.Add(grace)
	for len(end) > 0 {
		// A partition's last offsets may be transaction markers, which no
		// fetch returns: a poll that finds nothing for periodIdle ends it.
		pollCtx, cancel := context.WithTimeout(ctx, periodIdle)
		fs := cl.PollFetches(pollCtx)
		cancel()
		if err := ctx.Err(); err != nil {
			return err
		}
		if pollCtx.Err() != nil && fs.NumRecords() == 0 {
			return nil
		}
		var fetchErr error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				fetchErr = errors.Join(fetchErr, fmt.Errorf("read %s partition %d: %w", t, p, err))
			}
		})
		if fetchErr != nil {
			return fetchErr
		}
		var eachErr error
		fs.EachRecord(func(r *kgo.Record) {
			e, open := end[r.Partition]
			if !open || eachErr != nil {
				return
			}
			if r.Offset >= e || !r.Timestamp.Before(stopAt) {
				delete(end, r.Partition)
				return
			}
			eachErr = each(r.Value)
			if r.Offset+1 >= e {
				delete(end, r.Partition)
			}
		})
		if eachErr != nil {
			return eachErr
		}
	}
	return nil
}
