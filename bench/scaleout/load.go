package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/bench/internal/daemon"
	"github.com/driftwatch/driftwatch/bench/workload"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/synth"
)

// Load test constants.
const (
	sampleEvery   = time.Second           // the load test's sampling period
	produceTick   = 10 * time.Millisecond // the producer releases a batch this often
	burstSeconds  = 0.1                   // the token bucket holds at most this many seconds of records
	shareTimeout  = 2 * time.Minute       // for both instances to own partitions of the topic
	drainTimeout  = 2 * time.Minute       // for the fold to catch up once the producer stops
	loadInstances = 2
	// maxProduceRate bounds what an unthrottled producer is given records
	// for (the event times it spans must lie in the past).
	maxProduceRate = 1_000_000
)

// LoadResult is the result of load mode.
type LoadResult struct {
	Sustained       float64  `json:"sustained_records_per_second"` // S
	SustainedSource string   `json:"sustained_source"`
	Divisor         float64  `json:"peak_divisor"` // P = S / Divisor
	Peak            float64  `json:"peak_records_per_second"`
	PeakReason      string   `json:"peak_reason"`
	Rate            float64  `json:"rate_records_per_second"` // 3P
	WithProducer    float64  `json:"sustained_with_producer"` // S': the calibration's rate
	Precheck        *LoadRun `json:"precheck,omitempty"`      // the calibration run, producer flat out
	Run             *LoadRun `json:"run"`
}

// LoadRun is one run of the producer at a steady rate beside two instances.
type LoadRun struct {
	Rate     float64       `json:"rate_records_per_second"`
	Duration time.Duration `json:"duration"`
	Warmup   time.Duration `json:"warmup"`
	Samples  []Sample      `json:"samples"`
	Summary  Summary       `json:"summary"`
}

// Sample is one second of a load run. CPU figures are percent of one core
// over the second before T; RSS in MiB.
type Sample struct {
	T        float64   `json:"t"` // seconds since the producer started
	Produced float64   `json:"produced_per_second"`
	FoldLag  int64     `json:"fold_lag"`
	MergeLag int64     `json:"merge_lag"`
	CPU      []float64 `json:"instance_cpu_percent"`
	RSS      []float64 `json:"instance_rss_mib"`
	Broker   float64   `json:"broker_cpu_percent"`
	CH       float64   `json:"clickhouse_cpu_percent"`
	Producer float64   `json:"producer_cpu_percent"` // this process: the producer, its generator and the sampling
	Machine  float64   `json:"machine_cpu_percent"`  // all CPUs' busy time, whoever used it (up to 100 × CPUs)
}

// Summary is what the report states of a load run, over the samples from
// the warm-up on.
type Summary struct {
	Produced     float64   `json:"mean_produced_per_second"`
	MaxFoldLag   int64     `json:"max_fold_lag"`
	MaxMergeLag  int64     `json:"max_merge_lag"`
	EdgeSeconds  float64   `json:"edge_seconds"` // the length of the first and last spans compared
	FirstLag     float64   `json:"first_span_mean_fold_lag"`
	LastLag      float64   `json:"last_span_mean_fold_lag"`
	Slope        float64   `json:"fold_lag_slope"` // records/s, least squares over the second half
	SlopeSE      float64   `json:"fold_lag_slope_se"`
	MergeSlope   float64   `json:"merge_lag_slope"`
	MergeSlopeSE float64   `json:"merge_lag_slope_se"`
	HalfSeconds  float64   `json:"half_seconds"`
	Flat         bool      `json:"flat"`
	FlatWhy      string    `json:"flat_why"`
	MeanCPU      []float64 `json:"mean_instance_cpu_percent"`
	MeanBroker   float64   `json:"mean_broker_cpu_percent"`
	MeanCH       float64   `json:"mean_clickhouse_cpu_percent"`
	MeanProducer float64   `json:"mean_producer_cpu_percent"`
	MeanMachine  float64   `json:"mean_machine_cpu_percent"` // all CPUs, whoever used them
	PeakRSS      []float64 `json:"peak_instance_rss_mib"`
	DrainSeconds float64   `json:"drain_seconds"` // from the producer's stop to fold lag 0; -1: not within drainTimeout
	FlushRecords float64   `json:"flush_records"` // rate × flush interval: the fold lag's sawtooth
}

