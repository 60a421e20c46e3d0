package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/driftwatch/driftwatch/consumer/kserve"
	"github.com/driftwatch/driftwatch/internal/auth"
	"github.com/driftwatch/driftwatch/internal/config"
)

// kserveGroup is the consumer group of the KServe converter of group G.
func kserveGroup(group string) string { return group + "-kserve" }

// newKServeConverter returns the converter of kserve.topic (nil when it
// is off): it reads the logger's events in a group of its own and
// produces records to kafka.topic, which the pipeline reads like any
// other producer's.
func newKServeConverter(cfg *config.Config, log *slog.Logger, kopts []kgo.Opt) (*kserve.Converter, error) {
	k := &cfg.KServe
	if k.Topic == "" {
		return nil, nil
	}
	return kserve.NewConverter(log, kserve.ConverterConfig{
		Topic: k.Topic, DeadLetterTopic: k.DeadLetter(), Group: kserveGroup(cfg.Kafka.Group), OutTopic: cfg.Kafka.Topic,
		Models: k.Mappings(), JoinTimeout: k.JoinTimeout, MaxPending: k.MaxPending, StartAtEnd: cfg.Kafka.StartAtEnd,
	}, kopts...)
}

// kserveEndpoint returns the handler of kserve.http_path (nil when there
// is none) and what closes its producer. Each event posted is written to
// kserve.topic, for the converter, through a producer of its own. The
// endpoint takes only kserve.http_tokens, in an Authorization header or
// the URL's access_token parameter (KServe's logger can be given a URL,
// not a header); without tokens it answers 403. Its tokens are good for
// nothing else, and the API's for nothing here: the logger's URL sits in
// every InferenceService's spec. No rate limit applies (the logger
// retries nothing); bodies are capped at kafka.max_record_bytes.
func kserveEndpoint(cfg *config.Config, log *slog.Logger, kopts []kgo.Opt) (http.Handler, func(), error) {
	k := &cfg.KServe
	if k.Topic == "" || k.HTTPPath == "" {
		return nil, func() {}, nil
	}
	if len(k.HTTPTokens) == 0 {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "the KServe endpoint needs a token: set kserve.http_tokens and give one in the logger's URL (?access_token=...)"})
		}), func() {}, nil
	}
	ac := auth.Config{MaxBodyBytes: int64(cfg.Kafka.MaxRecordBytes)}
	for _, t := range k.HTTPTokens {
		ac.Tokens = append(ac.Tokens, auth.TokenSource{Name: t.Name, Role: auth.Viewer.String(), Env: t.TokenEnv, File: t.TokenFile, SHA256: t.TokenSHA256})
	}
	guard, err := auth.New(ac, os.Getenv, log)
	if err != nil {
		return nil, nil, fmt.Errorf("kserve.http_tokens: %w", err)
	}
	prod, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, nil, fmt.Errorf("create kafka producer for kserve topic %s: %w", k.Topic, err)
	}
	h := &kserve.Handler{Topic: k.Topic, MaxBytes: int64(cfg.Kafka.MaxRecordBytes),
		Produce: func(ctx context.Context, r *kgo.Record) error { return prod.ProduceSync(ctx, r).FirstErr() }}
	return auth.QueryToken(guard.Require(auth.Viewer, h)), prod.Close, nil
}
