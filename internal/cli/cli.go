// Package cli implements driftwatch's commands (demo, run, baseline, replay)
// behind one entry point that tests can call in-process. It parses flags,
// loads configuration and baselines, and hands off to the pipeline; it
// deliberately holds no pipeline logic.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
	"golang.org/x/term"

	"github.com/driftwatch/driftwatch/alerts"
	"github.com/driftwatch/driftwatch/alerts/actions"
	"github.com/driftwatch/driftwatch/alerts/alertmanager"
	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/consumer/kserve"
	"github.com/driftwatch/driftwatch/internal/api"
	"github.com/driftwatch/driftwatch/internal/config"
	"github.com/driftwatch/driftwatch/internal/demo"
	"github.com/driftwatch/driftwatch/internal/pipeline"
	"github.com/driftwatch/driftwatch/internal/reference"
	"github.com/driftwatch/driftwatch/internal/report"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/sinks/clickhouse"
	"github.com/driftwatch/driftwatch/sinks/jsonl"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

const usage = `driftwatch: drift detection for machine-learning models in production

usage:
  driftwatch demo     [flags]   everything embedded: broker, serving stack, pipeline
  driftwatch run      --config FILE
  driftwatch baseline --model NAME --input FILE [flags]
  driftwatch baseline list    [--dir DIR]            baselines, the one in use per model marked
  driftwatch baseline promote [--dir DIR] --id ID    make a baseline the one its model uses
  driftwatch replay   --baselines DIR [--input FILE] [--output FILE] [flags]
  driftwatch report   --model NAME [--from T] [--to T] [--out FILE] [--card]   HTML drift report and model card
  driftwatch version                                 version, commit and Go version (also --version)
  driftwatch healthcheck [--url URL | --config FILE]  probe a running 'driftwatch run' (container health check)

Run 'driftwatch COMMAND -h' for a command's flags.
`

// Main runs the command in args (without the program name) and returns the
// process exit code: 0 success, 1 failure, 2 usage error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"demo": runDemo, "run": runDaemon, "baseline": runBaseline, "replay": runReplay,
		"version": runVersion, "--version": runVersion, "-version": runVersion,
		"healthcheck": runHealthcheck, "report": runReport,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "driftwatch: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "driftwatch %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "driftwatch %s: %v\n", args[0], err)
		return 1
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// newLogger returns a logger writing to w at level, as text or JSON
// (format "auto": text when w is a terminal, JSON otherwise, as in a
// container or under a log collector).
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" || format == "auto" && !isTerminal(w) {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	var opts demo.Options
	fs.StringVar(&opts.Out, "out", "driftwatch-demo", "directory for baselines, reference data and metric rows")
	fs.Int64Var(&opts.Seed, "seed", 1, "seed of the synthetic serving stack")
	fs.IntVar(&opts.RecordsPerWindow, "records-per-window", 0, "records per model per window (0: 4000)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	_, err := demo.Run(ctx, stdout, newLogger(stderr, "warn", "text"), opts)
	return err
}

func runBaseline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return runBaselineList(args[1:], stdout, stderr)
		case "promote":
			return runBaselinePromote(args[1:], stdout, stderr)
		}
	}
	fs := newFlags("baseline", stderr)
	model := fs.String("model", "", "model the baseline is for (required)")
	input := fs.String("input", "", "reference file: JSON lines of prediction records (.jsonl) or CSV with a header (.csv), optionally .gz (required)")
	outDir := fs.String("out", "baselines", "directory to write the baseline into, as <id>.json")
	version := fs.String("model-version", "", "model version the reference data belongs to (informational)")
	bins := fs.Int("bins", 100, "quantile bins per numeric feature")
	maxCats := fs.Int("max-categories", 1000, "categories kept per categorical feature; the rest are counted as "+baselines.OtherCategory)
	sample := fs.Int("sample-size", baselines.DefaultSampleSize, "reference values kept per feature, in order, for calibrated thresholds (drift.calibration); 0: none")
	mvRows := fs.Int("multivariate-rows", baselines.DefaultMultivariateRows, "reference rows (a uniform sample past it) the multivariate model is fitted on, for the *multivariate rows; 0: no model")
	var sel reference.Select
	fs.StringVar(&sel.Version, "only-version", "", "production baseline: only records of this model_version (JSON lines)")
	fs.DurationVar(&sel.First, "first", 0, "production baseline: only the first period of records, e.g. 24h from the first selected record's event time")
	fs.Int64Var(&sel.Records, "first-records", 0, "production baseline: only the first N selected records of the file")
	from := fs.String("from", "", "production baseline: only records at or after this event time (RFC 3339)")
	until := fs.String("until", "", "production baseline: only records before this event time (RFC 3339)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	for _, t := range []struct {
		flag string
		in   string
		out  *time.Time
	}{{"--from", *from, &sel.From}, {"--until", *until, &sel.Until}} {
		if t.in == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, t.in)
		if err != nil {
			return usageError{fmt.Sprintf("%s: %q is not an RFC 3339 time", t.flag, t.in)}
		}
		*t.out = v
	}
	if sel.First < 0 || sel.Records < 0 {
		return usageError{"--first and --first-records must not be negative"}
	}
	if *version == "" {
		*version = sel.Version
	}
	if *model == "" || *input == "" {
		return usageError{"--model and --input are required"}
	}
	if *sample < 0 {
		return usageError{"--sample-size must not be negative"}
	}
	if *sample == 0 {
		*sample = -1 // BuildOptions: negative means none
	}
	if *mvRows < 0 {
		return usageError{"--multivariate-rows must not be negative"}
	}
	if *mvRows == 0 {
		*mvRows = -1
	}
	source := *input
	if sel != (reference.Select{}) {
		source = "production " + *input
	}
	var read atomic.Int64
	stopProgress := func() {}
	if isTerminal(stderr) {
		stopProgress = readProgress(stderr, *input, &read, time.Second)
	}
	b, sum, err := reference.BuildSelectProgress(*input, *model, baselines.BuildOptions{
		Bins: *bins, MaxCategories: *maxCats, Source: source, ModelVersion: *version, SampleSize: *sample, MultivariateRows: *mvRows,
	}, sel, &read)
	stopProgress()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return fmt.Errorf("create baseline directory: %w", err)
	}
	path := filepath.Join(*outDir, b.ID+".json")
	if err := b.Save(path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "baseline %s\n  model     %s\n  rows      %s", b.ID, b.Model, report.Thousands(sum.Rows))
	if sum.Skipped > 0 || sum.OtherModels > 0 {
		fmt.Fprintf(stdout, " (skipped %s bad rows, %s rows of other models)", report.Thousands(sum.Skipped), report.Thousands(sum.OtherModels))
	}
	if sum.Unselected > 0 {
		fmt.Fprintf(stdout, "\n  selected  %s to %s (left out %s records of the model)", sum.From.Format(time.RFC3339), sum.Until.Format(time.RFC3339), report.Thousands(sum.Unselected))
	}
	if sum.Failed > 0 {
		fmt.Fprintf(stdout, "\n  failed    %s records of failed predictions left out", report.Thousands(sum.Failed))
	}
	if b.Traffic != nil {
		fmt.Fprintf(stdout, "\n  traffic   %s to %s: the expected volume of version %s's windows", b.Traffic.From.Format(time.RFC3339), b.Traffic.Until.Format(time.RFC3339), b.ModelVersion)
	}
	fmt.Fprintf(stdout, "\n  features  %d\n", len(b.Features))
	for _, f := range b.Features {
		fmt.Fprintf(stdout, "            %-24s %s, null rate %.3f%s\n", f.Name, f.Kind, f.NullRate(), describe(&f))
	}
	fmt.Fprintf(stdout, "  prediction %s%s\n  written   %s\n", b.Prediction.Kind, describe(&b.Prediction), path)
	for _, e := range sum.FirstErrors {
		fmt.Fprintf(stderr, "skipped: %s\n", e)
	}
	return nil
}

