// Package clickhouse is a sink that writes drift metric rows (CONTRACT.md
// section 3) to the ClickHouse table drift_metrics over the native protocol
// (clickhouse-go/v2), and owns driftwatch's ClickHouse schema. Beside the
// rows it keeps a summary of each closed window (window_summaries, written
// in the same Commit, after the rows, with the distributions behind the
// window's distances), what the late-label join needs after a restart
// (each window's label base with its summary, prediction_keys and labels,
// written in the same Commit and read back by LoadLabelJoin; the windows'
// record counts are read back by LoadWindowVolumes, the volume history of
// drift.Evaluator), and, when
// asked, an audit of dead letters (WriteDeadLetters) and the baselines in
// use (WriteBaselines). Readers (the HTTP API, reports) read rows,
// verdicts, window summaries, baselines and the alert audit trail back
// (Rows, Verdicts, Windows, Baselines, AlertHistory).
//
// Open connects, reads the server version, and applies the embedded,
// numbered migrations (migrations/NNNN_name.sql) that the database has not
// recorded in schema_migrations: drift_metrics (and the view
// drift_metrics_latest), window_summaries, baselines, dead_letters,
// alert_history, for the late-label join window_summaries.label_state,
// prediction_keys and labels, and the rest of CONTRACT.md section 5. The
// DDL is rendered for the server's version (Features):
// Debian bookworm's ClickHouse 18.16 gets plain String, DateTime and no
// codecs or TTL; 20.3 and later get LowCardinality, DateTime64(3), codecs
// and TTL; 22.3 and later also insert deduplication tokens. A table keeps
// the shape it was created with: upgrading the server does not rewrite it.
//
// A retried commit never double-counts. Every table is a ReplacingMergeTree
// whose sorting key is the row's identity (for drift_metrics: model,
// model_version, window_start, family, subject, metric; for
// window_summaries: model, model_version, window_start; for dead_letters:
// topic, kafka_partition, kafka_offset; for baselines: model, baseline_id;
// for prediction_keys: model, id; for labels: model, prediction_id)
// and whose version column inserted_at is the write's wall-clock time in
// nanoseconds, so when parts merge the newest write of each key is kept.
// Until then a retried key exists twice on disk; readers that must not see
// that read with FINAL, through drift_metrics_latest, or with argMax(col,
// inserted_at). On 22.3 and later each insert also carries an
// insert_deduplication_token (a hash of its rows), so an identical retry is
// dropped at insert time.
//
// It deliberately does not retry (the pipeline does; IsRetryable says which
// errors are worth it), does not create the database (Config.Database must
// exist), does not run DDL ON CLUSTER (migrations apply to the server it is
// connected to), and logs only through the logger given to Instrument (one
// line per insert that left out or clamped rows whose times no DateTime
// holds, see RejectTimeOutOfRange): it never prints Config.Password, whose
// type redacts it in every format.
package clickhouse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/internal/secret"
	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// Secret is a string that never prints (see package secret).
type Secret = secret.Secret

// TLS configures TLS to the server. Enabled alone verifies the server
// against the system roots.
type TLS struct {
	Enabled bool
	// CAFile is a PEM file of CA certificates to verify the server with
	// instead of the system roots.
	CAFile string
	// ServerName overrides the name verified in the server's certificate
	// (default: the host of the address dialled).
	ServerName string
	// InsecureSkipVerify accepts any server certificate. For tests only.
	InsecureSkipVerify bool
}

// Config is how to reach ClickHouse. The zero value of each field takes its
// default (DefaultConfig). It is safe to print and log: Password redacts.
type Config struct {
	// Addr lists host:port of native-protocol endpoints (port 9000, or 9440
	// with TLS); connections go to the first that answers.
	Addr     []string
	Database string // must exist
	Username string
	Password Secret
	TLS      TLS
	// DialTimeout bounds connecting and the handshake.
	DialTimeout time.Duration
	// CommitTimeout bounds one Commit (when the Appender's context has no
	// earlier deadline), each query of Open and Committed, the small queries
	// of LoadLabelJoin (not its reads), and each call of WriteDeadLetters
	// and WriteBaselines.
	CommitTimeout time.Duration
	// MaxOpenConns caps the connection pool.
	MaxOpenConns int
	// MigrationLockTimeout is how long Open waits for another instance's
	// migrations to finish.
	MigrationLockTimeout time.Duration
}

