package clickhouse

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Version is a ClickHouse server version, as reported by SELECT version().
type Version struct {
	Major, Minor, Patch int
}

// ParseVersion reads "18.16.1" or "24.8.4.13" (the fourth part, the build,
// is ignored).
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("parse ClickHouse version %q: want major.minor[.patch]", s)
	}
	var n [3]int
	for i := 0; i < 3 && i < len(parts); i++ {
		v, err := strconv.Atoi(parts[i])
		if err != nil || v < 0 {
			return Version{}, fmt.Errorf("parse ClickHouse version %q: part %q is not a number", s, parts[i])
		}
		n[i] = v
	}
	return Version{Major: n[0], Minor: n[1], Patch: n[2]}, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// AtLeast reports whether v is major.minor or newer.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// Features are the server capabilities the schema and the writer use when
// the server has them. Each is gated on a release where it is certainly
// available without experimental settings (usually the first long-term
// support release after it appeared), not on the exact release that
// introduced it: a server between the two gets the older DDL, which is
// correct, only less compact.
type Features struct {
	// LowCardinality: dictionary-encoded LowCardinality(String) for
	// repetitive strings (model, subject, metric, ...). 18.x has it only
	// behind allow_experimental_low_cardinality_type. Gate: 20.3.
	LowCardinality bool
	// Codecs: per-column compression codecs (DoubleDelta, T64, ZSTD). 18.x
	// does not parse CODEC. Gate: 20.3.
	Codecs bool
	// TTL: table TTL expressions. 18.x does not parse TTL. Gate: 20.3.
	TTL bool
	// DateTime64: window bounds and timestamps with millisecond precision
	// (DateTime64(3, 'UTC')); older servers store whole seconds
	// (DateTime('UTC')). Gate: 20.3.
	DateTime64 bool
	// AddColumnIfNotExists: ALTER TABLE ... ADD COLUMN IF NOT EXISTS. 18.x
	// does not parse it; there migrate takes the error of a column that
	// already exists as done instead. Gate: 20.3.
	AddColumnIfNotExists bool
	// InsertDedupToken: tables get non_replicated_deduplication_window and
	// each commit sends insert_deduplication_token (a hash of its rows), so
	// a retried commit is dropped at insert instead of written again and
	// collapsed at merge. 18.x has neither setting. Gate: 22.3.
	InsertDedupToken bool
}

// FeaturesFor returns the features of a server of version v.
func FeaturesFor(v Version) Features {
	modern := v.AtLeast(20, 3)
	return Features{
		LowCardinality:       modern,
		Codecs:               modern,
		TTL:                  modern,
		DateTime64:           modern,
		AddColumnIfNotExists: modern,
		InsertDedupToken:     v.AtLeast(22, 3),
	}
}

// dedupWindow is non_replicated_deduplication_window: how many recent
// inserts' tokens a table remembers. Commits are retried within minutes,
// so a few thousand is ample.
const dedupWindow = 10000

// templateFuncs are the helpers a migration template uses to choose DDL by
// server features:
//
//	{{lc "String"}}       LowCardinality(String), or String
//	{{time}}              DateTime64(3, 'UTC'), or DateTime('UTC')
//	{{codec "ZSTD(1)"}}   " CODEC(ZSTD(1))", or nothing
//	{{ttl "col" 90}}      "TTL toDateTime(col) + INTERVAL 90 DAY", or nothing
//	{{ifNotExists}}       "IF NOT EXISTS " (for ADD COLUMN), or nothing
//	{{dedupSettings}}     "SETTINGS non_replicated_deduplication_window = N", or nothing
func templateFuncs(f Features) template.FuncMap {
	return template.FuncMap{
		"lc": func(t string) string {
			if f.LowCardinality {
				return "LowCardinality(" + t + ")"
			}
			return t
		},
		"time": func() string {
			if f.DateTime64 {
				return "DateTime64(3, 'UTC')"
			}
			return "DateTime('UTC')"
		},
		"codec": func(c string) string {
			if f.Codecs {
				return " CODEC(" + c + ")"
			}
			return ""
		},
		"ttl": func(col string, days int) string {
			if f.TTL {
				return fmt.Sprintf("TTL toDateTime(%s) + INTERVAL %d DAY", col, days)
			}
			return ""
		},
		"ifNotExists": func() string {
			if f.AddColumnIfNotExists {
				return "IF NOT EXISTS "
			}
			return ""
		},
		"dedupSettings": func() string {
			if f.InsertDedupToken {
				return fmt.Sprintf("SETTINGS non_replicated_deduplication_window = %d", dedupWindow)
			}
			return ""
		},
	}
}

