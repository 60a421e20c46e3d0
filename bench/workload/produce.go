package workload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/internal/synth"
)

// Produce writes the first n records of the scenario (Config(seed, n)) to
// topic on the brokers seeds, keyed by prediction_id (the partitioner
// hashes the key, as a serving fleet's producer would), through a client
// of its own, and returns their bytes once every record is acknowledged.
func Produce(ctx context.Context, seeds []string, topic string, seed int64, n int) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	var (
		bytes   int64
		count   int
		firstEr = make(chan error, 1)
	)
	errDone := errors.New("done")
	err = Config(seed, n).Generate(func(m synth.Message) error {
		if count == n {
			return errDone
		}
		count++
		bytes += int64(len(m.Value))
		cl.Produce(ctx, &kgo.Record{Key: m.Key, Value: m.Value}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case firstEr <- err:
				default:
				}
			}
		})
		return nil
	})
	if err != nil && err != errDone {
		return 0, err
	}
	if err := cl.Flush(ctx); err != nil {
		return 0, err
	}
	select {
	case err := <-firstEr:
		return 0, fmt.Errorf("produce to %s: %w", topic, err)
	default:
	}
	return bytes, nil
}