// DefaultConfig returns the defaults: a local server's default user and
// database.
func DefaultConfig() Config {
	return Config{
		Addr:                 []string{"127.0.0.1:9000"},
		Database:             "default",
		Username:             "default",
		DialTimeout:          10 * time.Second,
		CommitTimeout:        time.Minute,
		MaxOpenConns:         4,
		MigrationLockTimeout: 2 * time.Minute,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if len(c.Addr) == 0 {
		c.Addr = d.Addr
	}
	if c.Database == "" {
		c.Database = d.Database
	}
	if c.Username == "" {
		c.Username = d.Username
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = d.DialTimeout
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = d.CommitTimeout
	}
	if c.MaxOpenConns == 0 {
		c.MaxOpenConns = d.MaxOpenConns
	}
	if c.MigrationLockTimeout == 0 {
		c.MigrationLockTimeout = d.MigrationLockTimeout
	}
	return c
}

// Validate reports the first invalid field (after defaults).
func (c Config) Validate() error {
	c = c.withDefaults()
	for _, a := range c.Addr {
		if i := strings.LastIndexByte(a, ':'); i <= 0 || i == len(a)-1 {
			return fmt.Errorf("clickhouse addr %q: want host:port", a)
		}
	}
	if c.DialTimeout < 0 || c.CommitTimeout < 0 || c.MigrationLockTimeout < 0 || c.MaxOpenConns < 0 {
		return errors.New("clickhouse: timeouts and max_open_conns must not be negative")
	}
	if c.TLS.CAFile != "" && !c.TLS.Enabled {
		return errors.New("clickhouse tls: ca_file is set but tls is not enabled")
	}
	return nil
}

// String describes c with the password redacted.
func (c Config) String() string {
	return fmt.Sprintf("clickhouse{addr=%s database=%s user=%s password=%s tls=%t}",
		strings.Join(c.Addr, ","), c.Database, c.Username, c.Password, c.TLS.Enabled)
}

// GoString redacts %#v, which would otherwise bypass String.
func (c Config) GoString() string { return c.String() }

// LogValue logs c with the password redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", strings.Join(c.Addr, ",")),
		slog.String("database", c.Database),
		slog.String("user", c.Username),
		slog.String("password", c.Password.String()),
		slog.Bool("tls", c.TLS.Enabled),
	)
}

func (c Config) tlsConfig() (*tls.Config, error) {
	if !c.TLS.Enabled {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLS.ServerName, InsecureSkipVerify: c.TLS.InsecureSkipVerify}
	if c.TLS.CAFile != "" {
		pem, err := os.ReadFile(c.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read clickhouse tls ca_file: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("clickhouse tls ca_file %s: no PEM certificates", c.TLS.CAFile)
		}
	}
	return t, nil
}

// Sink writes drift metric rows to drift_metrics and window summaries to
// window_summaries (through its Appenders), and dead letters and baselines
// to their audit tables. It is safe for concurrent use; each Appender is
// not.
type Sink struct {
	conn     driver.Conn
	cfg      Config
	version  Version
	features Features
	now      func() time.Time
	applied  []int
	rejects  rejects
}

var _ sinks.Sink = (*Sink)(nil)

// Option changes how Open builds a Sink.
type Option func(*Sink)

// WithClock sets the clock that stamps inserted_at and applied_at
// (default time.Now). Versions of one key must increase between commits,
// so tests that commit twice must advance it.
func WithClock(now func() time.Time) Option { return func(s *Sink) { s.now = now } }

