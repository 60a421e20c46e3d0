-- alert_history gains what the audit trail of issue 7 keeps with each alert
-- state change or action: the alert's name and the evidence (the metric
-- rows behind it, as a JSON array of CONTRACT.md section 3 rows). On
-- servers that cannot say IF NOT EXISTS here, migrate takes "column already
-- exists" as done.
ALTER TABLE alert_history ADD COLUMN {{ifNotExists}}alertname String DEFAULT '';
ALTER TABLE alert_history ADD COLUMN {{ifNotExists}}evidence String DEFAULT ''{{codec "ZSTD(1)"}};
