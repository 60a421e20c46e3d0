// Package config loads driftwatch's one YAML configuration file: strictly
// (an unknown key is an error), with a default for every key and a Validate
// that names the offending key. The README documents every key; the file
// deploy/driftwatch.yml shows them all with their defaults.
//
// It deliberately does not open connections or files named in the config.
// The one environment variable it reads is kafka.instance_id_env's; the
// variables other *_env keys name are read where the secret is used.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/driftwatch/driftwatch/alerts"
	"github.com/driftwatch/driftwatch/alerts/alertmanager"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/consumer/kserve"
	"github.com/driftwatch/driftwatch/internal/auth"
	"github.com/driftwatch/driftwatch/internal/secret"
	"github.com/driftwatch/driftwatch/sinks/clickhouse"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/windows"
)

// Config is the whole file.
type Config struct {
	Kafka     Kafka            `yaml:"kafka"`
	Windows   Windows          `yaml:"windows"`
	Labels    Labels           `yaml:"labels"`
	Baselines Baselines        `yaml:"baselines"`
	Drift     Drift            `yaml:"drift"`
	Fairness  Fairness         `yaml:"fairness"`
	Models    map[string]Model `yaml:"models"`
	Sinks     Sinks            `yaml:"sinks"`
	Alerts    Alerts           `yaml:"alerts"`
	HTTP      HTTP             `yaml:"http"`
	KServe    KServe           `yaml:"kserve"`
	Log       Log              `yaml:"log"`
	// StartupTimeout is how long run may try to reach Kafka and ClickHouse
	// (and be accepted by them) before it gives up and exits non-zero.
	StartupTimeout time.Duration `yaml:"startup_timeout"`
}

// Fairness configures subgroup fairness for every model: how predictions
// and labels become decisions and outcomes, and the limits.
type Fairness struct {
	DecisionThreshold        float64  `yaml:"decision_threshold"`
	Positive                 []string `yaml:"positive"`
	MinGroupSize             int64    `yaml:"min_group_size"`
	MaxParityDifference      float64  `yaml:"max_parity_difference"`
	MaxOpportunityDifference float64  `yaml:"max_opportunity_difference"`
	// MaxEqualizedOddsDifference: equalized_odds_diff above it is a breach.
	MaxEqualizedOddsDifference float64 `yaml:"max_equalized_odds_difference"`
	MinDisparateImpact         float64 `yaml:"min_disparate_impact"`
	MaxParityIncrease          float64 `yaml:"max_parity_increase"`
}

// Kafka is where prediction logs come from and bad records go.
type Kafka struct {
	Brokers         []string      `yaml:"brokers"`
	Topic           string        `yaml:"topic"`
	DeadLetterTopic string        `yaml:"dead_letter_topic"`
	Group           string        `yaml:"group"`
	ClientID        string        `yaml:"client_id"`
	MaxRecordBytes  int           `yaml:"max_record_bytes"`
	MaxFuture       time.Duration `yaml:"max_future"`
	DedupCapacity   int           `yaml:"dedup_capacity"`
	StartAtEnd      bool          `yaml:"start_at_end"`
	IdleTimeout     time.Duration `yaml:"idle_timeout"`
	MaxPollRecords  int           `yaml:"max_poll_records"`
	SessionTimeout  time.Duration `yaml:"session_timeout"`
	InstanceID      string        `yaml:"instance_id"`
	InstanceIDEnv   string        `yaml:"instance_id_env"` // the environment variable holding instance_id (e.g. POD_NAME from the downward API); Parse reads it
	TLS             KafkaTLS      `yaml:"tls"`
	SASL            KafkaSASL     `yaml:"sasl"`
	ScaleOut        ScaleOut      `yaml:"scale_out"`
}

// ScaleOut makes every instance of the group active (README, "Scale out"):
// each folds the partitions it owns into window deltas, and the owner of a
// model's partition of the partials topic merges them. Off, one instance
// owns every partition and the others stand by.
type ScaleOut struct {
	Enabled bool `yaml:"enabled"`
	// PartialsPartitions is the partition count the partials topic is
	// created with (0: the predictions topic's); at most that many
	// instances merge at once.
	PartialsPartitions int32         `yaml:"partials_partitions"`
	PartialsRetention  time.Duration `yaml:"partials_retention"`
	// FlushInterval is how often each instance commits its deltas.
	FlushInterval      time.Duration `yaml:"flush_interval"`
	TransactionTimeout time.Duration `yaml:"transaction_timeout"`
}

