-- 0001_drift_metrics
CREATE TABLE IF NOT EXISTS drift_metrics (
    model            LowCardinality(String),
    model_version    LowCardinality(String),
    window_start     DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    window_end       DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    family           LowCardinality(String),
    subject          LowCardinality(String),
    metric           LowCardinality(String),
    value            Float64 CODEC(ZSTD(1)),
    p_value          Nullable(Float64) CODEC(ZSTD(1)),
    threshold        Float64 CODEC(ZSTD(1)),
    drifted          UInt8,
    severity         LowCardinality(String),
    n_current        Int64 CODEC(T64, ZSTD(1)),
    n_reference      Int64 CODEC(T64, ZSTD(1)),
    baseline_id      LowCardinality(String),
    threshold_source LowCardinality(String),
    mde              Nullable(Float64) CODEC(ZSTD(1)),
    inserted_at      UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model, model_version, window_start, family, subject, metric);

CREATE VIEW IF NOT EXISTS drift_metrics_latest AS
SELECT * FROM drift_metrics FINAL;

-- 0002_window_summaries
CREATE TABLE IF NOT EXISTS window_summaries (
    model            LowCardinality(String),
    model_version    LowCardinality(String),
    window_start     DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    window_end       DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    baseline_id      LowCardinality(String),
    records          Int64,
    subjects         UInt32,
    drifted_subjects Array(String),
    max_severity     LowCardinality(String),
    closed_at        DateTime64(3, 'UTC'),
    inserted_at      UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model, model_version, window_start);