// Migration is one numbered schema change, embedded from
// migrations/NNNN_name.sql: a text/template (see templateFuncs) of one or
// more statements separated by semicolons. Lines starting with "--" are
// comments. Every statement must be safe to run again (CREATE ... IF NOT
// EXISTS, ALTER TABLE ... ADD COLUMN {{ifNotExists}}), because a migration
// that failed part-way runs again from its first statement, and two
// instances starting together may both run it.
type Migration struct {
	Version int
	Name    string
	// Checksum is the SHA-256 of the template text: a migration edited after
	// it was applied somewhere is refused rather than silently skipped.
	Checksum string
	text     string
}

// Migrations returns the embedded migrations in order. Their versions are
// 1, 2, 3, ... without gaps.
func Migrations() ([]Migration, error) {
	return loadMigrations(migrationFS, "migrations")
}

func loadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".sql" {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 || rest == "" {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		sum := sha256.Sum256(b)
		ms = append(ms, Migration{Version: v, Name: rest, Checksum: hex.EncodeToString(sum[:]), text: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: versions must run 1, 2, 3, ... without gaps or repeats; want %04d", m.Version, m.Name, i+1)
		}
	}
	return ms, nil
}

// Statements renders m for a server with features f and splits it into
// statements.
func (m Migration) Statements(f Features) ([]string, error) {
	t, err := template.New(m.Name).Funcs(templateFuncs(f)).Option("missingkey=error").Parse(m.text)
	if err != nil {
		return nil, fmt.Errorf("parse migration %04d_%s: %w", m.Version, m.Name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, f); err != nil {
		return nil, fmt.Errorf("render migration %04d_%s: %w", m.Version, m.Name, err)
	}
	var lines []string
	for l := range strings.SplitSeq(b.String(), "\n") {
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		lines = append(lines, strings.TrimRight(l, " \t"))
	}
	var stmts []string
	for s := range strings.SplitSeq(strings.Join(lines, "\n"), ";") {
		if s = strings.TrimSpace(s); s != "" {
			stmts = append(stmts, s)
		}
	}
	return stmts, nil
}

// Names of the bookkeeping tables.
const (
	migrationsTable = "schema_migrations"
	lockTable       = "schema_migrations_lock"
	// lockDDL creates the migration lock. Only the table's existence
	// matters: CREATE TABLE without IF NOT EXISTS succeeds for one caller.
	lockDDL = "CREATE TABLE " + lockTable + " (locked UInt8) ENGINE = Memory"
)

// codeTableAlreadyExists is ClickHouse's TABLE_ALREADY_EXISTS.
const codeTableAlreadyExists = 57

// applied is what schema_migrations says about one migration.
type applied struct {
	name, checksum string
}

// migrate brings the database up to date: it creates schema_migrations if
// needed, and applies each embedded migration not recorded there, in
// order, recording each after its statements succeeded. Concurrent callers
// serialize on a lock table (CREATE TABLE is atomic: one caller creates it,
// the others wait for it to be dropped, then find nothing left to do).
// It returns the versions it applied.
func (s *Sink) migrate(ctx context.Context) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	return s.migrateTo(ctx, ms)
}

// migrateTo is migrate with the migrations ms, the first len(ms) of
// Migrations (tests build the database of an older driftwatch with it).
func (s *Sink) migrateTo(ctx context.Context, ms []Migration) ([]int, error) {
	if err := s.conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
    version        UInt32,
    name           String,
    checksum       String,
    server_version String,
    applied_at     DateTime('UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version`); err != nil {
		return nil, fmt.Errorf("create %s: %w", migrationsTable, err)
	}
	pending, err := s.pending(ctx, ms)
	if err != nil || len(pending) == 0 {
		return nil, err
	}
	release, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	// Another instance may have applied them while this one waited.
	if pending, err = s.pending(ctx, ms); err != nil {
		return nil, err
	}
	var done []int
	for _, m := range pending {
		stmts, err := m.Statements(s.features)
		if err != nil {
			return done, err
		}
		for i, q := range stmts {
			if err := s.conn.Exec(ctx, q); err != nil && !columnAdded(q, err) {
				return done, fmt.Errorf("apply migration %04d_%s statement %d of %d: %w", m.Version, m.Name, i+1, len(stmts), err)
			}
		}
		if err := s.send(ctx, migrationsTable, "version, name, checksum, server_version, applied_at", nil, 1, func(b driver.Batch, _ int) error {
			return b.Append(uint32(m.Version), m.Name, m.Checksum, s.version.String(), s.now().UTC())
		}); err != nil {
			return done, fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
		}
		done = append(done, m.Version)
	}
	return done, nil
}

// pending returns the migrations of ms not yet recorded, and refuses a
// database that records a migration this binary does not have or whose
// checksum differs.
func (s *Sink) pending(ctx context.Context, ms []Migration) ([]Migration, error) {
	rows, err := s.conn.Query(ctx, `SELECT version, any(name), any(checksum) FROM `+migrationsTable+` GROUP BY version`)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", migrationsTable, err)
	}
	defer rows.Close()
	done := make(map[int]applied)
	for rows.Next() {
		var v uint32
		var a applied
		if err := rows.Scan(&v, &a.name, &a.checksum); err != nil {
			return nil, fmt.Errorf("read %s: %w", migrationsTable, err)
		}
		done[int(v)] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", migrationsTable, err)
	}
	return pendingOf(ms, done)
}

