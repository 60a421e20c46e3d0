// Package clickhouse is a sink that writes drift metric rows (CONTRACT.md
// section 3) to the ClickHouse table drift_metrics over the native protocol
// (clickhouse-go/v2), and owns driftwatch's ClickHouse schema.
//
// Open connects, reads the server version, and applies the embedded,
// numbered migrations (migrations/NNNN_name.sql) that the database has not
// recorded in schema_migrations: drift_metrics (and the view
// drift_metrics_latest), window_summaries, baselines, dead_letters and
// alert_history. The DDL is rendered for the server's version (Features):
// Debian bookworm's ClickHouse 18.16 gets plain String, DateTime and no
// codecs or TTL; 20.3 and later get LowCardinality, DateTime64(3), codecs
// and TTL; 22.3 and later also insert deduplication tokens. A table keeps
// the shape it was created with: upgrading the server does not rewrite it.
//
// A retried commit never double-counts. Every table is a ReplacingMergeTree
// whose sorting key is the row's identity (for drift_metrics: model,
// model_version, window_start, family, subject, metric) and whose version
// column inserted_at is the commit's wall-clock time in nanoseconds, so when
// parts merge the newest write of each key is kept. Until then a retried
// key exists twice on disk; readers that must not see that read with FINAL,
// through drift_metrics_latest, or with argMax(col, inserted_at). On 22.3 and
// later a commit also carries an insert_deduplication_token (a hash of its
// rows), so an identical retry is dropped at insert time.
//
// It deliberately does not retry (the pipeline does; IsRetryable says which
// errors are worth it), does not create the database (Config.Database must
// exist), does not run DDL ON CLUSTER (migrations apply to the server it is
// connected to), and never logs: in particular it never prints
// Config.Password, whose type redacts it in every format.
package clickhouse

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/driftwatch/driftwatch/sinks"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// Secret is a string that never prints: String, GoString, LogValue and
// MarshalText all give "[REDACTED]" (or "" when it is empty, so a missing
// password stays visible). Read the value with string(s).
type Secret string

const redacted = "[REDACTED]"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts %#v.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// LogValue redacts the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText redacts the secret in JSON, YAML and other text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

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
	// earlier deadline) and each query of Open and Committed.
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

// Sink writes drift metric rows to drift_metrics. It is safe for concurrent
// use; each Appender is not.
type Sink struct {
	conn     driver.Conn
	cfg      Config
	version  Version
	features Features
	now      func() time.Time
	applied  []int
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

// Close closes the connection pool.
func (s *Sink) Close() error {
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("close clickhouse connection: %w", err)
	}
	return nil
}

// Committed returns, per model version, the newest window_end in
// drift_metrics. It reads max(window_end), which duplicates left by
// retried commits cannot change, so it needs neither FINAL nor argMax.
func (s *Sink) Committed(ctx context.Context) (map[windows.Key]time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommitTimeout)
	defer cancel()
	rows, err := s.conn.Query(ctx, "SELECT model, model_version, max(window_end) FROM drift_metrics GROUP BY model, model_version")
	if err != nil {
		return nil, fmt.Errorf("read committed windows from drift_metrics: %w", err)
	}
	defer rows.Close()
	out := make(map[windows.Key]time.Time)
	for rows.Next() {
		var k windows.Key
		var end time.Time
		if err := rows.Scan(&k.Model, &k.Version, &end); err != nil {
			return nil, fmt.Errorf("read committed windows from drift_metrics: %w", err)
		}
		out[k] = end.UTC()
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read committed windows from drift_metrics: %w", err)
	}
	return out, nil
}

// metricColumns is drift_metrics' column list, in the order appender.Commit
// appends values. Inserts name their columns: clickhouse-go's PrepareBatch
// needs that on 18.16, and it keeps inserts working when columns are added.
const metricColumns = "model, model_version, window_start, window_end, family, subject, metric, value, p_value, threshold, drifted, severity, n_current, n_reference, baseline_id, threshold_source, mde, inserted_at"

// Appender returns an appender whose Commit runs under ctx (bounded by
// Config.CommitTimeout).
func (s *Sink) Appender(ctx context.Context) sinks.Appender { return &appender{s: s, ctx: ctx} }

type appender struct {
	s    *Sink
	ctx  context.Context
	rows []drift.Row
	done bool
}