// Open connects to ClickHouse, reads the server's version, and applies the
// pending migrations. The caller must Close the Sink.
func Open(ctx context.Context, cfg Config, opts ...Option) (*Sink, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Protocol:     clickhouse.Native,
		Addr:         cfg.Addr,
		Auth:         clickhouse.Auth{Database: cfg.Database, Username: cfg.Username, Password: string(cfg.Password)},
		TLS:          tc,
		DialTimeout:  cfg.DialTimeout,
		MaxOpenConns: cfg.MaxOpenConns,
		MaxIdleConns: cfg.MaxOpenConns,
		ClientInfo:   clickhouse.ClientInfo{Products: []struct{ Name, Version string }{{Name: "driftwatch"}}},
	})
	if err != nil {
		return nil, fmt.Errorf("connect to clickhouse %s: %w", strings.Join(cfg.Addr, ","), err)
	}
	s := &Sink{conn: conn, cfg: cfg, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if err := s.start(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

func (s *Sink) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommitTimeout+s.cfg.MigrationLockTimeout)
	defer cancel()
	var v string
	if err := s.conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return fmt.Errorf("read clickhouse version from %s as %s: %w", strings.Join(s.cfg.Addr, ","), s.cfg.Username, err)
	}
	var err error
	if s.version, err = ParseVersion(v); err != nil {
		return err
	}
	s.features = FeaturesFor(s.version)
	if s.applied, err = s.migrate(ctx); err != nil {
		return fmt.Errorf("migrate clickhouse database %s: %w", s.cfg.Database, err)
	}
	return nil
}

// ServerVersion is the version the server reported at Open.
func (s *Sink) ServerVersion() Version { return s.version }

// Features are what the DDL and the writer use on this server.
func (s *Sink) Features() Features { return s.features }

// Applied lists the migrations Open applied (empty when the database was
// up to date).
func (s *Sink) Applied() []int { return s.applied }

// Ping reports whether the server answers, as the sink's user; the
// pipeline pings a failing sink to retry its commit as soon as the server
// is back.
func (s *Sink) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping clickhouse %s as %s: %w", strings.Join(s.cfg.Addr, ","), s.cfg.Username, err)
	}
	return nil
}

// Close closes the connection pool.
func (s *Sink) Close() error {
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("close clickhouse connection: %w", err)
	}
	return nil
}

// Committed returns, per model version, the end of the newest window whose
// summary is in window_summaries. Commit writes a window's summary after
// its metric rows, so a window whose Commit failed between the two inserts
// (a crash, a lost connection) is not reported: the pipeline computes it
// again and the retry replaces its rows. Rows committed without a summary
// (late reports, or a caller that never calls AppendWindow) do not count,
// and a database written only by a driftwatch that wrote no summaries
// reports nothing. It reads max(window_end), which duplicates left by
// retried commits cannot change, so it needs neither FINAL nor argMax.
func (s *Sink) Committed(ctx context.Context) (map[windows.Key]time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommitTimeout)
	defer cancel()
	rows, err := s.conn.Query(ctx, "SELECT model, model_version, max(window_end) FROM window_summaries GROUP BY model, model_version")
	if err != nil {
		return nil, fmt.Errorf("read committed windows from window_summaries: %w", err)
	}
	defer rows.Close()
	out := make(map[windows.Key]time.Time)
	for rows.Next() {
		var k windows.Key
		var end time.Time
		if err := rows.Scan(&k.Model, &k.Version, &end); err != nil {
			return nil, fmt.Errorf("read committed windows from window_summaries: %w", err)
		}
		out[k] = end.UTC()
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read committed windows from window_summaries: %w", err)
	}
	return out, nil
}

// metricColumns is drift_metrics' column list, in the order insertMetrics
// appends values. Inserts name their columns: clickhouse-go's PrepareBatch
// needs that on 18.16, and it keeps inserts working when columns are added.
const metricColumns = "model, model_version, window_start, window_end, family, subject, metric, value, p_value, threshold, drifted, severity, n_current, n_reference, baseline_id, threshold_source, mde, inserted_at, deciding"

// summaryColumns is window_summaries' column list, in the order
// insertSummaries appends values.
const summaryColumns = "model, model_version, window_start, window_end, baseline_id, records, subjects, drifted_subjects, max_severity, closed_at, label_state, inserted_at, distributions"