// KafkaTLS configures TLS to the brokers (TLS 1.2 or newer). Enabled alone
// verifies the brokers against the system roots; the other keys need it.
type KafkaTLS struct {
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM file of CA certificates to verify the brokers with
	// instead of the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the PEM client certificate and its key, for
	// brokers that require one (ssl.client.auth=required); both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name verified in the brokers' certificates
	// (default: the host of the address dialled).
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify accepts any broker certificate. For tests only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// SASL mechanisms of kafka.sasl.mechanism.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// SASLMechanisms lists the values kafka.sasl.mechanism may take besides
// empty (no SASL).
var SASLMechanisms = []string{SASLPlain, SASLScramSHA256, SASLScramSHA512}

// KafkaSASL authenticates to the brokers when Mechanism is set. The password
// comes from the file or, better, from the environment variable named by
// PasswordEnv; it is never logged.
type KafkaSASL struct {
	Mechanism   string `yaml:"mechanism"` // "" (none) or one of SASLMechanisms
	Username    string `yaml:"username"`
	Password    Secret `yaml:"password"`
	PasswordEnv string `yaml:"password_env"`
}

// Secret is a string that never prints (see package secret).
type Secret = secret.Secret

// DefaultWatermarkOutliers is windows.watermark_outliers' default: up to
// 100 records per partition stamped ahead of the rest move no watermark.
const DefaultWatermarkOutliers = 100

// Windows shapes the event-time windows.
type Windows struct {
	Size            time.Duration `yaml:"size"`
	Hop             time.Duration `yaml:"hop"` // hopping windows: a new one every hop; 0: tumbling
	AllowedLateness time.Duration `yaml:"allowed_lateness"`
	MaxCategories   int           `yaml:"max_categories"`
	MaxOpen         int           `yaml:"max_open"`
	// WatermarkOutliers: per partition (a replayed file is one), the
	// watermark ignores this many of the newest event times read, so that
	// a few records stamped far ahead close no window early.
	WatermarkOutliers int `yaml:"watermark_outliers"`
	// SampleRows is how many records each window keeps as whole rows for
	// the multivariate rows (windows.Sample); 0: none, and no
	// multivariate rows.
	SampleRows int `yaml:"sample_rows"`
}

// Samples returns SampleRows as windows.Config.SampleRows takes it
// (negative: none).
func (w Windows) Samples() int {
	if w.SampleRows == 0 {
		return -1
	}
	return w.SampleRows
}

// Alerts configures severity rules and their delivery to Alertmanager.
type Alerts struct {
	// Rules classify rows into SEV-1..SEV-4 and, over consecutive windows,
	// into alerts; the list replaces the defaults (alerts.DefaultRules)
	// whole.
	Rules        alerts.Rules      `yaml:"rules"`
	DashboardURL string            `yaml:"dashboard_url"` // {model}, {model_version}, {subject} are replaced
	RunbookURL   string            `yaml:"runbook_url"`
	Labels       map[string]string `yaml:"labels"` // added to every alert, e.g. {env: prod}
	Alertmanager Alertmanager      `yaml:"alertmanager"`
	Actions      Actions           `yaml:"actions"`
}

// Actions configures the retrain and rollback triggers: signed webhook
// calls and records on a Kafka topic (kafka.brokers and its security), at
// most one of a kind per model version per interval.
type Actions struct {
	WebhookURL       string              `yaml:"webhook_url"`
	WebhookSecretEnv string              `yaml:"webhook_secret_env"` // the environment variable holding the HMAC-SHA256 key
	Topic            string              `yaml:"topic"`
	Interval         time.Duration       `yaml:"interval"`
	Retrain          alerts.ActionPolicy `yaml:"retrain"`
	Rollback         alerts.ActionPolicy `yaml:"rollback"`
}

// Alertmanager is where alerts go: every URL (each replica of an HA
// Alertmanager; none: alerts are only logged and recorded).
type Alertmanager struct {
	URLs           []string      `yaml:"urls"`
	ResendInterval time.Duration `yaml:"resend_interval"`
	Timeout        time.Duration `yaml:"timeout"`
	QueueSize      int           `yaml:"queue_size"`
	// RetryMax caps the wait between failed posts to a URL, and so how
	// long after an Alertmanager's return its queued alerts go out.
	RetryMax time.Duration `yaml:"retry_max"`
	// MinFiring is how long a fire delivered late (after an outage) stays
	// firing in Alertmanager before its queued resolution is posted.
	MinFiring time.Duration `yaml:"min_firing"`
}

// Labels configures late labels (CONTRACT.md section 2): where they come
// from and how long and how many the join keeps.
type Labels struct {
	// Topic is read with the predictions by the same consumer group; ""
	// reads no labels (and keeps nothing per prediction).
	Topic           string        `yaml:"topic"`
	DeadLetterTopic string        `yaml:"dead_letter_topic"`
	Horizon         time.Duration `yaml:"horizon"`         // how late a label still counts (168h: 7 days)
	MaxPredictions  int           `yaml:"max_predictions"` // per model, awaiting a label (about 140 bytes each)
	MaxPending      int           `yaml:"max_pending"`     // per model, labels waiting for their prediction
}

// Join returns the windows stage's join configuration.
func (l Labels) Join() *windows.LabelConfig {
	return &windows.LabelConfig{Horizon: l.Horizon, MaxPredictions: l.MaxPredictions, MaxPending: l.MaxPending}
}

// Baselines says where stored baselines are.
type Baselines struct {
	Dir string `yaml:"dir"`
	// Reload is how often run looks at Dir for new or promoted baselines
	// and switches to them without a restart; 0: never (a restart).
	Reload time.Duration `yaml:"reload"`
}

// Drift is the verdict policy. At the top level it is the default for every
// model; under models.<name>.drift, the keys it sets override the default.
type Drift struct {
	Numeric     *Rule              `yaml:"numeric"`
	Categorical *Rule              `yaml:"categorical"`
	Features    map[string]Rule    `yaml:"features"`
	Thresholds  map[string]float64 `yaml:"thresholds"`
	MinSamples  *int64             `yaml:"min_samples"`
	PSIBins     int                `yaml:"psi_bins"`
	Correction  string             `yaml:"correction"`
	// RequireSignificance: an effect-size verdict also needs the subject's
	// test to be significant.
	RequireSignificance *bool `yaml:"require_significance"`
	// Preset reproduces another tool's default rules (drift.Presets). It
	// replaces numeric, categorical, correction and require_significance,
	// which may then be set only to override the preset.
	Preset      string       `yaml:"preset"`
	Metrics     *Metrics     `yaml:"metrics"`
	Calibration *Calibration `yaml:"calibration"`
	MDE         *MDE         `yaml:"mde"`
	// Multivariate configures the multivariate rows (subject
	// *multivariate); set under a model, it replaces the default whole.
	Multivariate *Multivariate `yaml:"multivariate"`
	// Importance weighs features in the dataset-level weighted_drift_share;
	// unnamed features weigh 0; empty: all weigh 1.
	Importance map[string]float64 `yaml:"importance"`
	SLO        *SLO               `yaml:"slo"`
	// Champion names the variant the others are compared with.
	Champion string `yaml:"champion"`
	// Shadows names the shadow variants: scored on the traffic, not
	// served; their records count in their variant's rows only. Unset:
	// inherited (the default: shadow); [] for none.
	Shadows []string `yaml:"shadow_variants"`
	// MaxPerformanceDrop: how far below the reference's accuracy,
	// precision or recall a window's may fall (and significantly) before it
	// is concept drift.
	MaxPerformanceDrop float64 `yaml:"max_performance_drop"`
	// MaxErrorIncrease: how far above the reference's MAE, relatively, a
	// window's may rise (significantly) before it is concept drift.
	MaxErrorIncrease float64 `yaml:"max_error_increase"`
	// Detectors sets the error-stream detectors: calibrated (on the
	// reference's error rate, with a warm-up) or river (River's defaults).
	Detectors string `yaml:"detectors"`
	// Seasonality: the reference a window is judged against: auto (the
	// phase of the reference's own cycle), none, daily or weekly.
	Seasonality string `yaml:"seasonality"`
}

// SLO holds the serving objectives the serving rows are judged against; 0
// leaves one unjudged.
type SLO struct {
	LatencyP50    float64 `yaml:"latency_p50_ms"`
	LatencyP95    float64 `yaml:"latency_p95_ms"`
	LatencyP99    float64 `yaml:"latency_p99_ms"`
	MinThroughput float64 `yaml:"min_throughput_rps"`
	// MaxErrorRate: a window whose failed records (an "error") are more
	// than this share of its records breaches it.
	MaxErrorRate float64 `yaml:"max_error_rate"`
}

// Metrics are the rows written per subject, besides its rule's metric.
type Metrics struct {
	Numeric     []string `yaml:"numeric"`
	Categorical []string `yaml:"categorical"`
}

// Calibration configures reference-calibrated thresholds.
type Calibration struct {
	Enabled       bool    `yaml:"enabled"`
	Sigmas        float64 `yaml:"sigmas"`
	MinSubWindows int     `yaml:"min_sub_windows"`
}

// Multivariate configures the multivariate rows (drift.Multivariate).
type Multivariate struct {
	Sigmas       float64 `yaml:"sigmas"`
	MinChunks    int     `yaml:"min_chunks"`
	MinAUC       float64 `yaml:"min_auc"`
	Permutations int     `yaml:"permutations"`
	Folds        int     `yaml:"folds"`
}

// MaxPermutations bounds drift.multivariate.permutations: each costs one
// cross-validated fit of the domain classifier (about 1.3 ms at the
// default sample size).
const MaxPermutations = 999

// MDE sets the level and power of reported minimum detectable effects.
type MDE struct {
	Alpha float64 `yaml:"alpha"`
	Power float64 `yaml:"power"`
}

// Rule names the metric that decides a subject's verdict and its threshold.
type Rule struct {
	Metric    string  `yaml:"metric"`
	Threshold float64 `yaml:"threshold"`
}

// Model holds per-model settings.
type Model struct {
	Baseline   string `yaml:"baseline"`    // a baseline file; default: the promoted or newest in baselines.dir
	BaselineID string `yaml:"baseline_id"` // or a baseline of baselines.dir by id (driftwatch baseline list)
	Drift      Drift  `yaml:"drift"`
}

// Sinks says where metric rows go: ClickHouse when enabled, else the
// JSON-lines file.
type Sinks struct {
	JSONL      JSONL      `yaml:"jsonl"`
	ClickHouse ClickHouse `yaml:"clickhouse"`
	Retry      Retry      `yaml:"retry"`
}

// ClickHouse is the ClickHouse sink. The password comes from the file or,
// better, from the environment variable named by password_env; it is never
// logged.
type ClickHouse struct {
	Enabled       bool          `yaml:"enabled"`
	Addr          []string      `yaml:"addr"`
	Database      string        `yaml:"database"`
	Username      string        `yaml:"username"`
	Password      string        `yaml:"password"`
	PasswordEnv   string        `yaml:"password_env"`
	TLS           ClickHouseTLS `yaml:"tls"`
	DialTimeout   time.Duration `yaml:"dial_timeout"`
	CommitTimeout time.Duration `yaml:"commit_timeout"`
}

// ClickHouseTLS configures TLS to ClickHouse.
type ClickHouseTLS struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Retry is the backoff of failed sink commits in run: exponential from
// Initial up to Max between attempts, never giving up; reading pauses
// meanwhile.
type Retry struct {
	Initial time.Duration `yaml:"initial"`
	Max     time.Duration `yaml:"max"`
}

// JSONL is the JSON-lines file sink.
type JSONL struct {
	Path string `yaml:"path"`
}

// HTTP serves /metrics, /healthz and /readyz.
type HTTP struct {
	Listen string   `yaml:"listen"` // empty: no server
	TLS    HTTPTLS  `yaml:"tls"`
	Auth   HTTPAuth `yaml:"auth"`
}

// HTTPTLS serves HTTPS with CertFile and KeyFile; with ClientCAFile,
// clients must present a certificate it signed (mutual TLS).
type HTTPTLS struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
}

