package cli

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/driftwatch/driftwatch/internal/config"
)

// kafkaOpts returns the kgo options that reach and authenticate to the
// brokers of k: seed brokers, client id, TLS (1.2 or newer) when
// k.TLS.Enabled, and SASL when k.SASL.Mechanism is set. It reads the files
// k.TLS names and, through getenv, the variable k.SASL.PasswordEnv names;
// an empty variable is an error. Errors name the config key and file, never
// the password.
func kafkaOpts(k config.Kafka, getenv func(string) string) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(k.Brokers...), kgo.ClientID(k.ClientID), kgo.SessionTimeout(k.SessionTimeout)}
	if k.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(k.InstanceID))
	}
	if k.TLS.Enabled {
		c, err := kafkaTLS(k.TLS)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(c))
	}
	if k.SASL.Mechanism != "" {
		m, err := kafkaSASL(k.SASL, getenv)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

func kafkaTLS(t config.KafkaTLS) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.ca_file: read CA certificates: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka.tls.ca_file: no PEM certificate in %s", t.CAFile)
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, fmt.Errorf("kafka.tls: set cert_file and key_file together, or neither (cert_file %q, key_file %q)", t.CertFile, t.KeyFile)
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.cert_file, key_file: load client certificate %s with key %s: %w", t.CertFile, t.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

func kafkaSASL(s config.KafkaSASL, getenv func(string) string) (sasl.Mechanism, error) {
	var mech func(user, pass string) sasl.Mechanism
	switch s.Mechanism {
	case config.SASLPlain:
		mech = func(user, pass string) sasl.Mechanism { return plain.Auth{User: user, Pass: pass}.AsMechanism() }
	case config.SASLScramSHA256:
		mech = func(user, pass string) sasl.Mechanism { return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism() }
	case config.SASLScramSHA512:
		mech = func(user, pass string) sasl.Mechanism { return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism() }
	default:
		return nil, fmt.Errorf("kafka.sasl.mechanism: %q is not one of %s", s.Mechanism, strings.Join(config.SASLMechanisms, ", "))
	}
	if s.Username == "" {
		return nil, fmt.Errorf("kafka.sasl.username: must be set with mechanism %s", s.Mechanism)
	}
	pass := string(s.Password)
	if s.PasswordEnv != "" {
		if pass != "" {
			return nil, errors.New("kafka.sasl: set password or password_env, not both")
		}
		if pass = getenv(s.PasswordEnv); pass == "" {
			return nil, fmt.Errorf("kafka.sasl.password_env: environment variable %s is empty or unset", s.PasswordEnv)
		}
	}
	if pass == "" {
		return nil, fmt.Errorf("kafka.sasl: mechanism %s needs password or password_env", s.Mechanism)
	}
	return mech(s.Username, pass), nil
}