// Appender returns an appender whose Commit runs under ctx (bounded by
// Config.CommitTimeout). Besides sinks.Appender it has
//
//	AppendWindow(sinks.WindowSummary) error
//	AppendPredictionKeys([]windows.PredictionKey) error
//	AppendLabels([]consumer.Label) error
//
// for callers that assert them.
func (s *Sink) Appender(ctx context.Context) sinks.Appender { return &appender{s: s, ctx: ctx} }

type appender struct {
	s         *Sink
	ctx       context.Context
	rows      []drift.Row
	wins      []sinks.WindowSummary
	dists     []string // wins[i]'s distributions, encoded (encodeDistributions)
	keys      []windows.PredictionKey
	labels    []consumer.Label
	detectors []drift.DetectorState
	done      bool
}

// errInvalidRow marks rows the table cannot hold as given; retrying them
// cannot help.
var errInvalidRow = errors.New("invalid row")

// errRowValue marks a value of a row that its column refused (the
// driver's conversion of one row, before anything is sent): retrying the
// write cannot help, and writes without that row may succeed.
var errRowValue = errors.New("value the column cannot hold")

// IsRowError reports whether err concerns the values of one row written (a
// column cannot hold one of them) rather than the server or the request:
// retrying cannot help, but a write without that row may succeed. Callers
// that must not stop for one row skip it (internal/pipeline's
// Retry.Invalid); IsRetryable is false for it.
func IsRowError(err error) bool { return errors.Is(err, errRowValue) }

// coarse returns, when start or end is finer than the server stores window
// bounds, why; otherwise "". A window key must survive the round trip
// exactly, or a retry would not replace it.
func (s *Sink) coarse(start, end time.Time) string {
	prec := time.Second
	if s.features.DateTime64 {
		prec = time.Millisecond
	}
	if start.Truncate(prec) == start && end.Truncate(prec) == end {
		return ""
	}
	return fmt.Sprintf("window %s to %s is finer than the %s that ClickHouse %s stores",
		start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano), prec, s.version)
}

// Append adds rows to the pending commit. A row whose window starts or
// ends outside MinTime to MaxTime is left out, counted
// (RejectTimeOutOfRange; see Instrument); the others are kept.
func (a *appender) Append(rows ...drift.Row) error {
	if a.done {
		return errors.New("append to drift_metrics: appender already committed or rolled back")
	}
	for i := range rows {
		r := &rows[i]
		if why := a.s.coarse(r.WindowStart, r.WindowEnd); why != "" && fits(r.WindowStart) && fits(r.WindowEnd) {
			return fmt.Errorf("append row %s %s/%s/%s: %w: %s", r.Model, r.ModelVersion, r.Subject, r.Metric, errInvalidRow, why)
		}
	}
	out, example := 0, ""
	for i := range rows {
		r := &rows[i]
		if fits(r.WindowStart) && fits(r.WindowEnd) {
			a.rows = append(a.rows, *r)
			continue
		}
		if out++; out == 1 {
			example = fmt.Sprintf("%s %s window %s to %s %s/%s", r.Model, r.ModelVersion, timeText(r.WindowStart), timeText(r.WindowEnd), r.Subject, r.Metric)
		}
	}
	a.s.reject("drift_metrics", RejectTimeOutOfRange, out, example)
	return nil
}

