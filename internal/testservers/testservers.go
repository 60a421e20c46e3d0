// Package testservers connects integration tests to the Apache Kafka broker,
// the ClickHouse server and the Prometheus Alertmanager that make test
// starts (deploy/servers/*.sh), whose addresses `bash
// deploy/servers/<name>.sh env` prints as DRIFTWATCH_KAFKA_*,
// DRIFTWATCH_CLICKHOUSE_* and DRIFTWATCH_ALERTMANAGER_* variables. It holds
// the one rule for when such a test runs, skips or fails (Env), gives each
// test things of its own on the shared servers (a ClickHouse database, Kafka
// topics, unique names) that are removed when the test ends, and reads back
// what Alertmanager holds (AlertmanagerAlerts). Servers of one test's own,
// stopped when it ends, it does start: an Alertmanager
// (NewPrivateAlertmanager) and a Prometheus (StartPrometheus, with
// QueryPrometheus to read it). It finds the tools that make test installs
// (Promtool, Chromium) under Env's rule.
//
// It is imported only by tests (it calls t.Skip and t.Fatal). It starts
// and stops none of the shared servers, and it builds no driftwatch
// configuration: it returns plain values, so that the packages it serves,
// sinks/clickhouse among them, can use it from their own tests without an
// import cycle.
package testservers

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Env returns the environment variable key of a test server whose presence
// gate (such as DRIFTWATCH_KAFKA_BROKERS) announces. When gate is unset the
// test is skipped, or fails if CI is set, since CI must run it; when gate is
// set but key is not, the test fails: `deploy/servers/<name>.sh env` prints
// both, so the environment is half set up. Env with key equal to gate just
// applies the skip rule and returns gate's value.
func Env(t testing.TB, gate, key string) string {
	t.Helper()
	script := "deploy/servers/" + serverName(gate) + ".sh"
	if os.Getenv(gate) == "" {
		how := `start the servers with make servers-up and eval "$(bash ` + script + ` env)", as make test does`
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set in CI: %s", gate, how)
		}
		t.Skipf("%s is not set: %s", gate, how)
	}
	v := os.Getenv(key)
	if v == "" {
		t.Fatalf("%s is not set but %s is; set both from bash %s env", key, gate, script)
	}
	return v
}

// serverName is the deploy/servers script that prints gate.
func serverName(gate string) string {
	switch {
	case strings.HasPrefix(gate, "DRIFTWATCH_KAFKA_"):
		return "kafka"
	case strings.HasPrefix(gate, "DRIFTWATCH_CLICKHOUSE_"):
		return "clickhouse"
	case strings.HasPrefix(gate, "DRIFTWATCH_ALERTMANAGER_"):
		return "alertmanager"
	}
	return "<name>"
}

// StepClock returns a clock that starts at 2026-11-23 12:00:00 UTC and
// advances one second per call, so that successive commits of a sink get
// increasing versions. It is safe for concurrent use.
func StepClock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}
