-- The late-label join (CONTRACT.md section 2) across restarts: what the
-- windows stage keeps of the last horizon, written in the same Commit as
-- the windows it belongs to and read back by LoadLabelJoin.

-- label_state: each closed window's label base (windows.Window's
-- MarshalLabelBase, binary), the state later labels are added to; '' when
-- labels are not joined. On servers that cannot say IF NOT EXISTS here,
-- migrate takes "column already exists" as done.
ALTER TABLE window_summaries ADD COLUMN {{ifNotExists}}label_state String DEFAULT ''{{codec "ZSTD(1)"}};

-- prediction_keys: what the join keeps of a prediction awaiting its label
-- (windows.PredictionKey), one row per (model, id), id being the FNV-1a
-- hash of the prediction_id. event_time_ms is the prediction's event time
-- in unix milliseconds, exact on every server; the partition (its month) is
-- a function of the key, so a key written again shares its partition and
-- collapses. prediction is NaN for a class. On servers with TTL rows go 90
-- days after their event time, far beyond any horizon.
CREATE TABLE IF NOT EXISTS prediction_keys (
    model         {{lc "String"}},
    model_version {{lc "String"}},
    id            UInt64,
    event_time_ms Int64{{codec "ZSTD(1)"}},
    prediction    Float64{{codec "ZSTD(1)"}},
    decided       UInt8,
    selected      UInt8,
    inline        UInt8,
    segments      {{lc "String"}},
    inserted_at   UInt64{{codec "Delta, ZSTD(1)"}}
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(toDateTime(intDiv(event_time_ms, 1000), 'UTC'))
ORDER BY (model, id)
{{ttl "intDiv(event_time_ms, 1000)" 90}}
{{dedupSettings}};

-- labels: every late label received (consumer.Label), one row per
-- (model, prediction_id): label is the value as it counts (Value.Text()),
-- label_kind its JSON type (number, string or bool), label_time its
-- timestamp (whole seconds before ClickHouse 20.3; label_time_ms holds it
-- exactly, in unix milliseconds, on every server, for label delays),
-- received_at when the sink wrote it. A label written again for the same prediction (a
-- correction) replaces it when parts merge if both are of the same month of
-- label_time; FINAL reads one, the newest, either way. On servers with TTL
-- rows go 90 days after label_time.
CREATE TABLE IF NOT EXISTS labels (
    model         {{lc "String"}},
    prediction_id String,
    label_time    {{time}},
    label_time_ms Int64{{codec "ZSTD(1)"}},
    label         String,
    label_kind    {{lc "String"}},
    received_at   {{time}},
    inserted_at   UInt64{{codec "Delta, ZSTD(1)"}}
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(label_time)
ORDER BY (model, prediction_id)
{{ttl "label_time" 90}}
{{dedupSettings}};
