// Package producer writes the prediction log and late labels
// (CONTRACT.md sections 1 and 2) to Kafka from serving code written in Go.
//
// LogPrediction and LogLabel build a record from typed values, check it
// with the consumer's own decoders (consumer.Check, which is
// consumer.Decode without building the record, and consumer.DecodeLabel,
// on the very bytes that are sent) and with the max_future rule
// (consumer.CheckFuture), and hand it to a franz-go client
// keyed by its prediction id: batched, compressed (zstd, else lz4, else
// none, as the broker supports) and sent in the background. A record that
// breaks the contract comes back at once as a *consumer.DecodeError, its
// Code the reason the dead-letter topic would give it; nothing is sent.
//
// They never block the serving path: at most Config.Buffer records wait to
// be sent, and a record logged while that many wait is dropped, counted
// and reported as ErrBufferFull. Close flushes what waits, within its
// context's deadline.
//
// Metrics, registered on Config.Registerer:
//
//   - driftwatch_producer_records_total{topic, outcome}: records by their
//     outcome: sent (acknowledged by the broker), invalid (rejected by
//     LogPrediction or LogLabel), dropped (the buffer was full) and failed
//     (not delivered: an error Kafka does not retry, retries or delivery
//     timeout exhausted if Config.Opts limit them, or still waiting when
//     Close's deadline passed).
//   - driftwatch_producer_buffered_records: records waiting to be sent.
//
// It deliberately does not check what only the consumer knows: whether a
// model version has a baseline (no_baseline) or a prediction id was seen
// before with the same variant (duplicates are dropped there). It does not retry what Kafka
// refused for good, keep records on disk, or create topics.
package producer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/time/rate"

	"github.com/driftwatch/driftwatch/consumer"
)

// DefaultBuffer is how many records may wait to be sent unless
// Config.Buffer says otherwise.
const DefaultBuffer = 10_000

// ErrBufferFull is what LogPrediction and LogLabel return for a record they
// dropped because Config.Buffer records were waiting to be sent (Kafka is
// slow or down). The drop is counted (outcome dropped); serving code may
// ignore it.
var ErrBufferFull = errors.New("producer buffer full: record dropped")

// ErrClosed is what LogPrediction and LogLabel return after Close.
var ErrClosed = errors.New("producer closed")

// Config configures a Producer. Only Brokers is required.
type Config struct {
	Brokers     []string // seed brokers, host:port
	Topic       string   // the prediction log; default "predictions"
	LabelsTopic string   // late labels; default "labels"
	// Opts are more franz-go client options, applied after the
	// producer's own: TLS (kgo.DialTLSConfig), SASL (kgo.SASL), a client
	// id, kgo.RecordDeliveryTimeout. A kgo.MaxBufferedBytes bound drops
	// (and counts) records as Buffer does.
	Opts []kgo.Opt
	// Buffer is the most records waiting to be sent (default
	// DefaultBuffer). Memory held is at most Buffer times the records'
	// size.
	Buffer int
	// MaxRecordBytes is the largest record accepted, as the consumer's
	// kafka.max_record_bytes (default consumer.DefaultMaxRecordBytes).
	// Records up to franz-go's batch limit (kgo.ProducerBatchMaxBytes,
	// 1,000,012 bytes by default) and the topic's max.message.bytes are
	// delivered; larger ones fail.
	MaxRecordBytes int
	// MaxFuture is how far ahead of Now a prediction's time may be, as the
	// consumer's kafka.max_future (default consumer.DefaultMaxFuture; a
	// negative value checks nothing). Labels are not held to it, as the
	// consumer does not hold them.
	MaxFuture time.Duration
	// Registerer, if not nil, gets the producer's metrics (once: a second
	// Producer needs a registerer of its own, see prometheus.WrapRegistererWith).
	Registerer prometheus.Registerer
	Now        func() time.Time // the clock; default time.Now
	Log        *slog.Logger     // delivery failures, at most one a minute; default none
}

// Producer writes predictions and labels to Kafka. Its methods are safe
// for concurrent use. It owns a franz-go client, whose goroutines stop at
// Close.
type Producer struct {
	cl        *kgo.Client
	maxBytes  int
	maxFuture time.Duration
	now       func() time.Time
	log       *slog.Logger
	buffer    int64

	// mu is held for reading while a record is handed to cl, and for
	// writing by Close to set closed: no record is handed over after.
	mu     sync.RWMutex
	closed bool
	// buffered counts the records handed to cl whose promise has not run;
	// inflight holds one for each of them, for Close to wait on.
	buffered atomic.Int64
	inflight sync.WaitGroup

	preds, labels *outcomes
	scratch       sync.Pool // *[]byte: a record being encoded
	failures      rate.Sometimes
}

// outcomes are one topic's counters, and the promise that counts its
// deliveries.
type outcomes struct {
	topic                          string
	sent, invalid, dropped, failed prometheus.Counter
	promise                        func(*kgo.Record, error)
}

