package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topicWatchEvery is how often run samples consumer lag and topic sizes.
const topicWatchEvery = 15 * time.Second

// watchedTopic is a topic whose size run reports, and the group whose lag
// on it run reports.
type watchedTopic struct {
	Group, Topic string
}

// topicGauges are the gauges watchTopics sets.
type topicGauges struct {
	lag          *prometheus.GaugeVec
	partitionLag *prometheus.GaugeVec
	size         *prometheus.GaugeVec
}

func newTopicGauges(reg prometheus.Registerer) topicGauges {
	g := topicGauges{
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "driftwatch_kafka_consumer_lag_records",
			Help: "Records of the topic not yet committed by the group (end offsets minus committed offsets, summed over partitions), sampled every 15 s."},
			[]string{"group", "topic"}),
		partitionLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "driftwatch_kafka_consumer_partition_lag_records",
			Help: "Records of each partition not yet committed by the group (end offset minus committed offset), sampled every 15 s."},
			[]string{"group", "topic", "partition"}),
		size: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "driftwatch_kafka_topic_size_bytes",
			Help: "Bytes the topic takes in the brokers' log directories, every replica counted, sampled every 15 s."},
			[]string{"topic"}),
	}
	reg.MustRegister(g.lag, g.partitionLag, g.size)
	return g
}

// watchTopics samples the lag and size of topics every `every` until ctx
// ends. A failed sample is logged, once until one succeeds again, and
// leaves the gauges as they were.
func watchTopics(ctx context.Context, log *slog.Logger, adm *kadm.Client, every time.Duration, topics []watchedTopic, g topicGauges) {
	failing := false
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		err := sampleTopics(ctx, adm, topics, g)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			log.Warn("sample consumer lag and topic sizes; retried every interval", "every", every, "err", err)
		case err == nil && failing:
			log.Info("sampling consumer lag and topic sizes again")
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func sampleTopics(ctx context.Context, adm *kadm.Client, topics []watchedTopic, g topicGauges) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	groups := make([]string, 0, len(topics))
	names := make([]string, 0, len(topics))
	for _, w := range topics {
		groups = append(groups, w.Group)
		names = append(names, w.Topic)
	}
	lags, err := adm.Lag(ctx, groups...)
	if err != nil {
		return err
	}
	for _, w := range topics {
		l, ok := lags[w.Group]
		if !ok {
			continue
		}
		if err := l.Error(); err != nil {
			return err
		}
		g.lag.WithLabelValues(w.Group, w.Topic).Set(float64(l.Lag.TotalByTopic()[w.Topic].Lag))
		for p, ml := range l.Lag[w.Topic] {
			g.partitionLag.WithLabelValues(w.Group, w.Topic, strconv.Itoa(int(p))).Set(float64(ml.Lag))
		}
	}
	tds, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return err
	}
	dirs, err := adm.DescribeAllLogDirs(ctx, tds.TopicsSet())
	if err != nil {
		return err
	}
	sizes := make(map[string]int64)
	dirs.Each(func(d kadm.DescribedLogDir) {
		for topic, ps := range d.Topics {
			for _, p := range ps {
				sizes[topic] += p.Size
			}
		}
	})
	for _, w := range topics {
		g.size.WithLabelValues(w.Topic).Set(float64(sizes[w.Topic]))
	}
	return nil
}

// startTopicWatch registers the topic gauges and samples them from a
// goroutine of its own, through a client of its own, until stop is called.
func startTopicWatch(ctx context.Context, log *slog.Logger, reg prometheus.Registerer, kopts []kgo.Opt, topics []watchedTopic) (stop func(), err error) {
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("create the kafka client that samples lag and topic sizes: %w", err)
	}
	g := newTopicGauges(reg)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchTopics(ctx, log, kadm.NewClient(cl), topicWatchEvery, topics, g)
	}()
	return func() {
		cancel()
		<-done
		cl.Close()
	}, nil
}
