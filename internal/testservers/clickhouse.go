package testservers

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ClickHouseGate is the variable whose presence says a ClickHouse server
// is configured (Env's gate).
const ClickHouseGate = "DRIFTWATCH_CLICKHOUSE_ADDR"

const (
	clickhouseDialTimeout = 5 * time.Second  // bounds connecting
	clickhouseTimeout     = 30 * time.Second // bounds creating or dropping a database
)

// ClickHouseEnv is Env for a DRIFTWATCH_CLICKHOUSE_* variable, gated by
// ClickHouseGate.
func ClickHouseEnv(t testing.TB, key string) string {
	t.Helper()
	return Env(t, ClickHouseGate, key)
}

// ClickHouse is a ClickHouse server to test against, as plain values; each
// caller builds its own client configuration from them.
type ClickHouse struct {
	Addr     []string // host:port of the native protocol
	User     string
	Password string
	Database string // an existing database to connect to
}

// ClickHouseServer returns the server that DRIFTWATCH_CLICKHOUSE_ADDR (split
// at commas), _USER, _PASSWORD and _DATABASE describe, or skips the test
// under Env's rule. User and Database are "default" when unset, the
// server's defaults; Password may be empty.
func ClickHouseServer(t testing.TB) ClickHouse {
	t.Helper()
	ch := ClickHouse{
		Addr:     strings.Split(ClickHouseEnv(t, ClickHouseGate), ","),
		User:     os.Getenv("DRIFTWATCH_CLICKHOUSE_USER"),
		Password: os.Getenv("DRIFTWATCH_CLICKHOUSE_PASSWORD"),
		Database: os.Getenv("DRIFTWATCH_CLICKHOUSE_DATABASE"),
	}
	if ch.User == "" {
		ch.User = "default"
	}
	if ch.Database == "" {
		ch.Database = "default"
	}
	return ch
}

// Open returns a connection to database on the server, closed when the test
// ends. The caller must not close it.
func (c ClickHouse) Open(t testing.TB, database string) driver.Conn {
	t.Helper()
	conn, err := c.open(database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

var dbSeq atomic.Int64

// CreateDatabase creates an empty database named prefix_<pid>_<ns>_<seq>
// for one test, connecting to c.Database to do it, and returns its name.
// When the test ends it drops the database through a new connection (so a
// server restarted meanwhile is no obstacle); a failure to drop fails the
// test.
func (c ClickHouse) CreateDatabase(t testing.TB, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s_%d_%d_%d", prefix, os.Getpid(), time.Now().UnixNano(), dbSeq.Add(1))
	if err := c.exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if err := c.exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return name
}

// exec runs query through a connection of its own to c.Database.
func (c ClickHouse) exec(query string) error {
	conn, err := c.open(c.Database)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), clickhouseTimeout)
	defer cancel()
	return conn.Exec(ctx, query)
}

func (c ClickHouse) open(database string) (driver.Conn, error) {
	return clickhouse.Open(&clickhouse.Options{
		Addr:        c.Addr,
		DialTimeout: clickhouseDialTimeout,
		Auth:        clickhouse.Auth{Database: database, Username: c.User, Password: c.Password},
	})
}
