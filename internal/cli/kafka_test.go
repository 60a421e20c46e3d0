package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/driftwatch/driftwatch/internal/config"
	"github.com/driftwatch/driftwatch/internal/synth"
	"github.com/driftwatch/driftwatch/internal/testservers"
)

const kafkaTestPassword = "hunter2-kafka-secret"

// writeCert writes a fresh self-signed ECDSA certificate for localhost and
// its key as PEM files into dir. The certificate is its own CA.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// envOf is a getenv that knows only m.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// optsClient builds an unconnected client from opts, to read back what the
// options set; it is closed when the test ends.
func optsClient(t *testing.T, opts []kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestKafkaOptsErrors(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir, "client")
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	scram := config.KafkaSASL{Mechanism: config.SASLScramSHA512, Username: "driftwatch", PasswordEnv: "KAFKA_PASSWORD"}
	for _, tc := range []struct {
		name string
		tls  config.KafkaTLS
		sasl config.KafkaSASL
		env  map[string]string
		want []string // substrings of the error
	}{
		{name: "missing CA file", tls: config.KafkaTLS{Enabled: true, CAFile: missing},
			want: []string{"kafka.tls.ca_file: read CA certificates: open " + missing + ": no such file"}},
		{name: "CA file without PEM", tls: config.KafkaTLS{Enabled: true, CAFile: notPEM},
			want: []string{"kafka.tls.ca_file: no PEM certificate in " + notPEM}},
		{name: "cert without key", tls: config.KafkaTLS{Enabled: true, CertFile: cert},
			want: []string{"kafka.tls: set cert_file and key_file together, or neither", cert}},
		{name: "key without cert", tls: config.KafkaTLS{Enabled: true, KeyFile: key},
			want: []string{"kafka.tls: set cert_file and key_file together, or neither", key}},
		{name: "key is not a key", tls: config.KafkaTLS{Enabled: true, CertFile: cert, KeyFile: notPEM},
			want: []string{"kafka.tls.cert_file, key_file: load client certificate " + cert + " with key " + notPEM}},
		{name: "missing cert", tls: config.KafkaTLS{Enabled: true, CertFile: missing, KeyFile: key},
			want: []string{"load client certificate " + missing, "no such file"}},
		{name: "unknown mechanism", sasl: config.KafkaSASL{Mechanism: "GSSAPI", Username: "driftwatch", Password: kafkaTestPassword},
			want: []string{`kafka.sasl.mechanism: "GSSAPI" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512`}},
		{name: "lower-case mechanism", sasl: config.KafkaSASL{Mechanism: "scram-sha-256", Username: "driftwatch", Password: kafkaTestPassword},
			want: []string{`kafka.sasl.mechanism: "scram-sha-256" is not one of`}},
		{name: "no username", sasl: config.KafkaSASL{Mechanism: config.SASLPlain, Password: kafkaTestPassword},
			want: []string{"kafka.sasl.username: must be set with mechanism PLAIN"}},
		{name: "empty password env", sasl: scram, env: map[string]string{"OTHER": kafkaTestPassword},
			want: []string{"kafka.sasl.password_env: environment variable KAFKA_PASSWORD is empty or unset"}},
		{name: "password and password env", sasl: config.KafkaSASL{Mechanism: config.SASLScramSHA256, Username: "u", Password: kafkaTestPassword, PasswordEnv: "KAFKA_PASSWORD"},
			env:  map[string]string{"KAFKA_PASSWORD": kafkaTestPassword},
			want: []string{"kafka.sasl: set password or password_env, not both"}},
		{name: "no password", sasl: config.KafkaSASL{Mechanism: config.SASLScramSHA256, Username: "u"},
			want: []string{"kafka.sasl: mechanism SCRAM-SHA-256 needs password or password_env"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := config.Default().Kafka
			k.TLS, k.SASL = tc.tls, tc.sasl
			opts, err := kafkaOpts(k, envOf(tc.env))
			if err == nil {
				t.Fatalf("no error, %d options", len(opts))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), kafkaTestPassword) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

func TestKafkaOpts(t *testing.T) {
	dir := t.TempDir()
	ca, _ := writeCert(t, dir, "ca")
	cert, key := writeCert(t, dir, "client")

	t.Run("plaintext", func(t *testing.T) {
		k := config.Default().Kafka
		k.Brokers, k.ClientID = []string{"127.0.0.1:1", "127.0.0.1:2"}, "dw-test"
		opts, err := kafkaOpts(k, envOf(nil))
		if err != nil {
			t.Fatal(err)
		}
		cl := optsClient(t, opts)
		if got := cl.OptValue(kgo.SeedBrokers).([]string); strings.Join(got, ",") != "127.0.0.1:1,127.0.0.1:2" {
			t.Errorf("seed brokers %v", got)
		}
		if got := cl.OptValue(kgo.ClientID); got != "dw-test" {
			t.Errorf("client id %v", got)
		}
		if got := cl.OptValue(kgo.DialTLSConfig).(*tls.Config); got != nil {
			t.Errorf("TLS without kafka.tls.enabled: %+v", got)
		}
		if got := cl.OptValue(kgo.SASL).([]sasl.Mechanism); len(got) != 0 {
			t.Errorf("SASL without kafka.sasl.mechanism: %v", got)
		}
	})
	t.Run("tls", func(t *testing.T) {
		k := config.Default().Kafka
		k.TLS = config.KafkaTLS{Enabled: true, CAFile: ca, CertFile: cert, KeyFile: key, ServerName: "kafka.example"}
		opts, err := kafkaOpts(k, envOf(nil))
		if err != nil {
			t.Fatal(err)
		}
		c := optsClient(t, opts).OptValue(kgo.DialTLSConfig).(*tls.Config)
		if c == nil {
			t.Fatal("no TLS config")
		}
		if c.MinVersion != tls.VersionTLS12 || c.ServerName != "kafka.example" || c.InsecureSkipVerify || c.RootCAs == nil || len(c.Certificates) != 1 {
			t.Errorf("TLS config: min version %x, server name %q, insecure %v, roots %v, %d certificates",
				c.MinVersion, c.ServerName, c.InsecureSkipVerify, c.RootCAs != nil, len(c.Certificates))
		}
		// Enabled alone: system roots, no client certificate.
		k.TLS = config.KafkaTLS{Enabled: true}
		if opts, err = kafkaOpts(k, envOf(nil)); err != nil {
			t.Fatal(err)
		}
		c = optsClient(t, opts).OptValue(kgo.DialTLSConfig).(*tls.Config)
		if c == nil || c.RootCAs != nil || len(c.Certificates) != 0 || c.MinVersion != tls.VersionTLS12 {
			t.Errorf("TLS config with enabled alone: %+v", c)
		}
	})
	for _, m := range config.SASLMechanisms {
		t.Run(m, func(t *testing.T) {
			k := config.Default().Kafka
			k.SASL = config.KafkaSASL{Mechanism: m, Username: "driftwatch", PasswordEnv: "KAFKA_PASSWORD"}
			opts, err := kafkaOpts(k, envOf(map[string]string{"KAFKA_PASSWORD": kafkaTestPassword}))
			if err != nil {
				t.Fatal(err)
			}
			got := optsClient(t, opts).OptValue(kgo.SASL).([]sasl.Mechanism)
			if len(got) != 1 || got[0].Name() != m {
				t.Errorf("SASL mechanisms %v, want one %s", got, m)
			}
		})
	}
}

// The tests below run against the real Apache Kafka broker that
// deploy/servers/kafka.sh starts, through options from kafkaOpts only.

const kafkaRealTimeout = 30 * time.Second

// kafkaRealClient returns a client with the options kafkaOpts makes of k
// (and extra), closed when the test ends.
func kafkaRealClient(t *testing.T, k config.Kafka, extra ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts, err := kafkaOpts(k, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// kafkaRoundTrip creates a fresh topic, produces one record and reads it
// back, all through clients configured by kafkaOpts from k.
func kafkaRoundTrip(t *testing.T, k config.Kafka) {
	t.Helper()
	topic := testservers.UniqueName(t, "t")
	prod := kafkaRealClient(t, k)
	testservers.CreateTopics(t, prod, 1, topic)
	ctx, cancel := context.WithTimeout(context.Background(), kafkaRealTimeout)
	defer cancel()
	want := "record over " + t.Name()
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(want)}).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
	cons := kafkaRealClient(t, k, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if got := string(testservers.FirstRecord(t, cons, topic).Value); got != want {
		t.Fatalf("read %q back, want %q", got, want)
	}
}

// kafkaPingFails checks that a client configured from k is refused by the
// broker with an error that satisfies is, well before the deadline.
func kafkaPingFails(t *testing.T, k config.Kafka, is func(error) bool) {
	t.Helper()
	cl := kafkaRealClient(t, k)
	ctx, cancel := context.WithTimeout(context.Background(), kafkaRealTimeout)
	defer cancel()
	err := cl.Ping(ctx)
	if ctx.Err() != nil {
		t.Fatalf("ping still failing at the %v deadline (%v): it should fail at once", kafkaRealTimeout, err)
	}
	if err == nil || !is(err) {
		t.Fatalf("ping = %v, want the connection refused", err)
	}
}

func isSASLAuthFailed(err error) bool { return errors.Is(err, kerr.SaslAuthenticationFailed) }

// TestKafkaOptsRealBroker produces and consumes a record through options
// from kafkaOpts on each listener and mechanism of the test broker, and
// checks that a wrong password and an untrusted broker certificate are
// refused.
func TestKafkaOptsRealBroker(t *testing.T) {
	saslBrokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_BROKERS"), ",")
	tlsBrokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_TLS_BROKERS"), ",")
	tlsSASLBrokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_TLS_SCRAM_BROKERS"), ",")
	ca := testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_TLS_CA")
	scramUser := testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_USER")
	testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_PASSWORD")
	plainUser := testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_PLAIN_USER")
	testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_PLAIN_PASSWORD")

	kafka := func(brokers []string, tlsOn bool, mech, user, passEnv string) config.Kafka {
		k := config.Default().Kafka
		k.Brokers, k.ClientID = brokers, "driftwatch-cli-test"
		if tlsOn {
			k.TLS = config.KafkaTLS{Enabled: true, CAFile: ca}
		}
		if mech != "" {
			k.SASL = config.KafkaSASL{Mechanism: mech, Username: user, PasswordEnv: passEnv}
		}
		return k
	}
	for _, tc := range []struct {
		name     string
		k        config.Kafka
		wrongPwd bool // also check a wrong password is refused
	}{
		{"SCRAM-SHA-256", kafka(saslBrokers, false, config.SASLScramSHA256, scramUser, "DRIFTWATCH_KAFKA_SCRAM_PASSWORD"), true},
		{"SCRAM-SHA-512", kafka(saslBrokers, false, config.SASLScramSHA512, scramUser, "DRIFTWATCH_KAFKA_SCRAM_PASSWORD"), true},
		{"PLAIN", kafka(saslBrokers, false, config.SASLPlain, plainUser, "DRIFTWATCH_KAFKA_PLAIN_PASSWORD"), true},
		{"tls", kafka(tlsBrokers, true, "", "", ""), false},
		{"tls+SCRAM-SHA-512", kafka(tlsSASLBrokers, true, config.SASLScramSHA512, scramUser, "DRIFTWATCH_KAFKA_SCRAM_PASSWORD"), true},
		{"tls+PLAIN", kafka(tlsSASLBrokers, true, config.SASLPlain, plainUser, "DRIFTWATCH_KAFKA_PLAIN_PASSWORD"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.k.SASL.Mechanism == config.SASLPlain {
				requirePlain(t, tc.k)
			}
			kafkaRoundTrip(t, tc.k)
		})
		if tc.wrongPwd {
			t.Run(tc.name+" wrong password", func(t *testing.T) {
				k := tc.k
				k.SASL.Password, k.SASL.PasswordEnv = config.Secret(os.Getenv(k.SASL.PasswordEnv)+"x"), ""
				kafkaPingFails(t, k, isSASLAuthFailed)
			})
		}
	}
	t.Run("untrusted certificate", func(t *testing.T) {
		other, _ := writeCert(t, t.TempDir(), "other-ca")
		k := kafka(tlsBrokers, true, "", "", "")
		k.TLS.CAFile = other
		var unknown x509.UnknownAuthorityError
		kafkaPingFails(t, k, func(err error) bool { return errors.As(err, &unknown) })
	})
}

// requirePlain fails the test with a hint when the broker does not enable
// PLAIN: it was started from a server.properties older than this test.
func requirePlain(t *testing.T, k config.Kafka) {
	t.Helper()
	cl := kafkaRealClient(t, k)
	ctx, cancel := context.WithTimeout(context.Background(), kafkaRealTimeout)
	defer cancel()
	if err := cl.Ping(ctx); errors.Is(err, kerr.UnsupportedSaslMechanism) {
		t.Fatalf("the broker does not enable PLAIN (%v): restart it with deploy/servers/kafka.sh stop && deploy/servers/kafka.sh start", err)
	}
}

// TestRunRealBrokerTLSSCRAM runs `driftwatch run` against the broker's
// SASL_SSL listener with SCRAM-SHA-512, the password in the environment:
// it consumes records into committed windows, and its log says how it
// connected without showing the password.
func TestRunRealBrokerTLSSCRAM(t *testing.T) {
	brokers := strings.Split(testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_TLS_SCRAM_BROKERS"), ",")
	ca := testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_TLS_CA")
	user := testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_USER")
	pass := testservers.KafkaEnv(t, "DRIFTWATCH_KAFKA_SCRAM_PASSWORD")

	dir := t.TempDir()
	_, scen := scenario(t, dir)
	scen.BadRate, scen.DuplicateRate = 0, 0
	baseDir := buildBaselines(t, dir, scen)
	k := config.Default().Kafka
	k.Brokers, k.Topic, k.DeadLetterTopic, k.Group = brokers, testservers.UniqueName(t, "t"), testservers.UniqueName(t, "dlq"), testservers.UniqueName(t, "g")
	k.TLS = config.KafkaTLS{Enabled: true, CAFile: ca}
	k.SASL = config.KafkaSASL{Mechanism: config.SASLScramSHA512, Username: user, PasswordEnv: "DRIFTWATCH_KAFKA_SCRAM_PASSWORD"}
	prod := kafkaRealClient(t, k)
	testservers.CreateTopics(t, prod, 1, k.Topic, k.DeadLetterTopic)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), kafkaRealTimeout)
		defer cancel()
		if resp, err := kadm.NewClient(prod).DeleteGroups(ctx, k.Group); err != nil || resp.Error() != nil {
			t.Logf("delete group %s: %v %v", k.Group, err, resp.Error())
		}
	})
	var recs []*kgo.Record
	if err := scen.Generate(func(m synth.Message) error {
		if m.Window <= 1 { // window 1's records close window 0
			recs = append(recs, &kgo.Record{Topic: k.Topic, Key: m.Key, Value: m.Value})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), kafkaRealTimeout)
	defer cancel()
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", k.Topic, err)
	}

	metrics := filepath.Join(dir, "metrics.jsonl")
	cfg := filepath.Join(dir, "driftwatch.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
kafka:
  brokers: [%q]
  topic: %s
  dead_letter_topic: %s
  group: %s
  tls: {enabled: true, ca_file: %q}
  sasl: {mechanism: SCRAM-SHA-512, username: %q, password_env: DRIFTWATCH_KAFKA_SCRAM_PASSWORD}
baselines:
  dir: %q
sinks:
  jsonl:
    path: %q
log:
  format: json
`, brokers[0], k.Topic, k.DeadLetterTopic, k.Group, ca, user, baseDir, metrics)), 0o644); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	done := startRun(runCtx, cfg)
	deadline := time.Now().Add(2 * kafkaRealTimeout)
	for {
		rows := psiRows(t, metrics, scen)
		if len(rows["fraud 0"]) > 0 && len(rows["churn 0"]) > 0 {
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("window 0 not committed within %v; rows %v; log:\n%s", 2*kafkaRealTimeout, rows, (<-done).stderr)
		}
		select {
		case r := <-done:
			t.Fatalf("run exited %d before committing window 0: %s", r.code, r.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	stop()
	r := <-done
	if r.code != 0 {
		t.Fatalf("run exited %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, pass) {
		t.Errorf("the log shows the password:\n%s", r.stderr)
	}
	for _, want := range []string{`"msg":"consuming"`, `"tls":true`, `"sasl_mechanism":"SCRAM-SHA-512"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("log has no %s:\n%s", want, r.stderr)
		}
	}
}

// TestRunKafkaOptsError: a TLS file that cannot be read stops `driftwatch
// run` before it reads baselines or opens the sink, naming key and file.
func TestRunKafkaOptsError(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing-ca.pem")
	cfg := filepath.Join(dir, "driftwatch.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("kafka:\n  tls: {enabled: true, ca_file: %q}\nbaselines:\n  dir: %q\n",
		missing, filepath.Join(dir, "no-baselines"))), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "run", "--config", cfg)
	if code != 1 || !strings.Contains(stderr, "kafka.tls.ca_file: read CA certificates: open "+missing) {
		t.Fatalf("exit %d, stderr %q; want 1 and the kafka.tls.ca_file error", code, stderr)
	}
}
