package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/driftwatch/driftwatch/internal/api"
	"github.com/driftwatch/driftwatch/internal/config"
	"github.com/driftwatch/driftwatch/internal/report"
	"github.com/driftwatch/driftwatch/internal/report/html"
	"github.com/driftwatch/driftwatch/internal/report/load"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// reportDays is the period a report covers by default: the weekly report.
const reportDays = 7

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	model := fs.String("model", "", "the model to report on (required)")
	version := fs.String("version", "", "only this model version (default: every version with rows in the period)")
	fromS := fs.String("from", "", "start of the period, RFC 3339 or a date (default: --to less 7 days; with --metrics, the file's first window)")
	toS := fs.String("to", "", "end of the period, exclusive, RFC 3339 or a date (default: now; with --metrics, the file's last window)")
	out := fs.String("out", "", "the HTML file to write (default: <model>-report.html, <model>-card.html with --card); a directory: <model>-report-<from>-<to>.html in it, for an archive of weekly reports; - for standard output")
	days := fs.Int("days", reportDays, "the period's length in days when --from is not given (from ClickHouse)")
	cardOnly := fs.Bool("card", false, "the model card alone")
	metrics := fs.String("metrics", "", "read metric rows from this JSON-lines file of replay or the file sink (CONTRACT.md section 3) instead of ClickHouse")
	windowsPath := fs.String("windows", "", "with --metrics: window lines with distributions (default: <metrics>.windows.jsonl, if it exists)")
	baseDir := fs.String("baselines", "", "with --metrics: directory of baselines, for the model card (default: baselines.dir of the config)")
	cfgPath := fs.String("config", "", "config file: ClickHouse to read from (sinks.clickhouse), and the model's drift policy")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if *model == "" {
		return usageError{"--model is required"}
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
	}
	from, err := reportTime("--from", *fromS)
	if err != nil {
		return err
	}
	to, err := reportTime("--to", *toS)
	if err != nil {
		return err
	}
	var in html.Input
	if *metrics != "" {
		if *windowsPath == "" {
			*windowsPath = load.WindowsBeside(*metrics)
		}
		if *baseDir == "" {
			*baseDir = cfg.Baselines.Dir
		}
		if _, err := os.Stat(*baseDir); err != nil {
			*baseDir = ""
		}
		if in, err = load.Files(*metrics, *windowsPath, *baseDir, *model, from, to); err != nil {
			return err
		}
		if *version != "" {
			in.Versions = []string{*version}
		}
	} else {
		if !cfg.Sinks.ClickHouse.Enabled {
			return usageError{"give --metrics FILE, or --config with sinks.clickhouse.enabled to read from ClickHouse"}
		}
		if to.IsZero() {
			to = time.Now().UTC().Truncate(time.Hour)
		}
		if *days < 1 {
			return usageError{fmt.Sprintf("--days %d: want at least 1", *days)}
		}
		if from.IsZero() {
			from = to.AddDate(0, 0, -*days)
		}
		sink, _, err := openSink(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			return err
		}
		defer sink.Close()
		store, ok := sink.(load.Store)
		if !ok {
			return fmt.Errorf("the configured sink cannot be read for a report")
		}
		if in, err = load.FromStore(ctx, store, *model, *version, from, to); err != nil {
			return err
		}
		in.Source = "ClickHouse " + strings.Join(cfg.Sinks.ClickHouse.Addr, ",") + "/" + cfg.Sinks.ClickHouse.Database
	}
	in.Policy = policyOf(cfg, *model)
	in.CardOnly = *cardOnly
	kind := "report"
	if *cardOnly {
		kind = "card"
	}
	if *out == "" {
		*out = *model + "-" + kind + ".html"
	} else if st, err := os.Stat(*out); err == nil && st.IsDir() {
		*out = filepath.Join(*out, fmt.Sprintf("%s-%s-%s-%s.html", *model, kind, stamp(in.From), stamp(in.To)))
	}
	if *out == "-" {
		return html.Write(stdout, in)
	}
	return writeReport(*out, in, stdout)
}

// writeReport writes the page to a temporary file beside path, then
// renames it: a reader (a web server, a CronJob's copy) never sees half a
// report.
func writeReport(path string, in html.Input, stdout io.Writer) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create report: %w", err)
	}
	defer os.Remove(f.Name())
	if err := html.Write(f, in); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	what := "report"
	if in.CardOnly {
		what = "model card"
	}
	var rows int64
	for _, r := range in.Rows {
		if r.Model == in.Model {
			rows++
		}
	}
	fmt.Fprintf(stdout, "wrote the %s of %s (%s metric rows, %d windows with distributions) to %s\n", what, in.Model, report.Thousands(rows), len(in.Windows), path)
	return nil
}

// stamp names a period's bound in a file name: the date, and the time
// when it is not midnight; "open" when unset.
func stamp(t time.Time) string {
	switch {
	case t.IsZero():
		return "open"
	case t.Equal(t.Truncate(24 * time.Hour)):
		return t.UTC().Format("2006-01-02")
	}
	return t.UTC().Format("2006-01-02T1504Z")
}

// reportTime parses a period's bound: RFC 3339, or a date (midnight UTC).
func reportTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{fmt.Sprintf("%s %q: want RFC 3339 (2026-11-23T00:00:00Z) or a date (2026-11-23)", flag, strings.TrimSpace(s))}
}

// policyOf is model's drift policy in cfg.
func policyOf(cfg *config.Config, model string) drift.Policy {
	def, per := cfg.Policies()
	if p, ok := per[model]; ok {
		return p
	}
	return def
}

// apiReport writes the report of GET /api/v1/report from the API's store
// (ClickHouse), with the model's policy.
func apiReport(cfg *config.Config) func(ctx context.Context, st api.Store, w io.Writer, q api.ReportQuery) error {
	return func(ctx context.Context, st api.Store, w io.Writer, q api.ReportQuery) error {
		ls, ok := st.(load.Store)
		if !ok {
			return errors.New("the store cannot be read for a report")
		}
		in, err := load.FromStore(ctx, ls, q.Model, q.Version, q.From, q.To)
		if err != nil {
			return err
		}
		in.Policy, in.CardOnly = policyOf(cfg, q.Model), q.Card
		in.Source = "ClickHouse " + strings.Join(cfg.Sinks.ClickHouse.Addr, ",") + "/" + cfg.Sinks.ClickHouse.Database
		if err := html.Write(w, in); errors.Is(err, html.ErrNoRows) {
			return fmt.Errorf("%w: %w", api.ErrNoData, err)
		} else if err != nil {
			return err
		}
		return nil
	}
}