// AppendWindow adds the summary of one closed window to the pending commit.
// The window's rows are this commit's rows with the same model, version,
// start and end; it may have none (its features all lacked samples), and
// its summary is written all the same. A later summary of the same window
// in the same commit replaces the earlier one. Commit derives the rest of
// the window_summaries row from the window's rows (see Commit). w's
// LabelState is copied, and its Distributions encoded at once (a value
// encoding/json cannot write, such as NaN, is an error IsRetryable calls
// permanent). A window that starts or ends outside MinTime to MaxTime is
// left out, counted (RejectTimeOutOfRange; see Instrument).
func (a *appender) AppendWindow(w sinks.WindowSummary) error {
	if a.done {
		return errors.New("append to window_summaries: appender already committed or rolled back")
	}
	if !w.End.After(w.Start) {
		return fmt.Errorf("append window summary %s %s: %w: window end %s is not after its start %s",
			w.Model, w.Version, errInvalidRow, w.End.Format(time.RFC3339Nano), w.Start.Format(time.RFC3339Nano))
	}
	if !fits(w.Start) || !fits(w.End) {
		a.s.reject("window_summaries", RejectTimeOutOfRange, 1, fmt.Sprintf("%s %s window %s to %s", w.Model, w.Version, timeText(w.Start), timeText(w.End)))
		return nil
	}
	if why := a.s.coarse(w.Start, w.End); why != "" {
		return fmt.Errorf("append window summary %s %s: %w: %s", w.Model, w.Version, errInvalidRow, why)
	}
	dists, err := encodeDistributions(w.Distributions)
	if err != nil {
		return fmt.Errorf("append window summary %s %s %s: %w: %w", w.Model, w.Version, w.Start.UTC().Format(time.RFC3339Nano), errInvalidRow, err)
	}
	w.LabelState = bytes.Clone(w.LabelState)
	w.Distributions = nil // kept encoded, in dists
	k := keyOf(w.Model, w.Version, w.Start, w.End)
	for i := range a.wins {
		if keyOf(a.wins[i].Model, a.wins[i].Version, a.wins[i].Start, a.wins[i].End) == k {
			a.wins[i], a.dists[i] = w, dists
			return nil
		}
	}
	a.wins, a.dists = append(a.wins, w), append(a.dists, dists)
	return nil
}

// Commit sends the appended rows to drift_metrics as one INSERT, then the
// appended prediction keys to prediction_keys, the appended labels to
// labels, and last the appended window summaries to window_summaries, one
// INSERT each, all with the same inserted_at and within one
// Config.CommitTimeout, and returns once the server acknowledged them all.
// A window's summary thus exists only once its rows and the late-label
// join's state that came with it are durable, and Committed reads
// summaries. Any insert may be empty and is then skipped: a commit of
// summaries alone, or of labels or keys alone, works.
//
// A window_summaries row holds the WindowSummary (LabelState in
// label_state, Distributions in distributions: see encodeDistributions)
// and, derived from the window's rows: subjects, the number of
// distinct subjects (a feature, "prediction", a subgroup such as
// "gender=f") among them, whatever their family, so that
// len(drifted_subjects) <= subjects; drifted_subjects, the sorted distinct
// subjects of its drifted rows; max_severity, the worst severity of its
// rows (SEV-1 is worse than SEV-4; other values are ignored), or "" if
// none; and closed_at, the sink's clock at Commit. A labels row's
// received_at is that clock too.
//
// ClickHouse writes an INSERT's rows atomically per partition (month of
// window_start, of event time, of label time). A failed Commit may leave
// part of what it had, but never a summary without the rest; Committed
// then does not report those windows, and the retry replaces what was
// written.
func (a *appender) Commit() error {
	if a.done {
		return errors.New("commit to drift_metrics: appender already committed or rolled back")
	}
	a.done = true
	defer func() { a.rows, a.wins, a.dists, a.keys, a.labels, a.detectors = nil, nil, nil, nil, nil, nil }()
	if len(a.rows) == 0 && len(a.wins) == 0 && len(a.keys) == 0 && len(a.labels) == 0 && len(a.detectors) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(a.ctx, a.s.cfg.CommitTimeout)
	defer cancel()
	now := a.s.now()
	version := uint64(now.UnixNano())
	if len(a.rows) > 0 {
		if err := a.s.insertMetrics(ctx, a.rows, version); err != nil {
			return fmt.Errorf("insert %d rows into drift_metrics: %w", len(a.rows), err)
		}
	}
	if len(a.keys) > 0 {
		if err := a.s.insertKeys(ctx, a.keys, version); err != nil {
			return fmt.Errorf("insert %d prediction keys into prediction_keys: %w", len(a.keys), err)
		}
	}
	if len(a.detectors) > 0 {
		if err := a.s.insertDetectorStates(ctx, a.detectors, version); err != nil {
			return fmt.Errorf("insert %d detector states into detector_state: %w", len(a.detectors), err)
		}
	}
	if len(a.labels) > 0 {
		if err := a.s.insertLabels(ctx, a.labels, now.UTC(), version); err != nil {
			return fmt.Errorf("insert %d labels into labels: %w", len(a.labels), err)
		}
	}
	if len(a.wins) > 0 {
		if err := a.s.insertSummaries(ctx, summarize(a.wins, a.dists, a.rows), now.UTC(), version); err != nil {
			return fmt.Errorf("insert %d window summaries into window_summaries: %w", len(a.wins), err)
		}
	}
	return nil
}