-- 0003_baselines
CREATE TABLE IF NOT EXISTS baselines (
    baseline_id    String,
    model          LowCardinality(String),
    model_version  LowCardinality(String),
    created_at     DateTime64(3, 'UTC'),
    source         LowCardinality(String),
    features       UInt32,
    reference_rows Int64,
    document       String CODEC(ZSTD(3)),
    inserted_at    UInt64
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (model, baseline_id);

-- 0004_dead_letters
CREATE TABLE IF NOT EXISTS dead_letters (
    topic             LowCardinality(String),
    kafka_partition   Int32,
    kafka_offset      Int64,
    record_time       DateTime64(3, 'UTC'),
    received_at       DateTime64(3, 'UTC'),
    dead_letter_topic LowCardinality(String),
    reason            LowCardinality(String),
    model             LowCardinality(String),
    size_bytes        UInt32,
    excerpt           String CODEC(ZSTD(1)),
    inserted_at       UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(record_time)
ORDER BY (topic, kafka_partition, kafka_offset)
TTL toDateTime(record_time) + INTERVAL 90 DAY;

-- 0005_alert_history
CREATE TABLE IF NOT EXISTS alert_history (
    model         LowCardinality(String),
    model_version LowCardinality(String),
    window_start  DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    window_end    DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    family        LowCardinality(String),
    subject       LowCardinality(String),
    metric        LowCardinality(String),
    state         LowCardinality(String),
    severity      LowCardinality(String),
    value         Float64,
    threshold     Float64,
    fingerprint   String,
    receiver      LowCardinality(String),
    sent_at       DateTime64(3, 'UTC'),
    delivered     UInt8,
    error_message String,
    inserted_at   UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model, model_version, window_start, family, subject, metric, state);

-- 0006_label_join
ALTER TABLE window_summaries ADD COLUMN IF NOT EXISTS label_state String DEFAULT '' CODEC(ZSTD(1));

CREATE TABLE IF NOT EXISTS prediction_keys (
    model         LowCardinality(String),
    model_version LowCardinality(String),
    id            UInt64,
    event_time_ms Int64 CODEC(ZSTD(1)),
    prediction    Float64 CODEC(ZSTD(1)),
    decided       UInt8,
    selected      UInt8,
    inline        UInt8,
    segments      LowCardinality(String),
    inserted_at   UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(toDateTime(intDiv(event_time_ms, 1000), 'UTC'))
ORDER BY (model, id)
TTL toDateTime(intDiv(event_time_ms, 1000)) + INTERVAL 90 DAY;

CREATE TABLE IF NOT EXISTS labels (
    model         LowCardinality(String),
    prediction_id String,
    label_time    DateTime64(3, 'UTC'),
    label_time_ms Int64 CODEC(ZSTD(1)),
    label         String,
    label_kind    LowCardinality(String),
    received_at   DateTime64(3, 'UTC'),
    inserted_at   UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(label_time)
ORDER BY (model, prediction_id)
TTL toDateTime(label_time) + INTERVAL 90 DAY;

-- 0007_detector_state
CREATE TABLE IF NOT EXISTS detector_state (
    model         LowCardinality(String),
    model_version LowCardinality(String),
    state         String CODEC(ZSTD(1)),
    inserted_at   UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (model, model_version);

-- 0008_alert_history_evidence
ALTER TABLE alert_history ADD COLUMN IF NOT EXISTS alertname String DEFAULT '';

ALTER TABLE alert_history ADD COLUMN IF NOT EXISTS evidence String DEFAULT '' CODEC(ZSTD(1));

-- 0009_dead_letters_record_time_ms
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS record_time_ms Int64 DEFAULT toInt64(toUnixTimestamp(record_time)) * 1000;

-- 0010_alert_history_alertname_key
DROP TABLE IF EXISTS alert_history_before_0010;

CREATE TABLE IF NOT EXISTS alert_history_next (
    model         LowCardinality(String),
    model_version LowCardinality(String),
    window_start  DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    window_end    DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    family        LowCardinality(String),
    subject       LowCardinality(String),
    metric        LowCardinality(String),
    state         LowCardinality(String),
    severity      LowCardinality(String),
    value         Float64,
    threshold     Float64,
    fingerprint   String,
    receiver      LowCardinality(String),
    sent_at       DateTime64(3, 'UTC'),
    delivered     UInt8,
    error_message String,
    inserted_at   UInt64 CODEC(Delta, ZSTD(1)),
    alertname     String DEFAULT '',
    evidence      String DEFAULT '' CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model, model_version, window_start, family, subject, metric, state, alertname);

INSERT INTO alert_history_next (model, model_version, window_start, window_end, family, subject, metric, state, severity, value, threshold, fingerprint, receiver, sent_at, delivered, error_message, inserted_at, alertname, evidence)
SELECT model, model_version, window_start, window_end, family, subject, metric, state, severity, value, threshold, fingerprint, receiver, sent_at, delivered, error_message, inserted_at, alertname, evidence FROM alert_history;

RENAME TABLE alert_history TO alert_history_before_0010, alert_history_next TO alert_history;

DROP TABLE alert_history_before_0010;

-- 0011_silences_api_writes
CREATE TABLE IF NOT EXISTS silences (
    silence_id  String,
    matchers    String,
    starts_at   DateTime64(3, 'UTC'),
    ends_at     DateTime64(3, 'UTC'),
    created_by  String,
    comment     String,
    inserted_at UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY silence_id;

CREATE TABLE IF NOT EXISTS api_writes (
    at          DateTime64(3, 'UTC'),
    at_ns       UInt64,
    who         String,
    role        LowCardinality(String),
    action      LowCardinality(String),
    target      String,
    detail      String,
    inserted_at UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(at)
ORDER BY (at, at_ns, who, action, target);

-- 0012_deciding_distributions
ALTER TABLE drift_metrics ADD COLUMN IF NOT EXISTS deciding UInt8 DEFAULT 0;

ALTER TABLE window_summaries ADD COLUMN IF NOT EXISTS distributions String DEFAULT '' CODEC(ZSTD(1));

DROP TABLE IF EXISTS drift_metrics_latest;

CREATE VIEW IF NOT EXISTS drift_metrics_latest AS
SELECT * FROM drift_metrics FINAL;

-- 0013_prediction_keys_variant
DROP TABLE IF EXISTS prediction_keys_before_0013;

CREATE TABLE IF NOT EXISTS prediction_keys_next (
    model         LowCardinality(String),
    model_version LowCardinality(String),
    id            UInt64,
    event_time_ms Int64 CODEC(ZSTD(1)),
    prediction    Float64 CODEC(ZSTD(1)),
    decided       UInt8,
    selected      UInt8,
    inline        UInt8,
    segments      LowCardinality(String),
    inserted_at   UInt64 CODEC(Delta, ZSTD(1)),
    variant       LowCardinality(String) DEFAULT ''
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(toDateTime(intDiv(event_time_ms, 1000), 'UTC'))
ORDER BY (model, id, variant)
TTL toDateTime(intDiv(event_time_ms, 1000)) + INTERVAL 90 DAY;

INSERT INTO prediction_keys_next (model, model_version, id, event_time_ms, prediction, decided, selected, inline, segments, inserted_at, variant)
SELECT model, model_version, id, event_time_ms, prediction, decided, selected, inline, segments, inserted_at, '' FROM prediction_keys;

RENAME TABLE prediction_keys TO prediction_keys_before_0013, prediction_keys_next TO prediction_keys;

DROP TABLE prediction_keys_before_0013;