// New returns a Producer of cfg. It does not connect: the client dials the
// brokers when the first record is sent, and retries while they are away.
func New(cfg Config) (*Producer, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("new producer: no brokers")
	}
	if cfg.Topic == "" {
		cfg.Topic = "predictions"
	}
	if cfg.LabelsTopic == "" {
		cfg.LabelsTopic = "labels"
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultBuffer
	}
	if cfg.MaxRecordBytes <= 0 {
		cfg.MaxRecordBytes = consumer.DefaultMaxRecordBytes
	}
	switch {
	case cfg.MaxFuture == 0:
		cfg.MaxFuture = consumer.DefaultMaxFuture
	case cfg.MaxFuture < 0:
		cfg.MaxFuture = 0 // CheckFuture's "no check"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	p := &Producer{
		maxBytes: cfg.MaxRecordBytes, maxFuture: cfg.MaxFuture, now: cfg.Now, log: cfg.Log, buffer: int64(cfg.Buffer),
		scratch:  sync.Pool{New: func() any { return new([]byte) }},
		failures: rate.Sometimes{Interval: time.Minute},
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ProducerBatchCompression(kgo.ZstdCompression(), kgo.Lz4Compression(), kgo.NoCompression()),
		// A backstop: the bound is Buffer, which send applies before the
		// client (whose own count lags a delivery by one promise). Past
		// it TryProduce fails fast with ErrMaxBuffered, counted as a drop.
		kgo.MaxBufferedRecords(2 * cfg.Buffer),
	}, cfg.Opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("new producer: kafka client: %w", err)
	}
	p.cl = cl
	records := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "driftwatch_producer_records_total",
		Help: "Records given to the producer, by topic and outcome: sent, invalid (broke the contract), dropped (buffer full), failed (not delivered)."},
		[]string{"topic", "outcome"})
	p.preds, p.labels = p.outcomes(records, cfg.Topic), p.outcomes(records, cfg.LabelsTopic)
	if reg := cfg.Registerer; reg != nil {
		buffered := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftwatch_producer_buffered_records", Help: "Records waiting to be sent."},
			func() float64 { return float64(p.buffered.Load()) })
		err := reg.Register(records)
		if err == nil {
			if err = reg.Register(buffered); err != nil {
				reg.Unregister(records)
			}
		}
		if err != nil {
			cl.Close()
			return nil, fmt.Errorf("new producer: register metrics: %w", err)
		}
	}
	return p, nil
}

func (p *Producer) outcomes(records *prometheus.CounterVec, topic string) *outcomes {
	o := &outcomes{topic: topic,
		sent: records.WithLabelValues(topic, "sent"), invalid: records.WithLabelValues(topic, "invalid"),
		dropped: records.WithLabelValues(topic, "dropped"), failed: records.WithLabelValues(topic, "failed"),
	}
	o.promise = func(r *kgo.Record, err error) {
		p.buffered.Add(-1)
		defer p.inflight.Done()
		switch {
		case err == nil:
			o.sent.Inc()
		case errors.Is(err, kgo.ErrMaxBuffered):
			o.dropped.Inc()
		default:
			o.failed.Inc()
			if !errors.Is(err, kgo.ErrClientClosed) { // Close reports those
				p.failures.Do(func() { p.log.Warn("records not delivered", "topic", r.Topic, "err", err) })
			}
		}
	}
	return o
}

// LogPrediction checks pr and queues it for the prediction log, keyed by
// pr.ID. It returns a *consumer.DecodeError (wrapped) when pr breaks the
// contract, ErrBufferFull when it dropped pr, and ErrClosed after Close;
// nil means pr is queued (its delivery is counted in the metrics). It
// never blocks on Kafka.
func (p *Producer) LogPrediction(pr Prediction) error {
	now := p.now()
	at := pr.Time
	if at.IsZero() {
		at = now
	}
	buf := p.scratch.Get().(*[]byte)
	defer p.putScratch(buf)
	b, err := appendPrediction((*buf)[:0], &pr, at)
	*buf = b
	if err == nil {
		var ts time.Time
		if ts, err = consumer.Check(b, p.maxBytes); err == nil {
			err = consumer.CheckFuture(ts, now, p.maxFuture)
		}
	}
	if err != nil {
		p.preds.invalid.Inc()
		return fmt.Errorf("prediction %q: %w", pr.ID, err)
	}
	return p.send(p.preds, pr.ID, b)
}

// LogLabel checks l and queues it for the labels topic, keyed by
// l.PredictionID, as LogPrediction does.
func (p *Producer) LogLabel(l Label) error {
	at := l.Time
	if at.IsZero() {
		at = p.now()
	}
	buf := p.scratch.Get().(*[]byte)
	defer p.putScratch(buf)
	b, err := appendLabel((*buf)[:0], &l, at)
	*buf = b
	if err == nil {
		_, err = consumer.DecodeLabel(b, p.maxBytes)
	}
	if err != nil {
		p.labels.invalid.Inc()
		return fmt.Errorf("label of prediction %q: %w", l.PredictionID, err)
	}
	return p.send(p.labels, l.PredictionID, b)
}

// maxScratch is the largest encoding buffer kept for reuse.
const maxScratch = 64 << 10

func (p *Producer) putScratch(buf *[]byte) {
	if cap(*buf) <= maxScratch {
		p.scratch.Put(buf)
	}
}

// send hands a copy of value to the client, or drops it when the buffer is
// full.
func (p *Producer) send(o *outcomes, key string, value []byte) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	if p.buffered.Add(1) > p.buffer {
		p.buffered.Add(-1)
		o.dropped.Inc()
		return ErrBufferFull
	}
	p.inflight.Add(1)
	p.cl.TryProduce(context.Background(), &kgo.Record{Topic: o.topic, Key: []byte(key), Value: bytes.Clone(value)}, o.promise)
	return nil
}

// Flush waits until no record waits to be sent (each is delivered or
// failed), or ctx is done.
func (p *Producer) Flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush producer: %w", err)
	}
	return nil
}

// Close stops taking records, flushes those queued until ctx is done, and
// closes the client: records still waiting then fail (outcome failed), and
// the error says how many. Once it returns, every record's outcome is
// counted. Calling it again does nothing.
func (p *Producer) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	err := p.cl.Flush(ctx)
	left := p.buffered.Load()
	p.cl.Close()
	p.inflight.Wait()
	if err != nil {
		return fmt.Errorf("close producer: %d records not delivered: %w", left, err)
	}
	return nil
}
