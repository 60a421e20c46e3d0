-- window_summaries: one row per closed window of a model version: how many
-- records it held, which subjects drifted and the worst severity, for
-- overviews that should not scan every metric row. Keyed like drift_metrics
-- (newest inserted_at wins), so a window written again replaces its row.
CREATE TABLE IF NOT EXISTS window_summaries (
    model            {{lc "String"}},
    model_version    {{lc "String"}},
    window_start     {{time}}{{codec "DoubleDelta, ZSTD(1)"}},
    window_end       {{time}}{{codec "DoubleDelta, ZSTD(1)"}},
    baseline_id      {{lc "String"}},
    records          Int64,
    subjects         UInt32,
    drifted_subjects Array(String),
    max_severity     {{lc "String"}},
    closed_at        {{time}},
    inserted_at      UInt64{{codec "Delta, ZSTD(1)"}}
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model, model_version, window_start)
{{dedupSettings}};