// errInvalidRow marks rows the table cannot hold as given; retrying them
// cannot help.
var errInvalidRow = errors.New("invalid row")

func (a *appender) Append(rows ...drift.Row) error {
	if a.done {
		return errors.New("append to drift_metrics: appender already committed or rolled back")
	}
	prec := time.Second
	if a.s.features.DateTime64 {
		prec = time.Millisecond
	}
	for i := range rows {
		r := &rows[i]
		if r.WindowStart.Truncate(prec) != r.WindowStart || r.WindowEnd.Truncate(prec) != r.WindowEnd {
			return fmt.Errorf("append row %s %s/%s/%s: %w: window %s to %s is finer than the %s that ClickHouse %s stores",
				r.Model, r.ModelVersion, r.Subject, r.Metric, errInvalidRow,
				r.WindowStart.Format(time.RFC3339Nano), r.WindowEnd.Format(time.RFC3339Nano), prec, a.s.version)
		}
	}
	a.rows = append(a.rows, rows...)
	return nil
}

// Commit sends the appended rows as one INSERT and returns once the server
// acknowledged it. ClickHouse writes an INSERT's rows atomically per
// partition (month of window_start); a failed Commit whose rows span two
// months may leave one month's rows, which the retry then replaces.
func (a *appender) Commit() error {
	if a.done {
		return errors.New("commit to drift_metrics: appender already committed or rolled back")
	}
	a.done = true
	if len(a.rows) == 0 {
		return nil
	}
	n := len(a.rows)
	if err := a.s.insert(a.ctx, a.rows); err != nil {
		return fmt.Errorf("insert %d rows into drift_metrics: %w", n, err)
	}
	a.rows = nil
	return nil
}

func (a *appender) Rollback() error {
	a.done = true
	a.rows = nil
	return nil
}

func (s *Sink) insert(ctx context.Context, rows []drift.Row) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CommitTimeout)
	defer cancel()
	if s.features.InsertDedupToken {
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
			"insert_deduplication_token": dedupToken(rows),
		}))
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO drift_metrics ("+metricColumns+")")
	if err != nil {
		return err
	}
	defer b.Close()
	version := uint64(s.now().UnixNano())
	for i := range rows {
		r := &rows[i]
		var drifted uint8
		if r.Drifted {
			drifted = 1
		}
		if err := b.Append(r.Model, r.ModelVersion, r.WindowStart.UTC(), r.WindowEnd.UTC(),
			r.Family, r.Subject, r.Metric, r.Value, r.PValue, r.Threshold, drifted, r.Severity,
			r.NCurrent, r.NReference, r.BaselineID, r.ThresholdSource, r.MDE, version); err != nil {
			return fmt.Errorf("row %s %s/%s/%s: %w", r.Model, r.ModelVersion, r.Subject, r.Metric, err)
		}
	}
	return b.Send()
}

// dedupToken is a hash of the rows' content (not of inserted_at), so a
// retry of the same rows carries the same token and a different set of
// rows a different one.
func dedupToken(rows []drift.Row) string {
	h := sha256.New()
	var buf [8]byte
	num := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	str := func(s string) {
		num(uint64(len(s)))
		io.WriteString(h, s)
	}
	opt := func(p *float64) {
		if p == nil {
			num(0)
			return
		}
		num(1)
		num(math.Float64bits(*p))
	}
	for i := range rows {
		r := &rows[i]
		str(r.Model)
		str(r.ModelVersion)
		num(uint64(r.WindowStart.UnixNano()))
		num(uint64(r.WindowEnd.UnixNano()))
		str(r.Family)
		str(r.Subject)
		str(r.Metric)
		num(math.Float64bits(r.Value))
		opt(r.PValue)
		num(math.Float64bits(r.Threshold))
		if r.Drifted {
			num(1)
		} else {
			num(0)
		}
		str(r.Severity)
		num(uint64(r.NCurrent))
		num(uint64(r.NReference))
		str(r.BaselineID)
		str(r.ThresholdSource)
		opt(r.MDE)
	}
	return "driftwatch-" + hex.EncodeToString(h.Sum(nil))
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

// IsRetryable reports whether a failed Open, Commit or Committed may succeed
// if tried again unchanged: connection and timeout errors, and server
// exceptions for overload or transient states. Wrong requests (unknown
// table, bad credentials, rows the table cannot hold), a server certificate
// that does not verify, and a cancelled context are not.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, errInvalidRow) {
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
