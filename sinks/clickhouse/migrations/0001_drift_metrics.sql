-- drift_metrics: CONTRACT.md section 3, one row per
-- (model, model_version, window, family, subject, metric). A retried insert
-- writes the same key again with a larger inserted_at (nanoseconds since
-- the epoch at commit); ReplacingMergeTree keeps the newest version when
-- parts merge, and readers that must not see duplicates before that read
-- with FINAL (or through drift_metrics_latest). The partition is a function
-- of window_start, which is in the key, so duplicates always share a
-- partition and do collapse.
CREATE TABLE IF NOT EXISTS drift_metrics (
    model            {{lc "String"}},
    model_version    {{lc "String"}},
    window_start     {{time}}{{codec "DoubleDelta, ZSTD(1)"}},
    window_end       {{time}}{{codec "DoubleDelta, ZSTD(1)"}},
    family           {{lc "String"}},
    subject          {{lc "String"}},
    metric           {{lc "String"}},
    value            Float64{{codec "ZSTD(1)"}},
    p_value          Nullable(Float64){{codec "ZSTD(1)"}},
    threshold        Float64{{codec "ZSTD(1)"}},
    drifted          UInt8,
    severity         {{lc "String"}},
    n_current        Int64{{codec "T64, ZSTD(1)"}},
    n_reference      Int64{{codec "T64, ZSTD(1)"}},
    baseline_id      {{lc "String"}},
    threshold_source {{lc "String"}},
    mde              Nullable(Float64){{codec "ZSTD(1)"}},
    inserted_at      UInt64{{codec "Delta, ZSTD(1)"}}
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model, model_version, window_start, family, subject, metric)
{{dedupSettings}};

-- drift_metrics_latest: drift_metrics with retried duplicates collapsed,
-- for dashboards that should not have to know about FINAL.
CREATE VIEW IF NOT EXISTS drift_metrics_latest AS
SELECT * FROM drift_metrics FINAL;