// runBaselineList prints the baselines of a directory, the one in use per
// model marked.
func runBaselineList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("baseline list", stderr)
	dir := fs.String("dir", "baselines", "directory of baselines")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	all, err := baselines.List(*dir)
	if err != nil {
		return err
	}
	active, err := baselines.InUse(*dir, all)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		fmt.Fprintf(stdout, "no baselines in %s\n", *dir)
		return nil
	}
	fmt.Fprintf(stdout, "  %-44s %-12s %-10s %-20s %10s  %s\n", "id", "model", "version", "created", "rows", "source")
	for _, b := range all {
		mark := " "
		if a := active[b.Model]; a != nil && a.ID == b.ID {
			mark = "*"
		}
		fmt.Fprintf(stdout, "%s %-44s %-12s %-10s %-20s %10s  %s\n", mark, b.ID, b.Model, b.ModelVersion,
			b.CreatedAt.UTC().Format(time.RFC3339), report.Thousands(b.Rows), b.Source)
	}
	fmt.Fprintln(stdout, "* in use: the promoted baseline of its model, else the newest")
	return nil
}

// runBaselinePromote makes a baseline the one its model uses.
func runBaselinePromote(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("baseline promote", stderr)
	dir := fs.String("dir", "baselines", "directory of baselines")
	id := fs.String("id", "", "the baseline to promote (see driftwatch baseline list)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if *id == "" {
		return usageError{"baseline promote: --id is required (see driftwatch baseline list)"}
	}
	b, err := baselines.Promote(*dir, *id)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "baseline %s is now the one model %s uses (restart driftwatch run to pick it up)\n", b.ID, b.Model)
	return nil
}

