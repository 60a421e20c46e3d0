-- alert_history's key gains alertname: two alerts of one subject whose
-- state changed in the same window (a rule on one metric and the
-- minor-anomaly rule, say) shared one row, and the audit trail kept only
-- one of them. ClickHouse cannot add an existing column to a sorting key,
-- so the rows are copied into a table with the new key, which is renamed
-- into place. Run again after a failure part way, the statements redo the
-- copy (a row copied twice is one row under FINAL, as for retried writes).
-- Alert changes other instances write while it runs may be lost: migrate
-- with the instances stopped, as for any migration.
DROP TABLE IF EXISTS alert_history_before_0010;
CREATE TABLE IF NOT EXISTS alert_history_next (
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
    inserted_at   UInt64{{codec "Delta, ZSTD(1)"}},
    alertname     String DEFAULT '',
    evidence      String DEFAULT ''{{codec "ZSTD(1)"}}
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model, model_version, window_start, family, subject, metric, state, alertname)
{{dedupSettings}};
INSERT INTO alert_history_next (model, model_version, window_start, window_end, family, subject, metric, state, severity, value, threshold, fingerprint, receiver, sent_at, delivered, error_message, inserted_at, alertname, evidence)
SELECT model, model_version, window_start, window_end, family, subject, metric, state, severity, value, threshold, fingerprint, receiver, sent_at, delivered, error_message, inserted_at, alertname, evidence FROM alert_history;
RENAME TABLE alert_history TO alert_history_before_0010, alert_history_next TO alert_history;
DROP TABLE alert_history_before_0010;