// load runs load mode: S from the throughput rounds (or a calibration run
// of its own), the precheck, then the load test.
func (e *env) load(ctx context.Context, tp *Throughput, csvPath string) (*LoadResult, error) {
	lr := &LoadResult{}
	if r := e.knobs.LoadRate; r > 0 {
		lr.Sustained, lr.SustainedSource, lr.Divisor, lr.Peak, lr.Rate = 0, "not measured (-load-rate)", 3, r/3, r
		lr.PeakReason = "P = the -load-rate given ÷ 3"
		run, err := e.loadRun(ctx, lr.Rate, e.knobs.Duration, e.knobs.Warmup)
		lr.Run = run
		if err == nil && csvPath != "" {
			err = writeCSV(csvPath, run, chartTitle(lr))
		}
		return lr, err
	}
	var rates []float64
	if tp != nil {
		for _, r := range tp.Runs {
			if r.Instances == 2 {
				rates = append(rates, r.Rate)
			}
		}
	}
	if len(rates) > 0 {
		lr.Sustained = median(rates)
		lr.SustainedSource = fmt.Sprintf("median rate of the %d two-instance throughput runs of this run (records produced beforehand: no producer running)", len(rates))
	} else {
		s, err := e.calibrate(ctx)
		if err != nil {
			return nil, err
		}
		lr.Sustained = s
		lr.SustainedSource = fmt.Sprintf("a calibration run of two unpinned instances on %d records produced beforehand (no producer running)", e.knobs.Records)
	}
	lr.Divisor = 4
	lr.Peak = lr.Sustained / lr.Divisor
	if e.knobs.Precheck > 0 {
		logf("calibration with the producer: as fast as it sends, two instances, for %s", e.knobs.Precheck)
		pre, err := e.loadRun(ctx, 0, e.knobs.Precheck, min(e.knobs.Warmup, e.knobs.Precheck/3))
		if err != nil {
			return nil, fmt.Errorf("calibration with the producer: %w", err)
		}
		lr.Precheck = pre
		ps := pre.Summary
		lr.WithProducer = ps.Produced
		how := "the fold lag stayed flat, so the instances kept up and the producer, not the instances, set that rate"
		if !ps.Flat {
			lr.WithProducer = ps.Produced - max(ps.Slope, 0)
			how = fmt.Sprintf("the fold lag grew by %.0f records/s, so the instances read %.0f records/s", ps.Slope, lr.WithProducer)
		}
		lr.Peak = lr.WithProducer / lr.Divisor
		lr.PeakReason = fmt.Sprintf("P = S'/4, where S' = %s records/s is what two instances sustained while the producer ran flat out beside them on the same cores (%s)",
			thousands(lr.WithProducer), how)
		if ps.Produced < 0.75*lr.Sustained {
			lr.PeakReason += fmt.Sprintf(". The producer sent at most %.0f%% of S here, so neither 3P = S (P = S/3) nor 3P = 0.75·S (P = S/4) could be produced on this machine; "+
				"a quarter of S' leaves the producer room to hold 3P steadily", 100*ps.Produced/lr.Sustained)
		}
	} else {
		lr.PeakReason = "P = S/4 (no calibration with the producer): S was measured without a producer, which shares the 2 cores in the load test"
	}
	lr.Rate = 3 * lr.Peak
	logf("S %.0f records/s, peak P %.0f, load test at 3P = %.0f records/s for %s", lr.Sustained, lr.Peak, lr.Rate, e.knobs.Duration)
	run, err := e.loadRun(ctx, lr.Rate, e.knobs.Duration, e.knobs.Warmup)
	if err != nil {
		return lr, err
	}
	lr.Run = run
	if csvPath != "" {
		if err := writeCSV(csvPath, run, chartTitle(lr)); err != nil {
			return lr, err
		}
	}
	return lr, nil
}

// calibrate measures S with two unpinned instances on records produced
// beforehand.
func (e *env) calibrate(ctx context.Context) (float64, error) {
	topic, drop, err := e.createTopics(ctx, "c")
	if err != nil {
		return 0, err
	}
	defer drop()
	if _, err := workload.Produce(ctx, e.brokers, topic, e.knobs.Seed, e.knobs.Records); err != nil {
		return 0, err
	}
	end, err := e.endOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	run, err := e.timedRun(ctx, topic, end, []int{-1, -1})
	if err != nil {
		return 0, fmt.Errorf("calibration: %w", err)
	}
	logf("calibration: two instances read %d records at %.0f records/s", run.Records, run.Rate)
	return run.Rate, nil
}