func describe(f *baselines.Feature) string {
	if f.Kind == baselines.Numeric {
		return fmt.Sprintf(", %d bins, range [%g, %g], mean %.4g", len(f.Edges)+1, f.Min, f.Max, f.Mean)
	}
	return fmt.Sprintf(", %d categories", len(f.Categories))
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	cfgPath := fs.String("config", "", "config file for windows and drift thresholds (optional)")
	baseDir := fs.String("baselines", "", "directory of baselines (default: baselines.dir of the config)")
	input := fs.String("input", "-", "prediction log, JSON lines (CONTRACT.md section 1); - for standard input")
	output := fs.String("output", "-", "metric rows, JSON lines (CONTRACT.md section 3); - for standard output")
	dlqPath := fs.String("dead-letter", "", "where rejected lines go, as JSON lines (CONTRACT.md section 4; default: <output>.dlq.jsonl when the output is a regular file; otherwise, as for standard output or /dev/null, discarded and counted on standard error)")
	labelsPath := fs.String("labels", "", "late labels, JSON lines (CONTRACT.md section 2), joined to their predictions before windows close")
	winPath := fs.String("windows", "", "where each closed window's summary goes, with the distributions behind its rows, as JSON lines for `driftwatch report` (CONTRACT.md section 3, window lines; default: <output>.windows.jsonl when the output is a regular file, none otherwise)")
	quiet := fs.Bool("quiet", false, "no summary on standard error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole replay to this file (read it with go tool pprof)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
	}
	if *baseDir != "" {
		cfg.Baselines.Dir = *baseDir
	}
	base, err := loadBaselines(cfg)
	if err != nil {
		return err
	}

	in := io.Reader(os.Stdin)
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			return fmt.Errorf("open input: %w", err)
		}
		defer f.Close()
		in = f
	}
	var sink *jsonl.Sink
	if *output == "-" {
		sink = jsonl.New(stdout, "standard output")
	} else {
		// A replay's output is the result of that replay only: a regular
		// file is replaced. Anything else (/dev/null, a pipe) is written
		// as it is, and has no file beside it for the dead letters.
		st, err := os.Stat(*output)
		regular := err != nil || st.Mode().IsRegular()
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("output: %w", err)
		}
		if regular {
			if err := os.Remove(*output); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("replace output: %w", err)
			}
			if sink, err = jsonl.Open(*output); err != nil {
				return err
			}
			if *dlqPath == "" {
				*dlqPath = *output + ".dlq.jsonl"
			}
			if *winPath == "" {
				*winPath = *output + ".windows.jsonl"
			}
		} else {
			// Written as a stream, like standard output: no fsync (a
			// device may refuse it) and no reading back.
			f, err := os.OpenFile(*output, os.O_WRONLY, 0)
			if err != nil {
				return fmt.Errorf("open output: %w", err)
			}
			defer f.Close()
			sink = jsonl.New(f, *output)
		}
	}
	defer sink.Close()
	if *winPath != "" {
		if err := os.Remove(*winPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("replace windows file: %w", err)
		}
		if err := sink.KeepWindows(*winPath, nil); err != nil {
			return err
		}
	}
	var dlq io.Writer
	if *dlqPath != "" {
		f, err := os.Create(*dlqPath)
		if err != nil {
			return fmt.Errorf("create dead-letter file: %w", err)
		}
		defer f.Close()
		dlq = f
	}

	var src pipeline.Source = consumer.NewFileSource(memory.DefaultAllocator, in, *input, consumer.FileConfig{
		Baselines: base, MaxRecordBytes: cfg.Kafka.MaxRecordBytes, DedupCapacity: cfg.Kafka.DedupCapacity, DeadLetter: dlq,
		WatermarkOutliers: cfg.Windows.WatermarkOutliers,
	})
	wcfg := windowsConfig(cfg, true)
	var labelFile consumer.LabelFileCounts
	if *labelsPath != "" {
		f, err := os.Open(*labelsPath)
		if err != nil {
			return fmt.Errorf("open labels: %w", err)
		}
		labels, counts, err := consumer.ReadLabels(f, *labelsPath, cfg.Kafka.MaxRecordBytes, dlq)
		f.Close()
		if err != nil {
			return err
		}
		labelFile = counts
		wcfg.Labels = cfg.Labels.Join()
		// Every label of the file is held until its prediction comes: none
		// is dropped for max_pending.
		wcfg.Labels.MaxPending = max(wcfg.Labels.MaxPending, len(labels))
		src = labelsFirst{Source: src, labels: labels}
	}
	def, per := cfg.Policies()
	// Severities by the configured rules, as `run` gives them; alerts are
	// not sent from a replay.
	am, err := alerts.NewManager(alerts.ManagerConfig{Rules: cfg.Alerts.Rules})
	if err != nil {
		return err
	}
	p := &pipeline.Pipeline{
		Alerts:    am,
		Source:    src,
		Windows:   wcfg,
		Evaluator: drift.NewEvaluator(def, per),
		Sink:      sink,
		Log:       newLogger(stderr, cfg.Log.Level, cfg.Log.Format),
	}
	start := time.Now()
	if err := p.Start(ctx); err != nil {
		return err
	}
	var stopProgress func()
	if !*quiet {
		interval := 5 * time.Second // a line each, in a log
		if isTerminal(stderr) {
			interval = time.Second // one line, rewritten in place
		}
		stopProgress = progress(stderr, p, start, interval)
	}
	err = p.Run(ctx)
	if stopProgress != nil {
		stopProgress()
	}
	if err != nil {
		return err
	}
	if !*quiet {
		c := p.Counts()
		dest := *dlqPath
		if dest == "" {
			dest = "nowhere (use --dead-letter)"
		}
		fmt.Fprintf(stderr, "replay: %s\nreplay: %d windows, %s rows to %s, %d records later than the allowed lateness\n",
			report.Source(c.Source, time.Since(start), dest), c.Windows.Closed, report.Thousands(sink.Rows()), *output, c.Windows.Late)
		if *labelsPath != "" {
			l := c.Windows.Labels
			fmt.Fprintf(stderr, "replay: %s labels read, %d rejected; %s joined, %d more than labels.horizon after their prediction, %d for a prediction that carried its label, %d without their prediction\n",
				report.Thousands(labelFile.Labels), labelFile.Lines-labelFile.Labels, report.Thousands(l.Joined), l.BeyondHorizon, l.AlreadyLabelled, l.Expired+l.EvictedLabels+l.Held)
		}
	}
	return nil
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// runVersion prints the version, commit and Go version of this binary, from
// the build information the Go toolchain embeds.
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	bi, ok := debug.ReadBuildInfo()
	fmt.Fprint(stdout, versionText(bi, ok))
	return nil
}

// versionText renders build information: the main module's version
// ("(devel)" for a build from a checkout), the commit (vcs.revision, with
// vcs.modified) and its time, and the Go version and platform.
func versionText(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "driftwatch unknown version (the binary carries no build information)\n"
	}
	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "driftwatch %s\n", version)
	switch rev := set["vcs.revision"]; {
	case rev == "":
		b.WriteString("  commit  unknown (built without version control information)\n")
	case set["vcs.modified"] == "true":
		fmt.Fprintf(&b, "  commit  %s (modified: built with uncommitted changes)\n", rev)
	default:
		fmt.Fprintf(&b, "  commit  %s\n", rev)
	}
	if t := set["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "  time    %s\n", t)
	}
	fmt.Fprintf(&b, "  go      %s %s/%s\n", bi.GoVersion, set["GOOS"], set["GOARCH"])
	return b.String()
}

// labelsFirst sends a replay's labels before the predictions of Source, in
// batches: each window closes with every label of the file that joins it,
// so the output holds one version of each row.
type labelsFirst struct {
	pipeline.Source
	labels []consumer.Label
}