func (a *appender) Rollback() error {
	a.done = true
	a.rows, a.wins, a.dists, a.keys, a.labels, a.detectors = nil, nil, nil, nil, nil, nil
	return nil
}

// send runs one INSERT into table of n rows, appending row i with add.
// On servers with insert deduplication tokens, the insert carries
// token() (nil: none), which must hash the rows' content (not inserted_at), so that a
// retry of the same rows is dropped at insert.
func (s *Sink) send(ctx context.Context, table, columns string, token func() string, n int, add func(b driver.Batch, i int) error) error {
	if token != nil && s.features.InsertDedupToken {
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
			"insert_deduplication_token": token(),
		}))
	}
	bctx, done := batchContext(ctx)
	defer done()
	err := func() error {
		b, err := s.conn.PrepareBatch(bctx, "INSERT INTO "+table+" ("+columns+")")
		if err != nil {
			return err
		}
		defer b.Close()
		for i := range n {
			if err := add(b, i); err != nil {
				return fmt.Errorf("%w: %w", errRowValue, err)
			}
		}
		return b.Send()
	}()
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return ctx.Err() // the caller's deadline or cancellation, which ended the batch's context
	}
	return err
}

// batchContext returns the context for one batch insert, and done, to call
// once the batch is sent or closed. The batch's context may end the insert
// while it runs (ctx ending closes the connection, the only way to stop
// clickhouse-go's Send), but never after it: clickhouse-go watches a
// batch's context from a goroutine of its own that can still see it end
// after Send has returned the connection to the pool, and then closes that
// connection under the next query ("use of closed network connection"). A
// caller's deferred cancel right after the insert did exactly that, one
// insert in a few.
func batchContext(ctx context.Context) (context.Context, func()) {
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, cancel)
	return bctx, func() { stop() }
}

func (s *Sink) insertMetrics(ctx context.Context, rows []drift.Row, version uint64) error {
	return s.send(ctx, "drift_metrics", metricColumns, func() string { return dedupToken(rows) }, len(rows), func(b driver.Batch, i int) error {
		r := &rows[i]
		if err := b.Append(r.Model, r.ModelVersion, r.WindowStart.UTC(), r.WindowEnd.UTC(),
			r.Family, r.Subject, r.Metric, r.Value, r.PValue, r.Threshold, boolUint8(r.Drifted), r.Severity,
			r.NCurrent, r.NReference, r.BaselineID, r.ThresholdSource, r.MDE, version, boolUint8(r.Primary)); err != nil {
			return fmt.Errorf("row %s %s/%s/%s: %w", r.Model, r.ModelVersion, r.Subject, r.Metric, err)
		}
		return nil
	})
}

func (s *Sink) insertSummaries(ctx context.Context, sums []summary, closedAt time.Time, version uint64) error {
	return s.send(ctx, "window_summaries", summaryColumns, func() string { return summaryToken(sums) }, len(sums), func(b driver.Batch, i int) error {
		w := &sums[i]
		if err := b.Append(w.Model, w.Version, w.Start.UTC(), w.End.UTC(), w.BaselineID, w.Records,
			w.subjects, w.drifted, w.maxSeverity, closedAt, string(w.LabelState), version, w.distributions); err != nil {
			return fmt.Errorf("window %s %s %s: %w", w.Model, w.Version, w.Start.UTC().Format(time.RFC3339Nano), err)
		}
		return nil
	})
}

func boolUint8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// hasher builds insert deduplication tokens: a SHA-256 of a
// length-prefixed encoding, so that distinct contents cannot collide by
// concatenation.
type hasher struct {
	h   hash.Hash
	buf [8]byte
}

