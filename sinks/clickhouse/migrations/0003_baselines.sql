-- baselines: every stored baseline, with its JSON document, so the
-- reference a verdict was judged against (drift_metrics.baseline_id) can be
-- looked up where the verdicts are. Small; not partitioned.
CREATE TABLE IF NOT EXISTS baselines (
    baseline_id    String,
    model          {{lc "String"}},
    model_version  {{lc "String"}},
    created_at     {{time}},
    source         {{lc "String"}},
    features       UInt32,
    reference_rows Int64,
    document       String{{codec "ZSTD(3)"}},
    inserted_at    UInt64
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (model, baseline_id)
{{dedupSettings}};