func (s labelsFirst) Run(ctx context.Context, out chan<- consumer.Batch) error {
	const per = 10_000
	for i := 0; i < len(s.labels); i += per {
		b := consumer.Batch{Labels: s.labels[i:min(i+per, len(s.labels))], Ack: func(error) {}}
		select {
		case out <- b:
		case <-ctx.Done():
			close(out)
			return ctx.Err()
		}
	}
	return s.Source.Run(ctx, out)
}

// progress prints the pipeline's counts to w every interval until the
// returned stop is called (see every).
func progress(w io.Writer, p *pipeline.Pipeline, start time.Time, interval time.Duration) (stop func()) {
	return every(w, interval, func() string {
		c := p.Counts()
		el := time.Since(start)
		return fmt.Sprintf("replay: %s records (%s/s), %d windows closed, %d open", report.Thousands(c.Source.Records),
			report.Thousands(int64(float64(c.Source.Records)/el.Seconds())), c.Windows.Closed, c.Windows.Open)
	})
}

// readProgress shows how much of the file at path has been read (read
// bytes of its size) every interval until stop is called.
func readProgress(w io.Writer, path string, read *atomic.Int64, interval time.Duration) (stop func()) {
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	start := time.Now()
	return every(w, interval, func() string {
		n := read.Load()
		line := fmt.Sprintf("baseline: read %s of %s", mib(n), filepath.Base(path))
		if size > 0 {
			line += fmt.Sprintf(" (%.0f%% of %s)", 100*float64(n)/float64(size), mib(size))
		}
		return line + fmt.Sprintf(", %s/s", mib(int64(float64(n)/time.Since(start).Seconds())))
	})
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// every writes line() to w each interval until the returned stop is
// called; stop waits for the writing goroutine to end. On a terminal the
// line is rewritten in place and cleared at the end, so that what follows
// starts on a clean line; elsewhere (a file, a log collector) each is a
// line of its own.
func every(w io.Writer, interval time.Duration, line func() string) (stop func()) {
	tty := isTerminal(w)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		shown := false
		for {
			select {
			case <-done:
				if shown {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-t.C:
				if tty {
					fmt.Fprintf(w, "\r\033[K%s", line())
					shown = true
				} else {
					fmt.Fprintln(w, line())
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// startAlerts sets p.Alerts from cfg.Alerts: the rules, delivery to
// Alertmanager when URLs are set, the retrain and rollback triggers when a
// webhook or topic is set, and the audit trail when the sink keeps one.
// Their goroutines stop (flushing what is queued) when stop is called; on
// an error they are stopped already. It registers the alerts' metrics on
// reg.
func startAlerts(ctx context.Context, cfg *config.Config, p *pipeline.Pipeline, sink sinks.Sink, silences *alerts.Silences, reg prometheus.Registerer, log *slog.Logger, kopts []kgo.Opt) (stop func(), err error) {
	mc := alerts.ManagerConfig{Rules: cfg.Alerts.Rules, DashboardURL: cfg.Alerts.DashboardURL, RunbookURL: cfg.Alerts.RunbookURL, Labels: cfg.Alerts.Labels, Log: log, Silences: silences,
		Receiver: strings.Join(cfg.Alerts.Alertmanager.URLs, ","), Retrain: cfg.Alerts.Actions.Retrain, Rollback: cfg.Alerts.Actions.Rollback}
	if w, ok := sink.(interface {
		WriteAlertHistory(context.Context, []sinks.AlertRecord) error
	}); ok {
		mc.Audit = w.WriteAlertHistory
	}
	var stops []func()
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	stop = stopAll
	defer func() {
		if err != nil {
			stopAll() // stop is nil on the error returns
		}
	}()
	// spawn runs run on a goroutine of its own until stop, which cancels it
	// and waits for it (after what was spawned later has stopped).
	spawn := func(what string, run func(context.Context) error) {
		runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := run(runCtx); err != nil {
				log.Warn(what+" stopped", "err", err)
			}
		}()
		stops = append(stops, func() { cancel(); <-done })
	}
	var client *alertmanager.Client
	if a := cfg.Alerts.Alertmanager; len(a.URLs) > 0 {
		var err error
		client, err = alertmanager.New(alertmanager.Config{URLs: a.URLs, ResendInterval: a.ResendInterval, Timeout: a.Timeout, QueueSize: a.QueueSize,
			RetryMax: a.RetryMax, MinFiring: a.MinFiring,
			OnDelivery: func(d alertmanager.Delivery) {
				if d.Err != nil {
					log.Warn("alert delivery failed", "url", d.URL, "alertname", d.Alert.Labels["alertname"], "model", d.Alert.Labels["model"],
						"subject", d.Alert.Labels["subject"], "resolved", d.Resolved, "attempt", d.Attempt, "dropped", d.Dropped, "err", d.Err)
				}
			}})
		if err != nil {
			return nil, fmt.Errorf("alerts.alertmanager: %w", err)
		}
		mc.Notifier = client
		spawn("alertmanager client", client.Run)
		log.Info("alerts to alertmanager", "urls", a.URLs, "resend_interval", a.ResendInterval)
	}
	if a := cfg.Alerts.Actions; a.WebhookURL != "" || a.Topic != "" {
		ac := actions.Config{WebhookURL: a.WebhookURL, Topic: a.Topic, Interval: a.Interval,
			OnDelivery: func(d actions.Delivery) {
				if d.Err != nil {
					log.Warn("action delivery failed", "action", d.Action.Kind, "model", d.Action.Model, "model_version", d.Action.ModelVersion,
						"destination", d.Destination, "attempt", d.Attempt, "dropped", d.Dropped, "err", d.Err)
				}
			}}
		if a.WebhookURL != "" {
			if ac.Secret = []byte(os.Getenv(a.WebhookSecretEnv)); len(ac.Secret) == 0 {
				return nil, fmt.Errorf("alerts.actions.webhook_secret_env: environment variable %s is empty", a.WebhookSecretEnv)
			}
		}
		if a.Topic != "" {
			kcl, err := kgo.NewClient(append(slices.Clone(kopts), kgo.DefaultProduceTopic(a.Topic))...)
			if err != nil {
				return nil, fmt.Errorf("alerts.actions.topic: producer: %w", err)
			}
			stops = append(stops, kcl.Close) // after the dispatcher has stopped
			ac.Client = kcl
		}
		d, err := actions.New(ac)
		if err != nil {
			return nil, fmt.Errorf("alerts.actions: %w", err)
		}
		if l, ok := sink.(interface {
			LoadActions(context.Context, time.Time) ([]sinks.AlertRecord, error)
		}); ok {
			recent, err := l.LoadActions(ctx, time.Now().Add(-a.Interval))
			if err != nil {
				return nil, err
			}
			for _, r := range recent { // one per version per interval, across restarts
				d.Restore(strings.TrimPrefix(r.State, "action:"), r.Model, r.Version, r.SentAt)
			}
		}
		mc.Trigger = d.Trigger
		mc.ActionReceiver = strings.Trim(a.WebhookURL+","+a.Topic, ",")
		spawn("action dispatcher", d.Run)
		log.Info("retrain and rollback triggers", "webhook", a.WebhookURL, "topic", a.Topic, "interval", a.Interval)
	}
	firing, loadsFiring := sink.(interface {
		LoadFiringAlerts(context.Context) ([]sinks.AlertRecord, error)
	})
	if loadsFiring && cfg.Kafka.ScaleOut.Enabled {
		// A model's alerts follow the instance that merges its windows.
		mc.Load = func(ctx context.Context, model string) ([]sinks.AlertRecord, error) {
			recs, err := firing.LoadFiringAlerts(ctx)
			return slices.DeleteFunc(recs, func(r sinks.AlertRecord) bool { return r.Model != model }), err
		}
	}
	m, err := alerts.NewManager(mc)
	if err != nil {
		return nil, err
	}
	p.Alerts = m
	if loadsFiring && mc.Load == nil { // scaled out, Own reads them back per model
		recs, err := firing.LoadFiringAlerts(ctx)
		if err != nil {
			return nil, err
		}
		m.Restore(recs)
	}
	spawn("alert audit trail", m.Run)
	silenceLoader, _ := sink.(interface {
		LoadSilences(context.Context, time.Time) ([]sinks.Silence, error)
	})
	if silenceLoader != nil {
		if err := refreshSilences(ctx, silenceLoader, silences); err != nil {
			return nil, err
		}
	}
	spawn("silences", func(ctx context.Context) error {
		// Silences made on other instances are read every silenceEvery;
		// alerts whose silence ended are sent.
		t := time.NewTicker(silenceEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
			if silenceLoader != nil {
				if err := refreshSilences(ctx, silenceLoader, silences); err != nil && ctx.Err() == nil {
					log.Warn("silences not read; the ones known stay", "err", err)
				}
			}
			m.Unmute(time.Now())
		}
	})
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftwatch_alerts_firing", Help: "Alerts firing now."},
			func() float64 { return float64(m.Counts().Firing) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_alerts_fired_total", Help: "Alerts that fired."},
			func() float64 { return float64(m.Counts().Fired) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_alerts_resolved_total", Help: "Alerts that resolved."},
			func() float64 { return float64(m.Counts().Resolved) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_alerts_audit_dropped_total", Help: "Audit-trail records dropped while alert_history could not be written."},
			func() float64 { return float64(m.Counts().AuditDropped) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_alerts_silenced_total", Help: "Alerts that fired while a silence matched them: not sent, no action."},
			func() float64 { return float64(m.Counts().Silenced) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "driftwatch_silences_active", Help: "Silences of driftwatch's alerts in effect now."},
			func() float64 { return float64(len(silences.Active(time.Now()))) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_alerts_resolutions_forgotten_total", Help: "Resolutions the alert engine forgot to stay bounded (it keeps 10,000): rows re-emitted for windows before them may fire an alert again."},
			func() float64 { return float64(m.Counts().ResolvedForgotten) }),
	)
	if client != nil {
		total := func(f func(alertmanager.URLStats) uint64) func() float64 {
			return func() float64 { return float64(f(client.Stats().Total())) }
		}
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_alertmanager_sent_total", Help: "Alert posts Alertmanager accepted, over every URL."},
				total(func(s alertmanager.URLStats) uint64 { return s.Sent })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_alertmanager_failed_total", Help: "Failed alert posts (each retry counts), over every URL."},
				total(func(s alertmanager.URLStats) uint64 { return s.Failed })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "driftwatch_alertmanager_dropped_total", Help: "Alert deliveries given up (queue full, rejected), over every URL."},
				total(func(s alertmanager.URLStats) uint64 { return s.Dropped })),
		)
	}
	return stop, nil
}

func windowsConfig(cfg *config.Config, flushAtEnd bool) windows.Config {
	return windows.Config{
		Size: cfg.Windows.Size, Hop: cfg.Windows.Hop, Lateness: cfg.Windows.AllowedLateness,
		MaxCategories: cfg.Windows.MaxCategories, MaxOpenWindows: cfg.Windows.MaxOpen, FlushAtEnd: flushAtEnd, SampleRows: cfg.Windows.Samples(),
		Decision: windows.Decision{Threshold: cfg.Fairness.DecisionThreshold, Positive: cfg.Fairness.Positive},
		Variants: cfg.VariantRoles(),
	}
}

// loadBaselines is loadBaselineSet that fails when there is no baseline.
func loadBaselines(cfg *config.Config) (map[string]*baselines.Baseline, error) {
	base, err := loadBaselineSet(cfg)
	if err == nil && len(base) == 0 {
		err = errNoBaselines(cfg)
	}
	return base, err
}

func errNoBaselines(cfg *config.Config) error {
	return fmt.Errorf("no baselines found in %q: build one with 'driftwatch baseline --model NAME --input FILE --out %s'", cfg.Baselines.Dir, cfg.Baselines.Dir)
}

// loadBaselineSet loads the newest baseline per model from the baselines
// directory, then the files named per model, which take precedence.
func loadBaselineSet(cfg *config.Config) (map[string]*baselines.Baseline, error) {
	base := make(map[string]*baselines.Baseline)
	if cfg.Baselines.Dir != "" {
		if _, err := os.Stat(cfg.Baselines.Dir); err == nil {
			if base, err = baselines.LoadDir(cfg.Baselines.Dir); err != nil {
				return nil, err
			}
		}
	}
	var all []*baselines.Baseline
	for name, m := range cfg.Models {
		var b *baselines.Baseline
		switch {
		case m.Baseline != "":
			var err error
			if b, err = baselines.Load(m.Baseline); err != nil {
				return nil, err
			}
		case m.BaselineID != "":
			if all == nil {
				var err error
				if all, err = baselines.List(cfg.Baselines.Dir); err != nil {
					return nil, err
				}
			}
			i := slices.IndexFunc(all, func(b *baselines.Baseline) bool { return b.ID == m.BaselineID })
			if i < 0 {
				return nil, fmt.Errorf("models.%s.baseline_id: no baseline %s in %s (see driftwatch baseline list --dir %s)", name, m.BaselineID, cfg.Baselines.Dir, cfg.Baselines.Dir)
			}
			b = all[i]
		default:
			continue
		}
		if b.Model != name {
			return nil, fmt.Errorf("models.%s: baseline %s is a baseline of model %q", name, b.ID, b.Model)
		}
		base[name] = b
		baselines.DropVersions(base, name) // the configured baseline serves every version
	}
	return base, nil
}

// runDaemon runs the daemon until ctx ends (a signal) or it fails. A stop
// before it finished starting is an orderly stop too, not a failure.
func runDaemon(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := daemon(ctx, args, stdout, stderr)
	if err != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.Cause(ctx))) {
		fmt.Fprintf(stderr, "driftwatch run: stopped while starting (%v)\n", context.Cause(ctx))
		return nil
	}
	return err
}

func daemon(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	cfgPath := fs.String("config", "", "config file (required)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if *cfgPath == "" {
		return usageError{"--config is required"}
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	kopts, err := kafkaOpts(cfg.Kafka, os.Getenv) // a bad TLS or SASL setting fails before the sink opens
	if err != nil {
		return err
	}
	stamp, _, _ := dirStamp(cfg.Baselines.Dir) // before the load: a change between the two is seen at the first look
	base, err := loadBaselineSet(cfg)
	if err != nil {
		return err
	}
	if len(base) == 0 {
		if cfg.Baselines.Reload <= 0 {
			return errNoBaselines(cfg)
		}
		// A first deployment: records are dead-lettered (no_baseline) until
		// a baseline arrives, e.g. built through the API from the first
		// production period, which the topic still holds.
		log.Warn("no baselines yet: every record is dead-lettered as no_baseline until one is built (POST /api/v1/baselines, or driftwatch baseline into the directory)",
			"dir", cfg.Baselines.Dir)
	}
	live := baselines.NewLive(base)
	wcfg := windowsConfig(cfg, false)
	hop := wcfg.Hop
	if hop <= 0 {
		hop = wcfg.Size
	}
	reloader := newBaselineReloader(cfg, live, hop, log, stamp)
	// /readyz answers from the start, with what keeps run from being ready;
	// the servers are retried until startup_timeout.
	reg := prometheus.NewRegistry()
	h := &health{}
	seen := &api.Models{}          // the model versions committed, for the API
	silences := &alerts.Silences{} // of the alerts, made through the API
	var apiServer *api.Server
	if cfg.HTTP.Listen != "" {
		ln, err := net.Listen("tcp", cfg.HTTP.Listen)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.HTTP.Listen, err)
		}
		guard, err := httpGuard(cfg.HTTP.Auth, log)
		if err != nil {
			ln.Close()
			return err
		}
		apiServer = &api.Server{Guard: guard, Baselines: cfg.Baselines.Dir, Models: seen, Log: log, Switch: reloader.Check, Silences: silences,
			StoreComing: cfg.Sinks.ClickHouse.Enabled, Build: periodBuilder(cfg, kopts), Report: apiReport(cfg)}
		buildCtx, stopBuilds := context.WithCancel(ctx)
		apiServer.BuildCtx = buildCtx
		defer func() { stopBuilds(); apiServer.Wait() }() // baseline builds stop with run
		// Each route is guarded by its handler: the API route by route
		// (package api), the KServe endpoint by its own tokens.
		routes := map[string]http.Handler{"/api/v1/": apiServer.Handler()}
		kh, closeKServe, err := kserveEndpoint(cfg, log, kopts)
		if err != nil {
			ln.Close()
			return err
		}
		defer closeKServe()
		if kh != nil {
			routes[cfg.KServe.HTTPPath] = kh
		}
		stop, err := serveHTTP(ln, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), h, cfg.HTTP, guard, routes)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
		log.Info("serving metrics", "addr", ln.Addr().String())
	}
	startDeadline := time.Now().Add(cfg.StartupTimeout)
	var (
		sink      sinks.Sink
		retryable func(error) bool
	)
	sinkName, sinkServer := "jsonl sink", "jsonl sink "+cfg.Sinks.JSONL.Path
	if cfg.Sinks.ClickHouse.Enabled {
		sinkName, sinkServer = "clickhouse", clickhouseServer(cfg.Sinks.ClickHouse)
	}
	if err := reach(ctx, log, h, sinkName, startDeadline, cfg.StartupTimeout, func(ctx context.Context) error {
		var openErr error
		if sink, retryable, openErr = openSink(ctx, cfg, log); openErr != nil {
			return serverError(sinkServer, openErr)
		}
		return nil
	}); err != nil {
		return err
	}
	defer sink.Close()
	if st, ok := sink.(api.Store); ok && apiServer != nil {
		apiServer.SetStore(st)
	}
	reloader.recordWith(func(ctx context.Context, set map[string]*baselines.Baseline) error {
		return recordBaselines(ctx, sink, set)
	})
	if err := recordBaselines(ctx, sink, live.Load()); err != nil { // also one promoted through the API meanwhile
		return err
	}
	k := cfg.Kafka
	kc := consumer.KafkaConfig{
		Topic: k.Topic, DeadLetterTopic: k.DeadLetterTopic, Group: k.Group, Baselines: base, Live: live,
		MaxRecordBytes: k.MaxRecordBytes, MaxFuture: k.MaxFuture, DedupCapacity: k.DedupCapacity, StartAtEnd: k.StartAtEnd,
		IdleTimeout: k.IdleTimeout, MaxPollRecords: k.MaxPollRecords,
		LabelsTopic: cfg.Labels.Topic, LabelsDeadLetterTopic: cfg.Labels.DeadLetterTopic,
		WatermarkOutliers: cfg.Windows.WatermarkOutliers,
	}
	// A sink that keeps a dead-letter audit (ClickHouse's dead_letters)
	// gets every dead letter too; its offset commits after both writes.
	var p *pipeline.Pipeline
	dw, audited := sink.(interface {
		WriteDeadLetters(context.Context, []sinks.DeadLetter) error
	})
	if audited {
		kc.Audit = func(d consumer.DeadLetter, done func(error)) { p.Audit(d, done) }
	}
	kc.Paused = func() <-chan struct{} { return p.Paused() } // reading pauses while the sink fails
	if _, ok := sink.(pipeline.Resumer); ok {
		// Nothing read before a revocation is written after it: the sink
		// holds what was written when the partitions' next owner reads it.
		kc.Fence = func(gen int64) { p.Fence(gen) }
	}
	if cfg.Labels.Topic != "" {
		wcfg.Labels = cfg.Labels.Join()
	}
	resolve := liveByID(live, cfg.Baselines.Dir)
	wcfg.Baselines, wcfg.Live = resolve, live // the merge's deltas name theirs; a swap applies from a window start
	// Alone, one source reads the topics; scaled out, the fold reads them
	// and the source reads the partials topic (scaleOut), created once
	// the brokers answer.
	var (
		src  *consumer.Kafka
		fold *consumer.Fold
		ping func(context.Context) error
	)
	if k.ScaleOut.Enabled {
		pc, err := kgo.NewClient(kopts...)
		if err != nil {
			return err
		}
		defer pc.Close()
		ping = pc.Ping
	} else {
		if src, err = consumer.NewKafka(memory.DefaultAllocator, log, kc, kopts...); err != nil {
			return err
		}
		ping = src.Ping
	}
	if err := reach(ctx, log, h, "kafka", startDeadline, cfg.StartupTimeout, func(ctx context.Context) error {
		return kafkaPing(ctx, k, ping)
	}); err != nil {
		if src != nil {
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = src.Close(closeCtx) // nothing was read: nothing to commit
		}
		return err
	}
	// KServe's logger events become records on kafka.topic, from a group
	// of their own (consumer/kserve).
	conv, err := newKServeConverter(cfg, log, kopts)
	if err != nil {
		return err
	}
	if conv != nil {
		defer func() { // when run fails before it ran; else a no-op
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = conv.Close(closeCtx)
		}()
	}
	var source pipeline.Source = src
	if k.ScaleOut.Enabled {
		if fold, src, err = scaleOut(ctx, log, k, kc, wcfg, kopts); err != nil {
			return err
		}
		defer fold.Close()
		source = scaleSource{src, fold}
	}
	def, per := cfg.Policies()
	p = &pipeline.Pipeline{
		Source:       source,
		Windows:      wcfg,
		BaselineByID: resolve,
		Evaluator:    drift.NewEvaluator(def, per),
		Sink:         sink,
		Log:          log,
		Retry:        &pipeline.Retry{Initial: cfg.Sinks.Retry.Initial, Max: cfg.Sinks.Retry.Max, Retryable: retryable},
		OnCommit: func(res pipeline.Result) {
			switch {
			case res.Window != nil:
				w := res.Window
				seen.Observe(w.Model, w.Version, w.Start)
				log.Info("window committed", "model", w.Model, "model_version", w.Version,
					"window_start", w.Start, "records", w.Records, "verdict", report.Verdict(res.Rows))
			case res.Late != nil:
				log.Warn("records after their window closed", "model", res.Late.Model, "model_version", res.Late.Version,
					"window_start", res.Late.Start, "records", res.Late.Records)
			default:
				for _, w := range res.Relabel {
					log.Info("window re-evaluated with late labels", "model", w.Model, "model_version", w.Version,
						"window_start", w.Start, "labels", w.Labels.Count, "records", w.Records)
				}
			}
		},
	}
	if audited {
		p.DeadLetters = dw.WriteDeadLetters
	}
	// Rows a table cannot hold (a time out of range) are left out or
	// clamped, counted and logged once per insert (sinks/clickhouse).
	if cs, ok := sink.(*clickhouse.Sink); ok {
		cs.Instrument(reg, log)
		p.Retry.Invalid = clickhouse.IsRowError // a row no column can hold is skipped, not retried forever
	}
	stopAlerts, err := startAlerts(ctx, cfg, p, sink, silences, reg, log, kopts)
	if err != nil {
		return err
	}
	defer stopAlerts()
	if err := p.Start(ctx); err != nil {
		return err
	}
	// go_gc_heap_live_bytes (the heap the last GC found live) besides the
	// memstats: the figure that shows whether memory stays flat.
	reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.GoRuntimeMetricsRule{Matcher: liveHeap})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pipeline.RegisterMetrics(reg, p)
	watched := []watchedTopic{{k.Group, k.Topic}}
	if cfg.Labels.Topic != "" {
		watched = append(watched, watchedTopic{k.Group, cfg.Labels.Topic})
	}
	if fold != nil {
		watched = append(watched, watchedTopic{consumer.MergeGroup(k.Group), consumer.PartialsTopic(k.Group)})
		registerScaleOutMetrics(reg, fold, src)
	}
	if conv != nil {
		watched = append(watched, watchedTopic{kserveGroup(k.Group), cfg.KServe.Topic})
		kserve.RegisterMetrics(reg, conv)
	}
	stopTopicWatch, err := startTopicWatch(ctx, log, reg, kopts, watched)
	if err != nil {
		return err
	}
	defer stopTopicWatch()
	h.started(p)
	watchCtx, stopWatch := context.WithCancel(ctx)
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		watchKafka(watchCtx, log, h, k, kafkaProbeEvery, src.Ping)
	}()
	defer func() { stopWatch(); <-probed }()
	reloadCtx, stopReload := context.WithCancel(ctx)
	reloaded := make(chan struct{})
	go func() {
		defer close(reloaded)
		reloader.run(reloadCtx)
	}()
	defer func() { stopReload(); <-reloaded }()
	log.Info("consuming", "brokers", k.Brokers, "topic", k.Topic, "labels_topic", cfg.Labels.Topic, "group", k.Group, "models", len(base),
		"kserve_topic", cfg.KServe.Topic, "tls", k.TLS.Enabled, "sasl_mechanism", k.SASL.Mechanism)
	g, gctx := errgroup.WithContext(ctx)
	if fold != nil {
		g.Go(func() error { return fold.Run(gctx) })
	}
	if conv != nil {
		g.Go(func() error { return conv.Run(gctx) })
	}
	g.Go(func() error { return p.Run(gctx) })
	runErr := g.Wait()
	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conv != nil {
		if err := conv.Close(closeCtx); err != nil && runErr == nil {
			runErr = err
		}
	}
	if err := src.Close(closeCtx); err != nil && runErr == nil {
		runErr = err
	}
	c := p.Counts()
	log.Info("stopped", "records", c.Source.Records, "windows_closed", c.Windows.Closed,
		"windows_open_dropped", c.Windows.Open, "records_resumed", c.Windows.Resumed)
	return runErr
}

