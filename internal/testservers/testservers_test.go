package testservers

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// recorder is a testing.TB whose Skip and Fatal record their message and
// end the calling goroutine, as the real ones do, without ending the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}

func TestEnv(t *testing.T) {
	const gate, key = "DRIFTWATCH_KAFKA_TESTSERVERS_GATE", "DRIFTWATCH_KAFKA_TESTSERVERS_KEY"
	for _, tc := range []struct {
		name            string
		ci, gate, key   string
		want            string
		skipped, failed string // substrings of the message; "" means none
	}{
		{name: "no servers", skipped: gate + " is not set: start the servers with make servers-up and eval \"$(bash deploy/servers/kafka.sh env)\""},
		{name: "no servers in CI", ci: "true", failed: gate + " is not set in CI: start the servers with make servers-up"},
		{name: "half set up", gate: "127.0.0.1:1", failed: key + " is not set but " + gate + " is; set both from bash deploy/servers/kafka.sh env"},
		{name: "half set up in CI", ci: "true", gate: "127.0.0.1:1", failed: key + " is not set but " + gate + " is"},
		{name: "set", gate: "127.0.0.1:1", key: "v", want: "v"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv(gate, tc.gate)
			t.Setenv(key, tc.key)
			r := &recorder{TB: t}
			var got string
			done := make(chan struct{})
			go func() {
				defer close(done)
				got = Env(r, gate, key)
			}()
			<-done
			if got != tc.want {
				t.Errorf("Env = %q, want %q", got, tc.want)
			}
			if !strings.Contains(r.skipped, tc.skipped) || (tc.skipped == "") != (r.skipped == "") {
				t.Errorf("skipped with %q, want %q", r.skipped, tc.skipped)
			}
			if !strings.Contains(r.failed, tc.failed) || (tc.failed == "") != (r.failed == "") {
				t.Errorf("failed with %q, want %q", r.failed, tc.failed)
			}
		})
	}
}

func TestServerName(t *testing.T) {
	for gate, want := range map[string]string{
		KafkaGate:              "kafka",
		ClickHouseGate:         "clickhouse",
		AlertmanagerGate:       "alertmanager",
		"DRIFTWATCH_OTHER_URL": "<name>",
	} {
		if got := serverName(gate); got != want {
			t.Errorf("serverName(%s) = %q, want %q", gate, got, want)
		}
	}
}

func TestStepClock(t *testing.T) {
	now := StepClock()
	start := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for i := 1; i <= 3; i++ {
		if got, want := now(), start.Add(time.Duration(i)*time.Second); !got.Equal(want) {
			t.Errorf("call %d: %v, want %v", i, got, want)
		}
	}
	if other := StepClock()(); !other.Equal(start.Add(time.Second)) {
		t.Errorf("a second clock starts at %v, want its own %v", other, start.Add(time.Second))
	}
}

func TestUniqueName(t *testing.T) {
	t.Run("sub test", func(t *testing.T) {
		a, b := UniqueName(t, "t"), UniqueName(t, "g")
		for _, n := range []string{a, b} {
			if !regexp.MustCompile(`^driftwatch-TestUniqueName-sub-test-[tg]-[0-9]+$`).MatchString(n) {
				t.Errorf("name %q", n)
			}
		}
		if a == b {
			t.Errorf("both names are %q", a)
		}
	})
}

// TestClickHouseDatabase: CreateDatabase gives the test an empty database of
// its own, Open connects to it, and both are gone when the test ends.
func TestClickHouseDatabase(t *testing.T) {
	ch := ClickHouseServer(t)
	admin := ch.Open(t, ch.Database)
	exists := func(name string) bool {
		t.Helper()
		var n uint64
		if err := admin.QueryRow(context.Background(), "SELECT count() FROM system.databases WHERE name = ?", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	var name string
	t.Run("fresh", func(t *testing.T) {
		name = ch.CreateDatabase(t, "dwservers")
		if !strings.HasPrefix(name, "dwservers_") || !exists(name) {
			t.Fatalf("database %q does not exist", name)
		}
		conn := ch.Open(t, name)
		var db string
		var tables uint64
		if err := conn.QueryRow(context.Background(), "SELECT currentDatabase(), (SELECT count() FROM system.tables WHERE database = currentDatabase())").Scan(&db, &tables); err != nil {
			t.Fatal(err)
		}
		if db != name || tables != 0 {
			t.Errorf("connected to %q with %d tables, want %q and none", db, tables, name)
		}
		if other := ch.CreateDatabase(t, "dwservers"); other == name {
			t.Errorf("two databases named %q", name)
		}
	})
	if exists(name) {
		t.Errorf("database %s still exists after its test", name)
	}
}

// TestKafkaTopics: CreateTopics makes the topics with the partitions asked
// for and deletes them when the test ends; FirstRecord reads what was
// produced to one.
func TestKafkaTopics(t *testing.T) {
	brokers := strings.Split(KafkaEnv(t, KafkaGate), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	var topics []string
	t.Run("create", func(t *testing.T) {
		topics = []string{UniqueName(t, "a"), UniqueName(t, "b")}
		CreateTopics(t, cl, 2, topics...)
		ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
		defer cancel()
		details, err := adm.ListTopics(ctx, topics...)
		if err != nil {
			t.Fatal(err)
		}
		for _, topic := range topics {
			if d, ok := details[topic]; !ok || d.Err != nil || len(d.Partitions) != 2 {
				t.Errorf("topic %s: %+v, want 2 partitions", topic, d)
			}
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topics[1], Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatalf("produce to %s: %v", topics[1], err)
		}
		cons, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topics[1]), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer cons.Close()
		if r := FirstRecord(t, cons, topics[1]); r.Topic != topics[1] || string(r.Value) != "v" {
			t.Errorf("FirstRecord = %s %q, want %s \"v\"", r.Topic, r.Value, topics[1])
		}
	})
	// Deletion reaches every broker's metadata shortly after it is acknowledged.
	deadline := time.Now().Add(kafkaTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
		details, err := adm.ListTopics(ctx, topics...)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		for _, topic := range topics {
			if d, ok := details[topic]; ok && d.Err == nil {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of topics %v still exist %v after their test", left, topics, kafkaTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