// HTTPAuth guards the server with bearer tokens (package auth): none set,
// everything is open.
type HTTPAuth struct {
	Tokens []HTTPToken `yaml:"tokens"`
	// Rate (requests per second) and Burst limit each token; 0: no limit.
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
	// MaxBodyBytes caps a request's body.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ProtectMetrics and ProtectProbes make /metrics, and /healthz and
	// /readyz, need a token (any role); by default they stay open, for
	// Prometheus and the orchestrator's probes.
	ProtectMetrics bool `yaml:"protect_metrics"`
	ProtectProbes  bool `yaml:"protect_probes"`
}

// HTTPToken is one bearer token: its name (who, in logs and the audit
// trail), its role (viewer, operator, admin) and where its secret is:
// exactly one of TokenEnv (an environment variable), TokenFile (a file)
// and TokenSHA256 (its SHA-256, hex: the configuration then never holds
// the secret).
type HTTPToken struct {
	Name        string `yaml:"name"`
	Role        string `yaml:"role"`
	TokenEnv    string `yaml:"token_env"`
	TokenFile   string `yaml:"token_file"`
	TokenSHA256 string `yaml:"token_sha256"`
}

// KServe reads KServe's inference logger (CONTRACT.md section 12): the
// CloudEvents Knative's KafkaSink writes to Topic, or that the logger posts
// to HTTPPath on http.listen, joined and mapped per InferenceService
// (Models, by name) into prediction log records on kafka.topic. Off while
// Topic is empty.
type KServe struct {
	Topic           string `yaml:"topic"`
	DeadLetterTopic string `yaml:"dead_letter_topic"` // "": Topic + ".dlq"
	// JoinTimeout is how long a request (or response) waits for its pair
	// after it was read; MaxPending bounds the events waiting.
	JoinTimeout time.Duration `yaml:"join_timeout"`
	MaxPending  int           `yaml:"max_pending"`
	// HTTPPath is where run takes the logger's POSTs ("": nowhere); each
	// needs one of HTTPTokens, in an Authorization header or, since the
	// logger sends none, the URL's access_token parameter.
	HTTPPath   string                 `yaml:"http_path"`
	HTTPTokens []KServeToken          `yaml:"http_tokens"`
	Models     map[string]KServeModel `yaml:"models"`
}

// KServeToken is a token of the KServe endpoint, good for nothing else:
// its name (in logs) and exactly one of TokenEnv, TokenFile and
// TokenSHA256, as in HTTPToken.
type KServeToken struct {
	Name        string `yaml:"name"`
	TokenEnv    string `yaml:"token_env"`
	TokenFile   string `yaml:"token_file"`
	TokenSHA256 string `yaml:"token_sha256"`
}

// KServeModel maps one InferenceService's payloads to records
// (kserve.Mapping, which documents each key).
type KServeModel struct {
	Model           string   `yaml:"model"` // "": the InferenceService's name
	Version         string   `yaml:"version"`
	VersionFrom     string   `yaml:"version_from"`
	Features        []string `yaml:"features"`
	Input           string   `yaml:"input"`
	Output          string   `yaml:"output"`
	PredictionIndex *int     `yaml:"prediction_index"`
}

// DeadLetter returns the KServe dead-letter topic: dead_letter_topic, or
// the topic's name and .dlq.
func (k *KServe) DeadLetter() string {
	if k.DeadLetterTopic != "" {
		return k.DeadLetterTopic
	}
	return k.Topic + ".dlq"
}

// Mappings returns the mapping of each InferenceService of Models.
func (k *KServe) Mappings() map[string]kserve.Mapping {
	out := make(map[string]kserve.Mapping, len(k.Models))
	for name, m := range k.Models {
		km := kserve.Mapping{Model: m.Model, Version: m.Version, VersionFrom: m.VersionFrom, Features: m.Features,
			Input: m.Input, Output: m.Output, PredictionIndex: -1}
		if km.Model == "" {
			km.Model = name
		}
		if m.PredictionIndex != nil {
			km.PredictionIndex = *m.PredictionIndex
		}
		out[name] = km
	}
	return out
}

// Log configures the structured log.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text, json or auto (text on a terminal, json otherwise)
}