// loadRun runs two unpinned instances on a fresh topic while the producer
// sends at rate for dur, sampling every second.
func (e *env) loadRun(ctx context.Context, rate float64, dur, warmup time.Duration) (*LoadRun, error) {
	topic, drop, err := e.createTopics(ctx, "l")
	if err != nil {
		return nil, err
	}
	defer drop()
	group := e.name("g")
	db, dropDB, err := e.createDatabase(ctx)
	if err != nil {
		return nil, err
	}
	defer dropDB()
	defer e.deleteTopics(consumer.PartialsTopic(group))
	defer e.deleteGroups(group, consumer.MergeGroup(group))
	cpus := slices.Repeat([]int{-1}, loadInstances)
	ds, stopAll, err := e.startInstances(topic, group, db, cpus, e.knobs.FlushInterval, time.Hour) // hourly windows, as deployed: the load test reads at the producer's pace
	defer stopAll()
	if err != nil {
		return nil, err
	}
	if err := e.waitShared(ctx, ds, group, topic, loadInstances); err != nil {
		return nil, err
	}
	lr := &LoadRun{Rate: rate, Duration: dur, Warmup: warmup}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p, err := e.startProducer(pctx, topic, rate, dur)
	if err != nil {
		return nil, err
	}
	pids := []int{e.pids.Kafka, e.pids.ClickHouse, os.Getpid()}
	for _, d := range ds {
		pids = append(pids, d.Pid)
	}
	prevCPU := make([]float64, len(pids))
	for i, pid := range pids {
		prevCPU[i] = daemon.CPUSeconds(pid)
	}
	prevMachine := daemon.MachineBusySeconds()
	start, prev := time.Now(), time.Now()
	var prevAcked int64
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	for time.Since(start) < dur {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-p.done:
			return nil, fmt.Errorf("producer stopped early: %v", err)
		case <-tick.C:
		}
		for i, d := range ds {
			if err := d.Exited(); err != nil {
				return nil, fmt.Errorf("instance %d exited: %v; its log:\n%s", i, err, d.LogTail(3000))
			}
		}
		now := time.Now()
		dt := now.Sub(prev).Seconds()
		s := Sample{T: now.Sub(start).Seconds()}
		acked := p.acked.Load()
		s.Produced = float64(acked-prevAcked) / dt
		prevAcked = acked
		cpu := make([]float64, len(pids))
		for i, pid := range pids {
			c := daemon.CPUSeconds(pid)
			cpu[i] = 100 * (c - prevCPU[i]) / dt
			prevCPU[i] = c
		}
		s.Broker, s.CH, s.Producer, s.CPU = cpu[0], cpu[1], cpu[2], cpu[3:]
		m := daemon.MachineBusySeconds()
		s.Machine, prevMachine = 100*(m-prevMachine)/dt, m
		for _, d := range ds {
			s.RSS = append(s.RSS, float64(daemon.RSSBytes(d.Pid))/(1<<20))
		}
		prev = now
		if s.FoldLag, err = e.lag(ctx, group, topic); err != nil {
			return nil, err
		}
		if s.MergeLag, err = e.lag(ctx, consumer.MergeGroup(group), consumer.PartialsTopic(group)); err != nil {
			return nil, err
		}
		lr.Samples = append(lr.Samples, s)
		if len(lr.Samples)%15 == 0 {
			logf("t=%3.0fs produced %.0f/s fold lag %d merge lag %d cpu %.0f%% %.0f%% broker %.0f%% clickhouse %.0f%% producer %.0f%% machine %.0f%%",
				s.T, s.Produced, s.FoldLag, s.MergeLag, s.CPU[0], s.CPU[1], s.Broker, s.CH, s.Producer, s.Machine)
		}
	}
	cancel()
	if err := <-p.done; err != nil && !errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("producer: %w", err)
	}
	stopped := time.Now()
	lr.Summary = summarize(lr.Samples, warmup, rate, e.knobs.FlushInterval)
	lr.Summary.DrainSeconds = -1
	for time.Since(stopped) < drainTimeout {
		l, err := e.lag(ctx, group, topic)
		if err != nil {
			return nil, err
		}
		if l == 0 {
			lr.Summary.DrainSeconds = time.Since(stopped).Seconds()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	s := lr.Summary
	logf("load run at %.0f records/s: produced %.0f/s, max fold lag %d, second-half slope %.1f ± %.1f records/s (flat: %t), drained in %.1f s",
		rate, s.Produced, s.MaxFoldLag, s.Slope, s.SlopeSE, s.Flat, s.DrainSeconds)
	return lr, nil
}

// waitShared waits until n members of group each own partitions of topic.
func (e *env) waitShared(ctx context.Context, ds []*daemon.Daemon, group, topic string, n int) error {
	deadline := time.Now().Add(shareTimeout)
	for {
		for i, d := range ds {
			if err := d.Exited(); err != nil {
				return fmt.Errorf("instance %d exited: %v; its log:\n%s", i, err, d.LogTail(3000))
			}
		}
		owners, _, err := e.owners(ctx, group, topic)
		if owners == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d members of group %s own partitions of %s after %s, want %d (%v); log of instance 0:\n%s", owners, group, topic, shareTimeout, n, err, ds[0].LogTail(3000))
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// producer sends workload records at a steady rate; acked counts the
// records the broker acknowledged, done receives how it ended.
type producer struct {
	acked atomic.Int64
	done  chan error
}

// startProducer sends records to topic at rate (a token bucket refilled
// every 10 ms, at most 100 ms of records at once; rate 0: as fast as it
// can), keyed by prediction_id, until ctx ends. The records are the workload's with its start moved back
// so that every event time of the run lies in the past.
func (e *env) startProducer(ctx context.Context, topic string, rate float64, dur time.Duration) (*producer, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return nil, err
	}
	perSecond := rate
	if rate <= 0 {
		perSecond = maxProduceRate
	}
	n := int(perSecond*dur.Seconds()*1.2) + workload.RecordsPerWindow
	cfg := workload.Config(e.knobs.Seed, n)
	cfg.Start = time.Now().UTC().Truncate(time.Hour).Add(-time.Duration(cfg.Windows+2) * cfg.Window)
	p := &producer{done: make(chan error, 1)}
	var firstErr atomic.Pointer[error]
	go func() {
		defer cl.Close()
		var (
			tokens float64
			last   = time.Now()
			next   = last.Add(produceTick)
			count  int
		)
		errEnough := errors.New("ran out of records")
		err := cfg.Generate(func(m synth.Message) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			for rate > 0 && tokens < 1 {
				time.Sleep(time.Until(next))
				if err := ctx.Err(); err != nil {
					return err
				}
				now := time.Now()
				next = next.Add(produceTick)
				if next.Before(now) {
					next = now.Add(produceTick)
				}
				tokens = min(tokens+rate*now.Sub(last).Seconds(), rate*burstSeconds)
				last = now
			}
			if ep := firstErr.Load(); ep != nil {
				return *ep
			}
			tokens--
			if count++; count > n {
				return errEnough
			}
			cl.Produce(ctx, &kgo.Record{Key: m.Key, Value: m.Value}, func(_ *kgo.Record, err error) {
				if err == nil {
					p.acked.Add(1)
				} else if !errors.Is(err, context.Canceled) {
					firstErr.CompareAndSwap(nil, &err)
				}
			})
			return nil
		})
		fctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		_ = cl.Flush(fctx)
		if ep := firstErr.Load(); ep != nil && err == nil {
			err = *ep
		}
		p.done <- err
	}()
	return p, nil
}

// summarize computes a load run's figures from its samples at or after
// warmup. The fold lag is flat when its least-squares slope over the
// second half is within twice its standard error of zero or below, or
// would add less than one flush interval of records over the half (the
// size of the lag's own sawtooth: the fold commits once an interval).
func summarize(samples []Sample, warmup time.Duration, rate float64, flush time.Duration) Summary {
	var s Summary
	s.FlushRecords = rate * flush.Seconds()
	var kept []Sample
	for _, x := range samples {
		if x.T >= warmup.Seconds() {
			kept = append(kept, x)
		}
	}
	if len(kept) < 4 {
		s.FlatWhy = "too few samples after the warm-up"
		return s
	}
	n := len(kept[0].CPU)
	s.MeanCPU, s.PeakRSS = make([]float64, n), make([]float64, n)
	for _, x := range samples {
		for i := range n {
			s.PeakRSS[i] = max(s.PeakRSS[i], x.RSS[i])
		}
	}
	for _, x := range kept {
		s.Produced += x.Produced / float64(len(kept))
		s.MeanBroker += x.Broker / float64(len(kept))
		s.MeanCH += x.CH / float64(len(kept))
		s.MeanProducer += x.Producer / float64(len(kept))
		s.MeanMachine += x.Machine / float64(len(kept))
		for i := range n {
			s.MeanCPU[i] += x.CPU[i] / float64(len(kept))
		}
		s.MaxFoldLag = max(s.MaxFoldLag, x.FoldLag)
		s.MaxMergeLag = max(s.MaxMergeLag, x.MergeLag)
	}
	if rate <= 0 { // unthrottled: the sawtooth of what was produced
		s.FlushRecords = s.Produced * flush.Seconds()
	}
	t0, t1 := kept[0].T, kept[len(kept)-1].T
	s.EdgeSeconds = min(60, (t1-t0)/3)
	var first, last []float64
	for _, x := range kept {
		if x.T < t0+s.EdgeSeconds {
			first = append(first, float64(x.FoldLag))
		}
		if x.T > t1-s.EdgeSeconds {
			last = append(last, float64(x.FoldLag))
		}
	}
	s.FirstLag, s.LastLag = mean(first), mean(last)
	mid := (samples[0].T + t1) / 2
	var ts, fold, merge []float64
	for _, x := range kept {
		if x.T >= mid {
			ts = append(ts, x.T)
			fold = append(fold, float64(x.FoldLag))
			merge = append(merge, float64(x.MergeLag))
		}
	}
	s.HalfSeconds = t1 - mid
	s.Slope, s.SlopeSE = slope(ts, fold)
	s.MergeSlope, s.MergeSlopeSE = slope(ts, merge)
	growth := s.Slope * s.HalfSeconds
	switch {
	case s.Slope <= 2*s.SlopeSE:
		s.Flat = true
		s.FlatWhy = fmt.Sprintf("second-half slope %.1f records/s is within 2 standard errors (%.1f) of zero or below", s.Slope, 2*s.SlopeSE)
	case growth < s.FlushRecords:
		s.Flat = true
		s.FlatWhy = fmt.Sprintf("second-half slope %.1f records/s adds %.0f records over %.0f s, less than one flush interval of input (%.0f records)", s.Slope, growth, s.HalfSeconds, s.FlushRecords)
	default:
		s.FlatWhy = fmt.Sprintf("second-half slope %.1f ± %.1f records/s adds %.0f records over %.0f s, more than one flush interval of input (%.0f records)", s.Slope, s.SlopeSE, growth, s.HalfSeconds, s.FlushRecords)
	}
	return s
}

// slope is the least-squares slope of y on x and its standard error,
// se = sqrt(Σr² / (n-2) / Σ(x-x̄)²).
func slope(x, y []float64) (b, se float64) {
	n := float64(len(x))
	if n < 3 {
		return math.NaN(), math.NaN()
	}
	mx, my := mean(x), mean(y)
	var sxx, sxy float64
	for i := range x {
		sxx += (x[i] - mx) * (x[i] - mx)
		sxy += (x[i] - mx) * (y[i] - my)
	}
	b = sxy / sxx
	var ss float64
	for i := range x {
		r := y[i] - my - b*(x[i]-mx)
		ss += r * r
	}
	return b, math.Sqrt(ss / (n - 2) / sxx)
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// chartTitle is the title of the load test's chart.
func chartTitle(lr *LoadResult) string {
	return fmt.Sprintf("driftwatch scale-out, two instances: %s records/s = 3 × the stated peak P = %s (%s)",
		thousands(lr.Rate), thousands(lr.Peak), time.Now().UTC().Format("2006-01-02"))
}

// writeCSV writes a load run's samples, one row a second, after a line
// "# title: ..." that the chart takes its title from: the columns'
// prefixes (lag_, cpu_, rss_) name the chart's panels.
func writeCSV(path string, run *LoadRun, title string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "# title: %s\n", title); err != nil {
		f.Close()
		return err
	}
	w := csv.NewWriter(f)
	head := []string{"t_s", "rate_produced", "lag_fold", "lag_merge"}
	n := len(run.Samples[0].CPU)
	for i := range n {
		head = append(head, fmt.Sprintf("cpu_instance%d", i+1))
	}
	head = append(head, "cpu_broker", "cpu_clickhouse", "cpu_producer", "cpu_machine")
	for i := range n {
		head = append(head, fmt.Sprintf("rss_instance%d", i+1))
	}
	_ = w.Write(head)
	f1 := func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
	for _, s := range run.Samples {
		row := []string{f1(s.T), f1(s.Produced), strconv.FormatInt(s.FoldLag, 10), strconv.FormatInt(s.MergeLag, 10)}
		for _, c := range s.CPU {
			row = append(row, f1(c))
		}
		row = append(row, f1(s.Broker), f1(s.CH), f1(s.Producer), f1(s.Machine))
		for _, r := range s.RSS {
			row = append(row, f1(r))
		}
		_ = w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
