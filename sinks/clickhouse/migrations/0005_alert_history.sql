-- alert_history: every alert state change driftwatch sent (or tried to
-- send) to Alertmanager: one row per (alert subject, window, state); a
-- retried delivery replaces the row, so the newest attempt's outcome wins.
CREATE TABLE IF NOT EXISTS alert_history (
    model         {{lc "String"}},
    model_version {{lc "String"}},
    window_start  {{time}}{{codec "DoubleDelta, ZSTD(1)"}},
    window_end    {{time}}{{codec "DoubleDelta, ZSTD(1)"}},
    family        {{lc "String"}},
    subject       {{lc "String"}},
    metric        {{lc "String"}},
    state         {{lc "String"}},
    severity      {{lc "String"}},
    value         Float64,
    threshold     Float64,
    fingerprint   String,
    receiver      {{lc "String"}},
    sent_at       {{time}},
    delivered     UInt8,
    error_message String,
    inserted_at   UInt64{{codec "Delta, ZSTD(1)"}}
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model, model_version, window_start, family, subject, metric, state)
{{dedupSettings}};
