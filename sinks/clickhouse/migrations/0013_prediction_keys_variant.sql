-- prediction_keys' key gains variant (issue 20): a shadow deployment logs a
-- prediction id once per variant (CONTRACT.md section 1), the late-label
-- join keeps a key for each (windows.PredictionKey.Variant), and under the
-- old key (model, id) they collapsed into one row. ClickHouse cannot add an
-- existing column to a sorting key, so the rows are copied into a table
-- with the new key (variant '' for the rows written before: they named
-- none), which is renamed into place. Run again after a failure part way,
-- the statements redo the copy (a row copied twice is one row under FINAL,
-- as for retried writes). Keys other instances write while it runs may be
-- lost: migrate with the instances stopped, as for any migration.
DROP TABLE IF EXISTS prediction_keys_before_0013;
CREATE TABLE IF NOT EXISTS prediction_keys_next (
    model         {{lc "String"}},
    model_version {{lc "String"}},
    id            UInt64,
    event_time_ms Int64{{codec "ZSTD(1)"}},
    prediction    Float64{{codec "ZSTD(1)"}},
    decided       UInt8,
    selected      UInt8,
    inline        UInt8,
    segments      {{lc "String"}},
    inserted_at   UInt64{{codec "Delta, ZSTD(1)"}},
    variant       {{lc "String"}} DEFAULT ''
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(toDateTime(intDiv(event_time_ms, 1000), 'UTC'))
ORDER BY (model, id, variant)
{{ttl "intDiv(event_time_ms, 1000)" 90}}
{{dedupSettings}};
INSERT INTO prediction_keys_next (model, model_version, id, event_time_ms, prediction, decided, selected, inline, segments, inserted_at, variant)
SELECT model, model_version, id, event_time_ms, prediction, decided, selected, inline, segments, inserted_at, '' FROM prediction_keys;
RENAME TABLE prediction_keys TO prediction_keys_before_0013, prediction_keys_next TO prediction_keys;
DROP TABLE prediction_keys_before_0013;