// liveHeap selects the runtime metric /gc/heap/live:bytes.
var liveHeap = regexp.MustCompile(`^/gc/heap/live:bytes$`)

// recordBaselines writes the baselines in use to the sink's baselines table,
// when it has one, so that dashboards can show what each window was
// compared with.
func recordBaselines(ctx context.Context, sink sinks.Sink, base map[string]*baselines.Baseline) error {
	bw, ok := sink.(interface {
		WriteBaselines(context.Context, []*baselines.Baseline, string) error
	})
	if !ok {
		return nil
	}
	names := slices.Sorted(maps.Keys(base))
	bs := make([]*baselines.Baseline, 0, len(names))
	for _, n := range names {
		if !slices.Contains(bs, base[n]) { // a baseline may serve a model and a version
			bs = append(bs, base[n])
		}
	}
	if err := bw.WriteBaselines(ctx, bs, ""); err != nil {
		return fmt.Errorf("record baselines in use: %w", err)
	}
	return nil
}

// openSink opens the configured sink of run: ClickHouse when enabled
// (migrating its schema), else the JSON-lines file. retryable says which
// commit errors are worth retrying; nil means all.
func openSink(ctx context.Context, cfg *config.Config, log *slog.Logger) (sinks.Sink, func(error) bool, error) {
	ch := cfg.Sinks.ClickHouse
	if !ch.Enabled {
		s, err := jsonl.Open(cfg.Sinks.JSONL.Path)
		return s, nil, err
	}
	password := ch.Password
	if ch.PasswordEnv != "" {
		password = os.Getenv(ch.PasswordEnv)
	}
	c := clickhouse.Config{
		Addr: ch.Addr, Database: ch.Database, Username: ch.Username, Password: clickhouse.Secret(password),
		TLS:         clickhouse.TLS{Enabled: ch.TLS.Enabled, CAFile: ch.TLS.CAFile, ServerName: ch.TLS.ServerName, InsecureSkipVerify: ch.TLS.InsecureSkipVerify},
		DialTimeout: ch.DialTimeout, CommitTimeout: ch.CommitTimeout,
	}
	s, err := clickhouse.Open(ctx, c)
	if err != nil {
		return nil, nil, fmt.Errorf("open clickhouse sink (%v): %w", c, err)
	}
	log.Info("writing to clickhouse", "config", c, "server_version", s.ServerVersion().String())
	return s, clickhouse.IsRetryable, nil
}

// silenceEvery is how often run reads the silences back from ClickHouse
// (those made through another instance's API) and sends the alerts whose
// silence ended.
const silenceEvery = 10 * time.Second

// refreshSilences reads the silences that have not ended from the store
// into silences.
func refreshSilences(ctx context.Context, l interface {
	LoadSilences(context.Context, time.Time) ([]sinks.Silence, error)
}, silences *alerts.Silences) error {
	got, err := l.LoadSilences(ctx, time.Now().Add(-24*time.Hour)) // those expired elsewhere too
	if err != nil {
		return fmt.Errorf("read silences: %w", err)
	}
	for _, s := range got {
		silences.Put(s)
	}
	return nil
}