// Default returns the configuration with every default set.
func Default() *Config {
	p := drift.DefaultPolicy()
	min := p.MinSamples
	ch := clickhouse.DefaultConfig()
	return &Config{
		Kafka: Kafka{
			Brokers: []string{"127.0.0.1:9092"}, Topic: "predictions", DeadLetterTopic: "predictions.dlq",
			Group: "driftwatch", ClientID: "driftwatch", MaxRecordBytes: consumer.DefaultMaxRecordBytes,
			MaxFuture: consumer.DefaultMaxFuture, DedupCapacity: consumer.DefaultDedupCapacity,
			IdleTimeout: consumer.DefaultIdleTimeout, MaxPollRecords: consumer.DefaultMaxPollRecords,
			SessionTimeout: 45 * time.Second,
			ScaleOut: ScaleOut{PartialsRetention: 7 * 24 * time.Hour, FlushInterval: consumer.DefaultFlushInterval,
				TransactionTimeout: consumer.DefaultTransactionTimeout},
		},
		Windows: Windows{
			Size: windows.DefaultSize, AllowedLateness: windows.DefaultLateness, WatermarkOutliers: DefaultWatermarkOutliers,
			MaxCategories: windows.DefaultMaxCategories, MaxOpen: windows.DefaultMaxOpenWindows, SampleRows: windows.DefaultSampleRows,
		},
		Alerts: Alerts{
			Rules:        alerts.DefaultRules(),
			Labels:       map[string]string{},
			Alertmanager: Alertmanager{URLs: []string{}, ResendInterval: time.Minute, Timeout: 10 * time.Second, QueueSize: 1024, RetryMax: alertmanager.DefaultRetryMax, MinFiring: alertmanager.DefaultMinFiring},
			Actions:      Actions{Interval: 24 * time.Hour, Retrain: alerts.DefaultRetrain(), Rollback: alerts.DefaultRollback()},
		},
		Labels: Labels{
			Topic: "labels", DeadLetterTopic: "labels.dlq", Horizon: windows.DefaultHorizon,
			MaxPredictions: windows.DefaultMaxPredictions, MaxPending: windows.DefaultMaxPending,
		},
		Baselines: Baselines{Dir: "baselines", Reload: 10 * time.Second},
		Fairness: Fairness{
			DecisionThreshold: windows.DefaultDecision().Threshold, Positive: windows.DefaultDecision().Positive,
			MinGroupSize: p.Fairness.MinGroupSize, MaxParityDifference: p.Fairness.MaxParityDifference,
			MaxOpportunityDifference: p.Fairness.MaxOpportunityDifference, MinDisparateImpact: p.Fairness.MinDisparateImpact,
			MaxEqualizedOddsDifference: p.Fairness.MaxEqualizedOddsDifference,
			MaxParityIncrease:          p.Fairness.MaxParityIncrease,
		},
		Drift: Drift{
			Numeric:     &Rule{Metric: p.Numeric.Metric, Threshold: p.Numeric.Threshold},
			Categorical: &Rule{Metric: p.Categorical.Metric, Threshold: p.Categorical.Threshold},
			Features:    map[string]Rule{},
			Importance:  map[string]float64{},
			SLO:         &SLO{},
			Champion:    p.Champion,
			Shadows:     p.Shadows,

			MaxPerformanceDrop: p.MaxPerformanceDrop,
			MaxErrorIncrease:   p.MaxErrorIncrease,
			Detectors:          p.Detectors,
			Seasonality:        p.Seasonality,
			Thresholds:         p.Thresholds,
			MinSamples:         &min,
			PSIBins:            p.PSIBins,
			Correction:         p.Correction,

			RequireSignificance: &p.RequireSignificance,
			Preset:              drift.PresetDriftwatch,
			Metrics:             &Metrics{Numeric: p.NumericMetrics, Categorical: p.CategoricalMetrics},
			Calibration:         &Calibration{Enabled: p.Calibration.Enabled, Sigmas: p.Calibration.Sigmas, MinSubWindows: p.Calibration.MinSubWindows},
			MDE:                 &MDE{Alpha: p.MDE.Alpha, Power: p.MDE.Power},
			Multivariate: &Multivariate{Sigmas: p.Multivariate.Sigmas, MinChunks: p.Multivariate.MinChunks, MinAUC: p.Multivariate.MinAUC,
				Permutations: p.Multivariate.Permutations, Folds: p.Multivariate.Folds},
		},
		Models: map[string]Model{},
		Sinks: Sinks{
			JSONL: JSONL{Path: "driftwatch-metrics.jsonl"},
			ClickHouse: ClickHouse{Addr: ch.Addr, Database: ch.Database, Username: ch.Username,
				DialTimeout: ch.DialTimeout, CommitTimeout: ch.CommitTimeout},
			Retry: Retry{Initial: 500 * time.Millisecond, Max: 5 * time.Second},
		},
		Log:  Log{Level: "info", Format: "text"},
		HTTP: HTTP{Auth: HTTPAuth{Tokens: []HTTPToken{}, Rate: 10, Burst: 20, MaxBodyBytes: 1 << 20}},
		KServe: KServe{JoinTimeout: 30 * time.Second, MaxPending: 10_000, HTTPPath: "/kserve/v1/events",
			HTTPTokens: []KServeToken{}, Models: map[string]KServeModel{}},
		StartupTimeout: time.Minute,
	}
}