func newHasher() *hasher { return &hasher{h: sha256.New()} }

func (h *hasher) num(v uint64) {
	binary.LittleEndian.PutUint64(h.buf[:], v)
	h.h.Write(h.buf[:])
}

func (h *hasher) str(s string) {
	h.num(uint64(len(s)))
	io.WriteString(h.h, s)
}

func (h *hasher) opt(p *float64) {
	if p == nil {
		h.num(0)
		return
	}
	h.num(1)
	h.num(math.Float64bits(*p))
}

func (h *hasher) time(t time.Time) { h.num(uint64(t.UnixNano())) }

func (h *hasher) token() string { return "driftwatch-" + hex.EncodeToString(h.h.Sum(nil)) }

// dedupToken is a hash of the rows' content (not of inserted_at), so a
// retry of the same rows carries the same token and a different set of
// rows a different one.
func dedupToken(rows []drift.Row) string {
	h := newHasher()
	for i := range rows {
		r := &rows[i]
		h.str(r.Model)
		h.str(r.ModelVersion)
		h.time(r.WindowStart)
		h.time(r.WindowEnd)
		h.str(r.Family)
		h.str(r.Subject)
		h.str(r.Metric)
		h.num(math.Float64bits(r.Value))
		h.opt(r.PValue)
		h.num(math.Float64bits(r.Threshold))
		h.num(uint64(boolUint8(r.Drifted)))
		h.str(r.Severity)
		h.num(uint64(r.NCurrent))
		h.num(uint64(r.NReference))
		h.str(r.BaselineID)
		h.str(r.ThresholdSource)
		h.opt(r.MDE)
		h.num(uint64(boolUint8(r.Primary)))
	}
	return h.token()
}

// IsAuthFailure reports whether err is the server refusing the user or
// its password (UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD,
// AUTHENTICATION_FAILED).
func IsAuthFailure(err error) bool {
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) {
		return false
	}
	switch ex.Code {
	case 192, 193, 194, 516:
		return true
	}
	return false
}

// retryableCodes are ClickHouse exception codes that describe a passing
// condition of the server, not a wrong request.
var retryableCodes = map[int32]bool{
	159: true, // TIMEOUT_EXCEEDED
	202: true, // TOO_MANY_SIMULTANEOUS_QUERIES
	203: true, // NO_FREE_CONNECTION
	209: true, // SOCKET_TIMEOUT
	210: true, // NETWORK_ERROR
	236: true, // ABORTED
	241: true, // MEMORY_LIMIT_EXCEEDED
	242: true, // TABLE_IS_READ_ONLY (replica lost its coordinator)
	252: true, // TOO_MANY_PARTS
	285: true, // TOO_FEW_LIVE_REPLICAS
	319: true, // UNKNOWN_STATUS_OF_INSERT
	425: true, // SYSTEM_ERROR
	439: true, // CANNOT_SCHEDULE_TASK
	999: true, // KEEPER_EXCEPTION
}

// IsRetryable reports whether a failed Open, Commit, Committed,
// LoadLabelJoin, WriteDeadLetters or WriteBaselines may succeed if tried
// again unchanged: connection and timeout errors, and server
// exceptions for overload or transient states. Wrong requests (unknown
// table, bad credentials, rows the table cannot hold), a server certificate
// that does not verify, and a cancelled context are not.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, errInvalidRow) || errors.Is(err, errRowValue) {
		return false
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		return retryableCodes[ex.Code]
	}
	var certErr *tls.CertificateVerificationError
	var authErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &authErr) || errors.As(err, &hostErr) {
		return false
	}
	var ce *column.ColumnConverterError
	var ue *column.UnsupportedColumnTypeError
	var colErr *column.Error
	if errors.As(err, &ce) || errors.As(err, &ue) || errors.As(err, &colErr) ||
		errors.Is(err, clickhouse.ErrBatchInvalid) || errors.Is(err, clickhouse.ErrUnsupportedServerRevision) ||
		errors.Is(err, clickhouse.ErrAcquireConnNoAddress) {
		return false
	}
	return true
}
