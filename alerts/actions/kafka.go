package actions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafka produces actions to one topic.
type kafka struct {
	topic   string
	client  *kgo.Client // owned by the caller
	timeout time.Duration
}

func (k *kafka) name() string { return k.topic }

// deliver produces e once, as a new record (kgo sets a record's partition
// and offset as it produces it).
func (k *kafka) deliver(ctx context.Context, e *entry) error {
	a := &e.action
	rec := &kgo.Record{
		Topic:     k.topic,
		Key:       []byte(a.Model + "/" + a.ModelVersion),
		Value:     e.body,
		Timestamp: a.At,
		Headers: []kgo.RecordHeader{
			{Key: KafkaHeaderAction, Value: []byte(a.Kind)},
			{Key: KafkaHeaderID, Value: []byte(a.ID)},
		},
	}
	pctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	if err := k.client.ProduceSync(pctx, rec).FirstErr(); err != nil {
		err = fmt.Errorf("produce action %s to %s: %w", a.ID, k.topic, err)
		if produceIsPermanent(err) {
			return &permanentError{err}
		}
		return err
	}
	return nil
}

// produceIsPermanent reports whether producing the same record again
// cannot succeed. kgo retries what is retriable by itself; of what it
// returns, these depend on the record or the client, not on time.
func produceIsPermanent(err error) bool {
	for _, p := range []error{
		kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord, kerr.InvalidTopicException,
		kgo.ErrClientClosed,
	} {
		if errors.Is(err, p) {
			return true
		}
	}
	return false
}