// Load reads, decodes and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a YAML document over the defaults, strictly, and validates
// the result. Keys the document sets replace the defaults; maps such as
// drift.thresholds are merged key by key. kafka.instance_id_env is read
// from the environment into kafka.instance_id here.
func Parse(data []byte) (*Config, error) {
	c := Default()
	// With a preset, the keys it sets keep no default: only what the
	// document itself sets overrides the preset (see Policies).
	var peek struct {
		Drift struct {
			Preset string `yaml:"preset"`
		} `yaml:"drift"`
	}
	_ = yaml.Unmarshal(data, &peek) // a broken document fails the strict decode below
	if peek.Drift.Preset != "" && peek.Drift.Preset != drift.PresetDriftwatch {
		d := &c.Drift
		d.Numeric, d.Categorical, d.Correction, d.RequireSignificance = nil, nil, "", nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		if named := explainDecode(data, c); named != nil {
			return nil, named
		}
		return nil, fmt.Errorf("decode: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := c.Kafka.resolveInstanceID(); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

var topicName = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// Validate checks every key and returns the first problem, naming the key.
func (c *Config) Validate() error {
	if c.Baselines.Reload < 0 {
		return fmt.Errorf("baselines.reload: must not be negative (0: never), got %s", c.Baselines.Reload)
	}
	k := &c.Kafka
	if len(k.Brokers) == 0 {
		return errors.New("kafka.brokers: at least one broker is required")
	}
	for i, b := range k.Brokers {
		if !strings.Contains(b, ":") {
			return fmt.Errorf("kafka.brokers[%d]: %q is not host:port", i, b)
		}
	}
	if !topicName.MatchString(k.Topic) {
		return fmt.Errorf("kafka.topic: %q is not a valid topic name", k.Topic)
	}
	if !topicName.MatchString(k.DeadLetterTopic) {
		return fmt.Errorf("kafka.dead_letter_topic: %q is not a valid topic name", k.DeadLetterTopic)
	}
	if k.DeadLetterTopic == k.Topic {
		return errors.New("kafka.dead_letter_topic: must differ from kafka.topic")
	}
	if k.Group == "" {
		return errors.New("kafka.group: must not be empty")
	}
	if k.MaxRecordBytes <= 0 {
		return fmt.Errorf("kafka.max_record_bytes: must be positive, got %d", k.MaxRecordBytes)
	}
	if k.MaxFuture < 0 {
		return fmt.Errorf("kafka.max_future: must not be negative, got %s", k.MaxFuture)
	}
	if k.IdleTimeout <= 0 {
		return fmt.Errorf("kafka.idle_timeout: must be positive, got %s", k.IdleTimeout)
	}
	if k.SessionTimeout < 6*time.Second || k.SessionTimeout > 30*time.Minute {
		return fmt.Errorf("kafka.session_timeout: must be within the brokers' default bounds, 6s to 30m, got %s", k.SessionTimeout)
	}
	if k.MaxPollRecords <= 0 {
		return fmt.Errorf("kafka.max_poll_records: must be positive, got %d", k.MaxPollRecords)
	}
	if k.DedupCapacity <= 0 {
		return fmt.Errorf("kafka.dedup_capacity: must be positive, got %d", k.DedupCapacity)
	}
	if so := k.ScaleOut; so.PartialsPartitions < 0 || so.FlushInterval < 10*time.Millisecond ||
		so.TransactionTimeout < 2*so.FlushInterval || so.PartialsRetention < time.Hour {
		return fmt.Errorf("kafka.scale_out: partials_partitions must not be negative (got %d), flush_interval at least 10ms (got %s), "+
			"transaction_timeout at least twice flush_interval (got %s), partials_retention at least 1h (got %s)",
			so.PartialsPartitions, so.FlushInterval, so.TransactionTimeout, so.PartialsRetention)
	}
	if err := k.TLS.validate(); err != nil {
		return err
	}
	if err := k.SASL.validate(); err != nil {
		return err
	}
	w := &c.Windows
	if w.Size < time.Second {
		return fmt.Errorf("windows.size: must be at least 1s, got %s", w.Size)
	}
	if err := (windows.Config{Size: w.Size, Hop: w.Hop}).Validate(); err != nil {
		return fmt.Errorf("windows.hop: %w", err)
	}
	if w.AllowedLateness < 0 {
		return fmt.Errorf("windows.allowed_lateness: must not be negative, got %s", w.AllowedLateness)
	}
	if w.WatermarkOutliers < 0 || w.WatermarkOutliers > consumer.MaxWatermarkOutliers {
		return fmt.Errorf("windows.watermark_outliers: must be 0 to %d, got %d", consumer.MaxWatermarkOutliers, w.WatermarkOutliers)
	}
	if w.MaxCategories <= 0 || w.MaxOpen <= 0 {
		return errors.New("windows.max_categories and windows.max_open: must be positive")
	}
	if w.SampleRows < 0 || w.SampleRows > windows.MaxSampleRows {
		return fmt.Errorf("windows.sample_rows: must be 0 (none) to %d, got %d", windows.MaxSampleRows, w.SampleRows)
	}
	if err := c.Alerts.Rules.Validate(); err != nil {
		return err
	}
	if am := &c.Alerts.Alertmanager; am.ResendInterval < time.Second || am.Timeout <= 0 || am.QueueSize <= 0 {
		return fmt.Errorf("alerts.alertmanager: resend_interval (at least 1s), timeout and queue_size must be positive, got %s, %s, %d", am.ResendInterval, am.Timeout, am.QueueSize)
	}
	if am := &c.Alerts.Alertmanager; am.RetryMax < alertmanager.DefaultRetryInitial {
		return fmt.Errorf("alerts.alertmanager.retry_max: must be at least %s (the first retry's wait), got %s", alertmanager.DefaultRetryInitial, am.RetryMax)
	} else if am.MinFiring <= 0 || am.MinFiring >= 4*am.ResendInterval {
		return fmt.Errorf("alerts.alertmanager.min_firing: must be positive and below 4 × resend_interval (%s, when Alertmanager ends an alert not re-sent), got %s", 4*am.ResendInterval, am.MinFiring)
	}
	if a := &c.Alerts.Actions; a.Interval <= 0 {
		return fmt.Errorf("alerts.actions.interval: must be positive, got %s", a.Interval)
	} else if a.WebhookURL != "" && a.WebhookSecretEnv == "" {
		return errors.New("alerts.actions.webhook_secret_env: required with webhook_url (the calls are signed)")
	} else if a.Topic != "" && (a.Topic == c.Kafka.Topic || a.Topic == c.Labels.Topic) {
		return fmt.Errorf("alerts.actions.topic: %q is also a topic driftwatch reads", a.Topic)
	} else if err := a.Retrain.Validate(); err != nil {
		return fmt.Errorf("alerts.actions.retrain: %w", err)
	} else if err := a.Rollback.Validate(); err != nil {
		return fmt.Errorf("alerts.actions.rollback: %w", err)
	}
	for i, u := range c.Alerts.Alertmanager.URLs {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return fmt.Errorf("alerts.alertmanager.urls[%d]: %q is not an http(s) URL with a host", i, u)
		}
	}
	if l := &c.Labels; l.Horizon <= 0 {
		return fmt.Errorf("labels.horizon: must be positive (168h: 7 days), got %s", l.Horizon)
	} else if l.MaxPredictions <= 0 || l.MaxPending <= 0 {
		return errors.New("labels.max_predictions and labels.max_pending: must be positive")
	} else if l.Topic != "" && (l.Topic == c.Kafka.Topic || l.Topic == c.Kafka.DeadLetterTopic) {
		return fmt.Errorf("labels.topic: %q is also kafka's topic or dead-letter topic", l.Topic)
	} else if l.Topic != "" && (l.DeadLetterTopic == "" || l.DeadLetterTopic == l.Topic || l.DeadLetterTopic == c.Kafka.Topic) {
		return fmt.Errorf("labels.dead_letter_topic: %q must be set and differ from the labels and predictions topics", l.DeadLetterTopic)
	}
	if err := c.Drift.validate("drift", true); err != nil {
		return err
	}
	if f := &c.Fairness; len(f.Positive) == 0 {
		return errors.New("fairness.positive: at least one value (as text: 1, true, a class name) is needed")
	} else if f.MinGroupSize < 1 {
		return fmt.Errorf("fairness.min_group_size: must be at least 1, got %d", f.MinGroupSize)
	} else if !(f.MaxParityDifference >= 0 && f.MaxParityDifference <= 1) || !(f.MaxOpportunityDifference >= 0 && f.MaxOpportunityDifference <= 1) {
		return errors.New("fairness.max_parity_difference and max_opportunity_difference: must be in [0, 1] (0: not judged)")
	} else if !(f.MaxEqualizedOddsDifference >= 0 && f.MaxEqualizedOddsDifference <= 1) {
		return fmt.Errorf("fairness.max_equalized_odds_difference: must be in [0, 1] (0: not judged), got %v", f.MaxEqualizedOddsDifference)
	} else if !(f.MinDisparateImpact >= 0 && f.MinDisparateImpact <= 1) {
		return fmt.Errorf("fairness.min_disparate_impact: must be in [0, 1] (0: not judged), got %v", f.MinDisparateImpact)
	} else if !(f.MaxParityIncrease >= 0 && f.MaxParityIncrease <= 1) {
		return fmt.Errorf("fairness.max_parity_increase: must be in [0, 1] (0: not judged), got %v", f.MaxParityIncrease)
	} else if math.IsNaN(f.DecisionThreshold) || math.IsInf(f.DecisionThreshold, 0) {
		return fmt.Errorf("fairness.decision_threshold: must be finite, got %v", f.DecisionThreshold)
	}
	for _, name := range sortedKeys(c.Models) {
		m := c.Models[name]
		if m.Baseline != "" && m.BaselineID != "" {
			return fmt.Errorf("models.%s: baseline and baseline_id both set; choose one", name)
		}
		if err := m.Drift.validate("models."+name+".drift", false); err != nil {
			return err
		}
	}
	if err := c.validateVariantRoles(); err != nil {
		return err
	}
	if ch := &c.Sinks.ClickHouse; ch.Enabled {
		if len(ch.Addr) == 0 {
			return errors.New("sinks.clickhouse.addr: at least one host:port is required")
		}
		for i, a := range ch.Addr {
			if !strings.Contains(a, ":") {
				return fmt.Errorf("sinks.clickhouse.addr[%d]: %q is not host:port", i, a)
			}
		}
		if ch.Password != "" && ch.PasswordEnv != "" {
			return errors.New("sinks.clickhouse: set password or password_env, not both")
		}
		if ch.DialTimeout <= 0 || ch.CommitTimeout <= 0 {
			return errors.New("sinks.clickhouse.dial_timeout and commit_timeout: must be positive")
		}
	}
	if c.Kafka.ScaleOut.Enabled && !c.Sinks.ClickHouse.Enabled {
		return errors.New("kafka.scale_out.enabled: needs sinks.clickhouse.enabled: the instances hand windows, the label join, detectors and alerts to one another through ClickHouse")
	}
	if r := c.Sinks.Retry; r.Initial <= 0 || r.Max < r.Initial {
		return fmt.Errorf("sinks.retry: initial must be positive and max at least initial, got %s and %s", r.Initial, r.Max)
	}
	if c.StartupTimeout <= 0 {
		return fmt.Errorf("startup_timeout: must be positive, got %s", c.StartupTimeout)
	}
	if err := c.HTTP.validate(); err != nil {
		return err
	}
	if err := c.validateKServe(); err != nil {
		return err
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json", "auto":
	default:
		return fmt.Errorf("log.format: %q is not one of text, json, auto", c.Log.Format)
	}
	return nil
}

// resolveInstanceID sets InstanceID from the variable InstanceIDEnv names.
// Once it has, both keys are set; so the check that the file gives only
// one is here, not in Validate.
func (k *Kafka) resolveInstanceID() error {
	if k.InstanceIDEnv == "" {
		return nil
	}
	if k.InstanceID != "" {
		return errors.New("kafka: set instance_id or instance_id_env, not both")
	}
	if k.InstanceID = os.Getenv(k.InstanceIDEnv); k.InstanceID == "" {
		return fmt.Errorf("kafka.instance_id_env: environment variable %s is empty or unset", k.InstanceIDEnv)
	}
	return nil
}

func (t *KafkaTLS) validate() error {
	if !t.Enabled {
		if t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.InsecureSkipVerify {
			return errors.New("kafka.tls: ca_file, cert_file, key_file, server_name and insecure_skip_verify need enabled: true")
		}
		return nil
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return errors.New("kafka.tls: set cert_file and key_file together, or neither")
	}
	return nil
}

func (s *KafkaSASL) validate() error {
	if s.Mechanism == "" {
		if s.Username != "" || s.Password != "" || s.PasswordEnv != "" {
			return fmt.Errorf("kafka.sasl: username, password and password_env need a mechanism (%s)", strings.Join(SASLMechanisms, ", "))
		}
		return nil
	}
	if !slices.Contains(SASLMechanisms, s.Mechanism) {
		return fmt.Errorf("kafka.sasl.mechanism: %q is not one of %s", s.Mechanism, strings.Join(SASLMechanisms, ", "))
	}
	if s.Username == "" {
		return fmt.Errorf("kafka.sasl.username: must be set with mechanism %s", s.Mechanism)
	}
	if s.Password != "" && s.PasswordEnv != "" {
		return errors.New("kafka.sasl: set password or password_env, not both")
	}
	if s.Password == "" && s.PasswordEnv == "" {
		return fmt.Errorf("kafka.sasl: mechanism %s needs password or password_env", s.Mechanism)
	}
	return nil
}

func (d *Drift) validate(path string, top bool) error {
	if d.Preset != "" && !slices.Contains(drift.Presets, d.Preset) {
		return fmt.Errorf("%s.preset: %q is not one of %s", path, d.Preset, strings.Join(drift.Presets, ", "))
	}
	preset := d.Preset != "" && d.Preset != drift.PresetDriftwatch
	top = top && !preset // a preset supplies what the top level must otherwise set
	rules := []struct {
		key     string
		r       *Rule
		numeric bool
	}{{"numeric", d.Numeric, true}, {"categorical", d.Categorical, false}}
	for _, r := range rules {
		if r.r == nil {
			if top {
				return fmt.Errorf("%s.%s: must be set", path, r.key)
			}
			continue
		}
		if err := r.r.validate(path + "." + r.key); err != nil {
			return err
		}
		if !drift.Computable(r.r.Metric, r.numeric) {
			return fmt.Errorf("%s.%s: %s cannot be computed for %s features", path, r.key, r.r.Metric, r.key)
		}
	}
	if m := d.Metrics; m != nil {
		for _, l := range []struct {
			key     string
			names   []string
			numeric bool
		}{{"numeric", m.Numeric, true}, {"categorical", m.Categorical, false}} {
			for i, name := range l.names {
				if _, ok := drift.Metrics[name]; !ok {
					return fmt.Errorf("%s.metrics.%s[%d]: unknown metric %q (known: %s)", path, l.key, i, name, strings.Join(sortedKeys(drift.Metrics), ", "))
				}
				if !drift.Computable(name, l.numeric) {
					return fmt.Errorf("%s.metrics.%s[%d]: %s cannot be computed for %s features", path, l.key, i, name, l.key)
				}
			}
		}
	}
	if c := d.Calibration; c != nil {
		if !(c.Sigmas > 0) {
			return fmt.Errorf("%s.calibration.sigmas: must be positive, got %v", path, c.Sigmas)
		}
		if c.MinSubWindows < 2 {
			return fmt.Errorf("%s.calibration.min_sub_windows: must be at least 2, got %d", path, c.MinSubWindows)
		}
	}
	if m := d.Multivariate; m != nil {
		switch {
		case !(m.Sigmas > 0) || math.IsInf(m.Sigmas, 0):
			return fmt.Errorf("%s.multivariate.sigmas: must be positive, got %v", path, m.Sigmas)
		case m.MinChunks < 2:
			return fmt.Errorf("%s.multivariate.min_chunks: must be at least 2, got %d", path, m.MinChunks)
		case !(m.MinAUC >= 0.5 && m.MinAUC <= 1):
			return fmt.Errorf("%s.multivariate.min_auc: must be in [0.5, 1], got %v", path, m.MinAUC)
		case m.Permutations < 0 || m.Permutations > MaxPermutations:
			return fmt.Errorf("%s.multivariate.permutations: must be 0 (no domain classifier) to %d, got %d", path, MaxPermutations, m.Permutations)
		case m.Folds < 2 || m.Folds > 20:
			return fmt.Errorf("%s.multivariate.folds: must be 2 to 20, got %d", path, m.Folds)
		}
	}
	if m := d.MDE; m != nil {
		if !(m.Alpha > 0 && m.Alpha < 1) {
			return fmt.Errorf("%s.mde.alpha: must be in (0, 1), got %v", path, m.Alpha)
		}
		if !(m.Power > m.Alpha && m.Power < 1) {
			return fmt.Errorf("%s.mde.power: must be in (alpha, 1), got %v", path, m.Power)
		}
	}
	for _, name := range sortedKeys(d.Features) {
		r := d.Features[name]
		if err := r.validate(path + ".features." + name); err != nil {
			return err
		}
	}
	if !(d.MaxErrorIncrease >= 0) || math.IsInf(d.MaxErrorIncrease, 0) {
		return fmt.Errorf("%s.max_error_increase: must be a finite share >= 0, got %v", path, d.MaxErrorIncrease)
	}
	if !(d.MaxPerformanceDrop >= 0 && d.MaxPerformanceDrop < 1) {
		return fmt.Errorf("%s.max_performance_drop: must be in [0, 1), got %v", path, d.MaxPerformanceDrop)
	}
	if o := d.SLO; o != nil {
		for _, v := range []struct {
			key string
			val float64
		}{{"latency_p50_ms", o.LatencyP50}, {"latency_p95_ms", o.LatencyP95}, {"latency_p99_ms", o.LatencyP99}, {"min_throughput_rps", o.MinThroughput}} {
			if !(v.val >= 0) || math.IsInf(v.val, 0) {
				return fmt.Errorf("%s.slo.%s: must be a finite number >= 0 (0: not judged), got %v", path, v.key, v.val)
			}
		}
		if !(o.MaxErrorRate >= 0 && o.MaxErrorRate < 1) {
			return fmt.Errorf("%s.slo.max_error_rate: must be a share in [0, 1) (0: not judged), got %v", path, o.MaxErrorRate)
		}
	}
	var total float64
	for _, f := range sortedKeys(d.Importance) {
		v := d.Importance[f]
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%s.importance.%s: must be a finite weight >= 0, got %v", path, f, v)
		}
		total += v
	}
	if len(d.Importance) > 0 && !(total > 0) {
		return fmt.Errorf("%s.importance: at least one weight must be positive", path)
	}
	for i, v := range d.Shadows {
		switch {
		case v == "":
			return fmt.Errorf("%s.shadow_variants[%d]: must be a variant name, got an empty one", path, i)
		case slices.Contains(d.Shadows[:i], v):
			return fmt.Errorf("%s.shadow_variants[%d]: %q is listed twice", path, i, v)
		}
	}
	for _, m := range sortedKeys(d.Thresholds) {
		if err := checkThreshold(path+".thresholds."+m, m, d.Thresholds[m]); err != nil {
			return err
		}
	}
	if top && d.MinSamples == nil {
		return fmt.Errorf("%s.min_samples: must be set", path)
	}
	if top && d.RequireSignificance == nil {
		return fmt.Errorf("%s.require_significance: must be set", path)
	}
	if d.MinSamples != nil && *d.MinSamples < 1 {
		return fmt.Errorf("%s.min_samples: must be at least 1, got %d", path, *d.MinSamples)
	}
	if (top || d.Seasonality != "") && !slices.Contains(drift.SeasonalitySettings, d.Seasonality) {
		return fmt.Errorf("%s.seasonality: %q is not one of %s", path, d.Seasonality, strings.Join(drift.SeasonalitySettings, ", "))
	}
	if (top || d.Detectors != "") && !slices.Contains(drift.DetectorSettings, d.Detectors) {
		return fmt.Errorf("%s.detectors: %q is not one of %s", path, d.Detectors, strings.Join(drift.DetectorSettings, ", "))
	}
	if (top || d.Correction != "") && !slices.Contains(drift.Corrections, d.Correction) {
		return fmt.Errorf("%s.correction: %q is not one of %s", path, d.Correction, strings.Join(drift.Corrections, ", "))
	}
	if d.PSIBins < 0 || d.PSIBins == 1 || (top && d.PSIBins == 0) {
		return fmt.Errorf("%s.psi_bins: must be at least 2, got %d", path, d.PSIBins)
	}
	return nil
}

func (r *Rule) validate(path string) error {
	if slices.Contains(drift.QualityMetrics, r.Metric) || slices.Contains(drift.DatasetMetrics, r.Metric) {
		return fmt.Errorf("%s: %s is a share of records or features, not a drift rule; set its threshold under drift.thresholds", path, r.Metric)
	}
	if r.Metric == drift.MetricVolumeRatio {
		return fmt.Errorf("%s: %s is a window's volume, not a drift rule; set its threshold under drift.thresholds", path, r.Metric)
	}
	return checkThreshold(path, r.Metric, r.Threshold)
}

func checkThreshold(path, metric string, thr float64) error {
	if metric == drift.MetricVolumeRatio {
		if !(thr > 1) || math.IsInf(thr, 0) {
			return fmt.Errorf("%s: volume_ratio's threshold is a factor, either way; it must be a finite number above 1, got %v", path, thr)
		}
		return nil
	}
	if slices.Contains(drift.QualityMetrics, metric) || slices.Contains(drift.DatasetMetrics, metric) {
		if !(thr > 0 && thr <= 1) {
			return fmt.Errorf("%s: %s is a share; threshold must be in (0, 1], got %v", path, metric, thr)
		}
		return nil
	}
	pValue, ok := drift.Metrics[metric]
	if !ok {
		return fmt.Errorf("%s: unknown metric %q (known: %s)", path, metric, strings.Join(sortedKeys(drift.Metrics), ", "))
	}
	if pValue && !(thr > 0 && thr < 1) {
		return fmt.Errorf("%s: %s is judged on its p-value; threshold must be in (0, 1), got %v", path, metric, thr)
	}
	if !pValue && !(thr > 0) {
		return fmt.Errorf("%s: threshold for %s must be positive, got %v", path, metric, thr)
	}
	return nil
}

// validateVariantRoles checks every model's champion against its shadows,
// as the levels combine: the champion is served, so it cannot be a shadow.
func (c *Config) validateVariantRoles() error {
	def, per := c.Policies()
	check := func(path string, p drift.Policy) error {
		if slices.Contains(p.Shadows, p.Champion) {
			return fmt.Errorf("%s.shadow_variants: %q is the champion (%s.champion): the champion is served, it cannot be a shadow", path, p.Champion, path)
		}
		return nil
	}
	if err := check("drift", def); err != nil {
		return err
	}
	for _, name := range sortedKeys(per) {
		if err := check("models."+name+".drift", per[name]); err != nil {
			return err
		}
	}
	return nil
}

// VariantRoles returns, per model, its champion and shadow variants as its
// drift policy has them (drift.champion, drift.shadow_variants), for the
// windows stage (windows.Config.Variants).
func (c *Config) VariantRoles() func(model string) windows.VariantRoles {
	def, per := c.Policies()
	roles := func(p drift.Policy) windows.VariantRoles {
		return windows.VariantRoles{Champion: p.Champion, Shadows: p.Shadows}
	}
	defRoles := roles(def)
	perRoles := make(map[string]windows.VariantRoles, len(per))
	for name, p := range per {
		perRoles[name] = roles(p)
	}
	return func(model string) windows.VariantRoles {
		if r, ok := perRoles[model]; ok {
			return r
		}
		return defRoles
	}
}

// Policies returns the drift policy for every model named under models and
// the default for the rest.
// A preset applies first and the keys set beside it override it.
func (c *Config) Policies() (def drift.Policy, perModel map[string]drift.Policy) {
	base := drift.DefaultPolicy()
	f := &c.Fairness
	base.Fairness = drift.Fairness{MinGroupSize: f.MinGroupSize, MaxParityDifference: f.MaxParityDifference,
		MaxOpportunityDifference: f.MaxOpportunityDifference, MaxEqualizedOddsDifference: f.MaxEqualizedOddsDifference,
		MinDisparateImpact: f.MinDisparateImpact, MaxParityIncrease: f.MaxParityIncrease}
	base.Decision = windows.Decision{Threshold: f.DecisionThreshold, Positive: f.Positive}
	def = c.Drift.apply(base)
	perModel = make(map[string]drift.Policy, len(c.Models))
	for name, m := range c.Models {
		perModel[name] = m.Drift.apply(def)
	}
	return def, perModel
}

// apply returns base with d's preset applied and then the keys d sets
// replaced. Validate has checked the preset's name.
func (d *Drift) apply(base drift.Policy) drift.Policy {
	p, _ := drift.ApplyPreset(base, d.Preset)
	if d.Numeric != nil {
		p.Numeric = drift.Rule{Metric: d.Numeric.Metric, Threshold: d.Numeric.Threshold}
	}
	if d.Categorical != nil {
		p.Categorical = drift.Rule{Metric: d.Categorical.Metric, Threshold: d.Categorical.Threshold}
	}
	p.Features = make(map[string]drift.Rule, len(base.Features)+len(d.Features))
	for k, v := range base.Features {
		p.Features[k] = v
	}
	for k, v := range d.Features {
		p.Features[k] = drift.Rule{Metric: v.Metric, Threshold: v.Threshold}
	}
	p.Thresholds = make(map[string]float64, len(base.Thresholds)+len(d.Thresholds))
	for k, v := range base.Thresholds {
		p.Thresholds[k] = v
	}
	for k, v := range d.Thresholds {
		p.Thresholds[k] = v
	}
	if d.MinSamples != nil {
		p.MinSamples = *d.MinSamples
	}
	if d.PSIBins > 0 {
		p.PSIBins = d.PSIBins
	}
	if d.Correction != "" {
		p.Correction = d.Correction
	}
	if d.Detectors != "" {
		p.Detectors = d.Detectors
	}
	if d.Seasonality != "" {
		p.Seasonality = d.Seasonality
	}
	if d.RequireSignificance != nil {
		p.RequireSignificance = *d.RequireSignificance
	}
	if d.Metrics != nil {
		if d.Metrics.Numeric != nil {
			p.NumericMetrics = d.Metrics.Numeric
		}
		if d.Metrics.Categorical != nil {
			p.CategoricalMetrics = d.Metrics.Categorical
		}
	}
	if d.Calibration != nil {
		p.Calibration = drift.Calibration{Enabled: d.Calibration.Enabled, Sigmas: d.Calibration.Sigmas, MinSubWindows: d.Calibration.MinSubWindows}
	}
	if d.MDE != nil {
		p.MDE = drift.MDE{Alpha: d.MDE.Alpha, Power: d.MDE.Power}
	}
	if m := d.Multivariate; m != nil {
		p.Multivariate = drift.Multivariate{Sigmas: m.Sigmas, MinChunks: m.MinChunks, MinAUC: m.MinAUC, Permutations: m.Permutations, Folds: m.Folds}
	}
	if len(d.Importance) > 0 {
		p.Importance = d.Importance
	}
	if d.Champion != "" {
		p.Champion = d.Champion
	}
	if d.Shadows != nil {
		p.Shadows = slices.Clone(d.Shadows)
	}
	if d.MaxPerformanceDrop > 0 {
		p.MaxPerformanceDrop = d.MaxPerformanceDrop
	}
	if d.MaxErrorIncrease > 0 {
		p.MaxErrorIncrease = d.MaxErrorIncrease
	}
	if d.SLO != nil {
		p.SLO = drift.SLO{LatencyP50: d.SLO.LatencyP50, LatencyP95: d.SLO.LatencyP95, LatencyP99: d.SLO.LatencyP99, MinThroughput: d.SLO.MinThroughput,
			MaxErrorRate: d.SLO.MaxErrorRate}
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (h *HTTP) validate() error {
	t := &h.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		return errors.New("http.tls: set cert_file and key_file together, or neither")
	}
	if t.ClientCAFile != "" && t.CertFile == "" {
		return errors.New("http.tls.client_ca_file: mutual TLS needs cert_file and key_file")
	}
	a := &h.Auth
	if a.Rate < 0 || a.Burst < 0 || a.MaxBodyBytes < 0 {
		return errors.New("http.auth: rate, burst and max_body_bytes must not be negative")
	}
	if len(a.Tokens) == 0 && (a.ProtectMetrics || a.ProtectProbes) {
		return errors.New("http.auth: protect_metrics and protect_probes need tokens")
	}
	names := map[string]bool{}
	for i, tk := range a.Tokens {
		if err := checkToken(names, "http.auth.tokens", i, KServeToken{tk.Name, tk.TokenEnv, tk.TokenFile, tk.TokenSHA256}); err != nil {
			return err
		}
		if _, err := auth.ParseRole(tk.Role); err != nil {
			return fmt.Errorf("http.auth.tokens[%d] (%s): %w", i, tk.Name, err)
		}
	}
	return nil
}

// checkToken checks token i of the list at key: a name no other token of
// names has, and exactly one place its secret comes from.
func checkToken(names map[string]bool, key string, i int, tk KServeToken) error {
	switch {
	case tk.Name == "":
		return fmt.Errorf("%s[%d]: name is required", key, i)
	case names[tk.Name]:
		return fmt.Errorf("%s[%d]: two tokens are named %q", key, i, tk.Name)
	}
	names[tk.Name] = true
	n := 0
	for _, v := range []string{tk.TokenEnv, tk.TokenFile, tk.TokenSHA256} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%s[%d] (%s): give exactly one of token_env, token_file and token_sha256", key, i, tk.Name)
	}
	return nil
}

func (c *Config) validateKServe() error {
	k := &c.KServe
	if k.Topic == "" {
		if len(k.Models) > 0 {
			return errors.New("kserve.models: needs kserve.topic (where the logger's events are)")
		}
		return nil
	}
	if !topicName.MatchString(k.Topic) {
		return fmt.Errorf("kserve.topic: %q is not a valid topic name", k.Topic)
	}
	if slices.Contains([]string{c.Kafka.Topic, c.Kafka.DeadLetterTopic, c.Labels.Topic, c.Labels.DeadLetterTopic, c.Alerts.Actions.Topic}, k.Topic) {
		return fmt.Errorf("kserve.topic: %q is also a topic of kafka, labels or alerts.actions", k.Topic)
	}
	if k.DeadLetterTopic != "" && !topicName.MatchString(k.DeadLetterTopic) {
		return fmt.Errorf("kserve.dead_letter_topic: %q is not a valid topic name", k.DeadLetterTopic)
	}
	if dlq := k.DeadLetter(); dlq == k.Topic || dlq == c.Kafka.Topic || dlq == c.Labels.Topic {
		return fmt.Errorf("kserve.dead_letter_topic: %q must differ from kserve.topic, kafka.topic and labels.topic", dlq)
	}
	if k.JoinTimeout <= 0 {
		return fmt.Errorf("kserve.join_timeout: must be positive, got %s", k.JoinTimeout)
	}
	if k.MaxPending <= 0 {
		return fmt.Errorf("kserve.max_pending: must be positive, got %d", k.MaxPending)
	}
	if p := k.HTTPPath; p != "" {
		if !strings.HasPrefix(p, "/") || p == "/" || strings.ContainsAny(p, " {}") {
			return fmt.Errorf("kserve.http_path: %q is not a URL path such as /kserve/v1/events", p)
		}
		if p == "/api" || strings.HasPrefix(p, "/api/") || slices.Contains([]string{"/metrics", "/healthz", "/readyz"}, p) {
			return fmt.Errorf("kserve.http_path: %q is a path of run's API or probes", p)
		}
	}
	names := map[string]bool{}
	for i, tk := range k.HTTPTokens {
		if err := checkToken(names, "kserve.http_tokens", i, tk); err != nil {
			return err
		}
	}
	if len(k.Models) == 0 {
		return errors.New("kserve.models: at least one InferenceService, by name, with its mapping (features, version or version_from, ...)")
	}
	maps := k.Mappings()
	for _, name := range sortedKeys(maps) {
		m := maps[name]
		if err := m.Validate(); err != nil {
			return fmt.Errorf("kserve.models.%s.%w", name, err)
		}
	}
	return nil
}