func pendingOf(ms []Migration, done map[int]applied) ([]Migration, error) {
	var out []Migration
	for _, m := range ms {
		a, ok := done[m.Version]
		if !ok {
			out = append(out, m)
			continue
		}
		if a.checksum != m.Checksum {
			return nil, fmt.Errorf("migration %04d_%s was changed after it was applied (checksum %.12s, applied %.12s): add a new migration instead", m.Version, m.Name, m.Checksum, a.checksum)
		}
		delete(done, m.Version)
	}
	for v, a := range done {
		return nil, fmt.Errorf("database records migration %04d_%s, which this driftwatch does not have: it was migrated by a newer version", v, a.name)
	}
	return out, nil
}

// lockPoll is how often a waiting instance looks for the lock's release.
const lockPoll = 200 * time.Millisecond

// lock takes the migration lock: it creates the lock table, or waits up to
// Config.MigrationLockTimeout for the instance that did to drop it. The
// returned func drops it (on a fresh context, so a cancelled ctx still
// releases it).
func (s *Sink) lock(parent context.Context) (func(), error) {
	ctx, cancel := context.WithTimeout(parent, s.cfg.MigrationLockTimeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	// held says the wait ran out; it may have run out as the connection's
	// i/o timeout, before ctx says so, hence DeadlineExceeded and not
	// ctx.Err().
	held := func() error {
		return fmt.Errorf("take migration lock: table %s.%s has existed for more than %s; another driftwatch is migrating, or one stopped while migrating (then drop the table): %w",
			s.cfg.Database, lockTable, s.cfg.MigrationLockTimeout, context.DeadlineExceeded)
	}
	t := time.NewTicker(lockPoll)
	defer t.Stop()
	for {
		err := s.conn.Exec(ctx, lockDDL)
		if err == nil {
			return func() {
				ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DialTimeout)
				defer cancel()
				// A lock left behind only delays the next start until an
				// operator drops it; the error names the table.
				_ = s.conn.Exec(ctx, "DROP TABLE IF EXISTS "+lockTable)
			}, nil
		}
		switch {
		case parent.Err() == nil && (ctx.Err() != nil || !time.Now().Before(deadline)):
			// The wait ran out during the attempt: the connection's
			// deadline (the context's) may fire as an i/o timeout
			// before the context itself says so.
			return nil, held()
		case !isCode(err, codeTableAlreadyExists):
			return nil, fmt.Errorf("take migration lock %s.%s: %w", s.cfg.Database, lockTable, err)
		}
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				return nil, fmt.Errorf("take migration lock %s.%s: %w", s.cfg.Database, lockTable, parent.Err())
			}
			return nil, held()
		case <-t.C:
		}
	}
}

// codeIllegalColumn is ClickHouse's ILLEGAL_COLUMN, which 18.16 returns
// for ADD COLUMN of a column that exists.
const codeIllegalColumn = 44

// columnAdded reports whether err is an ALTER TABLE ... ADD COLUMN (without
// IF NOT EXISTS, which 18.x cannot say) finding its column already there:
// an earlier run of the migration added it and failed after.
func columnAdded(stmt string, err error) bool {
	return strings.HasPrefix(stmt, "ALTER TABLE ") && strings.Contains(stmt, " ADD COLUMN ") &&
		!strings.Contains(stmt, " ADD COLUMN IF NOT EXISTS ") &&
		isCode(err, codeIllegalColumn) && strings.Contains(err.Error(), "already exists")
}

// isCode reports whether err is a ClickHouse exception with that code.
func isCode(err error, code int32) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == code
}
