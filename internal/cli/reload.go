package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/api"
	"github.com/driftwatch/driftwatch/internal/config"
	"github.com/driftwatch/driftwatch/internal/reference"
)

// baselineReloader switches run to new or promoted baselines without a
// restart (README, "Baselines without a restart"): it looks at
// baselines.dir every baselines.reload, or at once when woken (a promotion
// through the API), and when the directory changed, loads the baselines as
// run does at start and swaps them in. Records decoded from then on use
// the new set; windows use it from the first window start at or after the
// change's time plus baselines.reload, so that every instance of a
// scaled-out job, each of which sees the change within that interval,
// compares a window with the same baseline, and a window open across the
// change keeps the baseline it started with.
type baselineReloader struct {
	cfg  *config.Config
	live *baselines.Live
	hop  time.Duration // the windows' hop: a switch applies from a window start
	log  *slog.Logger
	mu   sync.Mutex
	// record, when set (recordWith), writes the baselines swapped in to
	// the sink's baselines table.
	record func(ctx context.Context, set map[string]*baselines.Baseline) error
	stamp  string // baselines.Stamp of what live holds
}

func newBaselineReloader(cfg *config.Config, live *baselines.Live, hop time.Duration, log *slog.Logger, stamp string) *baselineReloader {
	return &baselineReloader{cfg: cfg, live: live, hop: hop, log: log, stamp: stamp}
}

// recordWith sets record (once the sink is open; the API may be checking).
func (r *baselineReloader) recordWith(record func(ctx context.Context, set map[string]*baselines.Baseline) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record = record
}

// dirStamp is baselines.Stamp of dir, "" when there is no such directory.
func dirStamp(dir string) (string, time.Time, error) {
	if dir == "" {
		return "", time.Time{}, nil
	}
	s, newest, err := baselines.Stamp(dir)
	if errors.Is(err, os.ErrNotExist) {
		return "", time.Time{}, nil
	}
	return s, newest, err
}

// Check looks at the directory once and swaps in what changed; it
// returns the first window start the new baselines apply to, zero if
// nothing changed. A directory that cannot be read, or a baseline that
// does not load (a file half copied), leaves the baselines in use as they
// are and is tried again at the next look. Safe for concurrent use (the
// API calls it after a promotion).
func (r *baselineReloader) Check(ctx context.Context) (time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	stamp, newest, err := dirStamp(r.cfg.Baselines.Dir)
	if err != nil || stamp == r.stamp {
		return time.Time{}, err
	}
	set, err := loadBaselineSet(r.cfg)
	if err != nil {
		return time.Time{}, err
	}
	if len(set) == 0 && len(r.live.Load()) > 0 {
		return time.Time{}, errNoBaselines(r.cfg) // an emptied directory does not stop the comparisons
	}
	from := windowStartAtOrAfter(newest.Add(r.cfg.Baselines.Reload), r.hop)
	changed := r.live.Swap(set, from)
	if len(changed) == 0 {
		r.stamp = stamp
		return time.Time{}, nil
	}
	if r.record != nil {
		if err := r.record(ctx, set); err != nil {
			return from, err // swapped; the stamp stays, so the record is tried again
		}
	}
	r.stamp = stamp
	for _, k := range changed {
		b := set[k]
		if b == nil {
			r.log.Info("baseline dropped", "key", k)
			continue
		}
		r.log.Info("baseline switched", "model", b.Model, "key", k, "baseline_id", b.ID, "windows_from", from)
	}
	return from, nil
}

// windowStartAtOrAfter is the first window start (a multiple of hop since
// the Unix epoch) at or after t.
func windowStartAtOrAfter(t time.Time, hop time.Duration) time.Time {
	if hop <= 0 {
		return t
	}
	ns, h := t.UnixNano(), hop.Nanoseconds()
	s := ns - ns%h
	if s < ns {
		s += h
	}
	return time.Unix(0, s).UTC()
}

// run looks every baselines.reload until ctx ends; 0: never.
func (r *baselineReloader) run(ctx context.Context) {
	if r.cfg.Baselines.Reload <= 0 {
		return
	}
	t := time.NewTicker(r.cfg.Baselines.Reload)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := r.Check(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("baselines not reloaded; the ones in use stay, tried again later", "dir", r.cfg.Baselines.Dir, "err", err)
		}
	}
}

// liveByID resolves a model's baseline by id (a window state or a delta
// names the one it was made with): one that has been in live, else one
// of dir, read then, so that state kept from before a restart with other
// baselines still reads back.
func liveByID(live *baselines.Live, dir string) func(model, id string) *baselines.Baseline {
	return func(model, id string) *baselines.Baseline {
		if b := live.ByID(model, id); b != nil {
			return b
		}
		path, ok := baselines.File(dir, id)
		if dir == "" || !ok {
			return nil
		}
		b, err := baselines.Load(path)
		if err != nil || b.Model != model || b.ID != id {
			return nil
		}
		live.Add(b)
		return b
	}
}

// periodBuilder builds baselines for the API from the production records
// of a period on the Kafka topic run reads (consumer.ReadPeriod, records
// produced up to windows.allowed_lateness after their event time), and
// saves them in baselines.dir.
func periodBuilder(cfg *config.Config, kopts []kgo.Opt) func(context.Context, api.BuildRequest, *atomic.Int64) (*baselines.Baseline, error) {
	return func(ctx context.Context, req api.BuildRequest, read *atomic.Int64) (*baselines.Baseline, error) {
		topic := cfg.Kafka.Topic
		source := fmt.Sprintf("production kafka %s %s to %s", topic, req.From.UTC().Format(time.RFC3339), req.Until.UTC().Format(time.RFC3339))
		recs := reference.NewRecords(req.Model, baselines.BuildOptions{Bins: req.Bins, MaxCategories: req.MaxCategories, SampleSize: req.SampleSize,
			Source: source, ModelVersion: req.ModelVersion}, reference.Select{Version: req.ModelVersion, From: req.From, Until: req.Until})
		if err := consumer.ReadPeriod(ctx, kopts, topic, req.From, req.Until, cfg.Windows.AllowedLateness, func(v []byte) error {
			recs.Add(v)
			read.Add(1)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("build baseline of %s: %w", req.Model, err)
		}
		b, _, err := recs.Build(source)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(cfg.Baselines.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("create baseline directory: %w", err)
		}
		if err := b.Save(filepath.Join(cfg.Baselines.Dir, b.ID+".json")); err != nil {
			return nil, err
		}
		return b, nil
	}
}
